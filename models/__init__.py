"""SQLAlchemy 2.0 typed models and the engine/session setup."""

from models.db import make_engine, make_session_factory, utcnow
from models.tables import (
    Base,
    Comment,
    CommentStatus,
    Escalation,
    EscalationStatus,
    Score,
    Ticket,
)

__all__ = [
    "Base",
    "Comment",
    "CommentStatus",
    "Escalation",
    "EscalationStatus",
    "Score",
    "Ticket",
    "make_engine",
    "make_session_factory",
    "utcnow",
]
