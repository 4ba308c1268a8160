"""What the work queue holds, for people: the backlog (/healthz), `ticketpulse jobs` and `jobs retry`;
and the tries kept when a reload lowers max_attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from ticketpulse.config import Config
from ticketpulse.escalation.queue import ESCALATION, NOTIFY_CHANNEL, SCORING
from ticketpulse.escalation.reports import number_shared, short_ref
from ticketpulse.escalation.rules import severity_rank
from ticketpulse.models import Comment, CommentStatus, Escalation, EscalationStatus, Ticket, utcnow
from ticketpulse.models.tables import QueuedWork
from ticketpulse.sentiment.clean import one_line


def backlog(session: Session) -> dict:
    """Counts of pending and failed work, and the age of the oldest pending item in seconds."""
    now = utcnow()
    summary: dict = {}
    oldest: list[datetime] = []
    for name, model, pending, failed, since in (
        ("comments", Comment, CommentStatus.PENDING, CommentStatus.FAILED, Comment.received_at),
        ("escalations", Escalation, EscalationStatus.PENDING, EscalationStatus.FAILED, Escalation.created_at),
    ):
        counts = dict(
            session.execute(
                select(model.status, func.count()).where(model.status.in_([pending, failed])).group_by(model.status)
            ).all()
        )
        summary[f"pending_{name}"] = counts.get(pending, 0)
        summary[f"failed_{name}"] = counts.get(failed, 0)
        first = session.scalar(select(func.min(since)).where(model.status == pending))
        if first is not None:
            oldest.append(first if first.tzinfo else first.replace(tzinfo=now.tzinfo))
    summary["oldest_pending_age_seconds"] = round((now - min(oldest)).total_seconds(), 1) if oldest else None
    return summary


@dataclass(frozen=True)
class Job:
    kind: str  # "comment" | "escalation"
    id: int
    helpdesk: str
    ticket: str  # as `show` takes it: `zendesk:<account>:<number>` for a number in two accounts
    status: str
    attempts: int
    run_after: datetime
    reason: str | None


def list_jobs(session: Session, limit: int) -> list[Job]:
    """At most `limit` jobs: failed ones first (they wait for a person), then pending ones, each
    kind oldest first, with the reason each is waiting or failed. Each query has its LIMIT."""
    jobs: list[Job] = []
    for status in (QueuedWork.FAILED, QueuedWork.PENDING):
        for kind, model in (("comment", Comment), ("escalation", Escalation)):
            if len(jobs) >= limit:
                return jobs
            rows = session.execute(
                select(model, Ticket.helpdesk, Ticket.account, Ticket.external_id, number_shared())
                .join(Ticket, Ticket.id == model.ticket_id)
                .where(model.status == status)
                .order_by(model.id)
                .limit(limit - len(jobs))
            )
            jobs += [
                # a reason on its row: a helpdesk's error page (HTML from a proxy) has line breaks
                Job(kind, row.id, helpdesk, short_ref(helpdesk, account, external_id, shared=shared), row.status,
                    row.attempts, row.run_after, one_line(row.reason) if row.reason else row.reason)
                for row, helpdesk, account, external_id, shared in rows
            ]
    return jobs


@dataclass(frozen=True)
class Retried:
    """What `retry_jobs` did: how many jobs were queued again, and the failed escalations stored
    as superseded instead (id -> the severity that supersedes it)."""

    queued: int
    superseded: dict[int, str]


def retry_jobs(session: Session, kind: str | None = None, ids: list[int] | None = None, *,
               config: Config | None = None) -> Retried:
    """Queue failed work again, now: each retried job's ticket is made due in its lane at once
    (not left for the worker's periodic repair), and on PostgreSQL running workers are woken
    (NOTIFY). A failed escalation whose ticket has a higher one pending, applied or retried here
    is stored as superseded, not queued: the helpdesk sees only the highest, as when a decision
    replaces a pending one. With `config`, a retried escalation that moves its ticket to a senior
    group goes to the group configured now: the admin may have corrected one the helpdesk refused."""
    superseded = _supersede_lower_failed(session, ids) if kind in (None, "escalation") else {}
    if config is not None and kind in (None, "escalation"):
        _regroup_failed_escalations(session, ids, config)
    count = 0
    now = utcnow()
    for name, model, lane in (("comment", Comment, SCORING), ("escalation", Escalation, ESCALATION)):
        if kind and kind != name:
            continue
        stmt = update(model).where(model.status == model.FAILED)
        if ids:
            stmt = stmt.where(model.id.in_(ids))
        tickets = session.execute(
            stmt.values(status=model.PENDING, attempts=0, run_after=now, finished_at=None)
            .returning(model.ticket_id)
            .execution_options(synchronize_session=False)
        ).scalars().all()
        count += len(tickets)
        if tickets:
            session.execute(
                update(Ticket)
                .where(Ticket.id.in_(sorted(set(tickets))), lane.due.is_(None) | (lane.due > now))
                .values({lane.due: now})
                .execution_options(synchronize_session=False)
            )
            if session.get_bind().dialect.name == "postgresql":
                # Sent at commit; the payload tells the listener which lane has work.
                session.execute(select(func.pg_notify(NOTIFY_CHANNEL, lane.name)))
    return Retried(count, superseded)


def _supersede_lower_failed(session: Session, ids: list[int] | None) -> dict[int, str]:
    """Store as superseded each failed escalation to retry whose ticket has a higher one that is
    pending, applied, or failed and retried in the same call. Returns id -> the higher severity."""
    def retried(escalations):
        failed = escalations.status == EscalationStatus.FAILED
        return failed & escalations.id.in_(ids) if ids else failed

    live = Escalation.status.in_([EscalationStatus.PENDING, EscalationStatus.APPLIED])
    failed = aliased(Escalation)
    rows = session.execute(
        select(Escalation.id, Escalation.ticket_id, Escalation.severity, retried(Escalation).label("retried"))
        .where(Escalation.ticket_id.in_(select(failed.ticket_id).where(retried(failed))), live | retried(Escalation))
        .order_by(Escalation.ticket_id, Escalation.id)
    ).all()
    highest: dict[int, str] = {}
    for row in rows:
        if severity_rank(row.severity) > severity_rank(highest.get(row.ticket_id)):
            highest[row.ticket_id] = row.severity
    lower = {row.id: highest[row.ticket_id] for row in rows
             if row.retried and severity_rank(row.severity) < severity_rank(highest[row.ticket_id])}
    if lower:
        session.execute(
            update(Escalation.__table__)
            .where(Escalation.__table__.c.id == bindparam("b_id"))
            .values(status=EscalationStatus.SUPERSEDED, reason=bindparam("b_reason"), finished_at=utcnow()),
            [{"b_id": escalation_id, "b_reason": f"superseded by {severity}"} for escalation_id, severity in lower.items()],
        )
    return lower


def _regroup_failed_escalations(session: Session, ids: list[int] | None, config: Config) -> None:
    failed = select(Escalation, Ticket.helpdesk).join(Ticket, Ticket.id == Escalation.ticket_id).where(
        Escalation.status == EscalationStatus.FAILED, Escalation.group_id.is_not(None))
    for escalation, helpdesk in session.execute(failed.where(Escalation.id.in_(ids)) if ids else failed):
        if (configured := config.group_for(helpdesk, escalation.severity)) is not None:
            escalation.group_id = configured  # the note says "to the senior group", whichever it is
    session.flush()


def one_more_try(session: Session, max_attempts: int) -> int:
    """After `max_attempts` was lowered: each pending escalation that has had that many tries or
    more gets one more, as a comment does (its next failure ends it), instead of being failed
    unseen: at or past the limit, a pending escalation reads as one whose tries a crash cut
    short. One being applied now (its ticket's lease is live) finishes its own try. Returns how
    many were given a try."""
    now = utcnow()
    applying = select(Ticket.id).where(ESCALATION.owner.is_not(None), ESCALATION.expires > now)
    return session.execute(
        update(Escalation)
        .where(Escalation.status == Escalation.PENDING, Escalation.attempts >= max_attempts,
               Escalation.ticket_id.not_in(applying))
        .values(attempts=max_attempts - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
