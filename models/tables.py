"""The tables: tickets, the comment inbox, score history and escalations.

comments and escalations are also the work queues: a row is pending until a worker finishes it,
and a ticket's lease says which worker is on it. Nothing else holds state.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ticketpulse.models.db import utcnow


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        # PostgreSQL answers in the session's TimeZone (Debian's initdb takes the host's): every
        # time leaves here in UTC, so whatever prints or compares it needs no zone of its own.
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class CommentStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class EscalationStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    SUPERSEDED = "superseded"
    FAILED = "failed"


class QueuedWork:
    """The columns that make a row queued work: its state, why, and when to try it again."""

    # The states every kind of work shares (CommentStatus / EscalationStatus add their own).
    PENDING: ClassVar[str] = "pending"
    FAILED: ClassVar[str] = "failed"

    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was skipped, is waiting, or failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    def record_failure(self, reason: str, *, retry_in: float | None, max_attempts: int) -> bool:
        """Count one failed try: pending again in `retry_in` seconds, or failed for good.

        Failed for good when `retry_in` is None (it can never succeed) or the attempts are used
        up. Returns True when the work will be tried again.
        """
        self.attempts += 1
        self.reason = reason
        if retry_in is None or self.attempts >= max_attempts:
            self.status = self.FAILED
            self.finished_at = utcnow()
            return False
        self.run_after = utcnow() + timedelta(seconds=retry_in)
        return True


# An agent's public comment, as the partial index ix_comments_agent_replies holds them; queries
# that must use it repeat it word for word (SQLite matches a partial index's terms literally).
AGENT_REPLY_INDEX_WHERE = "author_role = 'agent' AND is_public = true"


def _partial(where: str) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": text(where), "sqlite_where": text(where)}


def ticket_ref(helpdesk: str, account: str, external_id: str) -> str:
    return f"{helpdesk}:{account}:{external_id}"


MAX_TICKET_NUMBER_LENGTH = 64
# Row ids are INTEGER columns, 32 bits on PostgreSQL: a larger id names no row, and asked of the
# database it is an error there (and an OverflowError past 64 bits on SQLite).
MAX_ROW_ID = 2**31 - 1


def ticket_number(value: str) -> str | None:
    """A ticket's `external_id` as stored, or None when `value` numbers no ticket. Both helpdesks
    number their tickets from 1; "007" and "7" are one ticket, for a webhook and a lookup alike."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_TICKET_NUMBER_LENGTH:
        return None
    return value.lstrip("0") or None


