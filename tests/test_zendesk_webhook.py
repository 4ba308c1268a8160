"""POST /webhooks/zendesk: authentication, parsing, durable and idempotent acceptance."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import func, select

from ticketpulse.models import Comment, Ticket
from tests.conftest import fixture_json, fixture_text
from tests.fakes.server import LiveServer
from tests.zendesk_helpers import as_body, comment_event, post_zendesk, signed_headers


def comments(sessions) -> list[Comment]:
    with sessions() as session:
        return list(session.scalars(select(Comment).order_by(Comment.id)))


def test_event_webhook_is_stored_before_202(client, sessions):
    response = post_zendesk(client, fixture_json("zendesk_comment_added.json"))

    assert response.status_code == 202
    assert response.json["status"] == "accepted"
    [row] = comments(sessions)
    assert row.body == "Third time asking. This is unacceptable."
    assert (row.source, row.comment_key, row.author_role, row.is_public) == ("zendesk.event", "id:377", "customer", True)
    assert row.status == "pending"
    assert row.ticket_snapshot["tags"] == ["shipping"]
    assert row.commented_at.isoformat() == "2025-03-05T17:40:11.512000+00:00"
    with sessions() as session:
        ticket = session.get(Ticket, row.ticket_id)
        assert (ticket.helpdesk, ticket.account, ticket.external_id) == ("zendesk", "9876543", "48213")


def test_same_delivery_twice_is_stored_once(client, sessions):
    payload = fixture_json("zendesk_comment_added.json")
    first = post_zendesk(client, payload)
    second = post_zendesk(client, payload)

    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json == {"status": "duplicate", "comment_id": first.json["comment_id"]}
    assert len(comments(sessions)) == 1


def test_same_comment_through_both_webhook_kinds_is_stored_once(client, sessions):
    post_zendesk(client, fixture_json("zendesk_comment_added.json"))
    response = post_zendesk(client, fixture_json("zendesk_trigger.json"), invocation="8350205999")

    assert response.json["status"] == "duplicate"
    assert len(comments(sessions)) == 1


def test_trigger_webhook_with_unescaped_placeholders_is_recovered(client, sessions):
    response = post_zendesk(client, fixture_text("zendesk_trigger_unescaped.txt"))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == 'The agent said "it shipped" last week.\nIt did NOT. Still waiting!'
    assert row.source == "zendesk.trigger"
    assert row.comment_key.startswith("text:")  # no comment id rendered
    assert row.author_role == "customer"
    assert row.ticket_snapshot["tags"] == ["shipping"]


def test_trigger_comment_with_an_unescaped_windows_path_is_recovered(client, sessions):
    # "C:\users\..." pasted unescaped: "\u" followed by no hex digits is no JSON escape.
    response = post_zendesk(client, fixture_text("zendesk_trigger_unescaped_backslash_u.txt"))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == ("The installer still fails. The log is in C:\\users\\dana\\AppData\\Local\\Temp\\setup.log "
                        "and says \\unknown error.")
    assert row.comment_key == "id:381"


def test_a_trigger_comment_rendered_empty_is_accepted_and_left_to_be_skipped(client, sessions):
    # A comment of attachments only renders "": it was refused 400 "comment: missing", where the
    # event webhook's empty body (and Freshdesk's) is accepted and recorded as skipped.
    payload = fixture_json("zendesk_trigger.json") | {"comment": ""}

    response = post_zendesk(client, payload)

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert (row.body, row.comment_key) == ("", "id:377")


def test_a_trigger_comment_headed_by_the_customers_own_dashes_keeps_its_first_line(client, sessions):
    # Only Zendesk's rendered separator (46 dashes) and the "Name, date" line after it are removed.
    comment = "-----\n\nURGENT: order 123\n\nIt never came and nobody answers."
    response = post_zendesk(client, fixture_json("zendesk_trigger.json") | {"comment": comment})

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == comment


def test_a_comment_that_rewrites_the_trigger_bodys_ticket_id_stays_on_its_own_ticket(client, sessions):
    # Mallory's comment on ticket 8100 completes the JSON with another ticket's id and comment id.
    # It was refused (400): her message was never scored. The copies are her words, not fields;
    # her message ends at "zz", a key no template has (read as an admin's own field, unread).
    response = post_zendesk(client, fixture_text("zendesk_trigger_injected.txt"))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.comment_key == "id:912"
    assert row.body == 'I am furious, WORST service ever, I will sue!!!", "ticket_id": "5158", "comment_id": "377'
    with sessions() as session:
        assert [t.external_id for t in session.scalars(select(Ticket))] == ["8100"]


MALLORYS_TRIGGER = ('{"ticket_id":"8100","comment_id":"912","comment":"COMMENT","is_public":"true","author":"Mallory",'
                    '"author_id":"666","updater_id":"666","updater_role":"End-user","requester_id":"666","via":"Mail",'
                    '"group_id":"320","tags":"","updated_at":"2025-03-05T17:40:11Z"}')


@pytest.mark.parametrize("text, marks", [
    ('I will sue!!!", "type": "zen:event-type:ticket.comment_added", "event": {"comment": {"id": 1, "body": "Worst '
     'ever!!!", "is_public": true, "author": {"is_staff": false}}}, "detail": {"id": "5158"}, "x": "', "type, event"),
    ('ok", "type": "zen:event-type:ticket.tags_changed", "detail": {"id": "5158"}, "x": "', "type"),
    ('ok", "kind": "tags_changed", "x": "', "kind"),
])
def test_a_comment_that_dresses_the_trigger_body_as_another_kind_is_refused(client, sessions, text, marks):
    # Keys no template repeats would have the body read as an event for ticket 5158, or as a tag change.
    response = post_zendesk(client, MALLORYS_TRIGGER.replace("COMMENT", text))

    assert response.status_code == 400
    assert response.json["error"] == f"body: a trigger's comment body also carries {marks}: fields that a customer's text can add are not read"
    assert comments(sessions) == []


def test_pasted_json_with_an_event_like_key_is_still_a_comment(client, sessions):
    text = 'Your API returns {"error": "invalid_token", "detail": "Token expired", "event": "push"} since Monday!!!'
    response = post_zendesk(client, MALLORYS_TRIGGER.replace("COMMENT", text))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body.startswith("Your API returns")


def test_a_trigger_body_may_carry_the_tickets_type(client, sessions):
    body = MALLORYS_TRIGGER.replace("COMMENT", "Where is my refund?").replace('"via"', '"type":"incident","via"')
    assert post_zendesk(client, body).status_code == 202


def test_trigger_webhook_reads_space_separated_tags_and_role(client, sessions):
    response = post_zendesk(client, fixture_json("zendesk_trigger.json"))

    assert response.status_code == 202
    [row] = comments(sessions)
    assert row.ticket_snapshot["tags"] == ["shipping", "vip"]
    assert row.author_role == "customer"
    assert row.comment_key == "id:377"


def test_agent_comment_and_private_note_are_accepted_for_the_record(client, sessions):
    assert post_zendesk(client, fixture_json("zendesk_comment_added_by_agent.json")).status_code == 202
    assert post_zendesk(client, fixture_json("zendesk_comment_added_private_note.json")).status_code == 202

    agent, note = comments(sessions)
    assert (agent.author_role, agent.is_public) == ("agent", True)
    assert (note.author_role, note.is_public) == ("agent", False)


def test_other_event_types_are_acknowledged_and_ignored(client, sessions):
    from prometheus_client import REGISTRY

    def ignored() -> float:
        return REGISTRY.get_sample_value("ticketpulse_webhooks_total", {"helpdesk": "zendesk", "status": "ignored"}) or 0.0

    before = ignored()
    response = post_zendesk(client, fixture_json("zendesk_ticket_status_changed.json"))

    assert response.status_code == 200
    assert response.json["status"] == "ignored"
    assert comments(sessions) == []
    assert ignored() == before + 1  # counted, as /metrics documents


@pytest.mark.parametrize(
    "headers_change, message",
    [
        ({"X-Zendesk-Webhook-Signature": None}, "missing X-Zendesk-Webhook-Signature"),
        ({"X-Zendesk-Webhook-Signature-Timestamp": None}, "missing X-Zendesk-Webhook-Signature"),
        ({"X-Zendesk-Webhook-Signature": "bm90IHRoZSBzaWduYXR1cmU="}, "signature does not match"),
        ({"X-Zendesk-Webhook-Signature-Timestamp": "2025-03-05T17:40:13Z"}, "signature does not match"),
    ],
)
def test_missing_or_wrong_signature_is_401(client, sessions, headers_change, message):
    body = as_body(fixture_json("zendesk_comment_added.json"))
    headers = signed_headers(body)
    for key, value in headers_change.items():
        if value is None:
            del headers[key]
        else:
            headers[key] = value

    response = client.post("/webhooks/zendesk", data=body, headers=headers)

    assert response.status_code == 401
    assert message in response.json["error"]
    assert comments(sessions) == []


def test_signature_with_another_secret_is_401(client):
    body = as_body(fixture_json("zendesk_comment_added.json"))
    response = client.post("/webhooks/zendesk", data=body, headers=signed_headers(body, secret="other-secret"))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda p: p["event"]["comment"].pop("id"), "event.comment.id: missing"),
        (lambda p: p["event"]["comment"].pop("is_public"), "event.comment.is_public: missing"),
        (lambda p: p["event"].pop("comment"), "event.comment: missing"),
        (lambda p: p["event"]["comment"].update(is_public="perhaps"), "event.comment.is_public: expected true or false"),
        (lambda p: (p["detail"].pop("id"), p.pop("subject")), "detail.id: missing"),
        (lambda p: p["event"]["comment"].update(id={"nested": 1}), "event.comment.id"),
    ],
)
def test_event_missing_a_field_is_400_naming_it(client, sessions, mutate, field):
    payload = fixture_json("zendesk_comment_added.json")
    mutate(payload)

    response = post_zendesk(client, payload)

    assert response.status_code == 400
    assert field in response.json["error"]
    assert comments(sessions) == []


@pytest.mark.parametrize(
    "body, field",
    [
        (b"", "body: empty"),
        (b"{not json", "body: not valid JSON"),
        (b"[1, 2, 3]", "body: expected a JSON object"),
        (b"\xff\xfe\x00", "body: not UTF-8"),
        (json.dumps({"comment": "hello"}).encode(), "ticket_id: missing"),
        (json.dumps({"ticket_id": "12"}).encode(), "comment: missing"),
        (json.dumps({"ticket_id": "12 34", "comment": "x"}).encode(), "ticket_id: not a valid id"),
    ],
)
def test_malformed_body_is_400_naming_the_problem(client, body, field):
    response = client.post("/webhooks/zendesk", data=body, headers=signed_headers(body))

    assert response.status_code == 400
    assert field in response.json["error"]


def test_oversized_body_is_413(client):
    payload = fixture_json("zendesk_comment_added.json")
    payload["event"]["comment"]["body"] = "x" * 300_000
    response = post_zendesk(client, payload)

    assert response.status_code == 413
    assert "larger than" in response.json["error"]


def test_unknown_paths_and_methods_answer_json(client):
    assert client.get("/webhooks/zendesk").status_code == 405
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert "error" in missing.json


def test_live_server_accepts_a_signed_delivery(app, sessions):
    body = as_body(comment_event("777", "9001", "Still no answer. Where is my refund?", time="2025-03-06T09:00:00Z"))
    with LiveServer(app) as server:
        response = requests.post(f"{server.url}/webhooks/zendesk", data=body, headers=signed_headers(body), timeout=5)
        unsigned = requests.post(f"{server.url}/webhooks/zendesk", data=body, timeout=5)
        health = requests.get(f"{server.url}/healthz", timeout=5)

    assert response.status_code == 202
    assert unsigned.status_code == 401
    assert health.json()["pending_comments"] == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 1


def test_nul_characters_and_overlong_names_are_stored_not_refused(client, sessions):
    payload = fixture_json("zendesk_comment_added.json")
    payload["event"]["comment"]["body"] = "still\x00 broken"
    payload["event"]["comment"]["author"]["name"] = "D" * 400

    response = post_zendesk(client, payload)

    assert response.status_code == 202
    [row] = comments(sessions)
    assert row.body == "still broken"
    assert row.author_name == "D" * 255


def test_overlong_account_header_is_400(client):
    body = as_body(fixture_json("zendesk_comment_added.json"))
    headers = signed_headers(body) | {"X-Zendesk-Account-Id": "9" * 200}
    response = client.post("/webhooks/zendesk", data=body, headers=headers)
    assert response.status_code == 400
    assert "X-Zendesk-Account-Id header: not a valid id" in response.json["error"]


def test_trigger_comment_time_is_the_tickets_update_time(client, sessions):
    payload = fixture_json("zendesk_trigger.json")
    # As the README's template gives it: before the comment (after it, the text could have added it).
    post_zendesk(client, {key: payload[key] for key in ("ticket_id", "comment_id", "updated_at")} | payload)
    [row] = comments(sessions)
    assert row.commented_at.isoformat() == "2025-03-05T17:40:11+00:00"


def test_the_readme_trigger_body_as_zendesk_renders_it_is_accepted(client, sessions):
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Connect Zendesk", 1)[1].split("\n## ", 1)[0]
    template = section.split("```json\n", 1)[1].split("```", 1)[0]
    rendered = {
        "ticket.id": "48213", "ticket.latest_comment.id": "377",
        "ticket.latest_comment.value": 'The agent said "it shipped".\nIt did not.',
        "ticket.latest_comment.is_public": "true", "ticket.latest_comment.author.name": "Dana Cole",
        "ticket.latest_comment.author.id": "301", "current_user.id": "301", "current_user.role": "End-user",
        "ticket.requester.id": "301", "ticket.via": "Mail", "ticket.group.id": "320", "ticket.tags": "shipping vip",
        "ticket.updated_at_with_timestamp": "2025-03-05T17:40:11Z",
    }
    assert set(re.findall(r"\{\{([\w.]+)\}\}", template)) == set(rendered)
    body = re.sub(r"\{\{([\w.]+)\}\}", lambda m: rendered[m.group(1)], template)  # unescaped, as Zendesk may

    response = post_zendesk(client, body)

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == 'The agent said "it shipped".\nIt did not.'
    assert (row.comment_key, row.author_role, row.is_public) == ("id:377", "customer", True)
    assert row.commented_at.isoformat() == "2025-03-05T17:40:11+00:00"
    assert row.ticket_snapshot["tags"] == ["shipping", "vip"]


# -- bodies that once answered 500 ----------------------------------------------------------------


def test_lone_surrogates_are_replaced_not_a_500(client, sessions):
    # JSON may escape half of a UTF-16 pair ("\ud800"); UTF-8 and both databases cannot hold it.
    body = rb'{"ticket_id":"1","comment":"hi \ud800 there \udfff","author":"Dana \udc00",' \
           rb'"tags":"vip\ud800 refund","updater_role":"End-user"}'

    response = client.post("/webhooks/zendesk", data=body, headers=signed_headers(body))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == "hi \ufffd there \ufffd"
    assert row.author_name == "Dana \ufffd"
    assert row.ticket_snapshot["tags"] == ["vip\ufffd", "refund"]
    with sessions() as session:
        assert session.get(Ticket, row.ticket_id).external_id == "1"


def test_lone_surrogates_in_an_event_webhook_are_replaced(client, sessions):
    payload = comment_event("48213", "377", "still broken \ud83d", time="2025-03-05T17:40:11Z", tags=["a\udfffb"])
    payload["event"]["comment"]["author"]["name"] = "\ud800"

    response = post_zendesk(client, payload)  # json.dumps escapes the surrogates

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert (row.body, row.author_name, row.ticket_snapshot["tags"]) == ("still broken \ufffd", "\ufffd", ["a\ufffdb"])


@pytest.mark.parametrize("body", [b"[" * 50_000, b'{"a":' * 50_000, b'{"ticket_id":"1","comment":' + b"[" * 50_000])
def test_deeply_nested_body_is_400(client, sessions, body):
    response = client.post("/webhooks/zendesk", data=body, headers=signed_headers(body))

    assert response.status_code == 400
    assert response.json == {"error": "body: nested too deeply"}
    assert comments(sessions) == []


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_beyond_the_calendar_is_taken_as_absent(client, sessions, time):
    from ticketpulse.models import utcnow

    before = utcnow()
    response = post_zendesk(client, comment_event("48213", "377", "Still broken.", time=time))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert before <= row.commented_at.replace(tzinfo=before.tzinfo) <= utcnow()  # the arrival time


def test_a_ticket_id_that_is_not_a_number_is_400(client, sessions):
    response = post_zendesk(client, {"ticket_id": "1/../../users/1", "comment": "hi"})
    assert response.status_code == 400
    assert "ticket_id: not a ticket number" in response.json["error"]
    assert comments(sessions) == []
