"""The inbox write: one durable row per comment event, duplicates recognized."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ticketpulse.webhooks.events import CommentEvent
from ticketpulse.models import Comment, Ticket


@dataclass(frozen=True)
class Accepted:
    comment_id: int
    duplicate: bool


def _insert(session: Session, model):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def _fit(value: str | None, column) -> str | None:
    """Free text cut to its column's length (PostgreSQL enforces it, SQLite does not)."""
    return value[: column.type.length] if value else value


def ensure_ticket(session: Session, helpdesk: str, account: str, external_id: str) -> int:
    session.execute(
        _insert(session, Ticket)
        .values(helpdesk=helpdesk, account=account, external_id=external_id)
        .on_conflict_do_nothing(index_elements=["helpdesk", "account", "external_id"])
    )
    return session.scalars(
        select(Ticket.id).where(
            Ticket.helpdesk == helpdesk, Ticket.account == account, Ticket.external_id == external_id
        )
    ).one()


def accept(session: Session, event: CommentEvent) -> Accepted:
    """Store the event in the inbox (the caller commits). A second delivery is a no-op."""
    ticket_id = ensure_ticket(session, event.helpdesk, event.account, event.external_id)
    key = event.comment_key
    inserted = session.execute(
        _insert(session, Comment)
        .values(
            ticket_id=ticket_id,
            comment_key=key,
            fingerprint=event.fingerprint,
            source=event.source,
            delivery_id=_fit(event.delivery_id, Comment.delivery_id),
            author_id=event.author_id,
            author_name=_fit(event.author_name, Comment.author_name),
            author_role=str(event.author_role),
            is_public=event.is_public,
            body=event.body,
            text=event.text,
            commented_at=event.commented_at,
            ticket_snapshot=event.ticket,
        )
        .on_conflict_do_nothing(index_elements=["ticket_id", "comment_key"])
        .returning(Comment.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return Accepted(comment_id=inserted, duplicate=False)
    existing = session.scalars(
        select(Comment.id).where(Comment.ticket_id == ticket_id, Comment.comment_key == key)
    ).one()
    return Accepted(comment_id=existing, duplicate=True)
