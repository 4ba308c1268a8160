"""The whole path on Freshdesk: webhook → inbox → worker → score history → rules → Freshdesk API."""

from __future__ import annotations

import base64
import logging

import time

import pytest
from sqlalchemy import select, update

from ticketpulse.escalation.helpdesk import EscalationPlan, PermanentError
from ticketpulse.integrations import build_helpdesks
from ticketpulse.integrations.freshdesk import DryRunFreshdesk, FreshdeskClient, FreshdeskHelpdesk, note_html
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import DryRunZendesk, ZendeskClient, ZendeskHelpdesk
from ticketpulse.models import Comment, Escalation, Score, Ticket, utcnow
from tests.conftest import fixture_json
from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.conftest import FRESHDESK_SENIOR_GROUP as SENIOR_GROUP
from tests.freshdesk_helpers import post_freshdesk, reply
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.config import Config, Environment, Tags
from ticketpulse.runtime import build_runtime

CONVERSATION = {
    "Hi, my refund for order 4411 has not arrived yet. Can you check?": (-0.1, 0.2, 0.3),
    "It has been a week. Any update?": (-0.4, 0.5, 0.4),
    "Third time asking. Still no refund. This is unacceptable.": (-0.5, 0.8, 0.5),
    "I am done. Cancel everything, I'm reporting you to my bank!!!": (-0.95, 0.96, 0.9),
}
CRITICAL = "I am done. Cancel everything, I'm reporting you to my bank!!!"
API_AUTH = "Basic " + base64.b64encode(b"fd-api-key:X").decode()


@pytest.fixture
def fake_freshdesk():
    fake = FakeFreshdesk()
    fake.add_ticket("4521", tags=["refund", "vip"])
    fake.add_conversation("4521", "Hi, my refund for order 4411 has not arrived yet.")
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def scorer():
    return ScriptedScorer(dict(CONVERSATION))


def live_freshdesk(fake, api_key=None, **policy):
    policy = HttpPolicy(**({"attempts": 3, "max_wait": 5, "backoff": 0.01} | policy))
    return FreshdeskHelpdesk(FreshdeskClient(fake.url, api_key or fake.api_key, policy))


@pytest.fixture
def runtime(config, environment, engine, scorer, fake_freshdesk):
    return build_runtime(config, environment, engine=engine, scorer=scorer,
                         helpdesks={"freshdesk": live_freshdesk(fake_freshdesk)})


def say(client, text, *, ticket="4521"):
    response = post_freshdesk(client, reply(ticket, text))
    assert response.status_code in (200, 202), response.json
    return response


def rows(sessions, model, *order):
    with sessions() as session:
        return list(session.scalars(select(model).order_by(*(order or (model.id,)))))


def make_due(sessions):
    """Let a rescheduled escalation run now (instead of after its backoff): the work and its
    ticket's place in the escalation lane, as `jobs retry` moves both."""
    with sessions.begin() as session:
        session.execute(update(Escalation).where(Escalation.status == "pending").values(run_after=utcnow()))
        session.execute(update(Ticket).where(Ticket.escalate_at.is_not(None)).values(escalate_at=utcnow()))


def paths(fake, method=None):
    return [(r.method, r.path) for r in fake.requests if method in (None, r.method)]


# -- the happy path -----------------------------------------------------------------------------


