from datetime import datetime, timedelta, timezone

import pytest

from ticketpulse.escalation.rules import decide, should_escalate
from ticketpulse.escalation.tracker import ScorePoint, Trend, track, trend_of
from ticketpulse.config import Thresholds

T0 = datetime(2025, 3, 5, 10, tzinfo=timezone.utc)


def points(*values):
    """(score, frustration) pairs, one hour apart."""
    return [ScorePoint(T0 + timedelta(hours=n), s, f, 0.1) for n, (s, f) in enumerate(values)]


def trajectory(*values, thresholds=Thresholds()):
    return track(points(*values), window=thresholds.trend_window, delta=thresholds.trend_delta,
                 negative_threshold=thresholds.negative_score_threshold)


@pytest.mark.parametrize(
    "scores, trend",
    [
        ([0.1, -0.2], Trend.INSUFFICIENT_DATA),
        ([0.2, 0.0, -0.1], Trend.DECLINING),
        ([-0.5, -0.2, -0.1], Trend.IMPROVING),
        ([-0.3, -0.1, -0.2], Trend.STABLE),
        ([0.9, 0.0, 0.0, 0.0], Trend.STABLE),  # only the last three count
    ],
)
def test_trend_over_the_last_three_messages(scores, trend):
    assert trend_of(scores, 3, 0.3)[0] is trend


def test_history_is_sorted_by_comment_time_whatever_the_input_order():
    shuffled = list(reversed(points((0.5, 0.1), (0.0, 0.3), (-0.8, 0.6))))
    result = track(shuffled, window=3, delta=0.3, negative_threshold=-0.6)
    assert result.current.score == -0.8
    assert result.trend is Trend.DECLINING
    assert result.peak_frustration == 0.6
    assert result.consecutive_negative == 1


@pytest.mark.parametrize(
    "values, severity, rule",
    [
        ([(-0.2, 0.95)], "critical", "critical_frustration"),
        ([(0.0, 0.2), (-0.3, 0.3), (-0.7, 0.5)], "high", "negative_and_declining"),
        ([(-0.3, 0.76)], "medium", "frustration"),
        ([(-0.65, 0.3), (-0.7, 0.3)], "low", "repeated_negative"),
        ([(-0.9, 0.3)], None, None),  # one negative message may be sarcasm
        ([(-0.7, 0.3), (0.2, 0.1), (-0.7, 0.3)], None, None),  # not consecutive
        ([(0.5, 0.1)], None, None),
    ],
)
def test_rules_pick_the_highest_severity_that_holds(values, severity, rule):
    decision = decide(trajectory(*values), Thresholds())
    assert (decision.severity, decision.rule) == (severity, rule) if severity else decision is None


def test_thresholds_come_from_config():
    strict = Thresholds(frustration_threshold=0.5, critical_frustration_threshold=0.6, consecutive_negative_messages=1)
    assert decide(trajectory((-0.3, 0.55), thresholds=strict), strict).severity == "medium"
    assert decide(trajectory((-0.7, 0.1), thresholds=strict), strict).severity == "low"


def test_escalate_once_then_only_upward():
    medium = decide(trajectory((-0.3, 0.8)), Thresholds())
    critical = decide(trajectory((-0.3, 0.95)), Thresholds())
    assert should_escalate(medium, None)
    assert not should_escalate(medium, "medium")
    assert not should_escalate(medium, "high")
    assert should_escalate(critical, "medium")
    assert not should_escalate(None, None)
