"""A database that goes away mid-turn does not park the ticket: work resumes when it is back."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.escalation.queue import claim
from ticketpulse.models import Comment, Score, Ticket, utcnow


def _worker(config, environment, engine):
    from ticketpulse.runtime import build_runtime

    return build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({}), helpdesks={}).worker


def _lease(client, sessions, config):
    assert post_zendesk(client, comment_event("8101", "1", "Where is my order?", time="2026-11-30T09:00:00Z")).status_code == 202
    lease = claim(sessions, config.worker.lease_seconds, "test-host:1:1")
    assert lease is not None
    return lease


def _raise(exc):
    def job(_leases):
        raise exc
    return job


def test_a_turn_cut_by_a_database_outage_is_handed_back_due_at_once(client, sessions, config, environment, engine):
    worker = _worker(config, environment, engine)
    lease = _lease(client, sessions, config)

    worker._work_on([lease], _raise(OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))))

    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.lease_owner is None
        assert ticket.next_run_at is not None and ticket.next_run_at <= utcnow()
    assert worker.drain() >= 1  # and the comment is scored right away


def test_a_turn_that_raised_a_bug_is_still_parked(client, sessions, config, environment, engine):
    worker = _worker(config, environment, engine)
    lease = _lease(client, sessions, config)

    worker._work_on([lease], _raise(ValueError("a bug")))

    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.lease_owner is None
        assert (ticket.next_run_at - utcnow()).total_seconds() > 30


def _due_again(sessions):
    """As if the park had run out."""
    with sessions.begin() as session:
        session.execute(update(Ticket).values(next_run_at=utcnow()))
        session.execute(update(Comment).values(run_after=utcnow()))


def _two_tries(config):
    return config.model_copy(update={"worker": config.worker.model_copy(update={"max_attempts": 2})})


def test_a_turn_that_keeps_raising_counts_each_try_and_fails_its_comment_with_the_reason(client, sessions, config,
                                                                                          environment, engine):
    config = _two_tries(config)
    worker = _worker(config, environment, engine)
    worker._work_on([_lease(client, sessions, config)], _raise(ValueError("a bug")))
    with sessions() as session:
        comment = session.scalars(select(Comment)).one()
        assert (comment.status, comment.attempts) == ("pending", 1)
        assert comment.reason == "scoring turn failed: ValueError: a bug"

    _due_again(sessions)
    lease = claim(sessions, config.worker.lease_seconds, "test-host:1:1")
    worker._work_on([lease], _raise(ValueError("a bug")))

    with sessions() as session:
        comment = session.scalars(select(Comment)).one()
        ticket = session.scalars(select(Ticket)).one()
    assert (comment.status, comment.attempts) == ("failed", 2)  # visible, not pending for ever
    assert comment.reason == "scoring turn failed: ValueError: a bug"
    assert (ticket.lease_owner, ticket.next_run_at) == (None, None)


def test_a_score_the_database_refuses_ends_failed_with_the_reason_instead_of_pending_for_ever(
        client, sessions, config, environment, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce a column's length")
    from ticketpulse.runtime import build_runtime

    config = _two_tries(config)
    scorer = ScriptedScorer({})
    scorer.version = "v" * 300  # longer than scores.scorer_version: a value the database refuses
    worker = build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks={}).worker
    assert post_zendesk(client, comment_event("8101", "1", "Where is my order?", time="2026-11-30T09:00:00Z")).status_code == 202
    worker.drain()
    _due_again(sessions)
    worker.drain()

    with sessions() as session:
        comment = session.scalars(select(Comment)).one()
    assert (comment.status, comment.attempts) == ("failed", 2)
    assert comment.reason.startswith("scoring turn failed: DataError: ")
    assert "value too long" in comment.reason


def test_a_cascade_with_a_long_model_name_stores_its_scores(client, sessions, config, environment, engine):
    """The model's name is part of the version: 64 characters held no cascade with a model name
    over 34 (vLLM and LiteLLM names are paths), and no score of it could be stored on PostgreSQL."""
    from ticketpulse.runtime import build_runtime

    scorer = ScriptedScorer({})
    scorer.version = "caf1f8651c51.4ed5f5+hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4/prompt-v2"
    worker = build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks={}).worker
    assert post_zendesk(client, comment_event("8102", "1", "Where is my order?", time="2026-11-30T09:00:00Z")).status_code == 202
    worker.drain()

    with sessions() as session:
        assert session.scalars(select(Comment.status)).one() == "done"
        assert session.scalars(select(Score.scorer_version)).one() == scorer.version


def test_the_periodic_repair_leaves_a_parked_ticket_waiting_and_requeues_one_that_lost_its_place(
        client, sessions, config, environment, engine):
    worker = _worker(config, environment, engine)
    worker._work_on([_lease(client, sessions, config)], _raise(ValueError("a bug")))
    with sessions() as session:
        parked_until = session.scalars(select(Ticket.next_run_at)).one()

    assert worker.repair_schedules() == 0  # a wait the worker set is no lost place
    with sessions() as session:
        assert session.scalars(select(Ticket.next_run_at)).one() == parked_until

    with sessions.begin() as session:  # a row edited outside the worker
        session.execute(update(Ticket).values(next_run_at=None))
    assert worker.repair_schedules() == 1
    with sessions() as session:
        assert session.scalars(select(Ticket.next_run_at)).one() < parked_until