def test_conversation_escalates_with_the_exact_freshdesk_requests(client, sessions, runtime, fake_freshdesk):
    for text in CONVERSATION:
        say(client, text)
        runtime.worker.drain()

    # Message 3 crosses frustration 0.75 (medium); message 4 crosses 0.9 (critical).
    writes = fake_freshdesk.writes()
    assert [(w.method, w.path) for w in writes] == [
        ("PUT", "/api/v2/tickets/4521"), ("POST", "/api/v2/tickets/4521/notes"),
    ] * 2
    medium_put, medium_note, critical_put, critical_note = (w.json for w in writes)
    assert medium_put == {
        "priority": 3,  # [freshdesk.priority] medium = 3 (High), an int
        "tags": ["refund", "vip", "sentiment_escalated", "sentiment_severity_medium"],
        "group_id": SENIOR_GROUP,
    }
    assert critical_put == {
        "priority": 4,
        "tags": ["refund", "vip", "sentiment_escalated", "sentiment_severity_critical"],  # medium tag replaced
        "group_id": SENIOR_GROUP,
    }
    assert set(medium_note) == {"body", "private"} and medium_note["private"] is True
    body = medium_note["body"]
    assert body.startswith("[ticketpulse] Escalated to the senior group: severity MEDIUM.<br>Rule: frustration")
    assert "\n" not in body and "sentiment -0.50  frustration 0.80" in body
    assert "What moved the score: &quot;" not in body and 'What moved the score: "scripted".' in body
    assert critical_note["body"].startswith("[ticketpulse] Escalated to the senior group: severity CRITICAL.<br>")
    assert all(r.authorization == API_AUTH for r in fake_freshdesk.requests)
    assert all(r.query == {"per_page": "100"} for r in fake_freshdesk.requests if r.path.endswith("/conversations"))

    ticket = fake_freshdesk.tickets["4521"]
    assert (ticket["priority"], ticket["group_id"]) == (4, SENIOR_GROUP)
    assert ticket["tags"] == ["refund", "vip", "sentiment_escalated", "sentiment_severity_critical"]
    assert [(n["private"], n["body_text"].splitlines()[0]) for n in fake_freshdesk.notes("4521")] == [
        (True, "[ticketpulse] Escalated to the senior group: severity MEDIUM."),
        (True, "[ticketpulse] Escalated to the senior group: severity CRITICAL."),
    ]
    [ticket_row] = rows(sessions, Ticket)
    assert (ticket_row.helpdesk, ticket_row.account, ticket_row.escalated_severity) == ("freshdesk", "acme.freshdesk.com", "critical")
    medium, critical = rows(sessions, Escalation)
    assert (medium.status, critical.status) == ("applied", "applied")
    assert medium.request["requests"] == [
        {"method": "PUT", "path": "/api/v2/tickets/4521", "json": medium_put},
        {"method": "POST", "path": "/api/v2/tickets/4521/notes", "json": medium_note},
    ]
    assert [s.text for s in rows(sessions, Score)] == list(CONVERSATION)  # "Jane Doe : " never scored


def test_per_severity_group_overrides_the_senior_group(client, sessions, environment, engine, scorer, fake_freshdesk):
    config = Config.model_validate({"freshdesk": {"senior_group_id": SENIOR_GROUP, "groups": {"critical": 43000123456},
                                                  "priority": {"critical": 4}}})
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer,
                            helpdesks={"freshdesk": live_freshdesk(fake_freshdesk)})
    say(client, CRITICAL)
    runtime.worker.drain()

    [put] = [w.json for w in fake_freshdesk.writes() if w.method == "PUT"]
    assert (put["group_id"], put["priority"]) == (43000123456, 4)


def test_without_a_senior_group_the_group_is_left_alone(client, sessions, environment, engine, scorer, fake_freshdesk):
    runtime = build_runtime(Config(), environment, engine=engine, scorer=scorer,
                            helpdesks={"freshdesk": live_freshdesk(fake_freshdesk)})
    say(client, CRITICAL)
    runtime.worker.drain()

    [put] = [w.json for w in fake_freshdesk.writes() if w.method == "PUT"]
    assert "group_id" not in put
    assert fake_freshdesk.tickets["4521"]["group_id"] == 43000123456


# -- what is never scored -------------------------------------------------------------------------


def test_agent_replies_private_notes_and_our_own_note_are_never_scored(client, sessions, runtime, scorer, fake_freshdesk):
    assert post_freshdesk(client, fixture_json("freshdesk_private_note.json")).status_code == 202
    assert post_freshdesk(client, fixture_json("freshdesk_agent_reply.json")).status_code == 202
    own = reply("4521", "[ticketpulse] Escalated to the senior group: severity CRITICAL.", name="Acme Support")
    assert post_freshdesk(client, own).status_code == 202
    runtime.worker.drain()

    assert [(c.status, c.reason) for c in rows(sessions, Comment)] == [
        ("skipped", "private note"), ("skipped", "agent comment"), ("skipped", "ticketpulse's own note"),
    ]
    assert scorer.calls == []
    assert rows(sessions, Score) == []
    assert fake_freshdesk.requests == []


