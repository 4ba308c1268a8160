"""PostgreSQL: a webhook's comment wakes idle workers of other processes by NOTIFY (the Inbox's
notifier, after the commit) instead of leaving it to their next poll."""

from __future__ import annotations

import threading
import time

import pytest

from ticketpulse.escalation.queue import Doorbell, listen_for_due_work
from tests.zendesk_helpers import comment_event, post_zendesk


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_stored_comment_rings_a_worker_listening_on_another_connection(client, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; SQLite workers poll")
    bell, stop = Doorbell(), threading.Event()
    listener = threading.Thread(target=listen_for_due_work, args=(engine, stop, bell), daemon=True)
    listener.start()
    try:
        assert _wait_for(lambda: bell.rings >= 1, 5)  # listening (it rings once when it starts)
        seen = bell.rings

        assert post_zendesk(client, comment_event("7", "1", "hello", time="2025-03-05T10:00:00Z")).status_code == 202

        assert _wait_for(lambda: bell.rings > seen, 3), "no NOTIFY reached the listening worker"
    finally:
        stop.set()
        listener.join(5)
