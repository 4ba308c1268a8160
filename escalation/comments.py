"""Which comments are scored: only public comments by the customer, never ticketpulse's own note."""

from __future__ import annotations

from enum import StrEnum

# The first line of every note ticketpulse writes; a comment carrying it is never scored.
NOTE_MARKER = "[ticketpulse]"


class AuthorRole(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    UNKNOWN = "unknown"


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