def test_a_retried_delivery_is_scored_and_escalated_once(client, sessions, runtime, scorer, fake_freshdesk):
    assert say(client, CRITICAL).status_code == 202
    runtime.worker.drain()
    assert say(client, CRITICAL).status_code == 200  # Freshdesk retries: same body, no delivery id
    runtime.worker.drain()

    assert len(scorer.calls) == 1
    assert len(rows(sessions, Score)) == 1
    assert [e.status for e in rows(sessions, Escalation)] == ["applied"]
    assert paths(fake_freshdesk, "PUT") + paths(fake_freshdesk, "POST") == [
        ("PUT", "/api/v2/tickets/4521"), ("POST", "/api/v2/tickets/4521/notes"),
    ]


def test_the_same_ticket_id_on_both_helpdesks_never_mixes(client, sessions, config, environment, engine, scorer, fake_freshdesk):
    fake_zendesk = FakeZendesk()
    fake_zendesk.add_ticket("4521", tags=["shipping"])
    scorer.answers["Still unacceptable."] = (-0.8, 0.8, 0.5)
    with LiveServer(fake_zendesk.app()) as server:
        policy = HttpPolicy(attempts=2, backoff=0.01)
        runtime = build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks={
            "freshdesk": live_freshdesk(fake_freshdesk),
            "zendesk": ZendeskHelpdesk(ZendeskClient(server.url, fake_zendesk.email, fake_zendesk.token, policy)),
        })
        # Zendesk 4521 reaches critical first; Freshdesk 4521 only medium, on its own history.
        post_zendesk(client, comment_event("4521", "901", CRITICAL, time="2025-03-05T10:00:00Z"))
        runtime.worker.drain()
        say(client, "Still unacceptable.")
        runtime.worker.drain()

    assert sorted((t.helpdesk, t.account, t.external_id, t.escalated_severity) for t in rows(sessions, Ticket)) == [
        ("freshdesk", "acme.freshdesk.com", "4521", "medium"),
        ("zendesk", "9876543", "4521", "critical"),
    ]
    [zendesk_put] = [w.json["ticket"] for w in fake_zendesk.writes()]
    assert zendesk_put["tags"] == ["shipping", "sentiment_escalated", "sentiment_severity_critical"]
    [freshdesk_put] = [w.json for w in fake_freshdesk.writes() if w.method == "PUT"]
    assert freshdesk_put["tags"] == ["refund", "vip", "sentiment_escalated", "sentiment_severity_medium"]
    assert freshdesk_put["priority"] == 3
    by_ticket = {}
    for score in rows(sessions, Score):
        by_ticket.setdefault(score.ticket_id, []).append(score.text)
    assert sorted(by_ticket.values()) == [[CRITICAL], ["Still unacceptable."]]


# -- the API misbehaving --------------------------------------------------------------------------


def test_rate_limit_waits_retry_after_then_applies(client, sessions, runtime, fake_freshdesk):
    fake_freshdesk.failures = [(429, "1")]
    say(client, CRITICAL)
    runtime.worker.drain()

    assert paths(fake_freshdesk)[:2] == [("GET", "/api/v2/tickets/4521")] * 2  # the 429, then again
    assert [e.status for e in rows(sessions, Escalation)] == ["applied"]
    assert len(fake_freshdesk.writes()) == 2
    assert len(fake_freshdesk.notes("4521")) == 1


def test_rate_limited_note_is_retried_and_posted_once(client, sessions, runtime, fake_freshdesk):
    fake_freshdesk.method_failures = {"POST": [(429, "1")]}
    say(client, CRITICAL)
    runtime.worker.drain()

    assert paths(fake_freshdesk, "POST") == [("POST", "/api/v2/tickets/4521/notes")] * 2
    assert len(fake_freshdesk.notes("4521")) == 1
    assert [e.status for e in rows(sessions, Escalation)] == ["applied"]


def test_a_note_whose_answer_was_lost_is_not_posted_again(client, sessions, runtime, fake_freshdesk):
    # Freshdesk stored the note, but a proxy answered 504: not retried blindly; the retry looks first.
    fake_freshdesk.lost_answers = {"POST": 1}
    say(client, CRITICAL)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "pending" and "504" in escalation.reason
    assert len(paths(fake_freshdesk, "POST")) == 1

    make_due(sessions)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and escalation.request["requests"] == []
    assert len(paths(fake_freshdesk, "PUT")) == 1
    assert len(paths(fake_freshdesk, "POST")) == 1
    assert len(fake_freshdesk.notes("4521")) == 1


