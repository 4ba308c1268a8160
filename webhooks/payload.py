"""Reading fields out of webhook payloads, with errors that name the field."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from ticketpulse import models
from ticketpulse.webhooks import lenient_json

_MISSING = object()
# A comment's history is read in time order: one dated in the future would stay "the latest"
# and hide every later message from the rules. A helpdesk clock ahead of ours by more than this
# is not believed (the comment is dated on arrival, as one with no time is).
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_ID_LENGTH = 64
_TRUE = {"true", "1", "yes", "y", "t", "on"}
_FALSE = {"false", "0", "no", "n", "f", "off"}
# A lone UTF-16 surrogate: JSON may carry one ("\ud800"), UTF-8 and the databases cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


class PayloadError(ValueError):
    """A webhook body we cannot use; answered with 400 and this message."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def refuse_moved_fields(data: Any, shape: lenient_json.Shape) -> None:
    """A template body in which a customer's text closed an object early and moved the template's
    own later fields into an object of its own (`lenient_json.strays`): the fields left in their
    place may be the text's (a Freshdesk ticket's url, which names the account), so none is read."""
    moved = lenient_json.strays(data, shape)
    if moved:
        raise PayloadError("body", f"{moved[0]!r} holds the template's fields after a customer's text: a body "
                                   "whose text closed an object early cannot be read safely")


def _lookup(data: Any, path: str) -> Any:
    value = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return _MISSING
        value = value.get(part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def is_placeholder(value: str) -> bool:
    """An unrendered template placeholder such as '{{ticket.latest_comment.id}}'."""
    return value.startswith("{{") and value.endswith("}}")


def clean_string(value: str) -> str:
    """Text every later step can store and encode: no NUL (PostgreSQL text cannot hold it;
    nothing a helpdesk sends means anything by it) and no lone surrogate (not UTF-8; replaced
    by U+FFFD, as a UTF-8 decoder does with a broken sequence)."""
    value = value.replace("\x00", "")
    if value.isascii():
        return value
    return _SURROGATE.sub("\ufffd", value)


def _as_text(value: Any, path: str, required: bool) -> str | None:
    if value is _MISSING or value is None:
        if required:
            raise PayloadError(path, "missing")
        return None
    if isinstance(value, (dict, list)):
        raise PayloadError(path, f"expected a string or number, got {type(value).__name__}")
    value = clean_string(str(value)).strip()
    if not value or is_placeholder(value):
        if required:
            raise PayloadError(path, "empty")
        return None
    return value


def text(data: Any, path: str, *, required: bool = False) -> str | None:
    """A scalar field as a stripped string; None when absent, empty or an unrendered placeholder."""
    return _as_text(_lookup(data, path), path, required)


def check_identifier(value: str | None, field: str) -> str | None:
    if value is not None and (len(value) > MAX_ID_LENGTH or any(ch.isspace() for ch in value)):
        raise PayloadError(field, "not a valid id")
    return value


def identifier(data: Any, path: str, *, required: bool = False) -> str | None:
    """An id as a string: helpdesks send ids as numbers or as strings."""
    value = _lookup(data, path)
    if isinstance(value, bool):
        raise PayloadError(path, "expected an id, got a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return check_identifier(_as_text(value, path, required), path)


def _is_number(value: str) -> bool:
    return value.isascii() and value.isdigit()


def ticket_number(value: str | None, field: str) -> str:
    """A ticket id: both helpdesks number their tickets, and the id ends up in API URLs.

    One ticket, one id: "007", " 7 " and 7 are all "7" before they key anything.
    """
    if not value:
        raise PayloadError(field, "missing")
    number = models.ticket_number(value)
    if number is None:
        zero = _is_number(value.strip()) and not value.strip("0 ")
        raise PayloadError(field, "not a ticket number" + (" (tickets are numbered from 1)" if zero else ""))
    return number


def id_number(value: str | None, field: str) -> str | None:
    """A numeric id (a Zendesk comment or account id) in one spelling: "0377" is "377"."""
    if value is None:
        return None
    if not _is_number(value):
        raise PayloadError(field, "not a number")
    return value.lstrip("0") or "0"


def boolean(data: Any, path: str, default: bool | None = None) -> bool | None:
    value = _lookup(data, path)
    if value is _MISSING or value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        if not lowered or is_placeholder(lowered):
            return default
    raise PayloadError(path, "expected true or false")


def timestamp(data: Any, path: str) -> datetime | None:
    """An ISO-8601 time as aware UTC; None when absent, not ISO (e.g. a localized rendering) or
    further in the future than MAX_CLOCK_SKEW."""
    value = text(data, path)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        parsed = parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        # Not ISO, or at the edge of the calendar ("0001-01-01T00:00:00+01:00" is in year 0 UTC).
        return None
    return None if parsed > datetime.now(timezone.utc) + MAX_CLOCK_SKEW else parsed


def tag_list(data: Any, path: str, separators: str = " ,") -> list[str]:
    """Tags as a list, from a JSON list or a space/comma separated string."""
    value = _lookup(data, path)
    if value is _MISSING or value is None:
        return []
    if isinstance(value, list):
        # A tag is a scalar; a nested list or object in the list is no tag (and its str() may be
        # as deep as the JSON parser allowed).
        tags = (clean_string(str(tag)).strip() for tag in value if not isinstance(tag, (dict, list)))
        return [tag for tag in tags if tag]
    if isinstance(value, str):
        value = clean_string(value)
        if is_placeholder(value.strip()):
            return []
        for separator in separators[1:]:
            value = value.replace(separator, separators[0])
        return [tag for tag in value.split(separators[0]) if tag]
    raise PayloadError(path, "expected a list or a string of tags")
