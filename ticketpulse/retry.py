"""The one retry policy for every remote call: the helpdesk APIs and the LLM.

- Which HTTP statuses are worth trying again (`TRANSIENT_STATUSES`).
- What the server asked for: `Retry-After` as seconds or as an HTTP date, or OpenAI's
  `retry-after-ms` (`retry_after`).
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


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUSES or status >= 500


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` in seconds: delay-seconds or an HTTP date (RFC 9110); None when absent or bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return max(0.0, parsed.timestamp() - (time.time() if now is None else now))


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
        if math.isfinite(value):
            return max(0.0, value / 1000)
    return parse_retry_after(headers.get("retry-after"))


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before try `attempt + 1` after `attempt` failures (equal jitter)."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)
