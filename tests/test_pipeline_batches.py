"""Scoring turns that take many tickets at once: fenced per ticket, fair, kept alive by one
heartbeat, and a constant number of statements whatever the number of tickets in the turn."""

from __future__ import annotations

import threading

import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from ticketpulse.escalation.queue import SCORING, Heartbeat, claim_many
from ticketpulse.models import Comment, Escalation, Score, Ticket, utcnow
from ticketpulse.runtime import build_runtime
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

ANGRY = "Third time asking. Still no refund. This is unacceptable."
FURIOUS = "I am done. Cancel everything, I'm reporting you to my bank!!!"
ANSWERS = {ANGRY: (-0.5, 0.8, 0.5), FURIOUS: (-0.95, 0.96, 0.9)}


@pytest.fixture
def runtime(config, environment, engine):
    return build_runtime(config, environment, engine=engine, scorer=ScriptedScorer(dict(ANSWERS)), helpdesks={})


def post(client, ticket: str, n: int, text: str = "Where is my parcel?") -> None:
    # Comment times run backwards against arrival: the history must follow comment time.
    event_ = comment_event(ticket, str(n), text, time=f"2025-03-05T10:{59 - n % 60:02d}:{n // 60:02d}Z")
    assert post_zendesk(client, event_).status_code in (200, 202)


def statements_of_one_turn(worker, engine) -> int:
    seen = []
    turn_thread = threading.get_ident()

    def count(*_args) -> None:
        # only the turn's own statements: not the heartbeat's, nor the webhooks' NOTIFY thread
        if threading.get_ident() == turn_thread:
            seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert worker.run_once()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_a_turn_records_many_tickets_in_the_same_number_of_statements_as_two(client, sessions, runtime, engine):
    for t in range(2):
        post(client, str(100 + t), 1)
    for t in range(12):
        for n in range(3):
            post(client, str(200 + t), n)
    worker = runtime.worker
    worker.turn.size = 2
    two = statements_of_one_turn(worker, engine)
    worker.turn.size = 12
    worker.turn.measured = lambda *_: None  # keep the size this test sets
    twelve = statements_of_one_turn(worker, engine)

    assert twelve == two, (two, twelve)
    with sessions() as session:
        assert session.scalar(select(func.count()).where(Comment.status == "pending")) == 0
        for t in range(12):  # each ticket's history in comment-time order
            times = session.scalars(select(Score.commented_at).join(Ticket).where(Ticket.external_id == str(200 + t))
                                    .order_by(Score.id)).all()
            assert len(times) == 3 and times == sorted(times)
        assert session.scalar(select(func.count()).where(Ticket.lease_owner.is_not(None))) == 0


def test_a_ticket_taken_over_during_a_turn_is_left_to_its_new_holder_and_the_others_are_recorded(
        client, sessions, runtime):
    for t in range(3):
        post(client, str(300 + t), 1)
    pipeline = runtime.pipeline
    leases = claim_many(sessions, 30, "test", 10)
    assert len(leases) == 3
    with sessions() as session:
        works = pipeline.read_due_many(session, leases)
    for work in works:
        pipeline.score_due(work.lease, work)
    taken = leases[1].ticket_id
    with sessions.begin() as session:  # its lease ran out and another worker took it over
        session.execute(update(Ticket).where(Ticket.id == taken).values(lease_owner="other:1:1:x"))

    pipeline.record_many(works)

    with sessions() as session:
        statuses = dict(session.execute(select(Comment.ticket_id, Comment.status)).all())
        owners = dict(session.execute(select(Ticket.id, Ticket.lease_owner)).all())
        scored = set(session.scalars(select(Score.ticket_id)).all())
    assert statuses[taken] == "pending" and owners[taken] == "other:1:1:x"  # untouched
    assert scored == {lease.ticket_id for lease in leases} - {taken}
    assert [owners[lease.ticket_id] for lease in leases if lease.ticket_id != taken] == [None, None]


