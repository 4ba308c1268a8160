"""Conversation signals beyond the words, and the messages the rules must not see.

unanswered: how many customer messages in a row, up to and including this one, came after the
last public agent reply (1 = an ordinary message; 2 = the customer wrote again before any agent
answered). Measured on the support dev split, a message written again before any reply is much
more likely frustrated than one answering an agent; a follow-up after a reply is mostly a calm
detail, so the count starts again at every agent reply.

Only where agent replies reach ticketpulse: a Zendesk trigger or a Freshdesk rule set up for the
customer's updates alone sends none, and there every later message would look unanswered. So the
count is known (replies_arrive) for the Zendesk event webhook, which sends every comment, and for
a helpdesk account and webhook kind (comment `source`) from which an agent's public comment was
ever stored; on a conversation of the conversation API once it posted an agent message (each
client there is a bot of its own, one may never post its replies). Elsewhere it is 0, unknown,
and the rule that reads it does not fire.

unsupported language: a message the scorer could not read is stored as scored (with its
language) but kept out of the trajectory; the note and the log say so. It was still written: it
counts toward `unanswered` (a count of messages, not a score), while the rules that read the
words' scores never see it.
"""

from __future__ import annotations

import logging
import weakref
from bisect import bisect_left
from dataclasses import replace
from datetime import datetime
from typing import Sequence

from sqlalchemy import Connection, Engine, and_, bindparam, exists, select, text
from sqlalchemy.orm import Session

from ticketpulse.escalation.comments import AuthorRole
from ticketpulse.escalation.tracker import ScorePoint
from ticketpulse.models import Comment, Score, Ticket
from ticketpulse.models.tables import AGENT_REPLY_INDEX_WHERE
from ticketpulse.sentiment import SentimentScore

log = logging.getLogger("ticketpulse.pipeline")

_COMMENTS = Comment.__table__
# What answers the customer: an agent's public comment (a private note is no reply). The one rule
# for the worker, the conversation API and the backtest.
IS_AGENT_REPLY = and_(_COMMENTS.c.author_role == AuthorRole.AGENT, _COMMENTS.c.is_public.is_(True))

# Webhook kinds that send every public comment, agents' too, by design.
SOURCES_WITH_REPLIES = frozenset({"zendesk.event"})
# The conversation API's source (escalation.conversations.SOURCE): known per conversation only.
API_SOURCE = "api"
# Has this account's webhook kind ever delivered an agent's public comment? One probe of the
# partial index ix_comments_agent_replies (it holds only such comments), whatever the history.
_REPLY_EVER_STORED = select(
    exists().where(
        _COMMENTS.c.source == bindparam("source"),
        text(AGENT_REPLY_INDEX_WHERE),  # word for word the index's condition, so both databases use it
        Ticket.__table__.c.id == _COMMENTS.c.ticket_id,
        Ticket.__table__.c.helpdesk == bindparam("helpdesk"),
        Ticket.__table__.c.account == bindparam("account"),
    )
)
# Per database: the (helpdesk, account, source) known to deliver replies (once true, true for
# good: no query again), and those already logged as not delivering them (logged once).
_DELIVERING: weakref.WeakKeyDictionary[Engine, set[tuple[str, str, str]]] = weakref.WeakKeyDictionary()
_LOGGED_SILENT: weakref.WeakKeyDictionary[Engine, set[tuple[str, str, str]]] = weakref.WeakKeyDictionary()


def replies_arrive(
    db: Session | Connection, helpdesk: str, account: str, source: str, *, ticket_has_reply: bool = False
) -> bool:
    """Whether agent replies reach ticketpulse for the customer messages of ``source`` on this
    account: the one rule for the worker, the conversation API, the backtest and the tuning
    (see the module's docstring). ``ticket_has_reply``: the ticket itself has a stored one."""
    if ticket_has_reply or source in SOURCES_WITH_REPLIES:
        return True
    key = (helpdesk, account, source)
    engine = db.engine if isinstance(db, Connection) else db.get_bind()
    delivering = _DELIVERING.setdefault(engine, set())
    if key in delivering:
        return True
    if source != API_SOURCE and db.execute(_REPLY_EVER_STORED, {"source": source, "helpdesk": helpdesk,
                                                               "account": account}).scalar():
        delivering.add(key)
        return True
    logged = _LOGGED_SILENT.setdefault(engine, set())
    if key not in logged and source != API_SOURCE:
        logged.add(key)
        log.warning(
            "%s account %s: no agent reply has ever arrived through %s, so rule unanswered_frustration "
            "cannot tell an unanswered message from an answered one and does not fire there; set the "
            "webhook up to send agents' public replies too (ticketpulse setup %s)",
            helpdesk, account, source, "zendesk --trigger" if helpdesk == "zendesk" else helpdesk,
        )
    return False


