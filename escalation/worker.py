"""The worker: scoring threads that lease tickets with due comments, and one escalation thread
per helpdesk that applies decided escalations, so that a slow or hung helpdesk delays only its
own escalations: never scoring, never the other helpdesk."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from ticketpulse.escalation.jobs import one_more_try
from ticketpulse.escalation.pipeline import LeaseLost, Pipeline
from ticketpulse.escalation.queue import (
    ESCALATION,
    ESCALATION_BELL,
    SCORING,
    SCORING_BELL,
    Doorbell,
    Lane,
    Lease,
    Heartbeat,
    claim,
    claim_many,
    listen_for_due_work,
    reclaim_own,
    release,
    worker_name,
)
from ticketpulse.models import Ticket, utcnow

log = logging.getLogger("ticketpulse.worker")

# A ticket whose processing raised is left alone this long (its work stays pending).
PARK_SECONDS = 60.0
# How often a running worker checks that no pending work has lost its place in the queue.
REPAIR_INTERVAL_SECONDS = 60.0


class TurnSize:
    """How many tickets one scoring turn claims: as many as the scorer gets through in about
    TURN_SECONDS (the local scorer: a full batch, amortising the claim, read and record
    transactions over many tickets; an LLM: one ticket, so that slow calls spread over the
    worker threads and processes instead of queueing behind each other in one batch)."""

    TURN_SECONDS = 0.2
    MOST = 32

    def __init__(self) -> None:
        self.size = 1
        self._per_ticket: float | None = None  # smoothed scoring seconds per ticket

    def measured(self, tickets: int, seconds: float) -> None:
        if not tickets:
            return
        cost = seconds / tickets
        self._per_ticket = cost if self._per_ticket is None else 0.7 * self._per_ticket + 0.3 * cost
        self.size = max(1, min(self.MOST, int(self.TURN_SECONDS / max(self._per_ticket, 1e-6))))


class Worker:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.config.worker
        # Leases we could not hand back (the database was away): handed back once it returns,
        # so the ticket does not wait for the lease to run out.
        self._unreleased: list[tuple[Lease, float]] = []
        self._unreleased_lock = threading.Lock()
        self.heartbeat = Heartbeat(pipeline.sessions, lambda: self.settings.lease_seconds)
        self.turn = TurnSize()
        self._max_attempts = pipeline.config.worker.max_attempts  # as last seen (a reload may lower it)
        self._max_attempts_lock = threading.Lock()

    @property
    def sessions(self):
        return self.pipeline.sessions

    # -- one unit of work ----------------------------------------------------------------------

    def run_once(self) -> bool:
        """Do a turn: the due comments of up to `turn.size` tickets; False when none were due."""
        self._release_leftovers()
        # The claim commits at once: the ticket rows are locked for one statement only.
        leases = claim_many(self.sessions, self.settings.lease_seconds, worker_name(), self.turn.size)
        if not leases:
            return False
        self._work_on(leases, self._score_turn)
        return True

    def _score_turn(self, leases: list[Lease]) -> None:
        pipeline = self.pipeline
        with self.sessions() as session:
            works = pipeline.read_due_many(session, leases)
        started = time.perf_counter()
        for work in works:
            pipeline.score_due(work.lease, work)
        # Per ticket the scorer was asked about: a ticket of skipped comments (agent replies)
        # costs it nothing, and counted it would make an LLM look cheap and grow its turns.
        scored = sum(1 for work in works if any(prepared.skip is None for prepared in work.prepared))
        self.turn.measured(scored, time.perf_counter() - started)
        try:
            pipeline.record_many(works)
        except LeaseLost:
            log.warning("ticket %s: lease lost; leaving it to the worker that took it", leases[0].ticket_ref)

    def run_escalations_once(self, helpdesk: str) -> bool:
        """Apply one ticket's due escalations on `helpdesk`; False when there were none."""
        self._release_leftovers()
        self._follow_max_attempts()
        with self.sessions.begin() as session:  # the claim and the read: one transaction
            lease = claim(None, self.settings.lease_seconds, worker_name(), lane=ESCALATION, helpdesk=helpdesk,
                          session=session)
            due = self.pipeline.due_escalations(session, lease) if lease is not None else []
        if lease is None:
            return False
        self._work_on([lease], lambda leases: self.pipeline.apply_due_escalations(leases[0], due))
        return True

    def _follow_max_attempts(self) -> None:
        """After a reload that lowered max_attempts, before any escalation is tried under it:
        those that had the new limit's tries already get one more (jobs.one_more_try)."""
        limit = self.pipeline.config.worker.max_attempts  # what the pipeline gives up at
        if limit >= self._max_attempts:
            self._max_attempts = limit
            return
        with self._max_attempts_lock:
            if limit < self._max_attempts:
                with self.sessions.begin() as session:
                    kept = one_more_try(session, limit)
                self._max_attempts = limit
                if kept:
                    log.info("max_attempts lowered to %d: %d escalation(s) that had as many tries get one more",
                             limit, kept)

    def _work_on(self, leases: list[Lease], job) -> None:
        with self.heartbeat.keep(leases):
            try:
                if self._try(leases, job, alone=len(leases) == 1):
                    return
                for lease in leases:  # one of them broke the turn: each alone, so only that one waits
                    self._try([lease], job, alone=True)
            except BaseException:  # the thread is being torn down: hand back what it holds
                for lease in leases:
                    self._release(lease, 0.0)
                raise

    def _try(self, leases: list[Lease], job, *, alone: bool) -> bool:
        try:
            job(leases)
            return True  # the pipeline handed the tickets back in its last transaction
        except Exception as exc:
            if not alone:
                log.warning("a turn of %d tickets failed (%s); trying them one by one", len(leases),
                            exc.__class__.__name__)
                return False
            if _database_away(exc):  # not the ticket's fault: again as soon as the database is back
                log.error("ticket %s: database unavailable: %s", leases[0].ticket_ref, exc.__class__.__name__)
                hold_off = 0.0
            else:  # whatever broke, the other tickets go on: this one waits before it is tried again
                log.exception("ticket %s: unexpected error; trying it again in %.0f s", leases[0].ticket_ref,
                              PARK_SECONDS)
                if leases[0].lane is SCORING:
                    self._park(leases[0], exc)
                    return False
                hold_off = PARK_SECONDS
            self._release(leases[0], hold_off)
            return False

    def _park(self, lease: Lease, exc: Exception) -> None:
        """A scoring turn that raised counts a try of its comments (they fail, with the error as
        the reason, once the attempts are used up) and waits PARK_SECONDS."""
        reason = f"scoring turn failed: {exc.__class__.__name__}: {(str(exc).splitlines() or [''])[0]}"
        try:
            self.pipeline.turn_failed(lease, reason, PARK_SECONDS)
        except Exception:
            log.exception("ticket %s: could not count the failed turn", lease.ticket_ref)
            self._release(lease, PARK_SECONDS)

    def _release(self, lease: Lease, hold_off: float) -> None:
        try:
            release(self.sessions, lease, hold_off_seconds=hold_off)
        except SQLAlchemyError:
            log.warning("ticket %s: could not release the lease; trying again when the database is back",
                        lease.ticket_ref)
            with self._unreleased_lock:
                self._unreleased.append((lease, hold_off))

    def _release_leftovers(self) -> None:
        if not self._unreleased:
            return
        with self._unreleased_lock:
            leftovers, self._unreleased = self._unreleased, []
        for lease, hold_off in leftovers:
            self._release(lease, hold_off)

    # -- keeping the queue whole ---------------------------------------------------------------

    def repair_schedules(self) -> int:
        """Give pending work that has no place in the queue, or one later than its own due time
        by more than a park, its place again (a row edited outside the worker). Reads only
        pending rows; returns tickets fixed."""
        fixed = 0
        with self.sessions.begin() as session:
            for lane in (SCORING, ESCALATION):
                fixed += _repair(session, lane)
        if fixed:
            log.info("re-queued %d ticket(s) whose pending work had no due time", fixed)
        return fixed

    def reclaim(self) -> int:
        """At start-up: free the leases a crashed process of this host left behind."""
        return reclaim_own(self.sessions)

    # -- loops -----------------------------------------------------------------------------------

    def drain(self, limit: int = 100_000) -> int:
        """Work until nothing is due (tests, `ticketpulse worker --once`); returns turns done."""
        self.repair_schedules()
        done = 0
        while done < limit:
            busy = self.run_once()
            for helpdesk in self.pipeline.helpdesks:
                busy = self.run_escalations_once(helpdesk) or busy
            if not busy:
                break
            done += 1
        return done

    def _loop(self, stop: threading.Event, step, name: str, bell: Doorbell) -> None:
        while not stop.is_set():
            seen = bell.rings
            try:
                busy = step()
            except SQLAlchemyError as exc:
                log.error("%s: database unavailable: %s", name, exc.__class__.__name__)
                busy = False
            except Exception:
                log.exception("%s: unexpected error in the worker loop", name)
                busy = False
            if busy:
                bell.found_work()
            elif not stop.is_set():
                bell.wait(seen, self.settings.poll_interval_seconds)

    def _repair_loop(self, stop: threading.Event) -> None:
        while not stop.wait(REPAIR_INTERVAL_SECONDS):
            try:
                self.repair_schedules()
            except SQLAlchemyError:
                pass  # the database is away: next time

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        """Start `concurrency` scoring threads and one escalation thread per helpdesk; each
        finishes its current ticket once `stop` is set."""
        try:
            self.repair_schedules()
        except SQLAlchemyError as exc:
            log.error("database unavailable at start: %s", exc.__class__.__name__)
        threads = [
            threading.Thread(target=self._loop, args=(stop, self.run_once, f"scoring-{n}", SCORING_BELL),
                             name=f"ticketpulse-worker-{n}", daemon=True)
            for n in range(self.settings.concurrency)
        ]
        threads += [
            threading.Thread(
                target=self._loop,
                args=(stop, lambda helpdesk=helpdesk: self.run_escalations_once(helpdesk), f"escalations-{helpdesk}",
                      ESCALATION_BELL),
                name=f"ticketpulse-escalations-{helpdesk}", daemon=True,
            )
            for helpdesk in self.pipeline.helpdesks
        ]
        threads.append(threading.Thread(target=self._repair_loop, args=(stop,), name="ticketpulse-repair", daemon=True))
        threads.append(threading.Thread(target=_ring_on_stop, args=(stop,), name="ticketpulse-stop", daemon=True))
        engine = self.sessions.kw.get("bind")
        if engine is not None and engine.dialect.name == "postgresql":
            threads.append(threading.Thread(target=listen_for_due_work, args=(engine, stop), daemon=True,
                                            name="ticketpulse-listen"))
        for thread in threads:
            thread.start()
        return threads


