"""The conversation API's domain: score one message now, decide, and say how to answer.

An AI reply bot or a sidebar app posts each message of a conversation and gets the decision in
the same request: hand over to a human ("escalate", with the severity, the reason and the note)
or answer ("respond", with a tone hint for the customer's state). Conversations live in the same
history tables as helpdesk tickets, under their own helpdesk name (`api`), so they never mix with
helpdesk tickets; the tracker, the rules and the note are the ones the worker uses.

Nothing here leaves work for the worker: a message is scored and decided in one transaction, and
the escalation is delivered by the answer itself (stored as applied).
"""

from __future__ import annotations

import re
import threading
import uuid
import weakref
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, func, insert, literal_column, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ticketpulse.config import Config, Thresholds, Tone
from ticketpulse.escalation.comments import AuthorRole, skip_reason
from ticketpulse.escalation.notes import escalation_note
from ticketpulse.escalation.rules import Decision, decide, severity_rank, should_escalate
from ticketpulse.escalation.signals import (
    API_SOURCE, IS_AGENT_REPLY, log_unsupported_language, replies_arrive, unanswered_counts, unsupported_languages,
    with_conversation_signals,
)
from ticketpulse.escalation.tracker import ScorePoint, Trajectory, Trend, track
from ticketpulse.models import Comment, CommentStatus, Escalation, EscalationStatus, Score, Ticket, utcnow
from ticketpulse.sentiment import Scorer, SentimentScore

# Conversations are tickets of this "helpdesk": the (helpdesk, account, external_id) key keeps
# them apart from Zendesk and Freshdesk tickets with the same number.
NAMESPACE = "api"
ACCOUNT = "default"
SOURCE = API_SOURCE
# A conversation id goes into URLs and the tickets table (external_id is 64 characters). Matched
# whole (fullmatch): a `$` would also take a trailing newline.
CONVERSATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}")
CONVERSATION_ID_RULE = "1 to 64 characters of letters, digits and . _ : @ -, starting with a letter or digit"
# The caller's message id is stored as "id:<message_id>" in a 128-character key.
MAX_MESSAGE_ID_LENGTH = 100
# The trajectory is computed from this many latest scores (plus the peak over all of them), so a
# message's cost does not grow with the conversation's length. The rules look at no more than
# the trend window (<= 50) and the negative streak (<= 20).
RECENT_SCORES = 50
# Earlier customer messages handed to the scorer as context (the pipeline's bound).
MAX_CONTEXT_MESSAGES = 100


class ScoringError(Exception):
    """The scorer failed on the message; nothing was stored."""


class UnknownConversation(LookupError):
    """No message has been posted to this conversation (or no comment seen on this ticket)."""


@dataclass(frozen=True)
class Message:
    conversation_id: str
    body: str  # as posted
    text: str  # cleaned (the web layer cleans every comment once, before any database lock)
    fingerprint: str  # of the cleaned text, as for helpdesk comments
    author: AuthorRole  # CUSTOMER or AGENT
    commented_at: datetime
    message_id: str | None = None  # the caller's id: posting it again is answered, not redone


@dataclass(frozen=True)
class ToneHint:
    label: str  # empathetic | professional | friendly | deescalate
    instruction: str


@dataclass(frozen=True)
class LastEscalation:
    severity: str
    rule: str
    status: str
    created_at: datetime
    note: str


@dataclass(frozen=True)
class State:
    """What a sidebar app or a reply bot needs to know of a conversation (or ticket) now."""

    trajectory: Trajectory | None  # None before the first scored customer message
    scored_messages: int
    messages: int | None  # all stored messages, agents' too (GET only)
    escalated_severity: str | None
    last_escalation: LastEscalation | None  # (GET only)
    decision: Decision | None  # what the rules say of the latest customer message
    tone: ToneHint


