"""The work queue on SQL: tickets with due work are leased to one worker at a time.

A worker claims a ticket (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: the write lock), sets a
lease, and does that ticket's due comments and escalations in order. A worker that dies simply
lets its lease run out; another takes the ticket over. Before every decision the worker re-locks
the ticket row and checks it still holds the lease, so two workers never decide at once.
(FOR NO KEY UPDATE: a webhook inserting a comment for the ticket is not held up by the lock.)
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ticketpulse.models import Comment, CommentStatus, Escalation, EscalationStatus, Ticket, utcnow


@dataclass(frozen=True)
class Lease:
    ticket_id: int  # our primary key
    token: str
    ticket_ref: str  # `zendesk:<account>:<number>`, for the logs


def worker_name() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{threading.get_ident() % 100000}"


def _due(now: datetime):
    comment_due = exists().where(
        Comment.ticket_id == Ticket.id, Comment.status == CommentStatus.PENDING, Comment.run_after <= now
    )
    escalation_due = exists().where(
        Escalation.ticket_id == Ticket.id,
        Escalation.status == EscalationStatus.PENDING,
        Escalation.run_after <= now,
    )
    return or_(comment_due, escalation_due)


def claim_ticket(sessions: sessionmaker[Session], lease_seconds: float, owner: str | None = None) -> Lease | None:
    """Lease one ticket that has due work and no live lease; None when there is nothing to do."""
    now = utcnow()
    token = f"{(owner or worker_name())[:40]}:{uuid.uuid4().hex[:16]}"
    with sessions.begin() as session:
        ticket = session.scalars(
            select(Ticket)
            .where(_due(now), or_(Ticket.lease_expires_at.is_(None), Ticket.lease_expires_at < now))
            .order_by(Ticket.id)
            .limit(1)
            .with_for_update(skip_locked=True, key_share=True)
        ).first()
        if ticket is None:
            return None
        ticket.lease_owner = token
        ticket.lease_expires_at = now + timedelta(seconds=lease_seconds)
        return Lease(ticket_id=ticket.id, token=token, ticket_ref=ticket.ref)


def hold(session: Session, lease: Lease, lease_seconds: float) -> Ticket | None:
    """Lock the leased ticket row for a decision and extend the lease; None if the lease was lost."""
    now = utcnow()
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.id == lease.ticket_id, Ticket.lease_owner == lease.token, Ticket.lease_expires_at > now)
        .with_for_update(key_share=True)
    ).first()
    if ticket is not None:
        ticket.lease_expires_at = now + timedelta(seconds=lease_seconds)
    return ticket


def renew(sessions: sessionmaker[Session], lease: Lease, lease_seconds: float) -> bool:
    """Extend a live lease; False when it has run out or another worker holds the ticket."""
    now = utcnow()
    with sessions.begin() as session:
        result = session.execute(
            update(Ticket)
            .where(Ticket.id == lease.ticket_id, Ticket.lease_owner == lease.token, Ticket.lease_expires_at > now)
            .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        )
        return result.rowcount == 1


class LeaseKeeper:
    """Renews a lease from a background thread while its worker is busy with the ticket.

    A slow model or helpdesk call can outlast any fixed lease; the heartbeat keeps it ours for
    as long as this process is alive. A worker that dies stops renewing, and the lease runs out.
    """

    def __init__(self, sessions: sessionmaker[Session], lease: Lease, lease_seconds: float) -> None:
        self.sessions = sessions
        self.lease = lease
        self.lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.ticket_id}", daemon=True)

    def __enter__(self) -> "LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                if not renew(self.sessions, self.lease, self.lease_seconds):
                    return  # lost: the pipeline's next hold() notices and stops
            except SQLAlchemyError:
                continue  # the database is away; try again on the next beat


def release(sessions: sessionmaker[Session], lease: Lease, *, hold_off_seconds: float = 0.0) -> None:
    """Give the ticket back; with `hold_off_seconds`, no worker takes it again before then."""
    until = utcnow() + timedelta(seconds=hold_off_seconds) if hold_off_seconds else None
    with sessions.begin() as session:
        session.execute(
            update(Ticket)
            .where(Ticket.id == lease.ticket_id, Ticket.lease_owner == lease.token)
            .values(lease_owner=None, lease_expires_at=until)
        )
