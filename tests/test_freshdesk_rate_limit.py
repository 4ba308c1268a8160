"""Freshdesk's per-minute rate limit as the real API shows it (X-RateLimit-* headers, 429 with
Retry-After once the account's calls are spent), and escalations under it: left for later when
the minute is spent, never sent twice."""

from __future__ import annotations

import requests

from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer
from tests.test_freshdesk_escalation import (  # noqa: F401 (fixtures)
    API_AUTH, CRITICAL, fake_freshdesk, make_due, paths, rows, runtime, say, scorer,
)
from ticketpulse.models import Escalation, utcnow


def test_every_answer_says_the_accounts_limit_and_what_is_left_of_the_minute():
    fake = FakeFreshdesk(rate_limit=3)
    fake.add_ticket("4521")
    with LiveServer(fake.app()) as server:
        answers = [requests.get(f"{server.url}/api/v2/tickets/4521", headers={"Authorization": API_AUTH}, timeout=5)
                   for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Total"] for a in answers] == ["3"] * 4
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert [a.headers["X-RateLimit-Used-CurrentRequest"] for a in answers] == ["1", "1", "1", "0"]
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60


def test_an_escalation_past_the_accounts_minute_waits_for_the_next_and_is_sent_once(
        client, sessions, runtime, fake_freshdesk):
    fake_freshdesk.rate_limit = 3  # the read of the ticket and its conversations, then the PUT: spent
    say(client, CRITICAL)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "pending" and "-> 429" in escalation.reason
    assert (escalation.run_after - utcnow()).total_seconds() > 5  # the minute's rest, not the short backoff
    assert len(paths(fake_freshdesk, "PUT")) == 1 and fake_freshdesk.notes("4521") == []  # the note got the 429

    fake_freshdesk.window_started = 0.0  # the next minute
    make_due(sessions)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied"
    assert len(paths(fake_freshdesk, "PUT")) == 1  # the update is not made again
    assert len(fake_freshdesk.notes("4521")) == 1
