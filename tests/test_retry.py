"""The one retry policy: what counts as transient, what the server asked for, how long to wait."""

from __future__ import annotations

import random
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from ticketpulse.retry import MAX_RETRY_AFTER_SECONDS, backoff, is_transient_status, parse_retry_after, retry_after


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504, 599])
def test_transient_statuses(status):
    assert is_transient_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_permanent_statuses(status):
    assert not is_transient_status(status)


def test_retry_after_in_seconds_and_as_an_http_date():
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    in_90_seconds = format_datetime(now + timedelta(seconds=90), usegmt=True)

    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after(in_90_seconds, now=now.timestamp()) == pytest.approx(90.0)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now.timestamp()) == 0.0
    for unusable in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(unusable) is None


def test_a_retry_after_beyond_an_hour_is_honoured_for_an_hour():
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    in_ten_years = format_datetime(now + timedelta(days=3652), usegmt=True)

    assert MAX_RETRY_AFTER_SECONDS == 3600.0
    for excessive in ("3601", "99999999999", "1e15", "1e308", in_ten_years, "Fri, 31 Dec 9999 23:59:59 GMT"):
        assert parse_retry_after(excessive, now=now.timestamp()) == MAX_RETRY_AFTER_SECONDS
    assert retry_after({"retry-after-ms": "1e18"}) == MAX_RETRY_AFTER_SECONDS


def test_a_negative_or_unreadable_retry_after_leaves_the_wait_to_the_backoff():
    for unusable in ("-5", "-1e15", "Sat, 01 Jan 99999 00:00:00 GMT", "Tue, 01 Jan 10000000000000000000 00:00:00 GMT"):
        assert parse_retry_after(unusable) is None
    assert retry_after({"retry-after-ms": "-250", "retry-after": "3"}) == 3.0


def test_openai_milliseconds_come_first():
    assert retry_after({"retry-after-ms": "250", "retry-after": "30"}) == 0.25
    assert retry_after({"retry-after-ms": "bogus", "retry-after": "3"}) == 3.0
    assert retry_after({}) is None and retry_after(None) is None


def test_backoff_doubles_with_equal_jitter_up_to_the_cap():
    rng = random.Random(7)
    for attempt, nominal in [(1, 5), (2, 10), (3, 20), (4, 40), (10, 900), (50, 900)]:
        waits = [backoff(attempt, base=5, cap=900, rng=rng) for _ in range(200)]
        assert nominal / 2 <= min(waits) and max(waits) <= nominal
        assert max(waits) - min(waits) > nominal / 4  # spread out, not in lockstep