def test_an_outage_on_the_note_reschedules_and_finishes_later(client, sessions, config, environment, engine, scorer, fake_freshdesk):
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer,
                            helpdesks={"freshdesk": live_freshdesk(fake_freshdesk, attempts=2)})
    fake_freshdesk.method_failures = {"POST": [(503, None)]}
    say(client, CRITICAL)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "pending" and "503" in escalation.reason
    assert fake_freshdesk.notes("4521") == []

    make_due(sessions)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied"
    assert [r["method"] for r in escalation.request["requests"]] == ["POST"]  # the PUT was already done
    assert len(paths(fake_freshdesk, "PUT")) == 1
    assert len(fake_freshdesk.notes("4521")) == 1


@pytest.mark.parametrize(
    "api_key, ticket, status, detail",
    [
        ("revoked-key", "4521", 401, "You have to be logged in to perform this action."),
        (None, "999999", 404, "Freshdesk has no ticket 999999"),
    ],
)
def test_permanent_errors_end_failed_with_the_reason(client, sessions, config, environment, engine, scorer, fake_freshdesk,
                                                     api_key, ticket, status, detail):
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer,
                            helpdesks={"freshdesk": live_freshdesk(fake_freshdesk, api_key)})
    say(client, CRITICAL, ticket=ticket)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed"
    assert f"/api/v2/tickets/{ticket} -> {status}" in escalation.reason and detail in escalation.reason
    assert paths(fake_freshdesk) == [("GET", f"/api/v2/tickets/{ticket}")]  # not retried, nothing written


def test_validation_error_ends_failed_naming_the_field(client, sessions, environment, engine, scorer, fake_freshdesk):
    config = Config.model_validate({"freshdesk": {"senior_group_id": 43000000001}})  # no such group
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer,
                            helpdesks={"freshdesk": live_freshdesk(fake_freshdesk)})
    say(client, CRITICAL)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed"
    assert "-> 400: Validation failed (group_id: There is no group matching the given group_id)" in escalation.reason
    assert len(paths(fake_freshdesk, "PUT")) == 1  # a 400 is not retried
    assert fake_freshdesk.notes("4521") == []  # no note for an escalation that did not happen
    assert fake_freshdesk.tickets["4521"]["tags"] == ["refund", "vip"]


def test_priority_out_of_range_is_a_permanent_error_listing_the_field(fake_freshdesk):
    plan = EscalationPlan(external_id="4521", severity="high", group_id=None, priority=9,
                          note="[ticketpulse] Escalated.", tags=Tags())
    with pytest.raises(PermanentError) as error:
        live_freshdesk(fake_freshdesk).apply(plan)

    assert error.value.status == 400
    assert ("-> 400: Validation failed (priority: It should be one of these values: '1,2,3,4'). "
            "Freshdesk changed nothing on the ticket; not retried") in str(error.value)
    assert fake_freshdesk.notes("4521") == []


# -- crashes: nothing twice -----------------------------------------------------------------------


