"""What a client sends in a URL, query string, form or header, read one way for the API and the dashboard."""

from __future__ import annotations

from ticketpulse.webhooks.payload import clean_string


def storable(value: str) -> bool:
    """No NUL and no lone surrogate (what payload.clean_string removes from text). An id or a lookup
    key is refused instead of cleaned: cleaned, two different ids could become one."""
    return clean_string(value) == value
