"""Replay stored score histories under a set of thresholds: what escalation rate would they give?

Support leads tune thresholds from the escalation rate (healthy: 5–15 % of conversations). The
replay walks each ticket's history in comment-time order and applies the same tracker and rules
as the worker, escalating once and again only when the severity rises.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketpulse.escalation.rules import decide, should_escalate
from ticketpulse.escalation.signals import agent_reply_times_by_ticket, replies_known_by_ticket, unanswered_counts
from ticketpulse.escalation.tracker import ScorePoint, track
from ticketpulse.models import Escalation, EscalationStatus, Score
from ticketpulse.config import SEVERITIES, Thresholds

HEALTHY_RATE = (0.05, 0.15)


@dataclass
class Replay:
    tickets: int = 0
    highest: Counter = field(default_factory=Counter)  # tickets by the highest severity reached
    rules: Counter = field(default_factory=Counter)  # escalation steps by the rule that fired

    @property
    def escalated(self) -> int:
        return sum(self.highest.values())

    @property
    def rate(self) -> float:
        return self.escalated / self.tickets if self.tickets else 0.0


def replay(histories: Iterable[Sequence[ScorePoint]], thresholds: Thresholds) -> Replay:
    result = Replay()
    for history in histories:
        if not history:
            continue
        result.tickets += 1
        points = sorted(history, key=lambda point: point.commented_at)
        escalated: str | None = None
        for end in range(1, len(points) + 1):
            trajectory = track(
                points[:end],
                window=thresholds.trend_window,
                delta=thresholds.trend_delta,
                negative_threshold=thresholds.negative_score_threshold,
            )
            decision = decide(trajectory, thresholds)
            if should_escalate(decision, escalated):
                escalated = decision.severity
                result.rules[decision.rule] += 1
        if escalated:
            result.highest[escalated] += 1
    return result


def stored_histories(session: Session, since: datetime | None = None) -> list[list[ScorePoint]]:
    """Every ticket's score history (tickets with a customer message since `since`)."""
    query = select(Score).order_by(Score.ticket_id, Score.commented_at, Score.id)
    if since is not None:
        recent = select(Score.ticket_id).where(Score.commented_at >= since)
        query = query.where(Score.ticket_id.in_(recent))
    histories: dict[int, list[ScorePoint]] = {}
    unread: dict[int, list[datetime]] = {}
    for row in session.scalars(query):
        if row.unsupported_language is not None:  # kept out of the rules, but written: it counts as unanswered
            unread.setdefault(row.ticket_id, []).append(row.commented_at)
            continue
        histories.setdefault(row.ticket_id, []).append(
            ScorePoint(row.commented_at, row.score, row.frustration, row.urgency, row.label, tuple(row.cues))
        )
    replies = agent_reply_times_by_ticket(session, list(histories))
    known = replies_known_by_ticket(session, list(histories), replies)
    return [unanswered_counts(points, replies.get(ticket_id, ()), unread.get(ticket_id, ()), replies_known=known[ticket_id])
            for ticket_id, points in histories.items()]


def recorded_escalations(session: Session, ticket_count: int, since: datetime | None = None) -> Replay:
    """What the worker actually decided, in the same shape, for comparison."""
    query = select(Escalation.ticket_id, Escalation.severity, Escalation.rule).where(
        Escalation.status != EscalationStatus.SUPERSEDED
    )
    if since is not None:
        query = query.where(Escalation.ticket_id.in_(select(Score.ticket_id).where(Score.commented_at >= since)))
    result = Replay(tickets=ticket_count)
    highest: dict[int, str] = {}
    for ticket_id, severity, rule in session.execute(query):
        result.rules[rule] += 1
        if SEVERITIES.index(severity) >= SEVERITIES.index(highest.get(ticket_id, severity)):
            highest[ticket_id] = severity
    result.highest.update(highest.values())
    return result


def format_report(simulated: Replay, recorded: Replay, period: str) -> str:
    low, high = HEALTHY_RATE
    lines = [f"conversations with scored customer messages ({period}): {simulated.tickets}"]
    if not simulated.tickets:  # a rate of nothing is no advice to loosen the thresholds
        lines.append("nothing to replay: no customer message was scored in this period")
        return "\n".join(lines)
    verdict = "within" if low <= simulated.rate <= high else ("below" if simulated.rate < low else "above")
    lines.append(
        f"escalated with these thresholds: {simulated.escalated} ({simulated.rate:.1%}) - {verdict} the "
        f"healthy {low:.0%}-{high:.0%}"
    )
    for severity in reversed(SEVERITIES):
        count = simulated.highest.get(severity, 0)
        share = count / simulated.tickets if simulated.tickets else 0.0
        lines.append(f"  highest severity {severity:<8} {count:>6} ({share:.1%})")
    if simulated.rules:
        lines.append("escalation steps by rule: " + ", ".join(f"{rule} {n}" for rule, n in simulated.rules.most_common()))
    lines.append(f"escalated as recorded by the worker: {recorded.escalated} ({recorded.rate:.1%})")
    return "\n".join(lines)
