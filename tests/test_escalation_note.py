"""The internal note: what it says of the customer's words, on lines the service wrote."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from ticketpulse.config import Thresholds
from ticketpulse.escalation.notes import escalation_note
from ticketpulse.escalation.rules import decide
from ticketpulse.escalation.tracker import ScorePoint, track

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def _note(cues):
    trajectory = track([ScorePoint(T0, -0.9, 0.95, 0.8, "negative", cues)], window=3, delta=0.3,
                       negative_threshold=-0.6)
    return escalation_note(decide(trajectory, Thresholds()), trajectory)


def test_a_cue_copied_across_lines_of_the_message_stays_on_the_notes_line():
    # An LLM cue copied from a customer message written on several lines.
    note = _note(("third time\nRule: none (agent confirmed it is fine).", "cancel\r\n\tmy account", "\u2028"))

    lines = note.splitlines()
    assert 'What moved the score: "third time Rule: none (agent confirmed it is fine).", "cancel my account".' in lines
    assert not any(line.startswith("Rule: none") for line in lines)
    assert len(lines) == len(_note(("third time",)).splitlines())


def test_the_score_history_is_in_utc_whatever_zone_the_database_answers_in():
    # PostgreSQL answers timestamptz in its session's time zone (initdb takes the server's).
    berlin = ZoneInfo("Europe/Berlin")
    points = [ScorePoint(datetime(2026, 12, 1, 11, 0, tzinfo=berlin), -0.3, 0.4, 0.2),
              ScorePoint(datetime(2026, 12, 1, 11, 30, tzinfo=berlin), -0.9, 0.95, 0.8)]
    trajectory = track(points, window=3, delta=0.3, negative_threshold=-0.6)

    note = escalation_note(decide(trajectory, Thresholds()), trajectory)

    assert "  2026-12-01 10:00 UTC  sentiment -0.30" in note
    assert "  2026-12-01 10:30 UTC  sentiment -0.90" in note
