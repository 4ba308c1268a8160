"""The escalation rules: from a trajectory and the thresholds to a severity, or none."""

from __future__ import annotations

from dataclasses import dataclass

from ticketpulse.escalation.tracker import Trajectory, Trend
from ticketpulse.config import SEVERITIES, Thresholds


@dataclass(frozen=True)
class Decision:
    severity: str
    rule: str
    reason: str


def severity_rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) + 1 if severity else 0


def decide(trajectory: Trajectory, thresholds: Thresholds) -> Decision | None:
    """The highest severity whose rule holds for the latest message, or None."""
    current = trajectory.current
    if current.frustration >= thresholds.critical_frustration_threshold:
        return Decision(
            "critical",
            "critical_frustration",
            f"frustration {current.frustration:.2f} >= {thresholds.critical_frustration_threshold:.2f}",
        )
    if current.score < thresholds.negative_score_threshold and trajectory.trend is Trend.DECLINING:
        return Decision(
            "high",
            "negative_and_declining",
            f"score {current.score:+.2f} < {thresholds.negative_score_threshold:+.2f} and declining "
            f"by {trajectory.trend_delta:+.2f} over the last {thresholds.trend_window} messages",
        )
    if current.frustration >= thresholds.frustration_threshold:
        return Decision(
            "medium",
            "frustration",
            f"frustration {current.frustration:.2f} >= {thresholds.frustration_threshold:.2f}",
        )
    unanswered = unanswered_frustration(trajectory, thresholds)
    if unanswered is not None:
        return unanswered
    # One negative message may be sarcasm; a run of them is not.
    if trajectory.consecutive_negative >= thresholds.consecutive_negative_messages:
        return Decision(
            "low",
            "repeated_negative",
            f"{trajectory.consecutive_negative} consecutive messages with score < "
            f"{thresholds.negative_score_threshold:+.2f}",
        )
    return None


def unanswered_frustration(trajectory: Trajectory, thresholds: Thresholds) -> Decision | None:
    """Medium: the customer wrote again before any agent reply, and is getting frustrated."""
    current = trajectory.current
    if (current.unanswered >= thresholds.unanswered_messages
            and current.frustration >= thresholds.unanswered_frustration_threshold):
        return Decision(
            "medium",
            "unanswered_frustration",
            f"frustration {current.frustration:.2f} >= {thresholds.unanswered_frustration_threshold:.2f} "
            f"and {current.unanswered} customer messages in a row without an agent reply",
        )
    return None


def should_escalate(decision: Decision | None, escalated_severity: str | None) -> bool:
    """Escalate once; again only when the severity rises."""
    return decision is not None and severity_rank(decision.severity) > severity_rank(escalated_severity)
