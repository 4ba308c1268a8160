"""The internal note that tells the senior agent why the ticket was escalated."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

from ticketpulse.escalation.comments import NOTE_MARKER
from ticketpulse.sentiment.clean import one_line
from ticketpulse.escalation.rules import Decision
from ticketpulse.escalation.tracker import Trajectory

HISTORY_LINES = 10


def escalation_note(
    decision: Decision, trajectory: Trajectory, *, to_senior_group: bool = True, unscored_languages: Sequence[str] = ()
) -> str:
    current = trajectory.current
    where = " to the senior group" if to_senior_group else ""
    lines = [
        f"{NOTE_MARKER} Escalated{where}: severity {decision.severity.upper()}.",
        f"Rule: {decision.rule} ({decision.reason}).",
        f"Latest customer message: sentiment {current.score:+.2f} ({current.label}), "
        f"frustration {current.frustration:.2f}, urgency {current.urgency:.2f}.",
    ]
    cues = [one_line(cue) for cue in current.cues]  # copied from the message (by the LLM too)
    if any(cues):
        lines.append("What moved the score: " + ", ".join(f'"{cue}"' for cue in cues if cue) + ".")
    signals = conversation_signals(trajectory)
    if signals:
        lines.append("Signals: " + "; ".join(signals) + ".")
    lines.append(
        f"Trend: {trajectory.trend.value.replace('_', ' ')}; peak frustration "
        f"{trajectory.peak_frustration:.2f}; {len(trajectory.history)} customer message(s) scored."
    )
    if unscored_languages:
        lines.append(
            f"Not scored: {len(unscored_languages)} customer message(s) in a language the scorer cannot read "
            f"({', '.join(sorted(set(unscored_languages)))}); read them yourself."
        )
    lines.append("Score history (oldest first, by comment time):")
    shown = trajectory.history[-HISTORY_LINES:]
    if len(trajectory.history) > len(shown):
        lines.append(f"  ... {len(trajectory.history) - len(shown)} earlier message(s)")
    for point in shown:
        lines.append(
            f"  {_utc(point.commented_at):%Y-%m-%d %H:%M} UTC  sentiment {point.score:+.2f}  "
            f"frustration {point.frustration:.2f}  urgency {point.urgency:.2f}"
        )
    return "\n".join(lines)


def _utc(at: datetime) -> datetime:
    """In UTC, as the note says: PostgreSQL answers in its session's time zone (naive means UTC)."""
    return at.astimezone(timezone.utc) if at.tzinfo else at


def conversation_signals(trajectory: Trajectory) -> list[str]:
    """The signals beyond the words that held for the latest message, in words for the agent."""
    signals = []
    unanswered = trajectory.current.unanswered
    if unanswered >= 2:
        signals.append(f"the customer wrote again before any agent reply ({unanswered} customer messages unanswered)")
    return signals
