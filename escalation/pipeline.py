"""One leased ticket's work: score its due comments in comment-time order, decide, escalate.

Slow calls (the scorer, the helpdesk API) run outside any transaction; every decision runs in a
short transaction that holds the ticket's row lock and re-checks the lease.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ticketpulse import metrics
from ticketpulse.config import Config
from ticketpulse.escalation.comments import skip_reason
from ticketpulse.escalation.helpdesk import Helpdesk, HelpdeskError, PermanentError, TransientError, plan_for
from ticketpulse.escalation.notes import escalation_note
from ticketpulse.escalation.queue import Lease, hold
from ticketpulse.escalation.rules import decide, should_escalate
from ticketpulse.escalation.signals import log_unsupported_language, unsupported_languages, with_conversation_signals
from ticketpulse.escalation.tracker import ScorePoint, Trajectory, track
from ticketpulse.models import Comment, CommentStatus, Escalation, EscalationStatus, Score, Ticket, utcnow
from ticketpulse.models.tables import QueuedWork
from ticketpulse.retry import backoff
from ticketpulse.sentiment import Scorer, SentimentScore
from ticketpulse.sentiment.clean import clean_text

log = logging.getLogger("ticketpulse.pipeline")

# The same comment delivered by both Zendesk webhook kinds arrives within this window.
CROSS_KIND_DUPLICATE_WINDOW = timedelta(minutes=10)
MAX_CONTEXT_MESSAGES = 100


class LeaseLost(Exception):
    """Another worker took the ticket over (our lease ran out); stop working on it."""


@dataclass(frozen=True)
class Prepared:
    comment_id: int
    text: str
    skip: str | None
    context: tuple[str, ...]


class Pipeline:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        scorer: Scorer,
        helpdesks: dict[str, Helpdesk],
        config: Config,
    ) -> None:
        self.sessions = sessions
        self.scorer = scorer
        self.helpdesks = helpdesks
        self.config = config

    # -- the ticket ---------------------------------------------------------------------------

    def process_ticket(self, lease: Lease) -> None:
        try:
            for comment_id in self._due(lease, Comment, Comment.commented_at):
                self.process_comment(lease, comment_id)
            for escalation_id in self._due(lease, Escalation, Escalation.id):
                self.apply_escalation(lease, escalation_id)
        except LeaseLost:
            log.warning("ticket %s: lease lost; leaving it to the worker that took it", lease.ticket_ref)

    def _due(self, lease: Lease, model, order) -> list[int]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(model.id)
                    .where(model.ticket_id == lease.ticket_id, model.status == model.PENDING, model.run_after <= utcnow())
                    .order_by(order, model.id)
                )
            )

    def _hold(self, session: Session, lease: Lease) -> Ticket:
        ticket = hold(session, lease, self.config.worker.lease_seconds)
        if ticket is None:
            raise LeaseLost(lease.ticket_id)
        return ticket

    # -- comments -------------------------------------------------------------------------------

    def process_comment(self, lease: Lease, comment_id: int) -> None:
        prepared = self._prepare(comment_id)
        if prepared is None:
            return
        score: SentimentScore | None = None
        if prepared.skip is None:
            try:
                score = self.scorer.score(prepared.text, prepared.context)
            except Exception as exc:  # a scorer bug must not lose the comment: retry, then fail
                log.exception("ticket %s: scoring comment %s failed", lease.ticket_ref, comment_id)
                self._retry_comment(lease, comment_id, f"scoring failed: {exc!r}")
                return
        with self.sessions.begin() as session:
            ticket = self._hold(session, lease)
            comment = session.get(Comment, comment_id)
            if comment is None or comment.status != CommentStatus.PENDING:
                return
            comment.finished_at = utcnow()
            if score is None:
                comment.status = CommentStatus.SKIPPED
                comment.reason = prepared.skip
                metrics.COMMENTS.labels(outcome="skipped").inc()
                log.info("ticket %s: comment %s skipped: %s", ticket.ref, comment_id, prepared.skip)
                return
            session.add(_score_row(comment, prepared.text, score))
            comment.status = CommentStatus.DONE
            metrics.COMMENTS.labels(outcome="scored").inc()
            if score.unsupported_language:
                log_unsupported_language(ticket.ref, comment_id, score)
                return
            log.info(
                "ticket %s: comment %s scored by %s: sentiment %+.2f frustration %.2f urgency %.2f%s",
                ticket.ref, comment_id, score.scorer, score.score,
                score.frustration, score.urgency, f" (fallback: {score.fallback_reason})" if score.fallback_reason else "",
            )
            session.flush()
            self._decide(session, ticket, comment)

    def _prepare(self, comment_id: int) -> Prepared | None:
        with self.sessions() as session:
            comment = session.get(Comment, comment_id)
            if comment is None or comment.status != CommentStatus.PENDING:
                return None
            # Cleaned at ingest; only rows stored before that (migration 0002) are cleaned here.
            text = comment.text if comment.text is not None else clean_text(comment.body)
            skip = skip_reason(is_public=comment.is_public, author_role=comment.author_role, text=text)
            if skip is None and (original := _delivered_by_other_kind(session, comment)) is not None:
                skip = f"duplicate of comment {original} (same comment through another webhook kind)"
            context = () if skip else _earlier_customer_messages(session, comment)
            return Prepared(comment_id, text, skip, context)

    def _retry_comment(self, lease: Lease, comment_id: int, reason: str) -> None:
        with self.sessions.begin() as session:
            self._hold(session, lease)
            comment = session.get(Comment, comment_id)
            if comment is None or comment.status != CommentStatus.PENDING:
                return
            retried = self._record_failure(comment, reason, retryable=True)
            metrics.COMMENTS.labels(outcome="retried" if retried else "failed").inc()

    def _record_failure(
        self, work: QueuedWork, reason: str, *, retryable: bool, retry_after: float | None = None
    ) -> bool:
        """One failed try of a comment or an escalation; True when it will be tried again."""
        settings = self.config.worker
        retry_in = None
        if retryable:
            delay = backoff(work.attempts + 1, base=settings.backoff_base_seconds, cap=settings.backoff_max_seconds)
            retry_in = max(delay, retry_after or 0.0)  # never sooner than the server asked
        return work.record_failure(reason, retry_in=retry_in, max_attempts=settings.max_attempts)

    def _decide(self, session: Session, ticket: Ticket, comment: Comment) -> None:
        trajectory = self._trajectory(session, ticket)
        decision = decide(trajectory, self.config.thresholds)
        if not should_escalate(decision, ticket.escalated_severity):
            return
        # A pending lower escalation is replaced by this one: the helpdesk sees only the highest.
        session.execute(
            update(Escalation)
            .where(Escalation.ticket_id == ticket.id, Escalation.status == EscalationStatus.PENDING)
            .values(status=EscalationStatus.SUPERSEDED, reason=f"superseded by {decision.severity}", finished_at=utcnow())
        )
        group_id = getattr(self.config, ticket.helpdesk).group_for(decision.severity)
        session.add(
            Escalation(
                ticket_id=ticket.id,
                comment_id=comment.id,
                severity=decision.severity,
                rule=decision.rule,
                group_id=group_id,
                note=escalation_note(decision, trajectory, to_senior_group=group_id is not None,
                                     unscored_languages=unsupported_languages(session, ticket.id)),
            )
        )
        ticket.escalated_severity = decision.severity
        metrics.ESCALATIONS.labels(severity=decision.severity, outcome="decided").inc()
        log.info(
            "ticket %s: escalates to %s (%s: %s)",
            ticket.ref, decision.severity, decision.rule, decision.reason,
        )

    def _trajectory(self, session: Session, ticket: Ticket) -> Trajectory:
        rows = session.scalars(
            select(Score).where(Score.ticket_id == ticket.id, Score.unsupported_language.is_(None))
            .order_by(Score.commented_at, Score.id)
        )
        points = [
            ScorePoint(row.commented_at, row.score, row.frustration, row.urgency, row.label, tuple(row.cues))
            for row in rows
        ]
        points = with_conversation_signals(session, ticket.id, points)
        thresholds = self.config.thresholds
        return track(
            points,
            window=thresholds.trend_window,
            delta=thresholds.trend_delta,
            negative_threshold=thresholds.negative_score_threshold,
        )

    # -- escalations ----------------------------------------------------------------------------

    def apply_escalation(self, lease: Lease, escalation_id: int) -> None:
        with self.sessions.begin() as session:
            self._hold(session, lease)  # still ours, right before the helpdesk sees anything
            escalation = session.get(Escalation, escalation_id)
            if escalation is None or escalation.status != EscalationStatus.PENDING:
                return
            ticket = session.get(Ticket, escalation.ticket_id)
            snapshot = session.get(Comment, escalation.comment_id).ticket_snapshot
            plan = plan_for(
                self.config, ticket.helpdesk, ticket.external_id, escalation.severity, escalation.note, snapshot,
                group_id=escalation.group_id, ticket_ref=ticket.ref,
            )
            helpdesk = self.helpdesks.get(ticket.helpdesk)
        try:
            if helpdesk is None:
                raise PermanentError(f"no {ticket.helpdesk} client configured")
            applied = helpdesk.apply(plan)
        except HelpdeskError as exc:
            self._escalation_failed(lease, escalation_id, exc)
            return
        except Exception as exc:  # an answer we did not expect: retry later, visibly, never in a hot loop
            log.exception("ticket %s: escalation %s: unexpected error", lease.ticket_ref, escalation_id)
            self._escalation_failed(lease, escalation_id, TransientError(f"unexpected {type(exc).__name__}: {exc}"))
            return
        with self.sessions.begin() as session:
            escalation = session.get(Escalation, escalation_id)
            if escalation.status != EscalationStatus.PENDING:
                return
            escalation.status = EscalationStatus.APPLIED
            escalation.finished_at = utcnow()
            escalation.dry_run = applied.dry_run
            escalation.request = {"requests": applied.requests}
            escalation.reason = "the ticket already carried this severity" if applied.already else None
        metrics.ESCALATIONS.labels(severity=plan.severity, outcome="applied").inc()
        log.info(
            "ticket %s: escalation %s (%s) applied%s",
            ticket.ref, escalation_id, plan.severity, " [dry run]" if applied.dry_run else "",
        )

    def _escalation_failed(self, lease: Lease, escalation_id: int, exc: HelpdeskError) -> None:
        with self.sessions.begin() as session:
            escalation = session.get(Escalation, escalation_id)
            if escalation.status != EscalationStatus.PENDING:
                return
            transient = isinstance(exc, TransientError)
            retried = self._record_failure(
                escalation, str(exc), retryable=transient, retry_after=exc.retry_after if transient else None
            )
            if not retried:
                metrics.ESCALATIONS.labels(severity=escalation.severity, outcome="failed").inc()
                log.error("ticket %s: escalation %s failed for good: %s", lease.ticket_ref, escalation_id, exc)
                return
            metrics.ESCALATIONS.labels(severity=escalation.severity, outcome="retried").inc()
            delay = (escalation.run_after - utcnow()).total_seconds()
            log.warning("ticket %s: escalation %s will retry in %.0f s: %s", lease.ticket_ref, escalation_id, delay, exc)


def _score_row(comment: Comment, text: str, score: SentimentScore) -> Score:
    return Score(
        ticket_id=comment.ticket_id,
        comment_id=comment.id,
        author_id=comment.author_id,
        commented_at=comment.commented_at,
        text=text,
        score=score.score,
        label=score.label,
        frustration=score.frustration,
        urgency=score.urgency,
        cues=list(score.cues),
        scorer=score.scorer,
        scorer_version=score.scorer_version,
        fallback_reason=score.fallback_reason,
        unsupported_language=score.unsupported_language,
    )


def _delivered_by_other_kind(session: Session, comment: Comment) -> int | None:
    return session.scalar(
        select(Comment.id).where(
            Comment.ticket_id == comment.ticket_id,
            Comment.id != comment.id,
            Comment.fingerprint == comment.fingerprint,
            Comment.source != comment.source,
            Comment.status == CommentStatus.DONE,
            Comment.received_at.between(
                comment.received_at - CROSS_KIND_DUPLICATE_WINDOW, comment.received_at + CROSS_KIND_DUPLICATE_WINDOW
            ),
        ).limit(1)
    )


def _earlier_customer_messages(session: Session, comment: Comment) -> tuple[str, ...]:
    """The customer's earlier scored messages, oldest first; scorers pick the few they show,
    and can still say how many there were (the third follow-up weighs more than the first)."""
    texts = session.scalars(
        select(Score.text)
        .where(Score.ticket_id == comment.ticket_id, Score.commented_at <= comment.commented_at)
        .order_by(Score.commented_at.desc(), Score.id.desc())
        .limit(MAX_CONTEXT_MESSAGES)
    ).all()
    return tuple(reversed(texts))
