"""A database that goes away mid-turn does not park the ticket: work resumes when it is back."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.escalation.queue import claim
from ticketpulse.models import Ticket, utcnow


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
