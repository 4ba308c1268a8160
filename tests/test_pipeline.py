"""The whole path on Zendesk: webhook → inbox → worker → score history → rules → Zendesk API."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
import logging

import pytest
from sqlalchemy import select, update

from ticketpulse.integrations.zendesk import DryRunZendesk, ZendeskHelpdesk
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient
from ticketpulse.models import Comment, Escalation, Score, Ticket, utcnow
from tests.conftest import fixture_json
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.runtime import build_runtime

CONVERSATION = {
    "Hi, my order 4411 has not arrived yet. Can you check?": (-0.1, 0.2, 0.3),
    "It has been a week. Any update?": (-0.4, 0.5, 0.4),
    "Third time asking. Still no refund. This is unacceptable.": (-0.5, 0.8, 0.5),
    "I am done. Cancel everything, I'm reporting you to my bank!!!": (-0.95, 0.96, 0.9),
}


@pytest.fixture
def fake_zendesk():
    fake = FakeZendesk()
    fake.add_ticket("48213", tags=["shipping", "vip"])
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def scorer():
    return ScriptedScorer(dict(CONVERSATION))  # a copy: tests add their own answers


def live_helpdesk(fake, token=None, **policy):
    policy = HttpPolicy(**({"attempts": 3, "max_wait": 5, "backoff": 0.01} | policy))
    return {"zendesk": ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, token or fake.token, policy))}


@pytest.fixture
def runtime(config, environment, engine, scorer, fake_zendesk):
    return build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks=live_helpdesk(fake_zendesk))


def say(client, text, n, *, ticket="48213", staff=False, public=True):
    event = comment_event(ticket, str(400 + n), text, time=f"2025-03-05T1{n}:00:00Z", staff=staff, public=public)
    response = post_zendesk(client, event)
    assert response.status_code in (200, 202), response.json
    return response


def rows(sessions, model, *order):
    with sessions() as session:
        return list(session.scalars(select(model).order_by(*(order or (model.id,)))))


def test_conversation_escalates_with_the_exact_zendesk_request(client, sessions, runtime, fake_zendesk):
    for n, text in enumerate(CONVERSATION):
        say(client, text, n)
        runtime.worker.drain()

    # Message 3 crosses frustration 0.75 (medium); message 4 crosses 0.9 (critical): one update each.
    writes = fake_zendesk.writes()
    assert [w.method for w in writes] == ["PUT", "PUT"]
    medium, critical = (w.json["ticket"] for w in writes)
    assert medium["group_id"] == 360001234567
    assert medium["priority"] == "high"
    assert medium["tags"] == ["shipping", "vip", "sentiment_escalated", "sentiment_severity_medium"]
    assert medium["comment"]["public"] is False
    assert medium["safe_update"] is True and medium["updated_stamp"] == "2025-03-05T17:40:11Z"
    note = medium["comment"]["body"]
    assert note.startswith("[ticketpulse] Escalated to the senior group: severity MEDIUM.")
    assert "Rule: frustration (frustration 0.80 >= 0.75)" in note
    assert "2025-03-05 10:00 UTC  sentiment -0.10  frustration 0.20" in note
    assert "2025-03-05 12:00 UTC  sentiment -0.50  frustration 0.80" in note
    assert critical["priority"] == "urgent"
    assert critical["tags"] == ["shipping", "vip", "sentiment_escalated", "sentiment_severity_critical"]
    assert "severity CRITICAL" in critical["comment"]["body"]
    assert all(w.authorization == "Basic " + base64.b64encode(b"bot@example.com/token:zd-token").decode() for w in fake_zendesk.requests)

    ticket = fake_zendesk.tickets["48213"]
    assert ticket["tags"] == ["shipping", "vip", "sentiment_escalated", "sentiment_severity_critical"]
    assert len(ticket["comments"]) == 2
    [ticket_row] = rows(sessions, Ticket)
    assert ticket_row.escalated_severity == "critical"
    assert [e.status for e in rows(sessions, Escalation)] == ["applied", "applied"]
    assert len(rows(sessions, Score)) == 4


def test_the_services_own_note_and_agent_replies_are_never_scored(client, sessions, runtime, scorer, fake_zendesk):
    post_zendesk(client, fixture_json("zendesk_comment_added_by_agent.json"))
    post_zendesk(client, fixture_json("zendesk_comment_added_private_note.json"))
    runtime.worker.drain()

    agent, note = rows(sessions, Comment)
    assert (agent.status, agent.reason) == ("skipped", "agent comment")
    assert (note.status, note.reason) == ("skipped", "private note")
    assert scorer.calls == []
    assert rows(sessions, Score) == []
    assert fake_zendesk.writes() == []


def test_same_comment_through_both_kinds_is_scored_once(client, sessions, runtime, scorer):
    text = "Third time asking. Still no refund. This is unacceptable."
    say(client, text, 2)
    trigger = fixture_json("zendesk_trigger.json") | {"comment": text, "comment_id": ""}
    assert post_zendesk(client, trigger, invocation="999").status_code == 202
    runtime.worker.drain()

    first, second = rows(sessions, Comment)
    assert first.status == "done"
    assert second.status == "skipped" and "duplicate of comment" in second.reason
    assert len(rows(sessions, Score)) == 1
    assert len(scorer.calls) == 1


def test_history_is_ordered_by_comment_time_not_arrival(client, sessions, runtime):
    texts = list(CONVERSATION)
    for n in (2, 0, 1):  # the oldest comments arrive last
        say(client, texts[n], n)
    runtime.worker.drain()

    history = rows(sessions, Score, Score.commented_at)
    assert [s.text for s in history] == texts[:3]


def test_a_comment_dated_in_the_future_does_not_hide_later_ones_from_the_rules(client, sessions, runtime, fake_zendesk):
    calm, furious = list(CONVERSATION)[0], list(CONVERSATION)[3]
    post_zendesk(client, comment_event("48213", "501", calm, time="2099-01-01T00:00:00Z"))  # a helpdesk clock gone wrong
    now = datetime.now(timezone.utc).isoformat()
    post_zendesk(client, comment_event("48213", "502", furious, time=now))
    runtime.worker.drain()

    assert [s.text for s in rows(sessions, Score, Score.commented_at)] == [calm, furious]  # dated on arrival
    assert [e.severity for e in rows(sessions, Escalation)] == ["critical"]


def test_escalates_once_and_again_only_when_severity_rises(client, sessions, runtime, fake_zendesk, scorer):
    scorer.answers.update({"Still unacceptable.": (-0.8, 0.8, 0.5), "Worse!": (-0.7, 0.85, 0.5)})
    say(client, "Third time asking. Still no refund. This is unacceptable.", 1)
    say(client, "Still unacceptable.", 2)
    say(client, "Worse!", 3)
    runtime.worker.drain()

    assert [e.severity for e in rows(sessions, Escalation)] == ["medium"]
    assert len(fake_zendesk.writes()) == 1


def test_two_negative_messages_in_a_row_escalate_low(client, sessions, runtime, scorer):
    scorer.answers.update({"Meh, not great.": (-0.7, 0.4, 0.1), "Still not great.": (-0.7, 0.4, 0.1)})
    say(client, "Meh, not great.", 1)
    runtime.worker.drain()
    assert rows(sessions, Escalation) == []  # one negative message may be sarcasm

    say(client, "Still not great.", 2)
    runtime.worker.drain()
    [escalation] = rows(sessions, Escalation)
    assert (escalation.severity, escalation.rule) == ("low", "repeated_negative")


def test_conflict_on_update_rereads_the_ticket_and_retries(client, sessions, runtime, fake_zendesk):
    fake_zendesk.concurrent_edits = 1
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    methods = [(r.method, r.path) for r in fake_zendesk.requests]
    assert methods == [("GET", "/api/v2/tickets/48213"), ("PUT", "/api/v2/tickets/48213")] * 2
    first_put, second_put = (r.json["ticket"] for r in fake_zendesk.writes())
    assert second_put["updated_stamp"] != first_put["updated_stamp"]
    assert [e.status for e in rows(sessions, Escalation)] == ["applied"]
    assert len(fake_zendesk.tickets["48213"]["comments"]) == 1


def test_rate_limit_waits_retry_after_then_applies(client, sessions, runtime, fake_zendesk):
    fake_zendesk.failures = [(429, "1")]
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    assert [e.status for e in rows(sessions, Escalation)] == ["applied"]
    assert len(fake_zendesk.writes()) == 1


def test_long_outage_reschedules_the_escalation_instead_of_dropping_it(client, sessions, config, environment, engine, scorer, fake_zendesk):
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer,
                            helpdesks=live_helpdesk(fake_zendesk, attempts=2, max_wait=1))
    fake_zendesk.failures = [(503, "120"), (503, "120")]
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "pending" and escalation.attempts == 1
    assert "503" in escalation.reason
    assert (escalation.run_after - escalation.created_at).total_seconds() >= 119


@pytest.mark.parametrize("status, ticket_id", [(401, "48213"), (404, "999999")])
def test_permanent_errors_end_failed_with_the_reason(client, sessions, config, environment, engine, scorer, fake_zendesk, status, ticket_id):
    token = "revoked-token" if status == 401 else None
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks=live_helpdesk(fake_zendesk, token))
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3, ticket=ticket_id)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed"
    assert f"-> {status}" in escalation.reason
    assert len([r for r in fake_zendesk.requests if r.method == "GET"]) == 1  # not retried


def test_crash_after_the_update_does_not_apply_it_twice(client, sessions, runtime, fake_zendesk):
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()
    with sessions.begin() as session:  # as if the worker died before recording success
        session.scalars(select(Escalation)).one().status = "pending"
    runtime.worker.drain()

    assert len(fake_zendesk.writes()) == 1
    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and "already" in escalation.reason


def test_dry_run_logs_the_request_it_would_send(client, sessions, config, environment, engine, scorer, caplog):
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks={"zendesk": DryRunZendesk(None)})
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    with caplog.at_level(logging.WARNING, logger="ticketpulse.helpdesk"):
        runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and escalation.dry_run
    [request] = escalation.request["requests"]
    assert request["json"]["ticket"]["tags"] == ["shipping", "sentiment_escalated", "sentiment_severity_critical"]
    assert "DRY RUN (no Zendesk credentials): PUT https://{subdomain}.zendesk.com/api/v2/tickets/48213" in caplog.text


def test_metrics_count_scored_comments_and_escalations(client, sessions, runtime):
    from prometheus_client import REGISTRY

    samples = {
        "webhooks": ("ticketpulse_webhooks_total", {"helpdesk": "zendesk", "status": "accepted"}),
        "scored": ("ticketpulse_comments_total", {"outcome": "scored"}),
        "applied": ("ticketpulse_escalations_total", {"severity": "critical", "outcome": "applied"}),
    }

    def values():
        return {key: REGISTRY.get_sample_value(name, labels) or 0 for key, (name, labels) in samples.items()}

    before = values()
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()
    after = values()

    assert {key: after[key] - before[key] for key in samples} == {"webhooks": 1, "scored": 1, "applied": 1}
    exposed = client.get("/metrics").get_data(as_text=True)
    assert 'ticketpulse_escalations_total{outcome="applied",severity="critical"}' in exposed


def test_note_does_not_claim_a_group_move_when_no_group_is_configured(client, sessions, environment, engine, scorer, fake_zendesk):
    from ticketpulse.config import Config

    runtime = build_runtime(Config(), environment, engine=engine, scorer=scorer, helpdesks=live_helpdesk(fake_zendesk))
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    [put] = [w.json["ticket"] for w in fake_zendesk.writes()]
    assert "group_id" not in put
    assert put["comment"]["body"].startswith("[ticketpulse] Escalated: severity CRITICAL.")


def test_an_answer_of_the_wrong_shape_is_retried_later_and_other_tickets_go_on(client, sessions, runtime, fake_zendesk):
    fake_zendesk.add_ticket("48214")
    fake_zendesk.garbage_answers = 1
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3, ticket="48214")
    runtime.worker.drain()

    first, second = rows(sessions, Escalation)
    assert (first.status, first.attempts) == ("pending", 1)
    assert 'expected "ticket" in the answer, got NoneType' in first.reason
    assert first.run_after > first.created_at
    assert second.status == "applied"  # the other ticket was not held up


def test_a_comment_whose_author_cannot_be_told_apart_is_not_scored(client, sessions, runtime, scorer):
    event = comment_event("48213", "500", "Hello from someone in CC", time="2025-03-05T10:00:00Z", author_id="777")
    del event["event"]["comment"]["author"]["is_staff"]
    post_zendesk(client, event)
    runtime.worker.drain()

    [comment] = rows(sessions, Comment)
    assert comment.status == "skipped" and comment.reason.startswith("author unknown")
    assert scorer.calls == []


def test_the_worker_scores_the_text_cleaned_at_ingest(client, sessions, runtime, monkeypatch):
    """Cleaning is done once, in the request: a cleaner changed by a deploy in between does not
    make the stored fingerprint and the scored text disagree."""
    say(client, "<p>It has been a week. Any update?</p>", 1)
    [comment] = rows(sessions, Comment)
    assert comment.text == "It has been a week. Any update?"

    import ticketpulse.escalation.pipeline

    monkeypatch.setattr(ticketpulse.escalation.pipeline, "clean_text", lambda _body: "a different cleaner")
    runtime.worker.drain()

    [score] = rows(sessions, Score)
    assert score.text == "It has been a week. Any update?"


def test_the_escalation_keeps_the_group_its_note_names(client, sessions, config, environment, engine, scorer, fake_zendesk):
    """The group is chosen once, at the decision: a config edit before the update is sent does
    not send the ticket to another group than the note says."""
    # Decided with no helpdesk client: the escalation fails, and is queued again below.
    decided = build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks={})
    for n, text in enumerate(list(CONVERSATION)[:3]):
        say(client, text, n)
    decided.worker.drain()
    [escalation] = rows(sessions, Escalation)
    assert escalation.group_id == 360001234567
    assert "to the senior group" in escalation.note

    moved = config.model_copy(update={"zendesk": config.zendesk.model_copy(update={"senior_group_id": 999})})
    with sessions.begin() as session:
        session.get(Escalation, escalation.id).status = "pending"
        session.get(Escalation, escalation.id).attempts = 0
    build_runtime(moved, environment, engine=engine, scorer=scorer, helpdesks=live_helpdesk(fake_zendesk)).worker.drain()

    [write] = fake_zendesk.writes()
    assert write.json["ticket"]["group_id"] == 360001234567


def test_writing_again_before_any_agent_reply_escalates_medium_and_the_note_names_the_signal(client, sessions, runtime, scorer, fake_zendesk):
    scorer.answers.update({"My invoice is wrong.": (-0.3, 0.4, 0.2), "Hello?? Anyone there??": (-0.4, 0.7, 0.3)})
    say(client, "My invoice is wrong.", 0)
    say(client, "Hello?? Anyone there??", 1)
    runtime.worker.drain()

    (escalation,) = rows(sessions, Escalation)
    assert (escalation.severity, escalation.rule) == ("medium", "unanswered_frustration")
    assert "Signals: the customer wrote again before any agent reply (2 customer messages unanswered)." in escalation.note


def test_the_same_follow_up_after_an_agent_reply_does_not_escalate(client, sessions, runtime, scorer):
    scorer.answers.update({"My invoice is wrong.": (-0.3, 0.4, 0.2), "Hello?? Anyone there??": (-0.4, 0.7, 0.3)})
    say(client, "My invoice is wrong.", 0)
    say(client, "Which invoice number?", 1, staff=True)
    say(client, "Hello?? Anyone there??", 2)
    runtime.worker.drain()

    assert rows(sessions, Escalation) == []
    assert [c.author_role for c in rows(sessions, Comment)] == ["customer", "agent", "customer"]


def test_a_late_comment_dated_before_an_agent_reply_does_not_hide_the_reply(client, sessions, runtime, scorer):
    """A comment delivered late, dated before the agent's reply: the customer's later message
    still follows that reply (one unanswered, not three in a row)."""
    scorer.answers.update({"My invoice is wrong.": (-0.3, 0.4, 0.2), "Hello?? Anyone there??": (-0.4, 0.7, 0.3),
                           "Also the address on it is wrong.": (-0.3, 0.4, 0.2)})
    say(client, "My invoice is wrong.", 0)
    say(client, "Which invoice number?", 1, staff=True)
    say(client, "Hello?? Anyone there??", 2)
    runtime.worker.drain()
    late = comment_event("48213", "499", "Also the address on it is wrong.", time="2025-03-05T10:30:00Z")
    assert post_zendesk(client, late).status_code == 202
    runtime.worker.drain()

    assert rows(sessions, Escalation) == []
    assert [c.status for c in rows(sessions, Comment)] == ["done", "skipped", "done", "done"]  # the reply is not scored


def make_due(sessions):
    """Let a rescheduled escalation run now (instead of after its wait)."""
    with sessions.begin() as session:
        session.execute(update(Escalation).where(Escalation.status == "pending").values(run_after=utcnow()))
        session.execute(update(Ticket).where(Ticket.escalate_at.is_not(None)).values(escalate_at=utcnow()))


@pytest.mark.parametrize("asked", ["99999999999", "1e15", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_retry_after_of_years_waits_an_hour_and_the_escalation_still_ends_failed(
        client, sessions, config, environment, engine, scorer, fake_zendesk, asked):
    two_tries = config.model_copy(update={"worker": config.worker.model_copy(update={"max_attempts": 2})})
    runtime = build_runtime(two_tries, environment, engine=engine, scorer=scorer, helpdesks=live_helpdesk(fake_zendesk))
    fake_zendesk.failures = [(429, asked)] * 2
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert (escalation.status, escalation.attempts) == ("pending", 1)
    assert "-> 429" in escalation.reason
    assert 3500 < (escalation.run_after - utcnow()).total_seconds() <= 3600  # the cap, not the year asked for

    make_due(sessions)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert (escalation.status, escalation.attempts) == ("failed", 2)
    assert "-> 429" in escalation.reason
    assert fake_zendesk.writes() == []


@pytest.mark.parametrize("tags, shown", [
    ("notalist", "got str"),
    ([1, None, {"a": 1}, "vip"], "got a list with NoneType, dict, int items"),
    (..., "got nothing"),  # no "tags" at all
])
def test_ticket_tags_of_the_wrong_shape_fail_the_escalation_naming_the_field_and_send_nothing(
        client, sessions, runtime, fake_zendesk, tags, shown):
    if tags is ...:
        del fake_zendesk.tickets["48213"]["tags"]
    else:
        fake_zendesk.tickets["48213"]["tags"] = tags
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed"
    assert f'GET /api/v2/tickets/48213: expected "tags" as a list of strings, {shown}' in escalation.reason
    assert fake_zendesk.writes() == []  # a customer's tags are never replaced by a guess
    assert len(fake_zendesk.requests) == 1  # not retried: the same answer would come again


def test_ticket_tags_of_null_are_no_tags(client, sessions, runtime, fake_zendesk):
    fake_zendesk.tickets["48213"]["tags"] = None
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied"
    [write] = fake_zendesk.writes()
    assert write.json["ticket"]["tags"] == ["sentiment_escalated", "sentiment_severity_critical"]


def test_a_ticket_stamp_that_is_not_a_string_fails_the_escalation_naming_the_field(client, sessions, runtime, fake_zendesk):
    fake_zendesk.tickets["48213"]["updated_at"] = {"at": 1741196411}
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed"
    assert 'expected "updated_at" as a string, got dict' in escalation.reason
    assert fake_zendesk.writes() == []
