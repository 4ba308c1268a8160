"""POST /webhooks/freshdesk: shared-secret authentication, defensive parsing, idempotent acceptance."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from ticketpulse.webhooks.events import text_fingerprint
from ticketpulse.models import Comment, Ticket
from ticketpulse.sentiment.clean import clean_text
from tests.conftest import fixture_json, fixture_text
from tests.conftest import FRESHDESK_SECRET, as_body
from tests.freshdesk_helpers import (
    basic_headers,
    post_freshdesk,
    reply,
    token_headers,
)
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.config import Environment
from ticketpulse.webhooks import create_app
from ticketpulse.webhooks.freshdesk import parse_freshdesk, strip_author_prefix
from ticketpulse.webhooks.signing import AuthenticationError, verify_freshdesk


def comments(sessions) -> list[Comment]:
    with sessions() as session:
        return list(session.scalars(select(Comment).order_by(Comment.id)))


def tickets(sessions) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [(t.helpdesk, t.account, t.external_id) for t in session.scalars(select(Ticket).order_by(Ticket.id))]


# -- accepted deliveries ------------------------------------------------------------------------


def test_customer_reply_is_stored_before_202(client, sessions):
    response = post_freshdesk(client, fixture_json("freshdesk_reply.json"))

    assert response.status_code == 202, response.json
    assert response.json["status"] == "accepted"
    [row] = comments(sessions)
    assert row.body == "Third time asking. This is unacceptable."  # "Jane Doe : " removed
    assert row.comment_key == "text:" + text_fingerprint("Third time asking. This is unacceptable.")
    assert (row.source, row.author_role, row.is_public, row.status) == ("freshdesk.automation", "customer", True, "pending")
    assert (row.author_id, row.author_name, row.delivery_id) == ("43009876543", "Jane Doe", None)
    assert row.ticket_snapshot == {
        "requester_id": "43009876543", "requester_email": "jane@example.com",
        "group_id": "43000123456", "group": "Billing", "status": 2, "priority": 2,
        "tags": ["refund", "vip"], "url": "https://acme.freshdesk.com/helpdesk/tickets/4521",
    }
    assert tickets(sessions) == [("freshdesk", "acme.freshdesk.com", "4521")]


def test_numbers_names_html_only_and_comma_tags(client, sessions):
    # status "3" and priority 4 as numbers, no group, tags with a space in one, comment_text
    # not rendered (placeholder left as is): the HTML comment is used and cleaned.
    response = post_freshdesk(client, fixture_json("freshdesk_reply_numeric.json"))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body.startswith('<div dir="ltr">Still <b>cannot</b> log in.')
    assert clean_text(row.body) == "Still cannot log in."  # the quoted earlier reply is dropped
    assert row.is_public is True and row.author_role == "customer"  # a public note event stays public
    snapshot = row.ticket_snapshot
    assert (snapshot["status"], snapshot["priority"], snapshot["tags"]) == (3, 4, ["late delivery", "vip"])
    assert "group_id" not in snapshot
    assert tickets(sessions) == [("freshdesk", "acme.freshdesk.com", "4522")]


def test_retried_delivery_is_stored_once(client, sessions):
    payload = fixture_json("freshdesk_reply.json")
    first = post_freshdesk(client, payload)
    second = post_freshdesk(client, payload)
    # The same reply rendered differently (only the HTML) is the same comment too.
    html_only = payload | {"comment_text": ""}
    html_only["comment_html"] = "Jane Doe : <div>Third time asking.</div><div>This is   unacceptable.</div>"
    third = post_freshdesk(client, html_only)

    assert first.status_code == 202
    assert second.status_code == 200 and second.json == {"status": "duplicate", "comment_id": first.json["comment_id"]}
    assert third.status_code == 200 and third.json["status"] == "duplicate"
    assert len(comments(sessions)) == 1


def test_a_new_reply_on_the_same_ticket_is_a_new_comment(client, sessions):
    post_freshdesk(client, fixture_json("freshdesk_reply.json"))
    response = post_freshdesk(client, reply("4521", "Any news?"))

    assert response.status_code == 202
    assert [c.body for c in comments(sessions)] == ["Third time asking. This is unacceptable.", "Any news?"]
    assert len(tickets(sessions)) == 1


def test_unescaped_quotes_and_newlines_are_recovered(client, sessions):
    response = post_freshdesk(client, fixture_text("freshdesk_reply_unescaped.txt"))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == 'Your agent wrote "it shipped", "on time".\nIt did NOT. Tracking says: "error": 404'
    assert row.ticket_snapshot["tags"] == ["refund", "vip"]
    assert tickets(sessions) == [("freshdesk", "acme.freshdesk.com", "4521")]


def test_an_unescaped_quoted_phrase_followed_by_a_colon_and_prose_is_recovered(client, sessions):
    # `"Refund", "Error": nothing` looked like the next field: it was refused as not valid JSON.
    response = post_freshdesk(client, fixture_text("freshdesk_reply_unescaped_quoted_prose.txt"))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == 'I pressed "Refund", "Error": nothing happened. Again.'


def test_a_reply_that_rewrites_the_bodys_ticket_stays_on_its_own_ticket(client, sessions):
    # Mallory's reply on ticket 9100 repeats the "ticket" object with 4521's: it was refused (400)
    # and never scored. The copy is her text; the template's ticket, given before it, stands.
    response = post_freshdesk(client, fixture_text("freshdesk_reply_injected.txt"))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body.startswith('This is outrageous!!!", "ticket": {"id": "4521"')
    assert tickets(sessions) == [("freshdesk", "acme.freshdesk.com", "9100")]


def test_a_reply_that_dresses_the_body_as_a_tag_change_is_refused(client, sessions):
    body = fixture_text("freshdesk_reply.json").replace(
        '"comment_text":"', '"comment_text":"Mallory : fine", "kind": "tags_changed", "zz": "', 1)
    assert '"kind"' in body

    response = post_freshdesk(client, body)

    assert response.status_code == 400
    assert response.json["error"] == "body: a reply body also carries kind: fields that a customer's text can add are not read"
    assert comments(sessions) == []


def test_private_note_and_agent_reply_are_accepted_for_the_record(client, sessions):
    assert post_freshdesk(client, fixture_json("freshdesk_private_note.json")).status_code == 202
    assert post_freshdesk(client, fixture_json("freshdesk_agent_reply.json")).status_code == 202

    note, agent = comments(sessions)
    assert (note.is_public, note.author_role) == (False, "agent")
    assert (agent.is_public, agent.author_role) == (True, "agent")
    assert agent.author_name is None and agent.author_id is None  # not the requester's words
    assert agent.body == "Sorry for the terrible delay, this is awful on our side."  # generic prefix removed


def test_the_same_ticket_id_on_zendesk_and_freshdesk_is_two_tickets(client, sessions):
    zendesk = post_zendesk(client, comment_event("4521", "377", "Where is my refund?", time="2025-03-05T17:40:11Z"))
    freshdesk = post_freshdesk(client, reply("4521", "Where is my refund?"))

    assert (zendesk.status_code, freshdesk.status_code) == (202, 202)
    assert tickets(sessions) == [("zendesk", "9876543", "4521"), ("freshdesk", "acme.freshdesk.com", "4521")]
    assert len({c.ticket_id for c in comments(sessions)}) == 2


def test_account_from_freshdesk_domain_when_the_url_is_missing(config, engine, sessions, database_url):
    env = Environment(database_url=database_url, freshdesk_webhook_secret=FRESHDESK_SECRET, freshdesk_domain="Acme")
    client = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine}).test_client()
    with_url = reply("4521", "First message")
    without_url = reply("4521", "Second message")
    without_url["ticket"]["url"] = "{{ticket.url}}"

    assert post_freshdesk(client, with_url).status_code == 202
    assert post_freshdesk(client, without_url).status_code == 202
    assert tickets(sessions) == [("freshdesk", "acme.freshdesk.com", "4521")]  # one ticket, not two


def test_account_is_default_without_url_or_domain():
    payload = reply("4521", "Hello")
    del payload["ticket"]["url"]
    assert parse_freshdesk(payload).account == "default"
    assert parse_freshdesk(payload, default_domain="support.example.com").account == "support.example.com"


@pytest.mark.parametrize(
    "body, name, expected",
    [
        ("Jane Doe : Still broken", "Jane Doe", "Still broken"),
        ("  jane   DOE: Still broken", "Jane Doe", "Still broken"),
        ("Ann O&#39;Brien : <div>Still broken</div>", "Ann O'Brien", "<div>Still broken</div>"),
        ("Order 5 : Still broken", "Jane Doe", "Order 5 : Still broken"),  # not the author: kept
        ("Someone Else : Still broken", None, "Still broken"),
        ("Note: this is not a prefix", None, "Note: this is not a prefix"),
        ("<div>Bob : inside the markup</div>", None, "<div>Bob : inside the markup</div>"),
        ("Still broken", "Jane Doe", "Still broken"),
    ],
)
def test_author_prefix(body, name, expected):
    assert strip_author_prefix(body, name) == expected


@pytest.mark.parametrize(
    "body, name",
    [
        ("Globex: Accounts Payable : Still broken", "Globex: Accounts Payable"),  # a colon in the name
        ("Ann O'Brien : Still broken", "Ann O&#39;Brien"),  # the name placeholder rendered escaped
    ],
)
def test_the_requesters_name_is_removed_with_a_colon_in_it_or_rendered_escaped(body, name):
    assert strip_author_prefix(body, name) == "Still broken"


def test_a_reply_from_a_requester_whose_name_holds_a_colon_is_stored_without_the_prefix(client, sessions):
    response = post_freshdesk(client, fixture_json("freshdesk_reply_requester_name_with_colon.json"))

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == "Third wrong invoice this quarter. Fix it."


def test_an_empty_rendered_comment_is_accepted_and_left_to_be_skipped(client, sessions):
    payload = reply("4521", "")
    payload["comment_text"] = ""
    payload["comment_html"] = ""

    assert post_freshdesk(client, payload).status_code == 202
    [row] = comments(sessions)
    assert row.body == ""


# -- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        token_headers(),
        {"Content-Type": "application/json", "x-webhook-token": FRESHDESK_SECRET},
        basic_headers(),
        basic_headers(user="any-user-at-all"),
        basic_headers(user=""),
    ],
    ids=["header", "header-lowercase", "basic", "basic-other-user", "basic-no-user"],
)
def test_secret_header_or_basic_password_is_accepted(client, sessions, headers):
    response = post_freshdesk(client, fixture_json("freshdesk_reply.json"), headers=headers)

    assert response.status_code == 202, response.json
    assert len(comments(sessions)) == 1


@pytest.mark.parametrize(
    "headers, message",
    [
        ({"Content-Type": "application/json"}, "missing X-Webhook-Token header or HTTP Basic credentials"),
        (token_headers("wrong-secret"), "X-Webhook-Token does not match"),
        (token_headers(FRESHDESK_SECRET + "x"), "X-Webhook-Token does not match"),
        (basic_headers("wrong-secret"), "HTTP Basic password does not match"),
        (basic_headers(user=FRESHDESK_SECRET, password="X"), "HTTP Basic password does not match"),
        ({"Authorization": "Bearer " + FRESHDESK_SECRET}, "missing X-Webhook-Token header"),
        ({"Authorization": "Basic not-base64!"}, "missing X-Webhook-Token header"),
    ],
)
def test_wrong_or_missing_secret_is_401(client, sessions, headers, message):
    response = post_freshdesk(client, fixture_json("freshdesk_reply.json"), headers=headers)

    assert response.status_code == 401
    assert message in response.json["error"]
    assert comments(sessions) == []


def test_zendesk_signature_does_not_open_the_freshdesk_endpoint(client, sessions):
    from tests.zendesk_helpers import signed_headers

    body = as_body(fixture_json("freshdesk_reply.json"))
    response = client.post("/webhooks/freshdesk", data=body, headers=signed_headers(body))

    assert response.status_code == 401
    assert comments(sessions) == []


def test_without_a_configured_secret_every_delivery_is_401(config, engine, sessions, database_url):
    env = Environment(database_url=database_url)
    client = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine}).test_client()

    response = post_freshdesk(client, fixture_json("freshdesk_reply.json"))

    assert response.status_code == 401
    assert "FRESHDESK_WEBHOOK_SECRET is not set" in response.json["error"]
    assert comments(sessions) == []


def test_verify_freshdesk_compares_in_constant_time(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))

    verify_freshdesk(b"{}", {"X-Webhook-Token": "s3cr3t"}, "s3cr3t")
    with pytest.raises(AuthenticationError):
        verify_freshdesk(b"{}", {"X-Webhook-Token": "s3cr3T"}, "s3cr3t")
    assert calls == [(b"s3cr3t", b"s3cr3t"), (b"s3cr3T", b"s3cr3t")]


# -- rejected bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda p: p["ticket"].pop("id"), "ticket.id: missing"),
        (lambda p: p.pop("ticket"), "ticket.id: missing"),
        (lambda p: p.update(ticket="4521"), "ticket.id: missing"),
        (lambda p: p["ticket"].update(id="{{ticket.id}}"), "ticket.id: empty"),
        (lambda p: p["ticket"].update(id="45 21"), "ticket.id: not a valid id"),
        (lambda p: (p.pop("comment_text"), p.pop("comment_html")), "comment_text: missing"),
        (lambda p: p.update(comment_text="{{ticket.latest_public_comment_text}}",
                            comment_html="{{ticket.latest_public_comment}}"), "comment_text: missing"),
        (lambda p: p.update(comment_text={"html": "x"}), "comment_text: expected a string"),
        (lambda p: p["ticket"].update(tags={"a": 1}), "ticket.tags: expected a list or a string"),
    ],
)
def test_missing_or_wrong_field_is_400_naming_it(client, sessions, mutate, field):
    payload = fixture_json("freshdesk_reply.json")
    mutate(payload)

    response = post_freshdesk(client, payload)

    assert response.status_code == 400
    assert field in response.json["error"]
    assert comments(sessions) == []


@pytest.mark.parametrize(
    "body, field",
    [
        (b"", "body: empty"),
        (b"{not json", "body: not valid JSON"),
        (b'["ticket"]', "body: expected a JSON object"),
        (json.dumps({"comment_text": "hello"}).encode(), "ticket.id: missing"),
    ],
)
def test_malformed_body_is_400_naming_the_problem(client, body, field):
    response = client.post("/webhooks/freshdesk", data=body, headers=token_headers())

    assert response.status_code == 400
    assert field in response.json["error"]


def test_get_is_405_json(client):
    response = client.get("/webhooks/freshdesk")
    assert response.status_code == 405
    assert "error" in response.json


def test_a_ticket_url_whose_host_cannot_be_an_account_is_400(client, sessions):
    response = post_freshdesk(client, reply("4521", "Hello", domain="a" * 200 + ".freshdesk.com"))

    assert response.status_code == 400
    assert "ticket.url: not a Freshdesk ticket URL" in response.json["error"]
    assert comments(sessions) == []


@pytest.mark.parametrize(
    "status, expected",
    [("Open", 2), ("closed", 5), ("2", 2), (6, 6), ("Waiting on Customer", "Waiting on Customer"),
     ("²", "²"), ("9" * 5000, "9" * 5000)],
)
def test_status_as_name_or_number(client, sessions, status, expected):
    payload = reply("4521", "Hello")
    payload["ticket"]["status"] = status

    assert post_freshdesk(client, payload).status_code == 202
    [row] = comments(sessions)
    assert row.ticket_snapshot["status"] == expected


def readme_body_template() -> str:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Connect Freshdesk", 1)[1].split("\n## ", 1)[0]
    return section.split("```json\n", 1)[1].split("```", 1)[0]


def test_the_readme_body_as_freshdesk_renders_it_is_accepted(client, sessions):
    rendered = {
        "triggered_event": "{reply_sent:sent}", "ticket.id": "4521", "ticket.subject": 'Refund "still" missing',
        "ticket.status": "Open", "ticket.priority": "Medium", "ticket.group_id": "43000123456",
        "ticket.group.name": "Billing", "ticket.tags": "refund, vip",
        "ticket.url": "https://acme.freshdesk.com/helpdesk/tickets/4521", "ticket.requester.id": "43009876543",
        "ticket.requester.email": "jane@example.com", "ticket.requester.name": "Jane Doe",
        "ticket.latest_public_comment": 'Jane Doe : <div dir="ltr">He said "shipped".<br>It was not.</div>',
        "ticket.latest_public_comment_text": 'Jane Doe : He said "shipped".\nIt was not.',
    }
    template = readme_body_template()
    placeholders = set(re.findall(r"\{\{([\w.]+)\}\}", template))
    assert placeholders == set(rendered)  # every placeholder of the README is rendered here
    body = re.sub(r"\{\{([\w.]+)\}\}", lambda m: rendered[m.group(1)], template)  # unescaped, as Freshdesk may

    response = post_freshdesk(client, body)

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert row.body == 'He said "shipped".\nIt was not.'
    assert (row.author_role, row.is_public, row.author_name) == ("customer", True, "Jane Doe")
    assert row.ticket_snapshot["tags"] == ["refund", "vip"] and row.ticket_snapshot["group"] == "Billing"
    assert tickets(sessions) == [("freshdesk", "acme.freshdesk.com", "4521")]


# -- bodies that once answered 500 ----------------------------------------------------------------


def test_lone_surrogates_are_replaced_not_a_500(client, sessions):
    # JSON may escape half of a UTF-16 pair ("\ud800"); UTF-8 and both databases cannot hold it.
    body = (
        rb'{"ticket":{"id":"45","tags":"refund, v\ud800ip",'
        rb'"url":"https://acme.freshdesk.com/helpdesk/tickets/45"},'
        rb'"requester":{"id":"7","name":"Jane \ud800"},"comment_text":"Jane \ud800 : still broken \ud800"}'
    )

    response = client.post("/webhooks/freshdesk", data=body, headers=token_headers())

    assert response.status_code == 202, response.json
    [row] = comments(sessions)
    assert (row.body, row.author_name) == ("still broken \ufffd", "Jane \ufffd")
    assert row.comment_key == "text:" + text_fingerprint("still broken \ufffd")
    assert row.ticket_snapshot["tags"] == ["refund", "v\ufffdip"]
    assert tickets(sessions) == [("freshdesk", "acme.freshdesk.com", "45")]


def test_lone_surrogate_in_comment_html_is_replaced(client, sessions):
    payload = reply("4521", "x")
    payload["comment_text"] = ""
    payload["comment_html"] = "<div>still \udbff broken</div><blockquote>\ud800</blockquote>"

    assert post_freshdesk(client, payload).status_code == 202
    [row] = comments(sessions)
    assert row.comment_key == "text:" + text_fingerprint("still \ufffd broken")


@pytest.mark.parametrize("body", [b"[" * 50_000, b'{"a":' * 50_000, b'{"ticket":{"id":"1"},"comment_text":' + b"[" * 50_000])
def test_deeply_nested_body_is_400(client, sessions, body):
    response = client.post("/webhooks/freshdesk", data=body, headers=token_headers())

    assert response.status_code == 400
    assert response.json == {"error": "body: nested too deeply"}
    assert comments(sessions) == []


def test_a_long_html_comment_is_accepted_quickly(client, sessions):
    # 100 KB of "<br>": cleaning was quadratic (12.7 s here, past Zendesk's 12 s timeout); now
    # linear. No wall-time assertion: the test's own duration shows a regression.
    payload = reply("4521", "x")
    payload["comment_text"] = ""
    payload["comment_html"] = "still broken <br>" * 6000

    assert post_freshdesk(client, payload).status_code == 202
    [row] = comments(sessions)
    assert row.comment_key == "text:" + text_fingerprint("still broken " * 6000)


def test_comment_is_cleaned_once_and_before_the_database_session(app, client, sessions, monkeypatch):
    """SQLite takes its write lock when the store begins: cleaning must be done by then."""
    import ticketpulse.webhooks.events

    calls = []
    inbox = app.extensions["ticketpulse.inbox"]
    real_store = inbox.store
    monkeypatch.setattr(inbox, "store", lambda event: calls.append("session") or real_store(event))
    monkeypatch.setattr(ticketpulse.webhooks.events, "clean_text", lambda value: calls.append("clean") or clean_text(value))

    assert post_freshdesk(client, reply("4521", "<p>Still broken</p>")).status_code == 202
    assert post_zendesk(client, comment_event("48213", "377", "Still broken", time="2025-03-05T17:40:11Z")).status_code == 202

    assert calls == ["clean", "session", "clean", "session"]


def test_event_text_fingerprint_and_key_are_computed_once():
    event = parse_freshdesk(reply("4521", "<b>Still</b> broken"))

    assert event.text is event.text
    assert event.comment_key == "text:" + text_fingerprint("Still broken")
    assert {"text", "fingerprint", "comment_key"} <= set(vars(event))  # cached on the frozen event
