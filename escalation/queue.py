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

import hashlib
import logging
import os
import socket
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ticketpulse.models import Comment, Escalation, Ticket, ticket_ref, utcnow
from ticketpulse.models.tables import QueuedWork

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
LANES = {lane.name: lane for lane in (SCORING, ESCALATION)}


@dataclass(frozen=True)
class Lease:
    ticket_id: int  # our primary key
    token: str
    ticket_ref: str  # `zendesk:<account>:<number>`, for the logs
    lane: Lane = SCORING
    helpdesk: str = ""
    account: str = ""
    external_id: str = ""
    escalated_severity: str | None = None  # as the lease began (only the scoring lane changes it)


HOST_ID_LENGTH = 24


def host_id() -> str:
    """This host in lease owners, at most HOST_ID_LENGTH characters. A longer name is shortened
    with a digest of the whole of it: pods of one deployment share their first 24 characters
    (`ticketpulse-worker-5f7b9c8d4-x2k9p`), and reclaim_own must not take a sibling for itself."""
    host = socket.gethostname()
    if len(host) <= HOST_ID_LENGTH:
        return host
    digest = hashlib.sha1(host.encode()).hexdigest()[:8]
    return f"{host[:HOST_ID_LENGTH - 9]}~{digest}"


def worker_name() -> str:
    return f"{host_id()}:{os.getpid()}:{threading.get_ident() % 100000}"


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

    With `session`, runs inside the caller's transaction.
    """
    leases = claim_many(sessions, lease_seconds, owner, 1, lane=lane, helpdesk=helpdesk, session=session)
    return leases[0] if leases else None


def claim_many(
    sessions: sessionmaker[Session] | None,
    lease_seconds: float,
    owner: str | None,
    limit: int,
    *,
    lane: Lane = SCORING,
    helpdesk: str | None = None,
    session: Session | None = None,
) -> list[Lease]:
    """Lease up to `limit` of the earliest-due tickets of `lane` that nobody holds, in due order.

    One statement: UPDATE ... WHERE id IN (the first due rows, locked, skipping locked ones)
    RETURNING. The tickets share one lease token, so one heartbeat statement renews them all.
    """
    now = utcnow()
    token = f"{(owner or worker_name())[:40]}:{uuid.uuid4().hex[:16]}"
    due = (
        select(Ticket.id)
        .where(lane.due <= now, (lane.expires.is_(None)) | (lane.expires < now))
        .order_by(lane.due)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
    )
    if helpdesk is not None:
        due = due.where(Ticket.helpdesk == helpdesk)
    statement = (
        update(Ticket)
        .where(Ticket.id.in_(due.scalar_subquery()))
        .values({lane.owner: token, lane.expires: now + timedelta(seconds=lease_seconds)})
        .returning(Ticket.id, Ticket.helpdesk, Ticket.account, Ticket.external_id, Ticket.escalated_severity,
                   lane.due)
        .execution_options(synchronize_session=False)
    )

    def run(s: Session) -> list[Lease]:
        rows = sorted(s.execute(statement).all(), key=lambda row: (row[-1], row.id))
        return [
            Lease(ticket_id=row.id, token=token, ticket_ref=ticket_ref(row.helpdesk, row.account, row.external_id),
                  lane=lane, helpdesk=row.helpdesk, account=row.account, external_id=row.external_id,
                  escalated_severity=row.escalated_severity)
            for row in rows
        ]

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


def renew_all(sessions: sessionmaker[Session], tokens: dict[str, set[str]], lease_seconds: float) -> int:
    """Extend every live lease held under `tokens`, one statement per lane; returns rows renewed.
    A lease that ran out is not renewed: the ticket may already be another worker's."""
    now = utcnow()
    renewed = 0
    with sessions.begin() as session:
        for name, held in tokens.items():
            lane = LANES[name]
            if held:
                renewed += session.execute(
                    update(Ticket)
                    .where(lane.owner.in_(sorted(held)), lane.expires > now)
                    .values({lane.expires: now + timedelta(seconds=lease_seconds)})
                    .execution_options(synchronize_session=False)
                ).rowcount
    return renewed


class Heartbeat:
    """One thread per worker renews every lease the worker holds while it is busy with them.

    A slow model or helpdesk call can outlast the short lease; the heartbeat keeps it ours for
    as long as this process is alive. A worker that dies stops renewing, and the lease runs out.
    One statement per beat renews all the worker's leases (a claimed batch shares a token), and
    no thread is started per lease; the thread ends after a beat with nothing held.
    """

    def __init__(self, sessions: sessionmaker[Session], lease_seconds) -> None:
        self.sessions = sessions
        self._lease_seconds = lease_seconds  # a callable: the config may be reloaded
        self._held: dict[tuple[str, str], int] = {}  # (lane name, token): leases kept
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._interval = 0.0  # what the thread is sleeping for
        self._wake = threading.Event()

    @contextmanager
    def keep(self, leases: list[Lease]):
        keys = {(lease.lane.name, lease.token) for lease in leases}
        with self._lock:
            for key in keys:
                self._held[key] = self._held.get(key, 0) + 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ticketpulse-heartbeat", daemon=True)
                self._thread.start()
            elif self._lease_seconds() / 3 < self._interval:
                self._wake.set()  # lease_seconds was lowered (a reload): these leases need a beat sooner
        try:
            yield
        finally:
            with self._lock:
                for key in keys:
                    self._held[key] -= 1
                    if not self._held[key]:
                        del self._held[key]

    def _tokens(self) -> dict[str, set[str]]:
        with self._lock:
            tokens: dict[str, set[str]] = {}
            for lane, token in self._held:
                tokens.setdefault(lane, set()).add(token)
            return tokens

    def _run(self) -> None:
        idle_beats = 0
        while True:
            with self._lock:
                self._interval = self._lease_seconds() / 3
            self._wake.wait(self._interval)
            self._wake.clear()
            tokens = self._tokens()
            if not tokens:
                idle_beats += 1
                with self._lock:
                    if idle_beats >= 2 and not self._held:
                        self._thread = None
                        return  # nothing held for a while: started again by the next keep()
                continue
            idle_beats = 0
            try:
                renew_all(self.sessions, tokens, self._lease_seconds())
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


