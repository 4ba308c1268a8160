"""Leased tickets' work, in two lanes.

Scoring, a turn of up to 32 tickets claimed together: their due comments, score history and
agent replies are read in one transaction (four statements for all of them), scored outside any
transaction (the worker's heartbeat keeps the leases), and recorded with every decision in one
short transaction that locks the rows still ours, leaves out any ticket taken over meanwhile and
hands the rest back: three transactions per turn, whatever the number of tickets and comments.
Scoring never calls a helpdesk: a decision queues an escalation.

Escalation: a thread per helpdesk leases tickets with due escalations and applies them, inside
the account's API budget; a wait longer than a few seconds is a reschedule, never a sleep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ticketpulse import metrics
from ticketpulse.config import Config
from ticketpulse.escalation.comments import skip_reason
from ticketpulse.escalation.helpdesk import Helpdesk, HelpdeskError, PermanentError, TransientError, plan_for
from ticketpulse.escalation.notes import escalation_note
from ticketpulse.escalation.queue import ESCALATION_BELL, Lease, finish, finish_many, hold, hold_many
from ticketpulse.escalation.rules import Decision, decide, severity_rank, should_escalate
from ticketpulse.escalation.signals import IS_AGENT_REPLY, log_unsupported_language, replies_arrive, unanswered_counts
from ticketpulse.escalation.tracker import ScorePoint, Trajectory, track
from ticketpulse.models import ApiBudget, Comment, CommentStatus, Escalation, EscalationStatus, Score, Ticket, utcnow
from ticketpulse.models.tables import QueuedWork
from ticketpulse.retry import backoff
from ticketpulse.sentiment import Scorer, SentimentScore
from ticketpulse.sentiment.clean import clean_text

log = logging.getLogger("ticketpulse.pipeline")

# The same comment delivered by both Zendesk webhook kinds arrives within this window.
CROSS_KIND_DUPLICATE_WINDOW = timedelta(minutes=10)
MAX_CONTEXT_MESSAGES = 100
# A ticket's turn: at most this many comments, then it goes to the back of the line (fairness).
COMMENTS_PER_TURN = 50
# API requests one escalation makes (the budget is taken before the first).
REQUESTS_PER_ESCALATION = {"zendesk": 2, "freshdesk": 4}
# On top, in a try after one whose write may have reached the helpdesk: Zendesk reads the ticket's
# comments for our note (a page, newest first; Freshdesk reads its conversations on every try).
REQUESTS_TO_FIND_OUR_NOTE = {"zendesk": 1}


class LeaseLost(Exception):
    """Another worker took the ticket over (our lease ran out); stop working on it."""


@dataclass
class DueComment:
    """A pending comment as a scoring turn reads it (plain columns: no ORM object in the hot path)."""

    FAILED: ClassVar[str] = CommentStatus.FAILED

    id: int
    ticket_id: int
    fingerprint: str
    source: str
    author_id: str | None
    author_role: str
    is_public: bool
    body: str
    text: str | None
    commented_at: datetime
    received_at: datetime
    status: str
    reason: str | None
    attempts: int
    run_after: datetime
    finished_at: datetime | None

    record_failure = QueuedWork.record_failure  # the one rule for a failed try


_COMMENTS = Comment.__table__
_SCORES = Score.__table__
_ESCALATIONS = Escalation.__table__
_TICKETS = Ticket.__table__
_DUE_COLUMNS = [_COMMENTS.c[f.name] for f in fields(DueComment)]
_HISTORY_COLUMNS = [_SCORES.c[name] for name in (
    "ticket_id", "id", "commented_at", "text", "score", "frustration", "urgency", "label", "cues",
    "unsupported_language")]


def _due_comments_statement():
    """The due comments of many tickets, at most one turn's (+1, to tell there is more) each,
    in comment-time order."""
    turn = func.row_number().over(partition_by=_COMMENTS.c.ticket_id,
                                  order_by=(_COMMENTS.c.commented_at, _COMMENTS.c.id)).label("turn")
    due = (
        select(*_DUE_COLUMNS, turn)
        .where(_COMMENTS.c.ticket_id.in_(bindparam("ids", expanding=True)),
               _COMMENTS.c.status == CommentStatus.PENDING,
               _COMMENTS.c.run_after <= bindparam("now", type_=_COMMENTS.c.run_after.type))
        .subquery()
    )
    return (
        select(*(due.c[column.name] for column in _DUE_COLUMNS))
        .where(due.c.turn <= COMMENTS_PER_TURN + 1)
        .order_by(due.c.ticket_id, due.c.commented_at, due.c.id)
    )


# Built once: each turn only binds its values (SQLAlchemy caches the compiled SQL).
_DUE_COMMENTS = _due_comments_statement()
_HISTORY = (
    select(*_HISTORY_COLUMNS)
    .where(_SCORES.c.ticket_id.in_(bindparam("ids", expanding=True)))
    .order_by(_SCORES.c.ticket_id, _SCORES.c.commented_at, _SCORES.c.id)
)
_DONE_DUPLICATES = select(
    _COMMENTS.c.ticket_id, _COMMENTS.c.id, _COMMENTS.c.fingerprint, _COMMENTS.c.source, _COMMENTS.c.received_at,
).where(
    _COMMENTS.c.ticket_id.in_(bindparam("ids", expanding=True)),
    _COMMENTS.c.fingerprint.in_(bindparam("fingerprints", expanding=True)),
    _COMMENTS.c.status == CommentStatus.DONE,
)
_AGENT_REPLIES = select(_COMMENTS.c.ticket_id, _COMMENTS.c.commented_at).where(
    _COMMENTS.c.ticket_id.in_(bindparam("ids", expanding=True)), IS_AGENT_REPLY,
)
_UPDATE_COMMENT = (
    update(_COMMENTS)
    .where(_COMMENTS.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}", type_=_COMMENTS.c[name].type)
             for name in ("status", "reason", "attempts", "run_after", "finished_at")})
)
_INSERT_SCORE = insert(_SCORES)
_SUPERSEDE = (
    update(_ESCALATIONS)
    .where(_ESCALATIONS.c.ticket_id == bindparam("b_ticket_id"), _ESCALATIONS.c.status == EscalationStatus.PENDING)
    .values(status=EscalationStatus.SUPERSEDED, reason=bindparam("b_reason"),
            finished_at=bindparam("b_now", type_=_ESCALATIONS.c.finished_at.type))
)
_INSERT_ESCALATION = insert(_ESCALATIONS)
_MARK_ESCALATED = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("b_id"))
    .values(escalated_severity=bindparam("b_severity"),
            escalate_at=case((_TICKETS.c.escalate_at.is_(None) | (_TICKETS.c.escalate_at > bindparam("b_now")),
                              bindparam("b_now", type_=_TICKETS.c.escalate_at.type)),
                             else_=_TICKETS.c.escalate_at))
)


@dataclass
class Prepared:
    comment: DueComment
    text: str
    skip: str | None
    score: SentimentScore | None = None
    error: str | None = None  # scoring raised: retried later


@dataclass
class TicketWork:
    """What one ticket's scoring turn needs, read in one transaction with the other tickets'."""

    comments: list[DueComment]
    history: list  # score rows (columns of _HISTORY) the rules see, by comment time
    done_fingerprints: list[tuple[int, str, str, datetime]]  # (id, fingerprint, source, received_at)
    more: bool  # more comments are due than one turn takes
    escalated_severity: str | None = None  # as the turn began (only the scoring lane changes it)
    prepared: list[Prepared] = field(default_factory=list)
    agent_replies: list[datetime] = field(default_factory=list)  # public agent comments' times
    # Score rows (columns of _HISTORY) of customer messages stored unread (unsupported language):
    # kept out of the rules; the scorer's context, the unanswered count and the note have them.
    unread: list = field(default_factory=list)
    lease: Lease | None = None
    # The due comments' sources whose agent replies reach us (signals.replies_arrive): elsewhere
    # the unanswered count is unknown.
    reply_sources: set[str] = field(default_factory=set)


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

    # -- the scoring lane -----------------------------------------------------------------------

    def read_due(self, session: Session, lease: Lease) -> TicketWork:
        """One ticket's turn (see read_due_many)."""
        return self.read_due_many(session, [lease])[0]

    def read_due_many(self, session: Session, leases: list[Lease]) -> list[TicketWork]:
        """For each leased ticket: its due comments (comment-time order, one turn's worth), its
        score history, the comments already scored that a due one may duplicate, and the agent
        replies; four statements for all the tickets together (and, until a source's agent
        replies are known to arrive, one per account and source: signals.replies_arrive)."""
        ids = [lease.ticket_id for lease in leases]
        due: dict[int, list[DueComment]] = {ticket_id: [] for ticket_id in ids}
        for row in session.execute(_DUE_COMMENTS, {"ids": ids, "now": utcnow()}):
            due[row.ticket_id].append(DueComment(*row))
        works = {}
        for lease in leases:
            comments = due[lease.ticket_id]
            works[lease.ticket_id] = TicketWork(comments[:COMMENTS_PER_TURN], [], [], len(comments) > COMMENTS_PER_TURN,
                                                lease.escalated_severity, lease=lease)
        busy = [ticket_id for ticket_id in ids if works[ticket_id].comments]
        if busy:
            for row in session.execute(_HISTORY, {"ids": busy}):
                work = works[row.ticket_id]
                if row.unsupported_language is None:
                    work.history.append(row)
                else:  # a message in a language the scorer cannot read is kept out of the rules
                    work.unread.append(row)
            fingerprints = sorted({c.fingerprint for ticket_id in busy for c in works[ticket_id].comments})
            for row in session.execute(_DONE_DUPLICATES, {"ids": busy, "fingerprints": fingerprints}):
                works[row.ticket_id].done_fingerprints.append(tuple(row)[1:])
            # All of them: the history holds messages dated after this turn's comments (one
            # delivered late), and unanswered_counts reads each message against the replies before it.
            for ticket_id, at in session.execute(_AGENT_REPLIES, {"ids": busy}):
                works[ticket_id].agent_replies.append(at)
            # Whether each source's agent replies reach us: no statement once known, else one per
            # account and source a turn.
            arrive: dict[tuple[str, str, str], bool] = {}
            for ticket_id in busy:
                work = works[ticket_id]
                for source in {c.source for c in work.comments}:
                    key = (work.lease.helpdesk, work.lease.account, source)
                    if work.agent_replies:  # known without a statement
                        known = replies_arrive(session, *key, ticket_has_reply=True)
                    elif (known := arrive.get(key)) is None:
                        known = arrive[key] = replies_arrive(session, *key)
                    if known:
                        work.reply_sources.add(source)
        return [works[ticket_id] for ticket_id in ids]

    def score_due(self, lease: Lease, work: TicketWork) -> None:
        """Score the turn's comments in order, outside any transaction."""
        # Every message the customer wrote, one stored unread too (the LLM may read its language).
        texts = [(row.commented_at, row.id, row.text) for row in [*work.history, *work.unread]]
        done = list(work.done_fingerprints)
        for comment in work.comments:
            # Cleaned at ingest; only rows stored before that (migration 0002) are cleaned here.
            text = comment.text if comment.text is not None else clean_text(comment.body)
            skip = skip_reason(is_public=comment.is_public, author_role=comment.author_role, text=text)
            if skip is None and (original := _delivered_by_other_kind(comment, done)) is not None:
                skip = f"duplicate of comment {original} (same comment through another webhook kind)"
            prepared = Prepared(comment, text, skip)
            work.prepared.append(prepared)
            if skip is not None:
                continue
            # The customer's earlier scored messages, oldest first; scorers pick the few they
            # show, and can still say how many there were.
            earlier = sorted(t for t in texts if t[0] <= comment.commented_at)[-MAX_CONTEXT_MESSAGES:]
            try:
                prepared.score = self.scorer.score(text, tuple(t[2] for t in earlier))
            except Exception as exc:  # a scorer bug must not lose the comment: retry, then fail
                log.exception("ticket %s: scoring comment %s failed", lease.ticket_ref, comment.id)
                prepared.error = f"scoring failed: {exc!r}"
                continue
            texts.append((comment.commented_at, 1 << 62, text))
            done.append((comment.id, comment.fingerprint, comment.source, comment.received_at))

    def record_due(self, lease: Lease, work: TicketWork) -> None:
        """One ticket's record_many."""
        if work.lease is None:
            work.lease = lease
        self.record_many([work])

    def record_many(self, works: list[TicketWork], planned: list | None = None) -> None:
        """One transaction for the whole batch: the leased ticket rows locked and the leases
        re-checked first (a ticket another worker took over is left alone: none of its writes
        happen), then every score and status written, each scored comment's decision recorded
        in comment-time order, and the tickets handed back. Statements are executemany's, so
        their number does not grow with the tickets in the batch.

        The ticket rows are locked before any comment row is written: a webhook locks the ticket
        row (its upsert) before it inserts the comment, and a redelivered comment's insert waits
        on the unique index for whoever is updating that comment. Ticket first, everywhere (and
        tickets in id order), so the two never wait on each other (PostgreSQL deadlock 40P01)."""
        now = utcnow()
        if planned is None:  # decided once: a retry of the write must not count a failure twice
            planned = [(work, self._decide(work, now)) for work in works]
        decided = False
        try:
            with self.sessions.begin() as session:
                held = hold_many(session, [work.lease for work in works])
                scores: list[dict] = []
                updates: list[dict] = []
                kept = []
                for work, (ticket_scores, ticket_updates, decisions) in planned:
                    if work.lease.ticket_id not in held:
                        log.warning("ticket %s: lease lost; leaving it to the worker that took it",
                                    work.lease.ticket_ref)
                        continue
                    kept.append(work)
                    scores += ticket_scores
                    updates += ticket_updates
                if scores:
                    session.execute(_INSERT_SCORE, scores)
                if updates:
                    session.execute(_UPDATE_COMMENT, updates)
                decided = self._queue_escalations(
                    session, [(work, held[work.lease.ticket_id], decisions)
                              for work, (_, _, decisions) in planned if decisions and work.lease.ticket_id in held],
                    now,
                )
                finish_many(session, [work.lease for work in kept],
                            {work.lease.ticket_id: now for work in kept if work.more})
        except IntegrityError:
            if len(works) > 1:  # find the one ticket another worker recorded; the rest go on
                for one in planned:
                    self._record_alone(one)
                return
            # Another worker recorded these comments: it took the ticket over while we scored.
            raise LeaseLost(works[0].lease.ticket_id) from None
        for work, (ticket_scores, ticket_updates, decisions) in planned:
            if work.lease.ticket_id in held:
                _count_and_log(work, decisions)
        if decided:
            ESCALATION_BELL.ring()  # this process's escalation thread applies it at once

    def _record_alone(self, planned) -> None:
        work = planned[0]
        try:
            self.record_many([work], [planned])
        except LeaseLost:
            log.warning("ticket %s: lease lost; leaving it to the worker that took it", work.lease.ticket_ref)

    def _decide(self, work: TicketWork, now: datetime):
        """The turn's rows to write and its decisions, in comment-time order (no database)."""
        points = [_point(row) for row in work.history]
        unread = [row.commented_at for row in work.unread]
        severity = work.escalated_severity
        scores: list[dict] = []
        updates: list[dict] = []
        decisions: list[tuple[DueComment, Decision, Trajectory]] = []
        for prepared in work.prepared:
            comment = prepared.comment
            if prepared.error is not None:
                self._record_failure(comment, prepared.error, retryable=True)
            elif prepared.score is None:
                comment.status, comment.reason, comment.finished_at = CommentStatus.SKIPPED, prepared.skip, now
            else:
                score = prepared.score
                comment.status, comment.finished_at = CommentStatus.DONE, now
                scores.append(_score_values(comment, prepared.text, score, now))
                if score.unsupported_language:  # stored, kept out of the rules; still written
                    unread.append(comment.commented_at)
                else:
                    points.append(ScorePoint(comment.commented_at, score.score, score.frustration, score.urgency,
                                             score.label, tuple(score.cues)))
                    trajectory = self._trajectory(points, work.agent_replies, unread,
                                                  replies_known=comment.source in work.reply_sources)
                    decision = decide(trajectory, self.config.thresholds)
                    if should_escalate(decision, severity):
                        decisions.append((comment, decision, trajectory))
                        severity = decision.severity
            updates.append({
                "b_id": comment.id, "b_status": comment.status, "b_reason": comment.reason,
                "b_attempts": comment.attempts, "b_run_after": comment.run_after, "b_finished_at": comment.finished_at,
            })
        return scores, updates, decisions

    def process_ticket(self, lease: Lease) -> None:
        """A scoring turn for one leased ticket."""
        self.process_tickets([lease])

    def process_tickets(self, leases: list[Lease]) -> None:
        """A scoring turn for leased tickets: read them all (one transaction), score them, and
        record them all (one transaction)."""
        with self.sessions() as session:
            works = self.read_due_many(session, leases)
        self.process_works(works)

    def process_work(self, lease: Lease, work: TicketWork) -> None:
        work.lease = work.lease or lease
        self.process_works([work])

    def process_works(self, works: list[TicketWork]) -> None:
        for work in works:
            self.score_due(work.lease, work)
        try:
            self.record_many(works)
        except LeaseLost:
            log.warning("ticket %s: lease lost; leaving it to the worker that took it", works[0].lease.ticket_ref)

    def turn_failed(self, lease: Lease, reason: str, hold_off_seconds: float) -> None:
        """A scoring turn raised before it was recorded (a bug, a value the database refuses):
        each comment of the turn had a failed try, so one that can never be recorded ends failed
        with the reason instead of pending for ever; the ticket is handed back, not due before
        `hold_off_seconds`."""
        now = utcnow()
        outcomes = []
        with self.sessions.begin() as session:
            held = hold(session, lease, self.config.worker.lease_seconds) is not None
            if held:
                for comment in session.scalars(
                    select(Comment)
                    .where(Comment.ticket_id == lease.ticket_id, Comment.status == CommentStatus.PENDING,
                           Comment.run_after <= now)
                    .order_by(Comment.commented_at, Comment.id)
                    .limit(COMMENTS_PER_TURN)
                ):
                    retried = self._record_failure(comment, reason, retryable=True)
                    outcomes.append("retried" if retried else "failed")
                session.flush()  # the new due times, before finish() reads them
            finish(session, lease, not_before=now + timedelta(seconds=hold_off_seconds), locked=held)
        for outcome in outcomes:
            metrics.COMMENTS.labels(outcome=outcome).inc()

    def _hold(self, session: Session, lease: Lease) -> Ticket:
        ticket = hold(session, lease, self.config.worker.lease_seconds)
        if ticket is None:
            raise LeaseLost(lease.ticket_id)
        return ticket

    def _record_failure(
        self, work: QueuedWork, reason: str, *, retryable: bool, retry_after: float | None = None,
        counted: bool = False,
    ) -> bool:
        """One failed try of a comment or an escalation; True when it will be tried again.

        `counted`: the try was counted when it started (escalations count every try, also one
        a crash cut short)."""
        settings = self.config.worker
        retry_in = None
        if counted:
            work.attempts -= 1  # record_failure counts it (again)
        if retryable:
            delay = backoff(work.attempts + 1, base=settings.backoff_base_seconds, cap=settings.backoff_max_seconds)
            # Never sooner than the server asked (already capped by retry.retry_after, its only source).
            retry_in = max(delay, retry_after or 0.0)
        return work.record_failure(reason, retry_in=retry_in, max_attempts=settings.max_attempts)

    def _queue_escalations(self, session: Session, decided: list, now: datetime) -> bool:
        """Queue the batch's escalations: three executemany's whatever the number of tickets.

        A pending lower escalation is replaced by a new one: the helpdesk sees only the highest
        (an earlier decision of the same turn is stored as replaced at once). Not one being
        applied right now (the escalation lane's lease is live): it finishes, then this follows.
        """
        superseded: list[dict] = []
        rows: list[dict] = []
        marks: list[dict] = []
        for work, ticket, decisions in decided:
            lease = work.lease
            in_flight = ticket.escalation_owner is not None and (ticket.escalation_expires_at or now) > now
            if not in_flight:
                superseded.append({"b_ticket_id": lease.ticket_id, "b_now": now,
                                   "b_reason": f"superseded by {decisions[0][1].severity}"})
            languages = [row.unsupported_language for row in work.unread] + [
                p.score.unsupported_language for p in work.prepared if p.score is not None and p.score.unsupported_language
            ]
            for n, (comment, decision, trajectory) in enumerate(decisions):
                group_id = self.config.group_for(lease.helpdesk, decision.severity)
                # A decision of this turn is never in flight: a later one of the turn replaces it.
                replaced_by = decisions[n + 1][1].severity if n + 1 < len(decisions) else None
                rows.append({
                    "ticket_id": lease.ticket_id,
                    "comment_id": comment.id,
                    "severity": decision.severity,
                    "rule": decision.rule,
                    "group_id": group_id,
                    "note": escalation_note(decision, trajectory, to_senior_group=group_id is not None,
                                            unscored_languages=languages),
                    "status": EscalationStatus.SUPERSEDED if replaced_by else EscalationStatus.PENDING,
                    "reason": f"superseded by {replaced_by}" if replaced_by else None,
                    "finished_at": now if replaced_by else None,
                    "attempts": 0,
                    "run_after": now,
                    "created_at": now,
                    "dry_run": False,
                })
            marks.append({"b_id": lease.ticket_id, "b_severity": decisions[-1][1].severity, "b_now": now})
        if superseded:
            session.execute(_SUPERSEDE, superseded)
        if rows:
            session.execute(_INSERT_ESCALATION, rows)
        if marks:
            session.execute(_MARK_ESCALATED, marks)
        return bool(rows)

    def _trajectory(self, points: list[ScorePoint], agent_replies: list[datetime],
                    unread: list[datetime], *, replies_known: bool) -> Trajectory:
        points = unanswered_counts(points, agent_replies, unread, replies_known=replies_known)
        thresholds = self.config.thresholds
        return track(
            points,
            window=thresholds.trend_window,
            delta=thresholds.trend_delta,
            negative_threshold=thresholds.negative_score_threshold,
        )

    # -- the escalation lane --------------------------------------------------------------------

    def due_escalations(self, session: Session, lease: Lease) -> list[int]:
        """The leased ticket's due escalations, in order (in the claim's transaction)."""
        return list(session.scalars(
            select(Escalation.id)
            .where(Escalation.ticket_id == lease.ticket_id, Escalation.status == EscalationStatus.PENDING,
                   Escalation.run_after <= utcnow())
            .order_by(Escalation.id)
        ))

    def apply_due_escalations(self, lease: Lease, due: list[int] | None = None) -> None:
        """Apply the leased ticket's due escalations in order; then hand the ticket back (in the
        last one's closing transaction)."""
        finished = False
        try:
            if due is None:
                with self.sessions() as session:
                    due = self.due_escalations(session, lease)
            for n, escalation_id in enumerate(due):
                go_on, finished = self._apply(lease, escalation_id, hand_back=n == len(due) - 1)
                if not go_on:
                    break  # rescheduled for the budget: the rest wait as well
        except LeaseLost:
            log.warning("ticket %s: escalation lease lost; leaving it to the worker that took it", lease.ticket_ref)
            return
        if not finished:
            with self.sessions.begin() as session:
                finish(session, lease)

    def apply_escalation(self, lease: Lease, escalation_id: int) -> bool:
        """Apply one escalation; False when the account's API budget made it wait."""
        return self._apply(lease, escalation_id)[0]

    def _apply(self, lease: Lease, escalation_id: int, *, hand_back: bool = False) -> tuple[bool, bool]:
        """apply_escalation; with `hand_back`, the lease is given back in the transaction that
        records the outcome. Returns (go on with the next, handed back)."""
        with self.sessions.begin() as session:
            self._hold(session, lease)  # still ours, right before the helpdesk sees anything
            escalation = session.get(Escalation, escalation_id)
            if escalation is None or escalation.status != EscalationStatus.PENDING:
                return True, False
            if (higher := _higher_escalation(session, escalation)) is not None:
                # Left pending while it was in flight when the higher one was decided (its try
                # failed or a crash cut it short): the helpdesk sees only the highest.
                escalation.status, escalation.finished_at = EscalationStatus.SUPERSEDED, utcnow()
                escalation.reason = f"superseded by {higher}"
                escalation.request = settled_writes(escalation.request)
                return True, False
            if escalation.attempts >= self.config.worker.max_attempts:
                # A failed try ends pending only below max_attempts: these tries were cut short (a
                # crash in each), and another would crash the worker again.
                self._give_up(lease, escalation)
                return True, False
            ticket = session.get(Ticket, escalation.ticket_id)
            snapshot = session.get(Comment, escalation.comment_id).ticket_snapshot
            plan = plan_for(
                self.config, ticket.helpdesk, ticket.external_id, escalation.severity, escalation.note, snapshot,
                group_id=escalation.group_id, ticket_ref=ticket.ref,
            )
            # Writes an earlier try announced and never heard back on (it may have died right
            # after sending them) stay on the record: what the helpdesk was sent, also across a takeover.
            settled = settled_writes(escalation.request)
            sent_before = bool((settled or {}).get("earlier_tries"))  # see settled_writes
            helpdesk = self.helpdesks.get(ticket.helpdesk)
            if helpdesk is not None and _spends_api_budget(helpdesk):
                cost = REQUESTS_PER_ESCALATION.get(ticket.helpdesk, 2)
                cost += REQUESTS_TO_FIND_OUR_NOTE.get(ticket.helpdesk, 0) if sent_before else 0
                wait = take_budget(session, ticket.helpdesk, ticket.account, cost,
                                   self._requests_per_minute(ticket.helpdesk))
                if wait > 0:  # queued behind the budget: not an attempt, not a 429
                    escalation.run_after = utcnow() + timedelta(seconds=wait)
                    escalation.reason = f"waiting {wait:.1f} s for the {ticket.helpdesk} API budget"
                    return False, False
            # Every try counts, also one a crash cuts short: the row says how many were made.
            escalation.attempts += 1
            escalation.request = settled
        plan = replace(plan, on_write=lambda record: self._record_write(lease, escalation_id, record),
                       on_refused=lambda error: self._record_refusal(lease, escalation_id, error),
                       may_be_applied_already=sent_before)
        try:
            if helpdesk is None:
                raise PermanentError(f"no {ticket.helpdesk} client configured")
            applied = helpdesk.apply(plan)
        except LeaseLost:
            raise  # taken over before a write: nothing more is sent, nor written on its row
        except HelpdeskError as exc:
            self._escalation_failed(lease, escalation_id, exc, hand_back=hand_back)
            return True, hand_back
        except Exception as exc:  # an answer we did not expect: retry later, visibly, never in a hot loop
            log.exception("ticket %s: escalation %s: unexpected error", lease.ticket_ref, escalation_id)
            self._escalation_failed(lease, escalation_id, TransientError(f"unexpected {type(exc).__name__}: {exc}"),
                                    hand_back=hand_back)
            return True, hand_back
        with self.sessions.begin() as session:
            # Taken over during the calls: the new holder's try owns the row (what this one sent
            # is on it already: announced under the lease, kept by the new try's start).
            self._hold(session, lease)
            escalation = session.get(Escalation, escalation_id)
            if escalation.status == EscalationStatus.PENDING:
                escalation.status = EscalationStatus.APPLIED
                escalation.finished_at = utcnow()
                escalation.dry_run = applied.dry_run
                escalation.request = settled_writes(escalation.request, accepted=applied.requests)
                escalation.reason = applied.already
            if hand_back:
                finish(session, lease)  # after the status (flushed first): the row is no longer due
        metrics.ESCALATIONS.labels(severity=plan.severity, outcome="applied").inc()
        log.info(
            "ticket %s: escalation %s (%s) applied%s",
            ticket.ref, escalation_id, plan.severity, " [dry run]" if applied.dry_run else "",
        )
        return True, hand_back

    def _give_up(self, lease: Lease, escalation: Escalation) -> None:
        escalation.status, escalation.finished_at = EscalationStatus.FAILED, utcnow()
        escalation.request = settled_writes(escalation.request)
        escalation.reason = f"gave up: {escalation.attempts} tries did not finish (the worker stopped during each)"
        metrics.ESCALATIONS.labels(severity=escalation.severity, outcome="failed").inc()
        log.error("ticket %s: escalation %s failed for good: %s", lease.ticket_ref, escalation.id, escalation.reason)

    def _record_write(self, lease: Lease, escalation_id: int, record: dict) -> None:
        """Durably note a write about to be sent (see EscalationPlan.on_write), under the lease:
        a worker whose ticket was taken over sends no more (LeaseLost) and writes nothing on the
        new holder's record."""
        with self.sessions.begin() as session:
            self._hold(session, lease)
            escalation = session.get(Escalation, escalation_id)
            request = dict(escalation.request or {})
            sent = {**record, "try": escalation.attempts, "sent_at": utcnow().isoformat()}
            request["sending"] = [*request.get("sending", []), sent]
            escalation.request = request

    def _record_refusal(self, lease: Lease, escalation_id: int, error: HelpdeskError) -> None:
        """The helpdesk's answer to the write last announced, which it refused and the client
        deals with itself (see EscalationPlan.on_refused), under the lease as _record_write."""
        with self.sessions.begin() as session:
            self._hold(session, lease)
            escalation = session.get(Escalation, escalation_id)
            request = dict(escalation.request or {})
            sending = list(request.get("sending") or [])
            if not sending:
                return
            sending[-1] = {**sending[-1], "status": error.status, "reason": str(error)}
            escalation.request = {**request, "sending": sending}

    def _requests_per_minute(self, helpdesk: str) -> float:
        section = getattr(self.config, helpdesk, None)
        return float(getattr(section, "requests_per_minute", 100) or 100)

    def _escalation_failed(self, lease: Lease, escalation_id: int, exc: HelpdeskError, *,
                           hand_back: bool = False) -> None:
        with self.sessions.begin() as session:
            self._hold(session, lease)  # taken over: the new holder's try counts, not this one
            escalation = session.get(Escalation, escalation_id)
            if escalation.status == EscalationStatus.PENDING:
                self._count_failure(lease, escalation, exc)
            if hand_back:
                finish(session, lease)  # after the new due time (flushed first)

    def _count_failure(self, lease: Lease, escalation: Escalation, exc: HelpdeskError) -> None:
        escalation.request = settled_writes(escalation.request, error=exc)
        transient = isinstance(exc, TransientError)
        retried = self._record_failure(
            escalation, str(exc), retryable=transient, retry_after=exc.retry_after if transient else None,
            counted=True,
        )
        if not retried:
            metrics.ESCALATIONS.labels(severity=escalation.severity, outcome="failed").inc()
            log.error("ticket %s: escalation %s failed for good: %s", lease.ticket_ref, escalation.id, exc)
            return
        metrics.ESCALATIONS.labels(severity=escalation.severity, outcome="retried").inc()
        delay = (escalation.run_after - utcnow()).total_seconds()
        log.warning("ticket %s: escalation %s will retry in %.0f s: %s", lease.ticket_ref, escalation.id, delay, exc)


