"""The work queue on SQL: tickets with due work are leased to one worker at a time, per lane.

Each ticket row says when its work is next due, in two lanes: scoring (`next_run_at`, set by the
webhook for every new comment) and escalation (`escalate_at`, set by the decision). A partial
index holds only the tickets that have work, so a claim is one index probe at any history size,
and an idle poll finds nothing at once. A claim takes the earliest-due ticket nobody holds
(PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: the write lock) and leases it for a short time
that a heartbeat renews; a worker that dies stops renewing, and its tickets are taken over when
the lease runs out (seconds, not minutes). Before every decision and every helpdesk call the
worker re-locks the ticket row and checks it still holds the lease, so two workers never decide
or escalate at once. (FOR NO KEY UPDATE: a webhook inserting a comment is not held up by it.)

The lanes are apart so that a slow helpdesk never holds up scoring: the scoring threads decide
and queue an escalation; one thread per helpdesk applies them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ticketpulse.models import Comment, Escalation, Ticket, utcnow

log = logging.getLogger("ticketpulse.queue")


@dataclass(frozen=True)
class Lane:
    name: str
    due: object  # the ticket column saying when this lane's work is next due (NULL: none)
    owner: object
    expires: object
    work: type  # the table holding this lane's queued items


SCORING = Lane("scoring", Ticket.next_run_at, Ticket.lease_owner, Ticket.lease_expires_at, Comment)
ESCALATION = Lane("escalation", Ticket.escalate_at, Ticket.escalation_owner, Ticket.escalation_expires_at, Escalation)


@dataclass(frozen=True)
class Lease:
    ticket_id: int  # our primary key
    token: str
    ticket_ref: str  # `zendesk:<account>:<number>`, for the logs
    lane: Lane = SCORING
    helpdesk: str = ""
    account: str = ""
    external_id: str = ""


def worker_name() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{threading.get_ident() % 100000}"


def claim(
    sessions: sessionmaker[Session] | None,
    lease_seconds: float,
    owner: str | None = None,
    *,
    lane: Lane = SCORING,
    helpdesk: str | None = None,
    session: Session | None = None,
) -> Lease | None:
    """Lease the earliest-due ticket of `lane` that nobody holds; None when nothing is due.

    One statement: UPDATE ... WHERE id = (the first due row, locked, skipping locked ones).
    With `session`, runs inside the caller's transaction (the worker reads the work in it too).
    """
    now = utcnow()
    token = f"{(owner or worker_name())[:40]}:{uuid.uuid4().hex[:16]}"
    due = (
        select(Ticket.id)
        .where(lane.due <= now, (lane.expires.is_(None)) | (lane.expires < now))
        .order_by(lane.due)
        .limit(1)
        .with_for_update(skip_locked=True, key_share=True)
    )
    if helpdesk is not None:
        due = due.where(Ticket.helpdesk == helpdesk)
    statement = (
        update(Ticket)
        .where(Ticket.id == due.scalar_subquery())
        .values({lane.owner: token, lane.expires: now + timedelta(seconds=lease_seconds)})
        .returning(Ticket.id, Ticket.helpdesk, Ticket.account, Ticket.external_id)
        .execution_options(synchronize_session=False)
    )

    def run(s: Session) -> Lease | None:
        row = s.execute(statement).first()
        if row is None:
            return None
        return Lease(
            ticket_id=row.id, token=token, ticket_ref=f"{row.helpdesk}:{row.account}:{row.external_id}",
            lane=lane, helpdesk=row.helpdesk, account=row.account, external_id=row.external_id,
        )

    if session is not None:
        return run(session)
    with sessions.begin() as s:
        return run(s)


def claim_ticket(sessions: sessionmaker[Session], lease_seconds: float, owner: str | None = None) -> Lease | None:
    """Lease one ticket that has comments due and no live scoring lease."""
    return claim(sessions, lease_seconds, owner)


def hold(session: Session, lease: Lease, lease_seconds: float) -> Ticket | None:
    """Lock the leased ticket row for a decision and extend the lease; None if the lease was lost."""
    lane = lease.lane
    now = utcnow()
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.id == lease.ticket_id, lane.owner == lease.token, lane.expires > now)
        .with_for_update(key_share=True)
    ).first()
    if ticket is not None:
        setattr(ticket, lane.expires.key, now + timedelta(seconds=lease_seconds))
    return ticket


def renew(sessions: sessionmaker[Session], lease: Lease, lease_seconds: float) -> bool:
    """Extend a live lease; False when it has run out or another worker holds the ticket."""
    lane = lease.lane
    now = utcnow()
    with sessions.begin() as session:
        result = session.execute(
            update(Ticket)
            .where(Ticket.id == lease.ticket_id, lane.owner == lease.token, lane.expires > now)
            .values({lane.expires: now + timedelta(seconds=lease_seconds)})
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


class LeaseKeeper:
    """Renews a lease from a background thread while its worker is busy with the ticket.

    A slow model or helpdesk call can outlast the short lease; the heartbeat keeps it ours for
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


