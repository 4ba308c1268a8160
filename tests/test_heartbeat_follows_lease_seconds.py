"""The heartbeat follows a reloaded [worker] lease_seconds at once: a lease claimed under a
shorter lease than the heartbeat was sleeping for is renewed in time, not left to run out (and be
taken over by another worker) while the heartbeat sleeps out the old, longer interval."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from ticketpulse.escalation.queue import SCORING, Heartbeat, claim_many
from ticketpulse.models import utcnow
from tests.zendesk_helpers import comment_event, post_zendesk


def test_a_lease_claimed_after_lease_seconds_was_lowered_is_kept_alive(client, sessions):
    for ticket in ("800", "801"):
        assert post_zendesk(client, comment_event(ticket, "1", "hello", time="2025-03-05T10:00:00Z")).status_code == 202
    lease_seconds = [60.0]
    heartbeat = Heartbeat(sessions, lambda: lease_seconds[0])
    [slow] = claim_many(sessions, lease_seconds[0], "a:1:1", 1)

    def live(token) -> int:
        with sessions() as session:
            return session.scalar(select(func.count()).where(SCORING.owner == token, SCORING.expires > utcnow()))

    with heartbeat.keep([slow]):  # a long call under the old lease: the heartbeat sleeps 20 s
        time.sleep(0.2)
        lease_seconds[0] = 1.5  # a reload lowers it; the next claim takes a 1.5 s lease
        [quick] = claim_many(sessions, lease_seconds[0], "a:1:2", 1)
        with heartbeat.keep([quick]):
            time.sleep(3.0)  # twice the new lease
            assert live(quick.token) == 1
