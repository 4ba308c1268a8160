"""Leases at their edges (escalation/queue.py): a host's restart frees only its own dead
processes' leases, a lease that ran out or was taken over is not renewed or written through, and
a hand-back after a take-over changes nothing of the new holder's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from ticketpulse.escalation import queue
from ticketpulse.escalation.queue import claim, claim_ticket, hold, reclaim_own, release, renew
from ticketpulse.models import Ticket, utcnow
from tests.zendesk_helpers import comment_event, post_zendesk


def _one_due_ticket(client, number="7"):
    assert post_zendesk(client, comment_event(number, "1", "hello", time="2025-03-05T10:00:00Z")).status_code == 202


def _expire_leases(sessions):
    with sessions.begin() as session:
        session.execute(update(Ticket).values(lease_expires_at=utcnow() - timedelta(seconds=1)))


def test_a_restart_leaves_alone_the_leases_of_a_host_whose_name_starts_with_its_own(client, sessions, monkeypatch):
    _one_due_ticket(client)
    # "web10" crashed (its pid is not running here): its lease is web10's to free, not web1's.
    assert claim_ticket(sessions, 30, "web10:999999:1") is not None
    monkeypatch.setattr(queue.socket, "gethostname", lambda: "web1")

    assert reclaim_own(sessions) == 0
    with sessions() as session:
        assert session.scalars(select(Ticket.lease_owner)).one().startswith("web10:")


def test_a_lease_that_ran_out_is_not_renewed_nor_held(client, sessions):
    _one_due_ticket(client)
    lease = claim_ticket(sessions, 30, "a:1:1")
    _expire_leases(sessions)

    assert not renew(sessions, lease, 30)
    with sessions.begin() as session:
        assert hold(session, lease, 30) is None


def test_holding_a_live_lease_extends_it(client, sessions):
    _one_due_ticket(client)
    lease = claim_ticket(sessions, 5, "a:1:1")
    with sessions.begin() as session:
        assert hold(session, lease, 600) is not None
    with sessions() as session:
        expires = session.scalars(select(Ticket.lease_expires_at)).one()
    assert expires.replace(tzinfo=None) - utcnow().replace(tzinfo=None) > timedelta(seconds=500)


def test_a_lease_taken_over_is_not_renewed_by_its_first_holder(client, sessions):
    _one_due_ticket(client)
    first = claim_ticket(sessions, 30, "a:1:1")
    _expire_leases(sessions)
    second = claim_ticket(sessions, 30, "b:2:2")
    assert second is not None

    assert not renew(sessions, first, 30)
    assert renew(sessions, second, 30)


def test_the_first_holders_late_release_leaves_the_new_holders_lease_alone(client, sessions):
    _one_due_ticket(client)
    first = claim_ticket(sessions, 30, "a:1:1")
    _expire_leases(sessions)
    second = claim_ticket(sessions, 30, "b:2:2")

    release(sessions, first)

    with sessions() as session:
        assert session.scalars(select(Ticket.lease_owner)).one() == second.token
    assert claim_ticket(sessions, 30, "c:3:3") is None  # still held by the second


def test_a_release_with_a_hold_off_keeps_the_ticket_from_every_worker_until_then(client, sessions):
    _one_due_ticket(client)
    lease = claim_ticket(sessions, 30, "a:1:1")

    release(sessions, lease, hold_off_seconds=600)

    assert claim_ticket(sessions, 30, "b:2:2") is None
    with sessions() as session:
        due = session.scalars(select(Ticket.next_run_at)).one()
    assert due.replace(tzinfo=None) - utcnow().replace(tzinfo=None) > timedelta(seconds=500)


def test_a_claim_for_one_helpdesk_takes_none_of_the_others_tickets(client, sessions):
    _one_due_ticket(client)  # a Zendesk ticket
    assert claim(sessions, 30, "a:1:1", helpdesk="freshdesk") is None
    assert claim(sessions, 30, "a:1:1", helpdesk="zendesk").external_id == "7"


def test_the_heartbeat_renews_live_leases_only(client, sessions):
    _one_due_ticket(client)
    lease = claim_ticket(sessions, 30, "a:1:1")
    assert queue.renew_all(sessions, {"scoring": {lease.token}}, 30) == 1
    _expire_leases(sessions)

    assert queue.renew_all(sessions, {"scoring": {lease.token}}, 30) == 0  # maybe another worker's by now


def test_a_batch_hold_leaves_out_a_lease_that_ran_out(client, sessions):
    _one_due_ticket(client)
    lease = claim_ticket(sessions, 30, "a:1:1")
    with sessions.begin() as session:
        assert list(queue.hold_many(session, [lease])) == [lease.ticket_id]
    _expire_leases(sessions)

    with sessions.begin() as session:
        assert queue.hold_many(session, [lease]) == {}


def test_a_restart_frees_a_lease_left_under_its_own_pid_by_an_earlier_process(client, sessions):
    import os

    _one_due_ticket(client)
    # A container restarts with the same pid: the lease is the crashed predecessor's.
    assert claim_ticket(sessions, 30, f"{queue.host_id()}:{os.getpid()}:1") is not None

    assert reclaim_own(sessions) == 1


def test_a_restart_leaves_alone_the_leases_of_a_host_its_name_matches_only_as_a_pattern(client, sessions, monkeypatch):
    _one_due_ticket(client)
    # "worker_1" restarts; "workerA1" (another host, its pid not running here) holds a live lease.
    # An underscore in a name is no wildcard: that lease is not this host's to free.
    assert claim_ticket(sessions, 30, "workerA1:999999:1") is not None
    monkeypatch.setattr(queue.socket, "gethostname", lambda: "worker_1")

    assert reclaim_own(sessions) == 0
    with sessions() as session:
        assert session.scalars(select(Ticket.lease_owner)).one().startswith("workerA1:")
