"""Webhook security through the real HTTP path: no replays, no unsigned identity, one id per
ticket and comment, rotation with two secrets, and 413 for every oversized body on every server."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from ticketpulse.config import Config, ConfigError, Environment, load_environment
from ticketpulse.models import Comment, Ticket
from ticketpulse.webhooks import create_app
from tests.conftest import FRESHDESK_SECRET, ZENDESK_SECRET, as_body, fixture_json
from tests.fakes.server import LiveServer
from tests.freshdesk_helpers import basic_headers, reply, token_headers
from tests.zendesk_helpers import comment_event, signed_headers, zendesk_timestamp


@pytest.fixture
def live(app):
    with LiveServer(app) as server:
        yield server.url


def make_live(config, engine, **environment):
    """A server with its own environment (secrets, accounts), for the length of a `with`."""
    env = Environment(**environment)
    return LiveServer(create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine}))


def post(url: str, body: bytes, headers: dict, helpdesk: str = "zendesk") -> requests.Response:
    return requests.post(f"{url}/webhooks/{helpdesk}", data=body, headers=headers, timeout=10)


def stored(sessions) -> tuple[list[tuple[str, str, str]], list[tuple[int, str]]]:
    """(tickets as (helpdesk, account, number), comments as (ticket row id, key))."""
    with sessions() as session:
        tickets = [(t.helpdesk, t.account, t.external_id) for t in session.scalars(select(Ticket).order_by(Ticket.id))]
        comments = [(c.ticket_id, c.comment_key) for c in session.scalars(select(Comment).order_by(Comment.id))]
    return tickets, comments


EVENT = as_body(fixture_json("zendesk_comment_added.json"))


# -- freshness -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ago, message",
    [
        (timedelta(hours=1), r"is 360\d s old; signed requests are accepted for 300 s"),
        (timedelta(days=1), r"is 8640\d s old"),
        (timedelta(days=30), r"is 259200\d s old"),
        (timedelta(days=-1), r"is 86(39\d|40\d) s in the future; at most 300 s of clock difference is accepted"),
        (None, r"X-Zendesk-Webhook-Signature-Timestamp is not an ISO-8601 time: 'not-a-timestamp'"),
    ],
    ids=["1 hour old", "1 day old", "30 days old", "1 day ahead", "unparsable"],
)
def test_a_signature_outside_the_window_is_401_saying_which(live, sessions, ago, message):
    timestamp = zendesk_timestamp(ago) if ago is not None else "not-a-timestamp"
    response = post(live, EVENT, signed_headers(EVENT, timestamp=timestamp))  # correctly signed, but stale

    assert response.status_code == 401
    assert re.search(message, response.json()["error"]), response.json()
    assert stored(sessions) == ([], [])


def test_a_fresh_capture_replayed_is_a_harmless_duplicate(live, sessions):
    headers = signed_headers(EVENT, timestamp=zendesk_timestamp(timedelta(minutes=4)))  # a retry, 4 min later

    first = post(live, EVENT, headers)
    replayed = [post(live, EVENT, headers) for _ in range(3)]

    assert first.status_code == 202
    assert [(r.status_code, r.json()["status"]) for r in replayed] == [(200, "duplicate")] * 3
    assert len(stored(sessions)[1]) == 1


def test_the_window_is_configurable(engine, sessions, database_url):
    config = Config.model_validate({"webhooks": {"signature_tolerance_seconds": 60}})
    with make_live(config, engine, database_url=database_url, zendesk_webhook_secret=ZENDESK_SECRET) as server:
        two_minutes = post(server.url, EVENT, signed_headers(EVENT, timestamp=zendesk_timestamp(timedelta(minutes=2))))
        thirty_seconds = post(server.url, EVENT, signed_headers(EVENT, timestamp=zendesk_timestamp(timedelta(seconds=30))))

    assert two_minutes.status_code == 401 and "accepted for 60 s" in two_minutes.json()["error"]
    assert thirty_seconds.status_code == 202


def test_a_forged_timestamp_is_a_signature_mismatch_not_a_freshness_error(live):
    headers = signed_headers(EVENT, timestamp=zendesk_timestamp(timedelta(days=1)))
    headers["X-Zendesk-Webhook-Signature-Timestamp"] = zendesk_timestamp()  # made fresh by hand

    response = post(live, EVENT, headers)

    assert response.status_code == 401
    assert response.json()["error"] == "webhook signature does not match"


# -- identity from signed data only ----------------------------------------------------------------

# Headers Zendesk sends that its signature does not cover, each changed or dropped on a replay.
UNSIGNED_CHANGES = [
    {"X-Zendesk-Webhook-Invocation-Id": "1111111111"},
    {"X-Zendesk-Webhook-Invocation-Id": None},
    {"X-Zendesk-Webhook-Invocation-Id": "not an id " * 30},
    {"X-Zendesk-Webhook-Id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"},
    {"X-Zendesk-Webhook-Id": None},
    {"X-Zendesk-Account-Id": None},
    {"X-Zendesk-Account-Id": "09876543"},  # the same account, spelled with a leading zero
    {"User-Agent": "Zendesk Webhook/2.0"},
    {"Content-Type": "text/plain"},
    {"X-Forwarded-For": "203.0.113.9"},
    {"X-Request-Id": "replay-1"},
]


def changed(headers: dict, change: dict) -> dict:
    headers = dict(headers)
    for key, value in change.items():
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    return headers


@pytest.mark.parametrize("capture", ["zendesk_comment_added.json", "zendesk_trigger.json"])
def test_a_replay_with_every_unsigned_header_changed_is_a_duplicate(live, sessions, capture):
    body = as_body(fixture_json(capture))
    headers = signed_headers(body)
    first = post(live, body, headers)

    answers = [post(live, body, changed(headers, change)) for change in UNSIGNED_CHANGES]
    everything_at_once = post(live, body, changed(headers, {k: v for c in UNSIGNED_CHANGES[::2] for k, v in c.items()}))

    assert first.status_code == 202
    assert [(r.status_code, r.json()) for r in answers + [everything_at_once]] == \
        [(200, {"status": "duplicate", "comment_id": first.json()["comment_id"]})] * (len(UNSIGNED_CHANGES) + 1)
    tickets, comments = stored(sessions)
    assert tickets == [("zendesk", "9876543", "48213")] and len(comments) == 1


@pytest.mark.parametrize("capture", ["zendesk_comment_added.json", "zendesk_trigger.json"])
def test_an_account_header_that_contradicts_the_signed_account_is_refused(live, sessions, capture):
    body = as_body(fixture_json(capture))
    headers = signed_headers(body)
    post(live, body, headers)

    answers = [post(live, body, headers | {"X-Zendesk-Account-Id": account}) for account in ("1", "2", "3")]

    assert [r.status_code for r in answers] == [400, 400, 400]
    source = "the signed account_id" if "event" in fixture_json(capture) else "ZENDESK_ACCOUNT_ID"
    assert answers[0].json() == {"error": f"X-Zendesk-Account-Id header: 1 does not match {source} 9876543"}
    tickets, comments = stored(sessions)
    assert tickets == [("zendesk", "9876543", "48213")] and len(comments) == 1  # no new ticket, no new comment


def test_without_a_configured_account_the_header_is_ignored_not_trusted(config, engine, sessions, database_url):
    """A trigger body carries no account: the header is unsigned, so every replay keys the same."""
    body = as_body(fixture_json("zendesk_trigger.json"))
    headers = signed_headers(body)
    with make_live(config, engine, database_url=database_url, zendesk_webhook_secret=ZENDESK_SECRET) as server:
        answers = [post(server.url, body, headers | {"X-Zendesk-Account-Id": account}) for account in ("1", "2", "3")]

    assert [r.json()["status"] for r in answers] == ["accepted", "duplicate", "duplicate"]
    assert stored(sessions)[0] == [("zendesk", "default", "48213")]


def test_an_event_from_another_account_than_configured_is_refused(config, engine, sessions, database_url):
    with make_live(config, engine, database_url=database_url, zendesk_webhook_secret=ZENDESK_SECRET,
                   zendesk_account_id="1234") as server:
        response = post(server.url, EVENT, signed_headers(EVENT))

    assert response.status_code == 400
    assert response.json() == {"error": "account_id: 9876543 is not this server's account (ZENDESK_ACCOUNT_ID=1234)"}
    assert stored(sessions) == ([], [])


def test_a_trigger_body_may_carry_its_account(config, engine, sessions, database_url):
    payload = {"account_id": "555"} | fixture_json("zendesk_trigger.json")  # before the comment: the text cannot add it there
    body = as_body(payload)
    with make_live(config, engine, database_url=database_url, zendesk_webhook_secret=ZENDESK_SECRET) as server:
        response = post(server.url, body, signed_headers(body) | {"X-Zendesk-Account-Id": "555"})

    assert response.status_code == 202
    assert stored(sessions)[0] == [("zendesk", "555", "48213")]


def test_freshdesk_replay_with_other_headers_is_a_duplicate(live, sessions):
    body = as_body(reply("4521", "Where is my refund?"))
    first = post(live, body, token_headers(), "freshdesk")
    again = [
        post(live, body, token_headers() | extra, "freshdesk")
        for extra in ({"User-Agent": "other"}, {"X-Forwarded-For": "203.0.113.9"}, {"Content-Type": "text/plain"},
                      {"X-Request-Id": "r-2"})
    ] + [post(live, body, basic_headers(), "freshdesk")]

    assert first.status_code == 202
    assert [r.json()["status"] for r in again] == ["duplicate"] * 5
    assert stored(sessions)[0] == [("freshdesk", "acme.freshdesk.com", "4521")]


def test_freshdesk_account_is_the_configured_domain(config, engine, sessions, database_url):
    vanity = reply("4521", "First message", domain="support.acme.com")  # a portal on the company's domain
    other_account = reply("4521", "Second message", domain="globex.freshdesk.com")
    with make_live(config, engine, database_url=database_url, freshdesk_webhook_secret=FRESHDESK_SECRET,
                   freshdesk_domain="acme") as server:
        accepted = post(server.url, as_body(vanity), token_headers(), "freshdesk")
        refused = post(server.url, as_body(other_account), token_headers(), "freshdesk")

    assert accepted.status_code == 202
    assert refused.status_code == 400
    assert refused.json() == {"error": "ticket.url: globex.freshdesk.com is not this server's account "
                                       "(FRESHDESK_DOMAIN=acme.freshdesk.com)"}
    assert stored(sessions)[0] == [("freshdesk", "acme.freshdesk.com", "4521")]


# -- one ticket, one id ----------------------------------------------------------------------------


def trigger(ticket_id, comment_id="55", text="Still waiting for my refund.") -> bytes:
    return as_body({"ticket_id": ticket_id, "comment_id": comment_id, "comment": text, "updater_role": "End-user"})


def test_ticket_numbers_are_normalised_before_they_key_anything(live, sessions):
    answers = [post(live, body, signed_headers(body)) for body in (trigger("7"), trigger("007"), trigger(" 7 "), trigger(7))]

    assert [r.json()["status"] for r in answers] == ["accepted", "duplicate", "duplicate", "duplicate"]
    tickets, comments = stored(sessions)
    assert tickets == [("zendesk", "9876543", "7")] and len(comments) == 1


def test_comment_ids_are_normalised_too(live, sessions):
    event = fixture_json("zendesk_comment_added.json")
    padded = json.loads(json.dumps(event))
    padded["event"]["comment"]["id"] = " 000377 "
    padded["detail"]["id"] = "0048213"
    answers = [post(live, as_body(p), signed_headers(as_body(p))) for p in (event, padded)]
    from_trigger = post(live, trigger("48213", "0377", "Third time asking. This is unacceptable."),
                        signed_headers(trigger("48213", "0377", "Third time asking. This is unacceptable.")))

    assert [r.json()["status"] for r in answers + [from_trigger]] == ["accepted", "duplicate", "duplicate"]
    assert stored(sessions)[1] == [(1, "id:377")]


@pytest.mark.parametrize(
    "body, error",
    [
        (trigger("0"), "ticket_id: not a ticket number (tickets are numbered from 1)"),
        (trigger("-7"), "ticket_id: not a ticket number"),
        (trigger("7", comment_id="c-55"), "comment_id: not a number"),
        (trigger("7", comment_id="٥٥"), "comment_id: not a number"),  # Arabic-Indic digits are digits to Python
    ],
)
def test_ids_that_cannot_be_normalised_are_refused(live, sessions, body, error):
    response = post(live, body, signed_headers(body))

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert stored(sessions) == ([], [])


def test_freshdesk_ticket_numbers_are_normalised(live, sessions):
    answers = [post(live, as_body(reply(number, "Where is my refund?")), token_headers(), "freshdesk")
               for number in ("4521", "04521")]

    assert [r.json()["status"] for r in answers] == ["accepted", "duplicate"]
    assert stored(sessions)[0] == [("freshdesk", "acme.freshdesk.com", "4521")]


# -- secret rotation -------------------------------------------------------------------------------


def test_two_zendesk_secrets_during_a_rotation(config, engine, sessions, database_url):
    bodies = [as_body(comment_event("48213", str(n), f"Message {n}", time="2025-03-05T17:40:11Z")) for n in (1, 2, 3)]
    with make_live(config, engine, database_url=database_url, zendesk_webhook_secret=f"{ZENDESK_SECRET}, new-secret") as server:
        old = post(server.url, bodies[0], signed_headers(bodies[0], secret=ZENDESK_SECRET))
        new = post(server.url, bodies[1], signed_headers(bodies[1], secret="new-secret"))
        other = post(server.url, bodies[2], signed_headers(bodies[2], secret="yet-another"))

    assert (old.status_code, new.status_code, other.status_code) == (202, 202, 401)
    assert other.json() == {"error": "webhook signature does not match"}
    assert len(stored(sessions)[1]) == 2


def test_two_freshdesk_secrets_during_a_rotation(config, engine, sessions, database_url):
    with make_live(config, engine, database_url=database_url, freshdesk_webhook_secret="old-one,new-one") as server:
        old = post(server.url, as_body(reply("1", "a")), token_headers("old-one"), "freshdesk")
        new = post(server.url, as_body(reply("2", "b")), basic_headers("new-one"), "freshdesk")
        other = post(server.url, as_body(reply("3", "c")), token_headers("old-one,new-one"), "freshdesk")

    assert (old.status_code, new.status_code, other.status_code) == (202, 202, 401)


def test_more_than_two_secrets_is_a_config_error(runner, monkeypatch):
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", "a,b,c")
    with pytest.raises(ConfigError, match="ZENDESK_WEBHOOK_SECRET: at most two comma-separated secrets"):
        load_environment()

    result = runner("check-config")
    assert result.code == 2
    assert "ZENDESK_WEBHOOK_SECRET: at most two comma-separated secrets" in result.err


def test_the_account_number_is_checked_and_normalised(monkeypatch):
    monkeypatch.setenv("ZENDESK_ACCOUNT_ID", " 09876543 ")
    assert load_environment().zendesk_account_id == "9876543"
    monkeypatch.setenv("ZENDESK_ACCOUNT_ID", "acme")
    with pytest.raises(ConfigError, match="ZENDESK_ACCOUNT_ID: not an account number"):
        load_environment()