def take_budget(session: Session, helpdesk: str, account: str, cost: float, per_minute: float) -> float:
    """Spend `cost` requests of the account's budget (a token bucket in the database, shared by
    every worker); 0 when spent, else the seconds until the budget allows it."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    from sqlalchemy.dialects import postgresql, sqlite

    insert_ = (postgresql if dialect == "postgresql" else sqlite).insert
    session.execute(
        insert_(ApiBudget).values(helpdesk=helpdesk, account=account, tokens=per_minute, updated_at=now)
        .on_conflict_do_nothing(index_elements=["helpdesk", "account"])
    )
    budget = session.scalars(
        select(ApiBudget).where(ApiBudget.helpdesk == helpdesk, ApiBudget.account == account).with_for_update()
    ).one()
    elapsed = max(0.0, (now - budget.updated_at).total_seconds())
    # The bucket holds at least one escalation: a budget below its cost slows it, never stops it.
    tokens = min(max(per_minute, cost), budget.tokens + elapsed * per_minute / 60.0)
    budget.updated_at = now
    if tokens >= cost:
        budget.tokens = tokens - cost
        return 0.0
    budget.tokens = tokens
    return (cost - tokens) * 60.0 / per_minute


# What the row says of a write whose answer it did not see (see settled_writes).
SENT_AGAIN = "not accepted: the client sent it again after the helpdesk's answer (the log says why)"
WENT_ON = "accepted: the client went on to its next write"
STOPPED = "none seen: a new try began before its answer (the worker stopped, or its lease ran out)"
LOST = "none recorded: the helpdesk showed the change done when the ticket was read again"


def settled_writes(request: dict | None, *, accepted: list[dict] | None = None,
                   error: HelpdeskError | None = None) -> dict | None:
    """The escalation row's `request` once a try has ended: each write the try announced
    (`sending`, recorded before it was sent) moved to where its answer puts it.

    `requests`: what the helpdesk accepted in the try that applied the escalation (`accepted`,
    its Applied.requests). `refused`: writes the helpdesk refused, each with its `try`, `status`
    and `reason` (the helpdesk's words), kept through later tries and a `jobs retry`.
    `earlier_tries`: the other writes, each with its `try` and what is known of its `answer`
    (one sent right before a crash, or whose answer was lost: the next try reads the ticket to
    tell). With neither `accepted` nor `error`, the try was cut short (a new try begins)."""
    request = dict(request or {})
    sending = request.pop("sending", [])
    refused = list(request.pop("refused", []))
    earlier = list(request.pop("earlier_tries", []))
    unmatched = list(accepted or [])
    for n, write in enumerate(sending):
        later = sending[n + 1:]
        if "status" in write:  # refused, and the client went on (_record_refusal)
            refused.append(write)
        elif (plain := {key: value for key, value in write.items() if key not in ("try", "sent_at")}) in unmatched:
            unmatched.remove(plain)
        elif any((other["method"], other["path"]) == (write["method"], write["path"]) for other in later):
            refused.append({**write, "status": None, "reason": SENT_AGAIN})
        elif later:
            earlier.append({**write, "answer": WENT_ON})
        elif error is not None and _answers(error, write):
            if error.status is not None and 400 <= error.status < 500:  # the helpdesk said no: nothing done
                refused.append({**write, "status": error.status, "reason": str(error)})
            else:  # a 5xx, a timeout: it may have been done; the next try reads the ticket first
                earlier.append({**write, "answer": f"unknown: {error}"})
        elif error is not None:
            earlier.append({**write, "answer": f"unknown: the try failed on another request after it ({error})"})
        else:
            earlier.append({**write, "answer": LOST if accepted is not None else STOPPED})
    settled = {"requests": list(accepted)} if accepted is not None else {}
    settled |= {"refused": refused} if refused else {}
    settled |= {"earlier_tries": earlier} if earlier else {}
    return settled or None


def _answers(error: HelpdeskError, write: dict) -> bool:
    """Is `error` the answer to `write`, the try's last write? Yes unless it answers another
    request (the re-read after a 409 failed, say): a client sets `method` and `url` on the error
    for a helpdesk's answer (integrations/http.py `answering`)."""
    method, url = error.method, error.url
    if method is None or url is None:
        return True
    return method == write["method"] and url.split("?")[0].endswith(write["path"])


def _higher_escalation(session: Session, escalation: Escalation) -> str | None:
    """The severity of a pending or applied escalation of the same ticket above this one's, if any."""
    others = session.scalars(select(Escalation.severity).where(
        Escalation.ticket_id == escalation.ticket_id, Escalation.id != escalation.id,
        Escalation.status.in_([EscalationStatus.PENDING, EscalationStatus.APPLIED]))).all()
    top = max(others, key=severity_rank, default=None)
    return top if severity_rank(top) > severity_rank(escalation.severity) else None


def _spends_api_budget(helpdesk: Helpdesk) -> bool:
    """Live adapters call an API (they hold a client); a dry-run sends nothing."""
    return hasattr(helpdesk, "client")


def _point(row: Score) -> ScorePoint:
    return ScorePoint(row.commented_at, row.score, row.frustration, row.urgency, row.label, tuple(row.cues))


def _score_values(comment: DueComment, text: str, score: SentimentScore, now: datetime) -> dict:
    return dict(
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
        created_at=now,
        unsupported_language=score.unsupported_language,
    )


def _count_and_log(work: TicketWork, decisions: list = ()) -> None:
    """Metrics and log lines for a recorded turn and its decisions (after its commit: a
    rolled-back turn, e.g. a batch written again ticket by ticket, counts nothing)."""
    ref = work.lease.ticket_ref
    for prepared in work.prepared:
        comment, score = prepared.comment, prepared.score
        if prepared.error is not None:
            failed = comment.status == CommentStatus.FAILED
            metrics.COMMENTS.labels(outcome="failed" if failed else "retried").inc()
            if failed:
                log.error("ticket %s: comment %s failed for good: %s", ref, comment.id, comment.reason)
        elif score is None:
            metrics.COMMENTS.labels(outcome="skipped").inc()
            log.info("ticket %s: comment %s skipped: %s", ref, comment.id, prepared.skip)
        else:
            metrics.COMMENTS.labels(outcome="scored").inc()
            if score.unsupported_language:
                log_unsupported_language(ref, comment.id, score)
            elif log.isEnabledFor(logging.INFO):
                log.info(
                    "ticket %s: comment %s scored by %s: sentiment %+.2f frustration %.2f urgency %.2f%s",
                    ref, comment.id, score.scorer, score.score, score.frustration, score.urgency,
                    f" (fallback: {score.fallback_reason})" if score.fallback_reason else "",
                )
    for _comment, decision, _trajectory in decisions:
        metrics.ESCALATIONS.labels(severity=decision.severity, outcome="decided").inc()
        log.info("ticket %s: escalates to %s (%s: %s)", ref, decision.severity, decision.rule, decision.reason)


def _delivered_by_other_kind(comment: DueComment, done: list[tuple[int, str, str, datetime]]) -> int | None:
    """The comment already scored that this one repeats through the other webhook kind."""
    for other_id, fingerprint, source, received_at in done:
        if (
            other_id != comment.id
            and fingerprint == comment.fingerprint
            and source != comment.source
            and abs(received_at - comment.received_at) <= CROSS_KIND_DUPLICATE_WINDOW
        ):
            return other_id
    return None
