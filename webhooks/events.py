"""The normalized comment event every webhook is parsed into; its text is cleaned once, here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from ticketpulse.escalation.comments import AuthorRole
from ticketpulse.sentiment.clean import clean_text, squash_whitespace


@dataclass(frozen=True)
class CommentEvent:
    """One comment on one ticket, whatever helpdesk and webhook kind delivered it."""

    helpdesk: str  # "zendesk" | "freshdesk"
    account: str  # the helpdesk account: tickets of two accounts never mix
    external_id: str  # the helpdesk's ticket number
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
