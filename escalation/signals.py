"""Conversation signals beyond the words, and the messages the rules must not see.

unanswered: how many customer messages in a row, up to and including this one, came after the
last public agent reply (1 = an ordinary message; 2 = the customer wrote again before any agent
answered). Measured on the support dev split, a message written again before any reply is much
more likely frustrated than one answering an agent; a follow-up after a reply is mostly a calm
detail, so the count starts again at every agent reply.

unsupported language: a message the scorer could not read is stored as scored (with its
language) but kept out of the trajectory; the note and the log say so. It was still written: it
counts toward `unanswered` (a count of messages, not a score), while the rules that read the
words' scores never see it.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from dataclasses import replace
from datetime import datetime
from typing import Sequence

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ticketpulse.escalation.comments import AuthorRole
from ticketpulse.escalation.tracker import ScorePoint
from ticketpulse.models import Comment, Score
from ticketpulse.sentiment import SentimentScore

log = logging.getLogger("ticketpulse.pipeline")

_COMMENTS = Comment.__table__
# What answers the customer: an agent's public comment (a private note is no reply). The one rule
# for the worker, the conversation API and the backtest.
IS_AGENT_REPLY = and_(_COMMENTS.c.author_role == AuthorRole.AGENT, _COMMENTS.c.is_public.is_(True))


def unanswered_counts(
    points: Sequence[ScorePoint], agent_reply_times: Sequence[datetime], unread_times: Sequence[datetime] = (),
) -> list[ScorePoint]:
    """The points (by comment time) with ``unanswered`` set from the agent replies' times;
    ``unread_times``: the customer's messages the scorer could not read, which count as written
    (they get no point)."""
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
    """The worker's points with the signals that need the rest of the conversation (as stored up
    to comment id ``stored_by``, when given)."""
    if not points:
        return list(points)
    until = max(point.commented_at for point in points)
    return unanswered_counts(points, agent_reply_times(session, ticket_id, until, stored_by=stored_by),
                             unread_times(session, ticket_id, until, stored_by=stored_by))


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