@dataclass(frozen=True)
class Answer:
    """The answer to one posted message."""

    message_id: str | None
    duplicate: bool  # the message id was posted before: this is the first answer, again
    score: SentimentScore | None  # None for an agent message
    decision: Decision | None  # the rule that holds for the latest customer message, if any
    escalate: bool  # this message escalated the conversation (once per severity)
    reason: str  # why escalate, or why respond
    note: str | None  # the handover note, when escalating
    state: State

    @property
    def action(self) -> str:
        return "escalate" if self.escalate else "respond"


def tone_for(trajectory: Trajectory | None, tone: Tone) -> ToneHint:
    """The tone for the next reply: by the latest label, stronger when things get worse."""
    if trajectory is None:
        return ToneHint("professional", tone.neutral)
    current = trajectory.current
    if trajectory.trend is Trend.DECLINING or current.frustration >= tone.deescalate_frustration:
        return ToneHint("deescalate", tone.deescalate)
    if current.label == "negative" or (
        current.label == "positive" and current.frustration >= tone.friendly_max_frustration
    ):
        return ToneHint("empathetic", tone.negative)
    if current.label == "positive":
        return ToneHint("friendly", tone.positive)
    return ToneHint("professional", tone.neutral)


def unread_reason(score: SentimentScore) -> str:
    return (f"not read: the message is in {score.unsupported_language}, a language the {score.scorer} scorer "
            "cannot read; stored, and kept out of the rules")


def respond_reason(decision: Decision | None, escalated_severity: str | None) -> str:
    if decision is None:
        return "no escalation rule holds for the latest customer message"
    return (
        f"already escalated at {escalated_severity}; {decision.rule} ({decision.severity}) holds: "
        f"{decision.reason}"
    )


