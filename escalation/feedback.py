"""Agents' feedback on escalations: a false-alarm tag on the ticket, or the dashboard's buttons.

The verdict is the ticket's: every escalation the helpdesk saw or will see (all but superseded
ones) carries it. The latest word wins: an event older than the recorded verdict is ignored, so
deliveries out of order or twice leave the same result. A delivery that carries only the tags as
they are (a Zendesk trigger, a Freshdesk rule: they fire on every update of a tagged ticket) says
the tag is on the ticket, not that it was just added: it gives each escalation its first word,
never a later one (an escalation without a word yet, e.g. a higher one that came after a lead's
"Right call", gets it; one that has a word keeps it). A tag already recorded before an escalation
was made says nothing about that one: its own update kept the tag, and fired the trigger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ticketpulse.models import Escalation, EscalationStatus, Ticket, Verdict, utcnow



class Outcome(StrEnum):
    RECORDED = "recorded"
    CLEARED = "cleared"
    UNCHANGED = "unchanged"  # the tag was not involved, the verdict was already so, or the event is older
    NOT_ESCALATED = "not escalated"  # nothing to give feedback on (unknown ticket or no escalation)


@dataclass(frozen=True)
class TagChange:
    """A ticket's tags changed in the helpdesk; `current` is None when the payload lacks them."""

    helpdesk: str
    account: str
    external_id: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    current: tuple[str, ...] | None = None
    changed_at: datetime | None = None
    delivery_id: str | None = None


def verdict_from_tags(change: TagChange, false_alarm_tag: str) -> tuple[bool, str | None]:
    """(involved, verdict): whether the change says anything about the tag, and what."""
    tag = false_alarm_tag.casefold()
    added = {t.casefold() for t in change.added}
    removed = {t.casefold() for t in change.removed}
    if tag in added:
        return True, Verdict.FALSE_ALARM
    if tag in removed:
        return True, None
    if added or removed:  # the event says what changed, and the tag is not among it
        return False, None
    if change.current is not None:  # a payload without the changes: the tags as they are now
        present = tag in {t.casefold() for t in change.current}
        return (True, Verdict.FALSE_ALARM) if present else (False, None)
    return False, None


def record_tag_change(session: Session, change: TagChange, false_alarm_tag: str) -> Outcome:
    involved, verdict = verdict_from_tags(change, false_alarm_tag)
    ticket_id = session.scalar(
        select(Ticket.id).where(
            Ticket.helpdesk == change.helpdesk, Ticket.account == change.account, Ticket.external_id == change.external_id
        )
    )
    if ticket_id is None:
        return Outcome.NOT_ESCALATED
    if not involved:
        return Outcome.UNCHANGED
    if not (change.added or change.removed):
        # The tag still there: the first word of each escalation; one given since (a lead's) stands.
        among = (Escalation.verdict_at.is_(None), *_made_before_the_tag_was_seen(session, ticket_id, change.helpdesk))
    elif verdict is None:
        # The tag's removal takes back a false alarm, never a lead's confirmation.
        among = (Escalation.verdict == Verdict.FALSE_ALARM,)
    else:
        among = ()
    return record_verdict(session, ticket_id, verdict, source=change.helpdesk, at=change.changed_at, among=among)


def _made_before_the_tag_was_seen(session: Session, ticket_id: int, helpdesk: str) -> tuple:
    """A tag already recorded as a false alarm is no word on an escalation made after it: that
    escalation's update kept the tag on the ticket, and the trigger it fired carries it."""
    seen = session.scalar(
        select(func.min(Escalation.verdict_at)).where(
            *_feedback_targets(ticket_id), Escalation.verdict == Verdict.FALSE_ALARM, Escalation.verdict_source == helpdesk
        )
    )
    return (Escalation.created_at < seen,) if seen is not None else ()


def _feedback_targets(ticket_id: int):
    return (Escalation.ticket_id == ticket_id, Escalation.status != EscalationStatus.SUPERSEDED)


def record_verdict(
    session: Session, ticket_id: int, verdict: str | None, *, source: str, at: datetime | None = None,
    among: tuple = (),
) -> Outcome:
    """Set (or with None clear) the verdict on the ticket's escalations (only on those `among`
    selects, when given)."""
    at = at or utcnow()
    targets = (*_feedback_targets(ticket_id), *among)
    rows = session.execute(
        select(Escalation.id, Escalation.verdict, Escalation.verdict_at).where(*targets).with_for_update()
    ).all()
    if not rows:
        if among and session.scalar(select(Escalation.id).where(*_feedback_targets(ticket_id)).limit(1)):
            return Outcome.UNCHANGED  # escalated, but none the change speaks to
        return Outcome.NOT_ESCALATED
    if verdict is None and all(row.verdict is None for row in rows):
        return Outcome.UNCHANGED
    if all(row.verdict == verdict for row in rows):
        return Outcome.UNCHANGED
    newest = max((row.verdict_at for row in rows if row.verdict_at is not None), default=None)
    if newest is not None and at < newest:
        return Outcome.UNCHANGED  # a later word is already recorded
    session.execute(
        update(Escalation)
        .where(*targets)
        .values(verdict=verdict, verdict_source=source if verdict else None, verdict_at=at)
    )
    return Outcome.RECORDED if verdict else Outcome.CLEARED

