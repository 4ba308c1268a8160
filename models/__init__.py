"""SQLAlchemy 2.0 typed models and the engine/session setup."""

from ticketpulse.models.db import make_engine, make_session_factory, utcnow
from ticketpulse.models.tables import (
    MAX_ROW_ID,
    ApiBudget,
    Base,
    Comment,
    CommentStatus,
    Escalation,
    EscalationStatus,
    Score,
    Ticket,
    Verdict,
    ticket_number,
    ticket_ref,
)

__all__ = [
    "MAX_ROW_ID",
    "ApiBudget",
    "Base",
    "Comment",
    "CommentStatus",
    "Escalation",
    "EscalationStatus",
    "Score",
    "Ticket",
    "Verdict",
    "ticket_number",
    "ticket_ref",
    "make_engine",
    "make_session_factory",
    "utcnow",
]