class Conversations:
    def __init__(self, sessions: sessionmaker[Session], scorer: Scorer, config: Config) -> None:
        self.sessions = sessions
        self.scorer = scorer
        self.config = config

    # -- posting ----------------------------------------------------------------------------------

    def post(self, message: Message) -> Answer:
        """Store, score and decide one message; a message id seen before gets its first answer.

        The hot path runs prebuilt Core statements on the tables (about six per message): building
        statements and the ORM's bookkeeping, not the database, were most of a message's time.
        """
        text = message.text
        skip = skip_reason(is_public=True, author_role=message.author, text=text)
        key = f"id:{message.message_id}" if message.message_id else f"auto:{uuid.uuid4().hex}"
        conversation = {"helpdesk": NAMESPACE, "account": ACCOUNT, "external_id": message.conversation_id}
        context: tuple[str, ...] = ()
        # A scorer that reads the earlier messages (the LLM) gets them in a first, short read; one
        # that does not (the local scorer) needs no read: one transaction per message, so that
        # concurrent posts on SQLite queue once for its write lock, not twice.
        if skip is None and getattr(self.scorer, "uses_context", True):
            with _one_writer(self.sessions), self.sessions() as session:
                connection = session.connection()
                if message.message_id:
                    seen = connection.execute(_SEEN, {**conversation, "key": key}).scalar()
                    if seen is not None:
                        return self._replay(session, session.get(Comment, seen))
                texts = connection.execute(_CONTEXT, {**conversation, "before": message.commented_at}).scalars()
                context = tuple(reversed(texts.all()))
        # Scored outside any transaction: SQLite's write lock is not held while the model thinks.
        try:
            score = self.scorer.score(text, context) if skip is None else None
        except Exception as exc:  # any scorer bug: the caller retries, nothing half-stored
            raise ScoringError(f"scoring failed: {type(exc).__name__}") from exc
        with _one_writer(self.sessions), self.sessions.begin() as session:
            connection = session.connection()
            ticket_id, escalated = _locked_conversation(connection, conversation)
            comment_id = connection.execute(
                _inserts(connection)[1], _comment_values(ticket_id, key, message, skip)
            ).scalar()
            if comment_id is None:  # the same message id again: answer as the first time
                seen = connection.execute(_SEEN, {**conversation, "key": key}).scalar()
                return self._replay(session, session.get(Comment, seen))
            answer = self._decide(session, message, ticket_id, comment_id, escalated, score, skip)
            if message.message_id:  # a retry gets this very answer, whatever was reloaded or deployed since
                connection.execute(_REMEMBER, {"b_id": comment_id, "b_given": {"answer": _given(answer)}})
            return answer

    def _decide(
        self, session: Session, message: Message, ticket_id: int, comment_id: int, escalated: str | None,
        score: SentimentScore | None, skip: str | None,
    ) -> Answer:
        """Score (stored), decide and, when the rules say so, escalate the stored message."""
        connection = session.connection()
        thresholds = self.config.thresholds
        if score is None:
            trajectory, count = _recent_trajectory(connection, ticket_id, thresholds)
            decision = decide(trajectory, thresholds) if trajectory else None
            state = self._brief_state(trajectory, count, escalated, decision)
            return Answer(message.message_id, False, None, None, False, f"not scored: {skip}", None, state)
        connection.execute(_INSERT_SCORE, _score_values(ticket_id, comment_id, message, score))
        trajectory, count = _recent_trajectory(connection, ticket_id, thresholds)
        if score.unsupported_language:  # stored, but kept out of the rules
            log_unsupported_language(f"{NAMESPACE}:{message.conversation_id}", comment_id, score)
            state = self._brief_state(trajectory, count, escalated, None)
            return Answer(message.message_id, False, score, None, False, unread_reason(score), None, state)
        decision = decide(trajectory, thresholds)
        escalate = should_escalate(decision, escalated)
        note = None
        if escalate:
            note = escalation_note(
                decision, _trajectory(session, ticket_id, thresholds, full=True), to_senior_group=False,
                unscored_languages=unsupported_languages(session, ticket_id),
            )
            session.add(
                Escalation(
                    ticket_id=ticket_id,
                    comment_id=comment_id,
                    severity=decision.severity,
                    rule=decision.rule,
                    group_id=None,
                    note=note,
                    # Delivered by this very answer: nothing for the worker to send.
                    status=EscalationStatus.APPLIED,
                    finished_at=utcnow(),
                    reason="handed over in the API answer",
                )
            )
            session.execute(
                update(Ticket).where(Ticket.id == ticket_id).values(escalated_severity=decision.severity)
            )
            escalated = decision.severity
            reason = decision.reason
        else:
            reason = respond_reason(decision, escalated)
        state = self._brief_state(trajectory, count, escalated, decision)
        return Answer(message.message_id, False, score, decision, escalate, reason, note, state)

    def _brief_state(
        self, trajectory: Trajectory | None, scored: int, escalated: str | None, decision: Decision | None
    ) -> State:
        """The state a POST answer carries (no message count, no last escalation)."""
        return State(trajectory, scored, None, escalated, None, decision, tone_for(trajectory, self.config.tone))

    def _replay(self, session: Session, comment: Comment) -> Answer:
        """The answer a message got the first time: what the settings decided then (the decision,
        its reason, the trend, the tone) as stored with it, the rest rebuilt from what was stored
        by then: messages dated earlier but posted after it (a customer's, an agent's reply) are
        not part of it."""
        ticket = session.get(Ticket, comment.ticket_id)
        message_id = comment.comment_key.removeprefix("id:")
        thresholds = self.config.thresholds
        trajectory = _trajectory(session, ticket.id, thresholds, stored_by=comment.id)
        escalations = session.execute(
            select(Escalation.comment_id, Escalation.severity, Escalation.rule, Escalation.note).where(
                Escalation.ticket_id == ticket.id, Escalation.comment_id <= comment.id
            )
        ).all()
        escalated_then = max((row.severity for row in escalations), key=severity_rank, default=None)
        scored_then = session.scalar(
            select(func.count(Score.id)).where(
                Score.ticket_id == ticket.id, Score.unsupported_language.is_(None), Score.comment_id <= comment.id,
            )
        )
        score_row = session.scalars(select(Score).where(Score.comment_id == comment.id)).first()
        given = (comment.ticket_snapshot or {}).get("answer")
        if given is not None:  # the first answer as given: thresholds or tone reloaded since change nothing
            mine = next((row for row in escalations if row.comment_id == comment.id), None)
            if trajectory is not None:
                trajectory = replace(trajectory, trend=Trend(given["trend"]), trend_delta=given["trend_delta"],
                                     consecutive_negative=given["consecutive_negative"])
            state = State(trajectory, scored_then, None, escalated_then, None, _decision(given["state_decision"]),
                          ToneHint(*given["tone"]))
            return Answer(message_id, True, _stored_score(score_row) if score_row else None,
                          _decision(given["decision"]), mine is not None, given["reason"],
                          mine.note if mine else None, state)
        if score_row is None:  # a message answered before answers were stored: rebuilt under today's settings
            decision = decide(trajectory, thresholds) if trajectory else None
            state = self._brief_state(trajectory, scored_then, escalated_then, decision)
            return Answer(message_id, True, None, None, False, f"not scored: {comment.reason}", None, state)
        decision = decide(trajectory, thresholds) if trajectory and not score_row.unsupported_language else None
        mine = next((row for row in escalations if row.comment_id == comment.id), None)
        if mine is not None:
            decision = Decision(mine.severity, mine.rule, decision.reason if decision else "")
            reason, note = decision.reason, mine.note
        else:
            reason, note = respond_reason(decision, escalated_then), None
        state = self._brief_state(trajectory, scored_then, escalated_then, decision)
        score = _stored_score(score_row)
        if score.unsupported_language:
            reason = unread_reason(score)
        return Answer(message_id, True, score, decision, mine is not None, reason, note, state)

    # -- reading ----------------------------------------------------------------------------------

    def conversation(self, conversation_id: str) -> State:
        return self.ticket(NAMESPACE, conversation_id, ACCOUNT)

    def ticket(self, helpdesk: str, external_id: str, account: str | None = None) -> State:
        """A helpdesk ticket's (or a conversation's) state; UnknownConversation if never seen.

        Without `account`, the ticket of that number in the only account that has one.
        """
        with self.sessions() as session:
            query = select(Ticket).where(Ticket.helpdesk == helpdesk, Ticket.external_id == external_id)
            if account is not None:
                query = query.where(Ticket.account == account)
            tickets = session.scalars(query.order_by(Ticket.id).limit(2)).all()
            if not tickets:
                raise UnknownConversation(external_id)
            if len(tickets) > 1:
                raise AmbiguousTicket(external_id)
            return self._state(session, tickets[0])

    def _state(self, session: Session, ticket: Ticket) -> State:
        trajectory = _trajectory(session, ticket.id, self.config.thresholds)
        decision = decide(trajectory, self.config.thresholds) if trajectory else None
        return self._state_of(session, ticket, trajectory, decision)

    def _state_of(
        self, session: Session, ticket: Ticket, trajectory: Trajectory | None, decision: Decision | None
    ) -> State:
        counts = session.execute(
            select(func.count(Comment.id), func.count(Score.id))
            .select_from(Comment)
            # A message the scorer could not read is stored, not scored (as the POST answer and the note count)
            .outerjoin(Score, (Score.comment_id == Comment.id) & Score.unsupported_language.is_(None))
            .where(Comment.ticket_id == ticket.id)
        ).one()
        last = session.scalars(
            select(Escalation)
            .where(Escalation.ticket_id == ticket.id, Escalation.status != EscalationStatus.SUPERSEDED)
            .order_by(Escalation.id.desc())
            .limit(1)
        ).first()
        return State(
            trajectory=trajectory,
            scored_messages=counts[1],
            messages=counts[0],
            escalated_severity=ticket.escalated_severity,
            last_escalation=(
                LastEscalation(last.severity, last.rule, last.status, last.created_at, last.note) if last else None
            ),
            decision=decision,
            tone=tone_for(trajectory, self.config.tone),
        )


