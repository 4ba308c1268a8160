"""Tuning against agents' feedback: precision per rule and severity, and thresholds that would
have avoided the false alarms while keeping the confirmed escalations.

Only escalated conversations are replayed (the ones feedback is about), so the cost follows the
number of escalations in the period, not the stored history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketpulse.config import Thresholds
from ticketpulse.escalation.reports import Precision, precision_by
from ticketpulse.escalation.rules import decide
from ticketpulse.escalation.signals import agent_reply_times_by_ticket, replies_known_by_ticket, unanswered_counts
from ticketpulse.escalation.tracker import ScorePoint, track
from ticketpulse.models import Escalation, EscalationStatus, Score, Verdict

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass
class Reviewed:
    """The escalated conversations of a period, by what agents said about them."""

    false_alarms: list[list[ScorePoint]]
    confirmed: list[list[ScorePoint]]
    unreviewed: list[list[ScorePoint]]


def reviewed_histories(
    session: Session, since: datetime | None = None, *, unreviewed: bool = True, latest: int | None = None
) -> Reviewed:
    """Score histories of the period's escalated conversations.

    `unreviewed=False` loads only those with a verdict, and `latest=N` only the N most recently
    judged of each verdict: what the dashboard replays, bounded whatever the traffic.
    """
    query = select(Escalation.ticket_id, Escalation.verdict).where(
        Escalation.created_at >= (since or EPOCH), Escalation.status != EscalationStatus.SUPERSEDED
    )
    if not unreviewed:
        query = query.where(Escalation.verdict.is_not(None))
    rows = session.execute(query.order_by(Escalation.verdict_at.desc(), Escalation.id.desc())).all()
    if latest is not None:
        kept: dict[str | None, set[int]] = {}
        for ticket_id, value in rows:
            tickets = kept.setdefault(value, set())
            if len(tickets) < latest:
                tickets.add(ticket_id)
        rows = [(ticket_id, value) for ticket_id, value in rows if ticket_id in kept.get(value, ())]
    said: dict[int, set] = {}
    for ticket_id, value in rows:
        said.setdefault(ticket_id, set()).add(value)
    # Each escalation has its own verdict: a conversation with a confirmed one must stay escalated
    # (not escalating it would drop that one too), else a false alarm on any makes it one.
    verdict = {
        ticket_id: Verdict.CONFIRMED if Verdict.CONFIRMED in values else (Verdict.FALSE_ALARM if Verdict.FALSE_ALARM in values else None)
        for ticket_id, values in said.items()
    }
    histories: dict[int, list[ScorePoint]] = {ticket_id: [] for ticket_id in verdict}
    unread: dict[int, list[datetime]] = {}
    ids = list(verdict)
    for start in range(0, len(ids), 500):  # bounded IN lists
        for row in session.execute(
            select(Score.ticket_id, Score.commented_at, Score.score, Score.frustration, Score.urgency, Score.label,
                   Score.cues, Score.unsupported_language)
            .where(Score.ticket_id.in_(ids[start:start + 500]))
            .order_by(Score.ticket_id, Score.commented_at, Score.id)
        ):
            if row.unsupported_language is not None:  # kept out of the rules; counts as written (unanswered)
                unread.setdefault(row.ticket_id, []).append(row.commented_at)
                continue
            histories[row.ticket_id].append(
                ScorePoint(row.commented_at, row.score, row.frustration, row.urgency, row.label, tuple(row.cues or ()))
            )
    replies = agent_reply_times_by_ticket(session, ids)
    known = replies_known_by_ticket(session, ids, replies)
    result = Reviewed([], [], [])
    for ticket_id, history in histories.items():
        if not history:
            continue
        history = unanswered_counts(history, replies.get(ticket_id, ()), unread.get(ticket_id, ()),
                                    replies_known=known[ticket_id])  # as the worker
        {Verdict.FALSE_ALARM: result.false_alarms, Verdict.CONFIRMED: result.confirmed}.get(
            verdict[ticket_id], result.unreviewed
        ).append(history)
    return result


@dataclass(frozen=True)
class Candidate:
    key: str
    value: float
    thresholds: Thresholds
    avoided: int  # false alarms that would not have been escalated
    kept_confirmed: int
    lost_unreviewed: int


def _stricter(current: Thresholds) -> Iterator[tuple[str, float, Thresholds]]:
    def values(start: float, step: float, stop: float) -> Iterator[float]:
        value = start + step
        while (step > 0 and value <= stop + 1e-9) or (step < 0 and value >= stop - 1e-9):
            yield round(value, 2)
            value += step

    grids = {
        "frustration_threshold": values(current.frustration_threshold, 0.05, current.critical_frustration_threshold),
        "critical_frustration_threshold": values(current.critical_frustration_threshold, 0.02, 0.99),
        "negative_score_threshold": values(current.negative_score_threshold, -0.1, -0.95),
        "trend_delta": values(current.trend_delta, 0.2, 1.0),
        "consecutive_negative_messages": (current.consecutive_negative_messages + n for n in (1, 2, 3)),
        # rule unanswered_frustration: no other threshold holds it back (1.0 switches it off)
        "unanswered_frustration_threshold": values(current.unanswered_frustration_threshold, 0.05, 1.0),
        "unanswered_messages": (current.unanswered_messages + n for n in (1, 2, 3)),
    }
    for key, grid in grids.items():
        for value in grid:
            try:
                yield key, value, Thresholds.model_validate({**current.model_dump(), key: value})
            except ValueError:
                continue


class _Replayer:
    """Would a conversation be escalated at all under these thresholds?

    A conversation is escalated when any prefix of its history gets a decision. The trajectories
    depend only on the trend window, trend delta and negative threshold, so they are computed once
    per conversation and triple and reused for the other thresholds' candidates.
    """

    def __init__(self) -> None:
        self._trajectories: dict[tuple, list] = {}

    def escalated(self, key: int, history: list[ScorePoint], thresholds: Thresholds) -> bool:
        cache_key = (key, thresholds.trend_window, thresholds.trend_delta, thresholds.negative_score_threshold)
        trajectories = self._trajectories.get(cache_key)
        if trajectories is None:
            points = sorted(history, key=lambda point: point.commented_at)
            trajectories = [
                track(points[:end], window=thresholds.trend_window, delta=thresholds.trend_delta,
                      negative_threshold=thresholds.negative_score_threshold)
                for end in range(1, len(points) + 1)
            ]
            self._trajectories[cache_key] = trajectories
        return any(decide(trajectory, thresholds) is not None for trajectory in trajectories)


def candidates(reviewed: Reviewed, current: Thresholds, limit: int = 5) -> list[Candidate]:
    """One-threshold changes that avoid at least one false alarm and lose no confirmed escalation.

    Best first: most false alarms avoided, then fewest unreviewed escalations lost, then the
    smallest change.
    """
    if not reviewed.false_alarms:
        return []
    replayer = _Replayer()
    groups = (reviewed.false_alarms, reviewed.confirmed, reviewed.unreviewed)
    offsets = (0, len(groups[0]), len(groups[0]) + len(groups[1]))

    def escalated(group: int, index: int, thresholds: Thresholds) -> bool:
        return replayer.escalated(offsets[group] + index, groups[group][index], thresholds)

    found = []
    for key, value, thresholds in _stricter(current):
        avoided = sum(not escalated(0, i, thresholds) for i in range(len(groups[0])))
        if not avoided or not all(escalated(1, i, thresholds) for i in range(len(groups[1]))):
            continue
        lost = sum(not escalated(2, i, thresholds) for i in range(len(groups[2])))
        found.append(Candidate(key, value, thresholds, avoided, len(groups[1]), lost))
    found.sort(key=lambda c: (-c.avoided, c.lost_unreviewed, abs(c.value - getattr(current, c.key))))
    best: dict[str, Candidate] = {}
    for candidate in found:  # the best value per threshold
        best.setdefault(candidate.key, candidate)
    return list(best.values())[:limit]


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def format_feedback(session: Session, since: datetime | None, current: Thresholds, period: str) -> str:
    start = since or EPOCH
    by_rule = sorted(precision_by(session, Escalation.rule, start), key=lambda r: -r.escalations)
    by_severity = sorted(precision_by(session, Escalation.severity, start), key=lambda r: -r.escalations)
    total = Precision("all")
    for row in by_rule:
        total.escalations += row.escalations
        total.false_alarms += row.false_alarms
        total.confirmed += row.confirmed
    lines = [
        f"feedback on recorded escalations ({period}): {total.escalations} escalations, "
        f"{total.false_alarms} false alarms, {total.confirmed} confirmed, {total.unreviewed} without feedback",
        f"  {'RULE / SEVERITY':<28} {'ESC':>6} {'FALSE':>6} {'CONF':>6} {'PRECISION':>10} {'REVIEWED':>9}",
    ]
    for row in [*by_rule, *[Precision(f"severity {r.name}", r.escalations, r.false_alarms, r.confirmed) for r in by_severity]]:
        lines.append(
            f"  {row.name:<28} {row.escalations:>6} {row.false_alarms:>6} {row.confirmed:>6} "
            f"{_cell(row.precision):>10} {_cell(row.reviewed_precision):>9}"
        )
    lines.append("  (precision counts an escalation without feedback as right; reviewed = confirmed / with feedback)")
    if not total.false_alarms:
        lines.append("no false alarms recorded: nothing to tune against (tag tickets with the false-alarm tag)")
        return "\n".join(lines)
    reviewed = reviewed_histories(session, since)
    found = candidates(reviewed, current)
    if not found:
        lines.append(
            f"no single stricter threshold avoids a false alarm while keeping all {len(reviewed.confirmed)} confirmed "
            "escalations"
        )
        return "\n".join(lines)
    lines.append(
        f"thresholds that would have avoided false alarms and kept all {len(reviewed.confirmed)} confirmed "
        f"(replayed on {len(reviewed.false_alarms) + len(reviewed.confirmed) + len(reviewed.unreviewed)} escalated conversations):"
    )
    for candidate in found:
        now = getattr(current, candidate.key)
        lines.append(
            f"  {candidate.key} = {candidate.value:g} (now {now:g}): avoids {candidate.avoided} of "
            f"{len(reviewed.false_alarms)} false alarms; {candidate.lost_unreviewed} of {len(reviewed.unreviewed)} "
            "escalations without feedback would not have been escalated"
        )
    return "\n".join(lines)