class Ticket(Base):
    """One helpdesk ticket; Zendesk and Freshdesk tickets never share a row."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("helpdesk", "account", "external_id"),
        # The queues: only tickets with work (or a lease) are in these indexes, so finding due
        # work costs the same at any history size.
        Index("ix_tickets_due", "next_run_at", **_partial("next_run_at IS NOT NULL")),
        Index("ix_tickets_escalation_due", "helpdesk", "escalate_at", **_partial("escalate_at IS NOT NULL")),
        Index("ix_tickets_leased", "lease_owner", **_partial("lease_owner IS NOT NULL")),
        Index("ix_tickets_escalation_leased", "escalation_owner", **_partial("escalation_owner IS NOT NULL")),
        # The dashboard's conversations per day: covering, so the count never reads the table.
        Index("ix_tickets_created", "created_at", "helpdesk", "escalated_severity"),
        # A ticket named without its account (`show zendesk:48213`): the unique key leads with it.
        Index("ix_tickets_number", "helpdesk", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    helpdesk: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(128))
    external_id: Mapped[str] = mapped_column(String(64))
    escalated_severity: Mapped[str | None] = mapped_column(String(16))
    # The worker deciding on this ticket, until when. Expired leases are taken over.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    # When the ticket next has comments due (NULL: none). Set by the webhook, by the worker.
    next_run_at: Mapped[datetime | None]
    # The escalation lane, apart from scoring so a slow helpdesk never holds up a score: when
    # the ticket's next escalation is due (NULL: none), and the lease of the thread applying it.
    escalate_at: Mapped[datetime | None]
    escalation_owner: Mapped[str | None] = mapped_column(String(64))
    escalation_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    comments: Mapped[list["Comment"]] = relationship(back_populates="ticket")

    @property
    def ref(self) -> str:
        """How logs name the ticket: `zendesk:<account>:<number>`."""
        return ticket_ref(self.helpdesk, self.account, self.external_id)

    def __repr__(self) -> str:
        return f"<Ticket {self.ref}>"


class Comment(QueuedWork, Base):
    """An accepted webhook delivery: one comment on a ticket, waiting to be scored."""

    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("ticket_id", "comment_key"),
        Index("ix_comments_due", "status", "run_after"),
        Index("ix_comments_pending", "ticket_id", "run_after", **_partial("status = 'pending'")),
        Index("ix_comments_ticket_time", "ticket_id", "commented_at"),  # a ticket's page
        # Whether a webhook kind delivers agents' replies (escalation.signals.replies_arrive).
        Index("ix_comments_agent_replies", "source", "ticket_id", **_partial(AGENT_REPLY_INDEX_WHERE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (ticket_id, comment_key) and ix_comments_ticket_time lead with it.
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # The helpdesk's comment id, or a fingerprint of the text where the payload has none.
    comment_key: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str | None] = mapped_column(String(128))
    author_id: Mapped[str | None] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(String(255))
    author_role: Mapped[str] = mapped_column(String(16))
    is_public: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)  # as delivered
    # Cleaned once, at ingest: what the worker scores and the fingerprint was taken of. NULL only
    # on rows stored before migration 0002, which the worker cleans itself.
    text: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket_snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="comments")


class Score(Base):
    """One scored customer message: the ticket's history is these rows by comment time."""

    __tablename__ = "scores"
    __table_args__ = (
        Index("ix_scores_ticket_time", "ticket_id", "commented_at"),
        Index("ix_scores_commented", "commented_at"),  # `ticketpulse tickets --since`, `backtest --days`
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), unique=True)
    author_id: Mapped[str | None] = mapped_column(String(64))
    commented_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(16))
    frustration: Mapped[float] = mapped_column(Float)
    urgency: Mapped[float] = mapped_column(Float)
    cues: Mapped[list[str]] = mapped_column(default=list)
    scorer: Mapped[str] = mapped_column(String(32))
    # The LLM's model name is part of it (a cascade's: local version + model + prompt version).
    scorer_version: Mapped[str] = mapped_column(String(255))
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    # Set when the message is in a language the scorer cannot read: stored, kept out of the rules.
    unsupported_language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Escalation(QueuedWork, Base):
    """A decision to hand the ticket to the senior group, and its delivery to the helpdesk."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("ticket_id", "severity"),
        Index("ix_escalations_due", "status", "run_after"),
        Index("ix_escalations_pending", "ticket_id", "run_after", **_partial("status = 'pending'")),
        Index("ix_escalations_created", "created_at"),  # the dashboard's periods
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    severity: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    # The group the note names, chosen once at the decision; the helpdesk update uses the same.
    group_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    # What was sent to the helpdesk, for the record and for tests.
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Agents' feedback (Verdict): a false-alarm tag on the ticket, or the dashboard's buttons.
    verdict: Mapped[str | None] = mapped_column(String(16))
    verdict_source: Mapped[str | None] = mapped_column(String(16))  # "zendesk", "freshdesk", "dashboard"
    verdict_at: Mapped[datetime | None]


class Verdict(StrEnum):
    """Was the escalation right? Unset until someone says."""

    FALSE_ALARM = "false_alarm"
    CONFIRMED = "confirmed"


class ApiBudget(Base):
    """A helpdesk account's API budget, a token bucket shared by every worker through the database."""

    __tablename__ = "api_budgets"

    helpdesk: Mapped[str] = mapped_column(String(16), primary_key=True)
    account: Mapped[str] = mapped_column(String(128), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]


class DashboardSession(Base):
    """A signed-in dashboard session. Its cookie is honoured only while this row exists: signing
    out deletes it, so a copied cookie ends with the session, not 12 hours later."""

    __tablename__ = "dashboard_sessions"
    __table_args__ = (Index("ix_dashboard_sessions_created", "created_at"),)  # pruning the expired

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInFailures(Base):
    """Wrong dashboard passwords from one client since `window_start`: the sign-in throttle, shared
    by every web process through the database."""

    __tablename__ = "dashboard_sign_in_failures"
    __table_args__ = (Index("ix_dashboard_sign_in_failures_window", "window_start"),)  # pruning the old

    client: Mapped[str] = mapped_column(String(64), primary_key=True)  # an address; an IPv6 client's /64
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime]