class AmbiguousTicket(LookupError):
    """Tickets of that number exist in more than one helpdesk account: say which."""


# -- rows -------------------------------------------------------------------------------------------

_SQLITE_WRITERS: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()
_SQLITE_WRITERS_LOCK = threading.Lock()


def _one_writer(sessions: sessionmaker[Session]):
    """SQLite: the API's transactions queue on a lock in this process.

    Every SQLite transaction takes the database's one write lock (BEGIN IMMEDIATE), and a waiter
    in SQLite's busy handler sleeps up to 100 ms between tries: with a few clients at once, the
    slowest answers took seconds. Waiting here wakes the next one as soon as the lock is free.
    PostgreSQL locks the conversation's row instead: nothing to queue.
    """
    engine = sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _SQLITE_WRITERS_LOCK:
        lock = _SQLITE_WRITERS.get(engine)
        if lock is None:
            lock = _SQLITE_WRITERS[engine] = threading.Lock()
    return lock



# Built once, on the tables (Core, not the ORM): the statements of every posted message.
_tickets, _comments, _scores = Ticket.__table__, Comment.__table__, Score.__table__


def _of_conversation():
    """The conversation named by the :helpdesk, :account and :external_id parameters."""
    return (
        _tickets.c.helpdesk == bindparam("helpdesk"),
        _tickets.c.account == bindparam("account"),
        _tickets.c.external_id == bindparam("external_id"),
    )


