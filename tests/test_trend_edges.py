"""The trend at its edge: a change of exactly `trend_delta` is a trend, whatever the float error.

Scores are stored rounded to 4 places, so a drop of exactly 0.3 is common; -0.7 - (-0.4) is
-0.29999999999999993 in binary floating point, which a plain `<= -0.3` reads as no drop at all.
"""

from datetime import datetime, timedelta, timezone

import pytest

from ticketpulse.config import Thresholds
from ticketpulse.escalation.rules import decide
from ticketpulse.escalation.tracker import ScorePoint, Trend, track, trend_of

T0 = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("first, last", [(-0.4, -0.7), (-0.68, -0.98), (-0.55, -0.85), (0.1, -0.2)])
def test_a_drop_of_exactly_the_trend_delta_is_declining(first, last):
    trend, change = trend_of([first, -0.5, last], 3, 0.3)
    assert trend is Trend.DECLINING and round(change, 4) == -0.3


@pytest.mark.parametrize("first, last", [(0.4, 0.7), (-0.7, -0.4), (0.0, 0.3)])
def test_a_rise_of_exactly_the_trend_delta_is_improving(first, last):
    assert trend_of([first, 0.0, last], 3, 0.3)[0] is Trend.IMPROVING


def test_a_change_just_short_of_the_trend_delta_is_stable():
    assert trend_of([-0.4, -0.5, -0.6999], 3, 0.3)[0] is Trend.STABLE


def test_a_negative_message_after_a_drop_of_exactly_the_delta_is_high_severity():
    thresholds = Thresholds()
    history = [ScorePoint(T0 + timedelta(hours=n), score, 0.3, 0.1) for n, score in enumerate([-0.4, -0.5, -0.7])]
    trajectory = track(history, window=3, delta=0.3, negative_threshold=-0.6)

    decision = decide(trajectory, thresholds)

    assert (decision.severity, decision.rule) == ("high", "negative_and_declining")
    assert trajectory.trend_delta == -0.3