def next_due(session: Session, ticket_id: int, lane: Lane) -> datetime | None:
    """When the ticket's earliest pending item of `lane` is due (None: nothing pending)."""
    work = lane.work
    return session.scalar(
        select(func.min(work.run_after)).where(work.ticket_id == ticket_id, work.status == work.PENDING)
    )


def finish(session: Session, lease: Lease, *, not_before: datetime | None = None, locked: bool = False) -> None:
    """In the caller's transaction: drop the lease and say when the ticket's lane is next due.

    The ticket row is locked first (`locked`: the caller's hold() did): a webhook storing a
    comment locks it too (to set `next_run_at`), so either it committed before and its comment
    is counted here, or it sets `next_run_at` itself after us. `not_before` pushes the next run
    back (a parked ticket, or one that had its turn and goes to the back of the line).
    """
    lane = lease.lane
    if not locked:
        held = session.scalar(
            select(Ticket.id).where(Ticket.id == lease.ticket_id, lane.owner == lease.token)
            .with_for_update(key_share=True)
        )
        if held is None:
            return  # taken over meanwhile: the new holder owns the schedule
    work = lane.work
    # A new statement: its snapshot is taken after the lock, so it sees every committed comment.
    due = (
        select(func.min(work.run_after))
        .where(work.ticket_id == lease.ticket_id, work.status == work.PENDING)
        .scalar_subquery()
    )
    if not_before is not None:
        bound = literal(not_before, lane.due.type)
        due = case((due < bound, bound), else_=due)
    session.execute(
        update(Ticket)
        .where(Ticket.id == lease.ticket_id, lane.owner == lease.token)
        .values({lane.owner: None, lane.expires: None, lane.due: due})
        .execution_options(synchronize_session=False)
    )


def release(
    sessions: sessionmaker[Session], lease: Lease, *, hold_off_seconds: float = 0.0, not_before: datetime | None = None
) -> None:
    """Give the ticket back; with `hold_off_seconds`, no worker takes it again before then."""
    if hold_off_seconds:
        not_before = utcnow() + timedelta(seconds=hold_off_seconds)
    with sessions.begin() as session:
        finish(session, lease, not_before=not_before)


def reclaim_own(sessions: sessionmaker[Session]) -> int:
    """Free the leases this host's dead processes left behind (a restarted `serve` or worker).

    Owners are `host:pid:thread:nonce`; a lease of this host whose pid is no longer running can
    only be a crash's leftover, so it is freed now instead of after its expiry. Only leased rows
    are read (a partial index holds them).
    """
    host = socket.gethostname()[:24]
    freed = 0
    with sessions.begin() as session:
        for lane in (SCORING, ESCALATION):
            owners = session.scalars(
                select(lane.owner).where(lane.owner.is_not(None), lane.owner.startswith(f"{host}:")).distinct()
            ).all()
            dead = [owner for owner in owners if not _pid_alive(owner.split(":")[1])]
            if dead:
                result = session.execute(
                    update(Ticket)
                    .where(lane.owner.in_(dead))
                    .values({lane.owner: None, lane.expires: None})
                    .execution_options(synchronize_session=False)
                )
                freed += result.rowcount
    if freed:
        log.info("freed %d lease(s) left by a crashed process on this host", freed)
    return freed


def _pid_alive(pid: str) -> bool:
    try:
        number = int(pid)
    except ValueError:
        return True  # not one of ours: leave it to expire
    if number == os.getpid():
        return False  # our pid, but we just started: an earlier process's (reused pid)
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- waking idle workers ---------------------------------------------------------------------------

NOTIFY_CHANNEL = "ticketpulse_due"


class Doorbell:
    """Wakes idle worker threads when work arrives, instead of fast polling.

    In one process (`serve`) the webhook rings it directly; across processes on PostgreSQL the
    webhook's statement sends NOTIFY and each worker's listener rings it. Polling stays as the
    safety net (SQLite across processes, a missed notification) at `poll_interval_seconds`.
    A ring is never lost between a thread's empty claim and its wait: threads wait for a ring
    newer than the one they saw before claiming.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.rings = 0

    def ring(self) -> None:
        with self._condition:
            self.rings += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self._condition:
            if self.rings == seen:
                self._condition.wait(timeout)


SCORING_BELL = Doorbell()  # new comments
ESCALATION_BELL = Doorbell()  # new escalations


def listen_for_due_work(engine, stop: threading.Event, bell: Doorbell = SCORING_BELL) -> None:
    """PostgreSQL: ring `bell` on every NOTIFY from a webhook in another process (a thread's
    loop; reconnects after the database has been away)."""
    while not stop.is_set():
        try:
            raw = engine.raw_connection()
            try:
                connection = raw.driver_connection
                connection.autocommit = True
                connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                bell.ring()  # anything stored while we were not listening
                while not stop.is_set():
                    for _ in connection.notifies(timeout=1.0):
                        bell.ring()
            finally:
                raw.invalidate()  # never hand a LISTENing connection back to the pool
        except Exception as exc:  # the database is away: try again shortly
            log.debug("listener: %s", exc)
            stop.wait(1.0)