_SEEN = (
    select(_comments.c.id)
    .join(_tickets, _tickets.c.id == _comments.c.ticket_id)
    .where(*_of_conversation(), _comments.c.comment_key == bindparam("key"))
)
_CONTEXT = (
    select(_scores.c.text)
    .join(_tickets, _tickets.c.id == _scores.c.ticket_id)
    .where(*_of_conversation(), _scores.c.commented_at <= bindparam("before", type_=_scores.c.commented_at.type))
    .order_by(_scores.c.commented_at.desc(), _scores.c.id.desc())
    .limit(MAX_CONTEXT_MESSAGES)
)
_LOCK = (
    select(_tickets.c.id, _tickets.c.escalated_severity)
    .where(*_of_conversation())
    .with_for_update(key_share=True)
)
_RECENT = (
    select(
        _scores.c.commented_at, _scores.c.score, _scores.c.frustration, _scores.c.urgency, _scores.c.label,
        _scores.c.cues,
    )
    .where(_scores.c.ticket_id == bindparam("ticket_id"), _scores.c.unsupported_language.is_(None))
    .order_by(_scores.c.commented_at.desc(), _scores.c.id.desc())
    .limit(RECENT_SCORES)
)
# For the unanswered-messages signal, in one statement: the agent replies that answer the loaded
# scores (earlier ones do not change the counts, the oldest loaded message counts as the first
# either way), and the customer's unread messages (unsupported language: they count as written)
# since the last reply before the oldest loaded score; and that last reply (a reply, or NULL:
# whether this conversation's client posts its replies at all). `is_reply`: 1 for a reply, 0 for
# an unread message, 2 for the reply before.
_SINCE = bindparam("since", type_=_comments.c.commented_at.type)
_TICKET_REPLIES = (_comments.c.ticket_id == bindparam("ticket_id"), IS_AGENT_REPLY)
_REPLY_BEFORE = (
    select(func.max(_comments.c.commented_at)).where(*_TICKET_REPLIES, _comments.c.commented_at < _SINCE)
    .scalar_subquery()
)
_SIGNALS = union_all(
    select(_comments.c.commented_at, literal_column("1").label("is_reply"))
    .where(*_TICKET_REPLIES, _comments.c.commented_at >= _SINCE),
    select(_scores.c.commented_at, literal_column("0"))
    .where(_scores.c.ticket_id == bindparam("ticket_id"), _scores.c.unsupported_language.is_not(None),
           or_(_REPLY_BEFORE.is_(None), _scores.c.commented_at > _REPLY_BEFORE)),
    select(_REPLY_BEFORE.label("commented_at"), literal_column("2")),
)
_PEAK_AND_COUNT = select(func.max(_scores.c.frustration), func.count(_scores.c.id)).where(
    _scores.c.ticket_id == bindparam("ticket_id"), _scores.c.unsupported_language.is_(None)
)
_INSERT_SCORE = insert(_scores)
# A message's first answer, kept on its row for a retry (see _given). The row is the conversation
# message's: its ticket_snapshot holds nothing else (only helpdesk comments carry a ticket's).
_REMEMBER = (
    update(_comments).where(_comments.c.id == bindparam("b_id"))
    .values(ticket_snapshot=bindparam("b_given", type_=_comments.c.ticket_snapshot.type))
)
_INSERTS = {
    dialect.__name__.rsplit(".", 1)[-1]: (
        dialect.insert(_tickets).on_conflict_do_nothing(index_elements=["helpdesk", "account", "external_id"]),
        dialect.insert(_comments)
        .on_conflict_do_nothing(index_elements=["ticket_id", "comment_key"])
        .returning(_comments.c.id),
    )
    for dialect in (postgresql, sqlite)
}