def _ring_on_stop(stop: threading.Event) -> None:
    """Idle threads wait on a doorbell: wake them when it is time to stop."""
    stop.wait()
    SCORING_BELL.ring(everyone=True)
    ESCALATION_BELL.ring(everyone=True)


def _repair(session, lane: Lane) -> int:
    work = lane.work
    pending = (
        select(work.ticket_id, func.min(work.run_after).label("due"))
        .where(work.status == work.PENDING)
        .group_by(work.ticket_id)
        .subquery()
    )
    # The worker itself sets a due time later than the work's, but never further than a park
    # away (a parked ticket, a busy one sent to the back of the line): those are left alone.
    beyond_a_park = utcnow() + timedelta(seconds=PARK_SECONDS)
    orphans = session.execute(
        select(pending.c.ticket_id, pending.c.due)
        .join(Ticket, Ticket.id == pending.c.ticket_id)
        .where(lane.due.is_(None) | ((lane.due > pending.c.due) & (lane.due > beyond_a_park)))
    ).all()
    for ticket_id, due in orphans:
        session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values({lane.due: due})
            .execution_options(synchronize_session=False)
        )
    return len(orphans)


def _database_away(exc: BaseException) -> bool:
    """The connection failed (the database is down or restarting), as opposed to a bad statement."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