@pytest.fixture
def long_ticket(fake_freshdesk):
    """150 earlier replies: our note lands on the second page of conversations."""
    for n in range(149):
        fake_freshdesk.add_conversation("4521", f"Earlier reply {n}", incoming=n % 2 == 0)
    return fake_freshdesk


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the worker catches it, nothing after it runs."""


def crash_once(monkeypatch, *, after_note: bool):
    real = FreshdeskClient.add_note
    crashes = []

    def add_note(self, ticket_id, body):
        if crashes:
            return real(self, ticket_id, body)
        crashes.append(1)
        if after_note:
            real(self, ticket_id, body)
        raise WorkerKilled()

    monkeypatch.setattr(FreshdeskClient, "add_note", add_note)


@pytest.mark.parametrize("after_note", [False, True], ids=["crash-after-put", "crash-after-note"])
def test_a_crash_mid_escalation_never_doubles_the_update_or_the_note(client, sessions, runtime, long_ticket, monkeypatch, after_note):
    crash_once(monkeypatch, after_note=after_note)
    say(client, CRITICAL)
    with pytest.raises(WorkerKilled):
        runtime.worker.drain()
    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "pending"  # the crash left the work to be picked up again
    assert len(long_ticket.notes("4521")) == (1 if after_note else 0)
    requests_before = len(long_ticket.requests)

    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and escalation.reason == "the ticket already carried this severity"
    assert [r["method"] for r in escalation.request["requests"]] == ([] if after_note else ["POST"])
    assert len(paths(long_ticket, "PUT")) == 1
    [note] = long_ticket.notes("4521")
    assert note["body_text"].startswith("[ticketpulse] Escalated to the senior group: severity CRITICAL.")
    # The retry read every page of conversations (the note is the 151st) before deciding.
    retry = long_ticket.requests[requests_before:]
    assert [r.query for r in retry if r.path.endswith("/conversations")] == [
        {"per_page": "100"}, {"per_page": "100", "page": "2"},
    ]


@pytest.mark.parametrize("tags, shown", [
    ("refund,vip", "got str"),
    (["refund", 7, {"name": "vip"}], "got a list with dict, int items"),
])
def test_ticket_tags_of_the_wrong_shape_fail_the_escalation_naming_the_field_and_send_nothing(
        client, sessions, runtime, fake_freshdesk, tags, shown):
    fake_freshdesk.tickets["4521"]["tags"] = tags
    say(client, CRITICAL)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed"
    assert f'GET /api/v2/tickets/4521: expected "tags" as a list of strings, {shown}' in escalation.reason
    assert fake_freshdesk.writes() == []  # neither the update (it replaces the tags) nor the note
    assert paths(fake_freshdesk) == [("GET", "/api/v2/tickets/4521")]  # not retried


def test_a_ticket_already_at_a_higher_severity_gets_nothing(client, sessions, runtime, fake_freshdesk, scorer):
    fake_freshdesk.tickets["4521"]["tags"] = ["refund", "sentiment_escalated", "sentiment_severity_critical"]
    say(client, "Third time asking. Still no refund. This is unacceptable.")  # medium
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert (escalation.severity, escalation.status) == ("medium", "applied")
    assert fake_freshdesk.writes() == []


def test_conversations_follow_the_link_header_on_our_base_url(fake_freshdesk):
    for n in range(249):
        fake_freshdesk.add_conversation("4521", f"Reply {n}")
    client = FreshdeskClient(fake_freshdesk.url, fake_freshdesk.api_key, HttpPolicy(attempts=1))

    conversations = client.list_conversations("4521")

    assert len(conversations) == 250
    assert [c["body_text"] for c in conversations[-2:]] == ["Reply 247", "Reply 248"]
    # The Link header names https://acme.freshdesk.com; the key went only to our base URL.
    assert [r.query.get("page") for r in fake_freshdesk.requests] == [None, "2", "3"]


# -- dry run and wiring ---------------------------------------------------------------------------


def test_dry_run_logs_the_requests_it_would_send(client, sessions, config, environment, engine, scorer, caplog):
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer,
                            helpdesks={"freshdesk": DryRunFreshdesk(None)})
    say(client, CRITICAL)
    with caplog.at_level(logging.WARNING, logger="ticketpulse.helpdesk"):
        runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and escalation.dry_run
    put, note = escalation.request["requests"]
    assert put == {"method": "PUT", "path": "/api/v2/tickets/4521", "json": {
        "priority": 4, "tags": ["refund", "vip", "sentiment_escalated", "sentiment_severity_critical"],
        "group_id": SENIOR_GROUP,
    }}
    assert (note["method"], note["path"], note["json"]["private"]) == ("POST", "/api/v2/tickets/4521/notes", True)
    assert note["json"]["body"] == note_html(escalation.note)
    assert "DRY RUN (no Freshdesk credentials): PUT https://acme.freshdesk.com/api/v2/tickets/4521 {" in caplog.text
    assert '"tags": ["refund", "vip", "sentiment_escalated", "sentiment_severity_critical"]' in caplog.text
    assert "DRY RUN (no Freshdesk credentials): POST https://acme.freshdesk.com/api/v2/tickets/4521/notes {" in caplog.text


def test_build_helpdesks_is_live_with_credentials_and_dry_run_without(config):
    live = build_helpdesks(config, Environment(freshdesk_domain="acme", freshdesk_api_key="k"))
    assert isinstance(live["freshdesk"], FreshdeskHelpdesk)
    assert live["freshdesk"].client.base_url == "https://acme.freshdesk.com"
    assert live["freshdesk"].client.auth == ("k", "X")
    assert isinstance(live["zendesk"], DryRunZendesk)

    dry = build_helpdesks(config, Environment(freshdesk_base_url="http://127.0.0.1:9/"))
    assert isinstance(dry["freshdesk"], DryRunFreshdesk)
    assert dry["freshdesk"].base_url == "http://127.0.0.1:9"


def test_note_html_escapes_and_breaks_lines():
    assert note_html('[ticketpulse] a < b & "c"\n  line two') == '[ticketpulse] a &lt; b &amp; "c"<br>  line two'


def test_an_escalation_slower_than_the_lease_is_not_taken_over(client, sessions, config, environment, engine, scorer, fake_freshdesk):
    """The worker's heartbeat keeps its lease while the helpdesk is slow: one update, one note."""
    import threading

    short = config.model_copy(update={"worker": config.worker.model_copy(update={"lease_seconds": 1, "poll_interval_seconds": 0.05})})
    runtime = build_runtime(short, environment, engine=engine, scorer=scorer,
                            helpdesks={"freshdesk": live_freshdesk(fake_freshdesk)})
    say(client, CRITICAL)
    fake_freshdesk.latency = 0.6  # GET ticket, PUT, GET conversations, POST note: 2.4 s, the lease 1 s
    stop = threading.Event()
    threads = runtime.worker.start(stop) + build_runtime(
        short, environment, engine=engine, scorer=scorer, helpdesks={"freshdesk": live_freshdesk(fake_freshdesk)}
    ).worker.start(stop)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and [e.status for e in rows(sessions, Escalation)] != ["applied"]:
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied"
    assert len(paths(fake_freshdesk, "PUT")) == 1
    assert len(fake_freshdesk.notes("4521")) == 1