def _inserts(connection: Connection):
    """(insert the ticket if new, insert the comment unless its key is there) for this database."""
    return _INSERTS["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]


def _locked_conversation(connection: Connection, conversation: dict) -> tuple[int, str | None]:
    """The conversation's id and escalated severity, its row created if new and locked: one
    decision at a time per conversation (PostgreSQL: the row lock; SQLite: the write lock)."""
    row = connection.execute(_LOCK, conversation).first()
    if row is None:
        connection.execute(_inserts(connection)[0], conversation)
        row = connection.execute(_LOCK, conversation).one()
    return row[0], row[1]


def _comment_values(ticket_id: int, key: str, message: Message, skip: str | None) -> dict:
    """The message as a finished inbox row: the worker never sees it pending."""
    now = utcnow()
    return {
        "ticket_id": ticket_id,
        "comment_key": key,
        "fingerprint": message.fingerprint,
        "source": SOURCE,
        "author_role": str(message.author),
        "is_public": True,
        "body": message.body,
        "text": message.text,
        "commented_at": message.commented_at,
        "received_at": now,
        "ticket_snapshot": {},
        "status": CommentStatus.SKIPPED if skip else CommentStatus.DONE,
        "reason": skip,
        "attempts": 0,
        "run_after": now,
        "finished_at": now,
    }


def _score_values(ticket_id: int, comment_id: int, message: Message, score: SentimentScore) -> dict:
    return {
        "ticket_id": ticket_id,
        "comment_id": comment_id,
        "author_id": None,
        "commented_at": message.commented_at,
        "text": message.text,
        "score": score.score,
        "label": score.label,
        "frustration": score.frustration,
        "urgency": score.urgency,
        "cues": list(score.cues),
        "scorer": score.scorer,
        "scorer_version": score.scorer_version,
        "fallback_reason": score.fallback_reason,
        "unsupported_language": score.unsupported_language,
        "created_at": utcnow(),
    }


def _recent_trajectory(
    connection: Connection, ticket_id: int, thresholds: Thresholds
) -> tuple[Trajectory | None, int]:
    """The trajectory from the latest RECENT_SCORES scores with the peak over all; and their count."""
    rows = connection.execute(_RECENT, {"ticket_id": ticket_id}).all()
    if not rows:
        return None, 0
    points = [ScorePoint(row[0], row[1], row[2], row[3], row[4], tuple(row[5] or ())) for row in reversed(rows)]
    replies, unread, has_reply = [], [], False
    for at, is_reply in connection.execute(_SIGNALS, {"ticket_id": ticket_id, "since": points[0].commented_at}):
        if is_reply == 2:
            has_reply = has_reply or at is not None
        else:
            (replies if is_reply else unread).append(at)
    known = replies_arrive(connection, NAMESPACE, ACCOUNT, SOURCE, ticket_has_reply=has_reply or bool(replies))
    points = unanswered_counts(points, replies, unread, replies_known=known)
    trajectory = track(
        points,
        window=thresholds.trend_window,
        delta=thresholds.trend_delta,
        negative_threshold=thresholds.negative_score_threshold,
    )
    if len(rows) < RECENT_SCORES:
        return trajectory, len(rows)
    peak, count = connection.execute(_PEAK_AND_COUNT, {"ticket_id": ticket_id}).one()
    return replace(trajectory, peak_frustration=max(peak, trajectory.peak_frustration)), count


def _given(answer: Answer) -> dict:
    """What of an answer the settings and the code decided (the rest is stored data: the scores,
    the escalation and its note), as JSON."""
    trajectory = answer.state.trajectory
    return {
        "decision": _decision_json(answer.decision),
        "state_decision": _decision_json(answer.state.decision),
        "reason": answer.reason,
        "trend": (trajectory.trend if trajectory else Trend.INSUFFICIENT_DATA).value,
        "trend_delta": trajectory.trend_delta if trajectory else 0.0,
        "consecutive_negative": trajectory.consecutive_negative if trajectory else 0,
        "tone": [answer.state.tone.label, answer.state.tone.instruction],
    }


def _decision_json(decision: Decision | None) -> list[str] | None:
    return [decision.severity, decision.rule, decision.reason] if decision else None


def _decision(stored: list[str] | None) -> Decision | None:
    return Decision(*stored) if stored else None


def _stored_score(row: Score) -> SentimentScore:
    return SentimentScore(
        score=row.score, frustration=row.frustration, urgency=row.urgency, cues=tuple(row.cues),
        scorer=row.scorer, scorer_version=row.scorer_version, fallback_reason=row.fallback_reason,
        unsupported_language=row.unsupported_language,
    )


def _point(row: Score) -> ScorePoint:
    return ScorePoint(row.commented_at, row.score, row.frustration, row.urgency, row.label, tuple(row.cues))


def _trajectory(
    session: Session, ticket_id: int, thresholds: Thresholds, *, stored_by: int | None = None, full: bool = False
) -> Trajectory | None:
    """The trajectory from the latest scores (in comment-time order); the peak frustration over
    all of them. `stored_by`: only what was stored up to that comment id (what its answer saw).
    `full` loads every score (for the note's history count)."""
    where = [Score.ticket_id == ticket_id, Score.unsupported_language.is_(None)]  # what the rules read
    if stored_by is not None:
        where.append(Score.comment_id <= stored_by)
    query = select(Score).where(*where).order_by(Score.commented_at.desc(), Score.id.desc())
    if not full:
        query = query.limit(max(RECENT_SCORES, thresholds.trend_window, thresholds.consecutive_negative_messages))
    points = [_point(row) for row in reversed(session.scalars(query).all())]
    if not points:
        return None
    points = with_conversation_signals(session, ticket_id, points, stored_by=stored_by)  # as the worker decides
    trajectory = track(
        points,
        window=thresholds.trend_window,
        delta=thresholds.trend_delta,
        negative_threshold=thresholds.negative_score_threshold,
    )
    if full:
        return trajectory
    peak = session.scalar(select(func.max(Score.frustration)).where(*where))
    return replace(trajectory, peak_frustration=max(peak or 0.0, trajectory.peak_frustration))