def test_two_decisions_in_one_turn_leave_only_the_higher_escalation_pending(client, sessions, runtime):
    post_zendesk(client, comment_event("400", "1", ANGRY, time="2025-03-05T10:00:00Z"))
    post_zendesk(client, comment_event("400", "2", FURIOUS, time="2025-03-05T10:05:00Z"))

    assert runtime.worker.run_once()

    with sessions() as session:
        escalations = session.execute(
            select(Escalation.severity, Escalation.status, Escalation.reason).order_by(Escalation.id)).all()
        ticket = session.scalars(select(Ticket)).one()
    assert [tuple(row) for row in escalations[:-1]] == [
        (severity, "superseded", "superseded by critical") for severity, _, _ in escalations[:-1]]
    assert len(escalations) == 2 and tuple(escalations[-1]) == ("critical", "pending", None)
    assert ticket.escalated_severity == "critical" and ticket.escalate_at is not None


def test_two_decisions_in_one_turn_while_an_escalation_is_being_applied_queue_only_the_higher(
        client, sessions, runtime):
    post_zendesk(client, comment_event("410", "1", ANGRY, time="2025-03-05T10:00:00Z"))
    post_zendesk(client, comment_event("410", "2", FURIOUS, time="2025-03-05T10:05:00Z"))
    with sessions.begin() as session:  # the escalation thread is applying an earlier one right now
        session.execute(update(Ticket).values(escalation_owner="other:1:1:x",
                                              escalation_expires_at=utcnow() + timedelta(seconds=30)))

    assert runtime.worker.run_once()

    with sessions() as session:
        escalations = session.execute(
            select(Escalation.severity, Escalation.status, Escalation.reason).order_by(Escalation.id)).all()
    # the helpdesk gets the critical one after the one in flight, not each step of this turn
    assert [tuple(row) for row in escalations[:-1]] == [
        (severity, "superseded", "superseded by critical") for severity, _, _ in escalations[:-1]]
    assert len(escalations) == 2 and tuple(escalations[-1]) == ("critical", "pending", None)


def test_a_busy_ticket_has_its_turn_then_waits_behind_the_others(client, sessions, runtime):
    for n in range(120):  # far more than one turn takes
        post(client, "500", n)
    post(client, "501", 1)  # arrives last
    worker = runtime.worker
    worker.turn.MOST = 1  # one ticket a turn, to see the order

    worker.run_once()
    worker.run_once()

    with sessions() as session:
        pending = dict(session.execute(
            select(Ticket.external_id, func.count(Comment.id)).join(Comment)
            .where(Comment.status == "pending").group_by(Ticket.external_id)).all())
    assert pending == {"500": 70}  # 50 done, then the other ticket's turn
    worker.drain()
    with sessions() as session:
        assert session.scalar(select(func.count()).where(Comment.status == "pending")) == 0


def test_one_heartbeat_keeps_every_lease_of_a_turn_and_lets_them_go_after(client, sessions):
    for t in range(3):
        post(client, str(600 + t), 1)
    leases = claim_many(sessions, 1.0, "test", 10)
    heartbeat = Heartbeat(sessions, lambda: 1.0)

    def live() -> int:
        now = utcnow()
        with sessions() as session:
            return session.scalar(select(func.count()).where(SCORING.owner == leases[0].token, SCORING.expires > now))

    with heartbeat.keep(leases):
        time.sleep(2.5)  # more than twice the lease
        assert live() == 3
    time.sleep(1.5)
    assert live() == 0  # no longer renewed: another worker may take them


