"""A ticket's trajectory, derived from its score history ordered by comment time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Sequence


class Trend(StrEnum):
    IMPROVING = "improving"
    DECLINING = "declining"
    STABLE = "stable"
    INSUFFICIENT_DATA = "insufficient_data"


@dataclass(frozen=True)
class ScorePoint:
    commented_at: datetime
    score: float
    frustration: float
    urgency: float
    label: str = ""
    cues: tuple[str, ...] = ()
    # customer messages in a row up to this one with no agent reply in between (escalation.signals)
    unanswered: int = 1


@dataclass(frozen=True)
class Trajectory:
    current: ScorePoint
    trend: Trend
    trend_delta: float  # last score minus the first score of the window; 0 without enough data
    peak_frustration: float
    consecutive_negative: int  # customer messages in a row, up to the latest, below the threshold
    history: tuple[ScorePoint, ...]


def trend_of(scores: Sequence[float], window: int, delta: float) -> tuple[Trend, float]:
    """Compare the latest score with the first of the last `window` scores."""
    if len(scores) < window:
        return Trend.INSUFFICIENT_DATA, 0.0
    recent = scores[-window:]
    # Scores have 4 decimals: a change of exactly `delta` must count (-0.7 - -0.4 is -0.29999...).
    change = round(recent[-1] - recent[0], 9)
    if change <= -delta:
        return Trend.DECLINING, change
    if change >= delta:
        return Trend.IMPROVING, change
    return Trend.STABLE, change


def track(
    points: Sequence[ScorePoint], *, window: int, delta: float, negative_threshold: float
) -> Trajectory:
    if not points:
        raise ValueError("a trajectory needs at least one score")
    history = tuple(sorted(points, key=lambda point: point.commented_at))
    trend, change = trend_of([point.score for point in history], window, delta)
    streak = 0
    for point in reversed(history):
        if point.score >= negative_threshold:
            break
        streak += 1
    return Trajectory(
        current=history[-1],
        trend=trend,
        trend_delta=round(change, 4),
        peak_frustration=max(point.frustration for point in history),
        consecutive_negative=streak,
        history=history,
    )
