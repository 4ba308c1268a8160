"""What a client sends in a URL, query string, form or header, read one way for the API and the dashboard.

Numbers are ASCII digits ('²' and '١' pass str.isdigit, and int() refuses the one and reads the
other as 1), a row id fits its column, and secrets are compared as bytes.
"""

from __future__ import annotations

import hmac

from ticketpulse.models import MAX_ROW_ID
from ticketpulse.webhooks.payload import clean_string


def bounded_number(raw: str, maximum: int) -> int | None:
    """`raw` as an int in 0..maximum, else None: ASCII digits only, never an int() of a long string."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(maximum)) or int(digits) > maximum:
        return None
    return int(digits)


def row_id(raw: str) -> int | None:
    """A row id from a URL (1..MAX_ROW_ID), else None: no row has it."""
    return bounded_number(raw, MAX_ROW_ID) or None


def storable(value: str) -> bool:
    """No NUL and no lone surrogate (what payload.clean_string removes from text). An id or a lookup
    key is refused instead of cleaned: cleaned, two different ids could become one."""
    return clean_string(value) == value


def same_secret(given: str, expected: str) -> bool:
    """Constant-time. As bytes, since compare_digest raises on a str with non-ASCII characters, and
    lossless (surrogatepass), so that two different strings never compare equal."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