def test_jobs_retry_makes_the_ticket_due_at_once(client, sessions, runtime, runner, database_url, monkeypatch):
    post(client, "700", 1)
    with sessions.begin() as session:  # as the worker leaves a comment that failed for good
        session.execute(update(Comment).values(status="failed", reason="scoring failed: boom", attempts=24))
        session.execute(update(Ticket).values(next_run_at=None))
    worker = runtime.worker
    assert not worker.run_once()
    monkeypatch.setenv("DATABASE_URL", database_url)

    assert runner("jobs", "retry", "--all").code == 0

    assert worker.run_once()  # no repair sweep needed
    with sessions() as session:
        assert session.scalars(select(Comment.status)).all() == ["done"]


def test_jobs_retry_makes_a_failed_escalation_due_at_once(client, sessions, config, environment, engine, runner,
                                                          database_url, monkeypatch):
    fake = FakeZendesk()
    fake.add_ticket("800")
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        from ticketpulse.integrations.http import HttpPolicy
        from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk

        helpdesk = ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, HttpPolicy(attempts=1)))
        runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer(dict(ANSWERS)),
                                helpdesks={"zendesk": helpdesk})
        post_zendesk(client, comment_event("800", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
        worker = runtime.worker
        assert worker.run_once()
        with sessions.begin() as session:  # it failed for good earlier (say, credentials since fixed)
            session.execute(update(Escalation).values(status="failed", reason="401", attempts=1))
            session.execute(update(Ticket).values(escalate_at=None))
        assert not worker.run_escalations_once("zendesk")
        monkeypatch.setenv("DATABASE_URL", database_url)

        assert runner("jobs", "retry", "--all").code == 0

        assert worker.run_escalations_once("zendesk")
    with sessions() as session:
        assert session.scalars(select(Escalation.status)).all() == ["applied"]
    assert len(fake.writes()) == 1


def test_a_batch_written_again_ticket_by_ticket_counts_and_logs_each_decision_once(client, sessions, runtime, caplog):
    """A batch that hits another worker's rows is rolled back and written again one ticket at a
    time: the decisions it had counted and logged before the rollback are not counted again."""
    from prometheus_client import REGISTRY

    def decided() -> float:
        return REGISTRY.get_sample_value("ticketpulse_escalations_total", {"severity": "medium", "outcome": "decided"}) or 0.0

    for t in range(3):
        post(client, str(500 + t), 1, ANGRY)
    pipeline = runtime.pipeline
    leases = claim_many(sessions, 30, "test", 10)
    with sessions() as session:
        works = pipeline.read_due_many(session, leases)
    for work in works:
        pipeline.score_due(work.lease, work)
    taken = works[1]
    with sessions.begin() as session:  # another worker queued this ticket's escalation meanwhile
        session.add(Escalation(ticket_id=taken.lease.ticket_id, comment_id=taken.comments[0].id, severity="medium",
                               rule="frustration", note="x", status="pending", attempts=0, run_after=utcnow(),
                               created_at=utcnow(), dry_run=False))
    before = decided()
    caplog.set_level("INFO", logger="ticketpulse")

    pipeline.record_many(works)

    with sessions() as session:
        queued = session.scalar(select(func.count()).select_from(Escalation))
    assert queued == 3  # the other worker's, and ours for the two other tickets
    assert decided() == before + 2
    assert len([r for r in caplog.records if "escalates to medium" in r.getMessage()]) == 2


def test_a_comment_whose_scoring_fails_for_good_says_so_in_the_log(client, sessions, config, environment, engine, caplog):
    class Broken(ScriptedScorer):
        def score(self, text, context=()):
            raise RuntimeError("boom")

    one_try = config.model_copy(update={"worker": config.worker.model_copy(update={"max_attempts": 1})})
    runtime = build_runtime(one_try, environment, engine=engine, scorer=Broken({}), helpdesks={})
    post(client, "600", 1)
    caplog.set_level("INFO", logger="ticketpulse")
    runtime.worker.run_once()

    with sessions() as session:
        comment = session.scalars(select(Comment)).one()
    assert comment.status == "failed"
    assert f"comment {comment.id} failed for good: scoring failed: RuntimeError('boom')" in caplog.text
