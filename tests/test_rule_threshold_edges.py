"""The rules at their thresholds, as the README's table states them.

"frustration ≥ 0.9", "score < −0.6", "2 or more customer messages in a row": a message exactly at
a threshold is on the side the table says. Scores and frustrations are stored rounded to 4
places, so values exactly at a threshold are common.
"""

from datetime import datetime, timedelta, timezone

import pytest

from ticketpulse.config import Thresholds
from ticketpulse.escalation.rules import decide, should_escalate
from ticketpulse.escalation.tracker import ScorePoint, track

T0 = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
DEFAULTS = Thresholds()


def trajectory(*values, unanswered=1, thresholds=DEFAULTS):
    """(score, frustration) pairs one hour apart; the latest with `unanswered` set."""
    points = [ScorePoint(T0 + timedelta(hours=n), score, frustration, 0.1) for n, (score, frustration) in enumerate(values)]
    last = points[-1]
    points[-1] = ScorePoint(last.commented_at, last.score, last.frustration, last.urgency, unanswered=unanswered)
    return track(points, window=thresholds.trend_window, delta=thresholds.trend_delta,
                 negative_threshold=thresholds.negative_score_threshold)


def rule_of(decision):
    return (decision.severity, decision.rule) if decision else None


def test_frustration_exactly_at_the_critical_threshold_is_critical():
    assert rule_of(decide(trajectory((-0.2, 0.9)), DEFAULTS)) == ("critical", "critical_frustration")


def test_frustration_exactly_at_the_frustration_threshold_is_medium():
    assert rule_of(decide(trajectory((-0.2, 0.75)), DEFAULTS)) == ("medium", "frustration")


def test_a_declining_score_exactly_at_the_negative_threshold_is_not_high():
    # score < −0.6: −0.6 itself is not negative enough, however steep the decline.
    assert rule_of(decide(trajectory((0.0, 0.1), (-0.3, 0.1), (-0.6, 0.1)), DEFAULTS)) is None


def test_a_declining_score_just_below_the_negative_threshold_is_high():
    assert rule_of(decide(trajectory((0.0, 0.1), (-0.3, 0.1), (-0.6001, 0.1)), DEFAULTS)) == (
        "high", "negative_and_declining")


def test_a_score_exactly_at_the_negative_threshold_does_not_count_as_a_negative_message():
    assert rule_of(decide(trajectory((-0.6, 0.1), (-0.6, 0.1)), DEFAULTS)) is None
    assert decide(trajectory((-0.6, 0.1), (-0.6001, 0.1)), DEFAULTS) is None  # one negative only


def test_exactly_the_configured_number_of_consecutive_negative_messages_is_low():
    three = Thresholds(consecutive_negative_messages=3)
    decision = decide(trajectory((-0.7, 0.1), (-0.7, 0.1), (-0.7, 0.1), thresholds=three), three)
    assert rule_of(decision) == ("low", "repeated_negative")
    assert decide(trajectory((-0.5, 0.1), (-0.7, 0.1), (-0.7, 0.1), thresholds=three), three) is None


@pytest.mark.parametrize("unanswered, frustration, expected", [
    (2, 0.6, ("medium", "unanswered_frustration")),  # both exactly at their threshold
    (2, 0.5999, None),
    (1, 0.7, None),  # an ordinary message, answering an agent
])
def test_unanswered_frustration_holds_from_two_unanswered_messages_at_the_threshold(unanswered, frustration, expected):
    assert rule_of(decide(trajectory((0.0, frustration), unanswered=unanswered), DEFAULTS)) == expected


def test_a_first_low_decision_escalates_a_ticket_never_escalated():
    low = decide(trajectory((-0.7, 0.1), (-0.7, 0.1)), DEFAULTS)
    assert low.severity == "low"
    assert should_escalate(low, None)
    assert not should_escalate(low, "low")
