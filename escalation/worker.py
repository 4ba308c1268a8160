"""The worker: threads that lease tickets with due work and run the pipeline on them."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from ticketpulse.escalation.pipeline import Pipeline
from ticketpulse.escalation.queue import LeaseKeeper, claim_ticket, release, worker_name

log = logging.getLogger("ticketpulse.worker")

# A ticket whose processing raised is left alone this long (its work stays pending).
PARK_SECONDS = 60.0


class Worker:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.config.worker

    def run_once(self) -> bool:
        """Do one ticket's due work; False when there was none."""
        lease = claim_ticket(self.pipeline.sessions, self.settings.lease_seconds, worker_name())
        if lease is None:
            return False
        hold_off = 0.0
        try:
            with LeaseKeeper(self.pipeline.sessions, lease, self.settings.lease_seconds):
                self.pipeline.process_ticket(lease)
        except Exception:
            # Whatever broke, the other tickets go on: this one waits before it is tried again.
            log.exception("ticket %s: unexpected error; trying it again in %.0f s", lease.ticket_ref, PARK_SECONDS)
            hold_off = PARK_SECONDS
        finally:
            try:
                release(self.pipeline.sessions, lease, hold_off_seconds=hold_off)
            except SQLAlchemyError:
                log.warning("ticket %s: could not release the lease; it will expire", lease.ticket_ref)
        return True

    def drain(self, limit: int = 100_000) -> int:
        """Work until nothing is due (tests, `ticketpulse worker --once`); returns tickets done."""
        done = 0
        while done < limit and self.run_once():
            done += 1
        return done

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except SQLAlchemyError as exc:
                log.error("database unavailable: %s", exc.__class__.__name__)
                busy = False
            except Exception:
                log.exception("unexpected error in the worker loop")
                busy = False
            if not busy:
                stop.wait(self.settings.poll_interval_seconds)

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        """Start `concurrency` threads; each finishes its current ticket once `stop` is set."""
        threads = [
            threading.Thread(target=self._loop, args=(stop,), name=f"ticketpulse-worker-{n}", daemon=True)
            for n in range(self.settings.concurrency)
        ]
        for thread in threads:
            thread.start()
        return threads
