"""A new comment wakes one idle scoring thread, not all of them: the scoring threads are alike, so
one claim takes the work and the others would each pay an empty claim (on SQLite a write
transaction, queued with the webhooks' on the one write lock). A thread that found work passes
the ring on, so a burst still brings in the others; stopping still wakes them all."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select

from ticketpulse.models import Comment
from ticketpulse.runtime import build_runtime
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

THREADS = 8


@pytest.fixture
def worker(config, environment, engine):
    # Polling far apart: a thread only wakes when it is rung.
    settings = config.worker.model_copy(update={"concurrency": THREADS, "poll_interval_seconds": 60})
    runtime = build_runtime(config.model_copy(update={"worker": settings}), environment, engine=engine,
                            scorer=ScriptedScorer({}), helpdesks={})
    return runtime.worker


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_one_comment_costs_a_few_claims_not_one_per_thread(client, sessions, engine, worker):
    claims = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("UPDATE tickets SET lease_owner") and "RETURNING" in statement:
            claims.append(1)

    def pending() -> int:
        with sessions() as session:
            return session.scalar(select(func.count()).where(Comment.status == "pending"))

    stop = threading.Event()
    threads = worker.start(stop)
    try:
        time.sleep(1.0)  # every thread has made its first, empty claim and waits
        event.listen(engine, "before_cursor_execute", count)
        assert post_zendesk(client, comment_event("7", "1", "hello", time="2025-03-05T10:00:00Z")).status_code == 202
        assert wait_for(lambda: pending() == 0, 10)
        time.sleep(0.5)  # the claims the ring brought on have all been made
        event.remove(engine, "before_cursor_execute", count)
    finally:
        stop.set()
        for thread in threads:
            if thread.name.startswith("ticketpulse-worker"):
                thread.join(5)
    assert all(not t.is_alive() for t in threads if t.name.startswith("ticketpulse-worker"))  # all woke to stop
    # One per thread and more before (9 on SQLite; 15 on PostgreSQL, rung by the webhook and by
    # its NOTIFY); now the woken thread's, the one it passed the ring to, and the NOTIFY's.
    assert len(claims) <= 5, f"{len(claims)} claims for one comment"