def unanswered_counts(
    points: Sequence[ScorePoint], agent_reply_times: Sequence[datetime], unread_times: Sequence[datetime] = (),
    *, replies_known: bool = True,
) -> list[ScorePoint]:
    """The points (by comment time) with ``unanswered`` set from the agent replies' times;
    ``unread_times``: the customer's messages the scorer could not read, which count as written
    (they get no point). ``replies_known`` False (replies_arrive): every count is 0, unknown."""
    if not replies_known:
        return [point if point.unanswered == 0 else replace(point, unanswered=0) for point in points]
    replies = sorted(agent_reply_times)
    messages = sorted([(point.commented_at, point) for point in points] + [(at, None) for at in unread_times],
                      key=lambda message: message[0])
    out: list[ScorePoint] = []
    run, last_reply = 0, -1
    for at, point in messages:
        reply = bisect_left(replies, at) - 1  # the last reply before this message
        run = run + 1 if reply == last_reply else 1
        last_reply = reply
        if point is not None:
            out.append(point if point.unanswered == run else replace(point, unanswered=run))
    return out


def agent_reply_times(
    session: Session, ticket_id: int, until: datetime, *, stored_by: int | None = None
) -> list[datetime]:
    """Public agent comments on the ticket up to ``until`` (they are stored, never scored); with
    ``stored_by``, only those stored up to that comment id."""
    where = [
        Comment.ticket_id == ticket_id,
        IS_AGENT_REPLY,
        Comment.commented_at <= until,
    ]
    if stored_by is not None:
        where.append(Comment.id <= stored_by)
    return list(session.scalars(select(Comment.commented_at).where(*where)))


def agent_reply_times_by_ticket(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[datetime]]:
    """Public agent comment times of many tickets at once (for the backtest's replay)."""
    found: dict[int, list[datetime]] = {}
    for start in range(0, len(ticket_ids), 500):
        rows = session.execute(
            select(Comment.ticket_id, Comment.commented_at).where(
                Comment.ticket_id.in_(ticket_ids[start:start + 500]),
                IS_AGENT_REPLY,
            )
        )
        for ticket_id, at in rows:
            found.setdefault(ticket_id, []).append(at)
    return found


def replies_known_by_ticket(
    session: Session, ticket_ids: Sequence[int], replies: dict[int, list[datetime]]
) -> dict[int, bool]:
    """replies_arrive for many tickets at once (the replays of the backtest and the tuning): a
    ticket's count is known when it has a reply or one of the kinds that delivered its customer
    messages delivers replies."""
    known = {ticket_id: True for ticket_id in ticket_ids if replies.get(ticket_id)}
    rest = [ticket_id for ticket_id in ticket_ids if ticket_id not in known]
    for start in range(0, len(rest), 500):
        rows = session.execute(
            select(Comment.ticket_id, Ticket.helpdesk, Ticket.account, Comment.source).distinct()
            .join(Ticket, Ticket.id == Comment.ticket_id)
            .where(Comment.ticket_id.in_(rest[start:start + 500]), Comment.author_role == AuthorRole.CUSTOMER)
        )
        for ticket_id, helpdesk, account, source in rows:
            known[ticket_id] = known.get(ticket_id, False) or replies_arrive(session, helpdesk, account, source)
    return {ticket_id: known.get(ticket_id, False) for ticket_id in ticket_ids}


def _has_reply(session: Session, ticket_id: int, stored_by: int | None) -> bool:
    where = [Comment.ticket_id == ticket_id, IS_AGENT_REPLY]
    if stored_by is not None:
        where.append(Comment.id <= stored_by)
    return bool(session.scalar(select(exists().where(*where))))


def unread_times(session: Session, ticket_id: int, until: datetime, *, stored_by: int | None = None) -> list[datetime]:
    """The times of the ticket's customer messages stored unread (unsupported language) up to
    ``until``; with ``stored_by``, only those stored up to that comment id."""
    where = [Score.ticket_id == ticket_id, Score.unsupported_language.is_not(None), Score.commented_at <= until]
    if stored_by is not None:
        where.append(Score.comment_id <= stored_by)
    return list(session.scalars(select(Score.commented_at).where(*where)))


def with_conversation_signals(
    session: Session, ticket_id: int, points: Sequence[ScorePoint], *, stored_by: int | None = None
) -> list[ScorePoint]:
    """A conversation's points (the conversation API's) with the signals that need the rest of
    the conversation (as stored up to comment id ``stored_by``, when given)."""
    if not points:
        return list(points)
    until = max(point.commented_at for point in points)
    replies = agent_reply_times(session, ticket_id, until, stored_by=stored_by)
    # A reply dated after the messages still shows that this conversation's client posts them.
    has_reply = bool(replies) or _has_reply(session, ticket_id, stored_by)
    return unanswered_counts(points, replies, unread_times(session, ticket_id, until, stored_by=stored_by),
                             replies_known=replies_arrive(session, "api", "default", API_SOURCE,
                                                          ticket_has_reply=has_reply))


def unsupported_languages(session: Session, ticket_id: int) -> list[str]:
    """The languages of the ticket's customer messages stored unscored (kept out of the rules)."""
    return list(session.scalars(
        select(Score.unsupported_language).where(Score.ticket_id == ticket_id, Score.unsupported_language.is_not(None))
    ))


def log_unsupported_language(ticket_ref: str, comment_id: int, score: SentimentScore) -> None:
    log.info(
        "ticket %s: comment %s is in %s, a language the %s scorer cannot read: stored as "
        "unsupported language, kept out of the rules%s",
        ticket_ref, comment_id, score.unsupported_language, score.scorer,
        f" (the LLM failed: {score.fallback_reason})" if score.fallback_reason else "",
    )
