"""The normalized comment event every webhook is parsed into, and who gets scored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from sentiment.clean import clean_text, squash_whitespace

# The first line of every note ticketpulse writes; a comment carrying it is never scored.
NOTE_MARKER = "[ticketpulse]"


class AuthorRole(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CommentEvent:
    """One comment on one ticket, whatever helpdesk and webhook kind delivered it."""

    helpdesk: str  # "zendesk" | "freshdesk"
    account: str  # the helpdesk account: tickets of two accounts never mix
    ticket_id: str
    body: str  # raw, possibly HTML
    is_public: bool
    author_role: AuthorRole
    commented_at: datetime
    source: str  # e.g. "zendesk.event", "zendesk.trigger"
    comment_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    delivery_id: str | None = None
    # What the payload told us of the ticket (tags, group, requester, status ...).
    ticket: dict[str, Any] = field(default_factory=dict)

    # Cached (a frozen dataclass without slots keeps them in its __dict__): cleaning a long HTML
    # comment is the costly part of accepting it, and it is done once, before any database lock.
    @cached_property
    def text(self) -> str:
        return clean_text(self.body)

    @cached_property
    def fingerprint(self) -> str:
        return text_fingerprint(self.text)

    @cached_property
    def comment_key(self) -> str:
        """The idempotency key within the ticket: the comment id, else the text's fingerprint."""
        if self.comment_id:
            return f"id:{self.comment_id}"
        return f"text:{self.fingerprint}"


def text_fingerprint(text: str) -> str:
    normalized = squash_whitespace(text.lower())
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:32]


def skip_reason(*, is_public: bool, author_role: str, text: str) -> str | None:
    """Why a comment is not scored, or None when it is a public customer message.

    The one rule that keeps ticketpulse from scoring agents and from escalating on its own note.
    """
    if not is_public:
        return "private note"
    if author_role == AuthorRole.AGENT:
        return "agent comment"
    if author_role == AuthorRole.UNKNOWN:
        return "author unknown: not the requester, and the payload does not say end-user"
    if text.startswith(NOTE_MARKER):
        return "ticketpulse's own note"
    if not text.strip():
        return "empty comment"
    return None