def hold_many(session: Session, leases: list[Lease]) -> dict[int, object]:
    """In the caller's transaction: lock the rows of the leased tickets that are still ours
    (in id order, so two transactions never deadlock on them) and return them by id; a ticket
    missing from the answer was taken over (its lease ran out) and must not be written."""
    if not leases:
        return {}
    lane = leases[0].lane
    now = utcnow()
    tickets = Ticket.__table__
    owner, expires = tickets.c[lane.owner.key], tickets.c[lane.expires.key]
    held = [lease for lease in leases if lease.lane is lane]
    rows = session.execute(
        select(tickets.c.id, tickets.c.escalation_owner, tickets.c.escalation_expires_at, tickets.c.escalate_at)
        .where(tickets.c.id.in_([lease.ticket_id for lease in held]),
               owner.in_(sorted({lease.token for lease in held})), expires > now)
        .order_by(tickets.c.id)
        .with_for_update(key_share=True)
    ).all()
    return {row.id: row for row in rows}


def _finish_many_statement(lane: Lane):
    tickets = Ticket.__table__
    work = lane.work.__table__
    ticket_id = bindparam("b_id")
    due = (
        select(func.min(work.c.run_after))
        .where(work.c.ticket_id == ticket_id, work.c.status == QueuedWork.PENDING)
        .scalar_subquery()
    )
    bound = bindparam("b_not_before", type_=tickets.c[lane.due.key].type)
    owner = tickets.c[lane.owner.key]
    return (
        update(tickets)
        .where(tickets.c.id == ticket_id, owner == bindparam("b_token"))
        .values({owner: None, tickets.c[lane.expires.key]: None,
                 tickets.c[lane.due.key]: case((due < bound, bound), else_=due)})
    )


_FINISH_MANY = {lane.name: _finish_many_statement(lane) for lane in (SCORING, ESCALATION)}


def finish_many(session: Session, leases: list[Lease], not_before: dict[int, datetime | None]) -> None:
    """finish() for many leases of one lane whose rows the caller locked (hold_many), in one
    executemany: each ticket handed back and given its next due time (`not_before[id]`: not
    before then)."""
    if not leases:
        return
    session.execute(
        _FINISH_MANY[leases[0].lane.name],
        [{"b_id": lease.ticket_id, "b_token": lease.token, "b_not_before": not_before.get(lease.ticket_id)}
         for lease in leases],
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
    host = host_id()
    freed = 0
    with sessions.begin() as session:
        for lane in (SCORING, ESCALATION):
            owners = session.scalars(
                select(lane.owner).where(lane.owner.is_not(None), lane.owner.startswith(f"{host}:", autoescape=True))
                .distinct()  # autoescape: a `_` or `%` in the host name is no wildcard
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
    web process's notifier sends NOTIFY after the webhooks' commits and each worker's listener
    rings it. Polling stays as the
    safety net (SQLite across processes, a missed notification) at `poll_interval_seconds`.
    A ring is never lost between a thread's empty claim and its wait: threads wait for a ring
    newer than the one they saw before claiming.

    `one_at_a_time`: the threads are alike (scoring), so a ring wakes one of them, not every one
    for an empty claim each; one that found work passes the ring on (`found_work`), so a burst
    still brings in the others. Otherwise (a thread per helpdesk) a ring wakes them all.
    """

    def __init__(self, *, one_at_a_time: bool = False) -> None:
        self._condition = threading.Condition()
        self._one_at_a_time = one_at_a_time
        self.rings = 0

    def ring(self, *, everyone: bool = False) -> None:
        with self._condition:
            self.rings += 1
            if self._one_at_a_time and not everyone:
                self._condition.notify()
            else:
                self._condition.notify_all()

    def found_work(self) -> None:
        """A woken thread had work: there may be more than its turn took, wake the next one."""
        if self._one_at_a_time:
            self.ring()

    def wait(self, seen: int, timeout: float) -> None:
        with self._condition:
            if self.rings == seen:
                self._condition.wait(timeout)


SCORING_BELL = Doorbell(one_at_a_time=True)  # new comments
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
                    for notice in connection.notifies(timeout=1.0):
                        # An escalation re-queued by `jobs retry` says so; webhooks send no payload.
                        (ESCALATION_BELL if notice.payload == ESCALATION.name else bell).ring()
            finally:
                raw.invalidate()  # never hand a LISTENing connection back to the pool
        except Exception as exc:  # the database is away: try again shortly
            log.debug("listener: %s", exc)
            stop.wait(1.0)