@pytest.mark.parametrize("field, value, shown", [
    ("body_text", 42, "got int"),
    ("body", {"html": "<p>x</p>"}, "got dict"),
])
def test_a_private_note_whose_text_is_not_a_string_fails_the_escalation_naming_the_field(
        client, sessions, runtime, fake_freshdesk, field, value, shown):
    fake_freshdesk.add_conversation("4521", "an agent's note", incoming=False, private=True)
    note = fake_freshdesk.conversations["4521"][-1]
    note.pop("body_text", None)
    note[field] = value
    say(client, CRITICAL)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed"
    assert escalation.attempts == 1  # the same answer would come again: not retried
    assert (f'GET /api/v2/tickets/4521/conversations: expected "{field}" of a private note as a string, {shown}'
            in escalation.reason)
    assert len(fake_freshdesk.notes("4521")) == 1  # the agent's own; ours is not posted


def test_a_base_url_given_with_the_api_path_reaches_the_ticket(fake_freshdesk):
    client = FreshdeskClient(fake_freshdesk.url + "/api/v2/", fake_freshdesk.api_key,
                             HttpPolicy(attempts=2, max_wait=1, backoff=0.01))
    plan = EscalationPlan(external_id="4521", severity="high", group_id=None, priority=4,
                          note="[ticketpulse] Escalated: severity HIGH.", tags=Tags())
    FreshdeskHelpdesk(client).apply(plan)

    assert paths(fake_freshdesk) == [("GET", "/api/v2/tickets/4521"), ("GET", "/api/v2/tickets/4521/conversations"),
                                     ("PUT", "/api/v2/tickets/4521"), ("POST", "/api/v2/tickets/4521/notes")]
    assert fake_freshdesk.tickets["4521"]["tags"] == ["refund", "vip", "sentiment_escalated", "sentiment_severity_high"]


def test_tags_of_the_ticket_that_differ_only_in_case_are_all_kept(fake_freshdesk):
    fake_freshdesk.tickets["4521"]["tags"] = ["VIP", "vip", "Refund"]
    client = FreshdeskClient(fake_freshdesk.url, fake_freshdesk.api_key, HttpPolicy(attempts=2, max_wait=1, backoff=0.01))
    plan = EscalationPlan(external_id="4521", severity="high", group_id=None, priority=4,
                          note="[ticketpulse] Escalated: severity HIGH.", tags=Tags())
    FreshdeskHelpdesk(client).apply(plan)

    assert fake_freshdesk.tickets["4521"]["tags"] == ["VIP", "vip", "Refund", "sentiment_escalated", "sentiment_severity_high"]
