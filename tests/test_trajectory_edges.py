"""The trajectory's figures the note and the API show: the peak is the conversation's, not the
latest message's."""

from datetime import datetime, timedelta, timezone

from ticketpulse.config import Thresholds
from ticketpulse.escalation.notes import escalation_note
from ticketpulse.escalation.rules import decide
from ticketpulse.escalation.tracker import ScorePoint, track

T0 = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)


def trajectory(*values):
    points = [ScorePoint(T0 + timedelta(hours=n), score, frustration, 0.1) for n, (score, frustration) in enumerate(values)]
    return track(points, window=3, delta=0.3, negative_threshold=-0.6)


def test_the_peak_frustration_is_the_highest_of_the_conversation_when_the_latest_is_calmer():
    result = trajectory((-0.2, 0.5), (-0.9, 0.85), (-0.8, 0.7), (-0.7, 0.4))
    assert result.peak_frustration == 0.85
    assert "peak frustration 0.85" in escalation_note(decide(result, Thresholds()), result)


def test_the_negative_streak_counts_back_from_the_latest_message_only():
    assert trajectory((-0.9, 0.1), (-0.9, 0.1), (0.1, 0.1), (-0.7, 0.1), (-0.8, 0.1)).consecutive_negative == 2
    assert trajectory((-0.9, 0.1), (-0.7, 0.1), (0.3, 0.1)).consecutive_negative == 0
