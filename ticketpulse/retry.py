"""The one retry policy for every remote call: the helpdesk APIs and the LLM.

- Which HTTP statuses are worth trying again (`TRANSIENT_STATUSES`).
- What the server asked for: `Retry-After` as seconds or as an HTTP date, or OpenAI's
  `retry-after-ms` (`retry_after`), honoured up to `MAX_RETRY_AFTER_SECONDS` (`honoured`).
- How long to wait otherwise: exponential backoff with "equal jitter" (`backoff`): attempt n waits
  a uniformly random time between half and all of min(cap, base * 2^(n-1)), so retries spread out
  but never come back sooner than half the nominal delay.

A leaf module: it imports nothing of ticketpulse's, so the domain, the HTTP clients and the LLM
scorer can all use it.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from typing import Any, Mapping

# 408 timeout, 409 conflict (a stale update: read again), 425 too early, 429 rate limited, 5xx.
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


# The longest wait a server may ask for. Both helpdesks' rate limits are per minute, so an honest
# Retry-After is under 60 s; an hour also covers a maintenance window. A longer one (a year, 1e15)
# is a server's mistake: taken at its word it would park a job for ever or overflow a datetime.
MAX_RETRY_AFTER_SECONDS = 3600.0


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUSES or status >= 500


def honoured(seconds: float | None) -> float | None:
    """The part of a server's wish we follow: at most MAX_RETRY_AFTER_SECONDS; None (our own
    backoff) for none, a negative or NaN."""
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` in seconds: delay-seconds or an HTTP date (RFC 9110), at most
    MAX_RETRY_AFTER_SECONDS; None when absent or bad (a date in the past is 0)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return honoured(seconds) if math.isfinite(seconds) else None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: a year of 20 digits
        return None
    if parsed is None:
        return None
    return honoured(max(0.0, parsed.timestamp() - (time.time() if now is None else now)))


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """What the server asked for in seconds: `retry-after-ms` (OpenAI), else `Retry-After`."""
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            value = float(milliseconds)
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return honoured(value / 1000)
    return parse_retry_after(headers.get("retry-after"))


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before try `attempt + 1` after `attempt` failures (equal jitter)."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)
