"""The note's shape on long and mixed conversations: the history is cut to its latest lines
and says how many it left out; the signals line only when a signal held; the unscored languages
each named once."""

from datetime import datetime, timedelta, timezone

from ticketpulse.config import Thresholds
from ticketpulse.escalation.notes import HISTORY_LINES, escalation_note
from ticketpulse.escalation.rules import decide
from ticketpulse.escalation.tracker import ScorePoint, track

T0 = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)


def trajectory(count, *, unanswered=1):
    points = [ScorePoint(T0 + timedelta(minutes=n), -0.3, 0.4, 0.1) for n in range(count - 1)]
    points.append(ScorePoint(T0 + timedelta(minutes=count - 1), -0.9, 0.95, 0.8, unanswered=unanswered))
    return track(points, window=3, delta=0.3, negative_threshold=-0.6)


def note_of(result, **kwargs):
    return escalation_note(decide(result, Thresholds()), result, **kwargs)


def history_lines(note):
    return [line for line in note.splitlines() if line.startswith("  ") and " UTC  sentiment " in line]


def test_a_long_conversation_shows_its_latest_ten_messages_and_counts_the_earlier_ones():
    assert HISTORY_LINES == 10
    note = note_of(trajectory(13))
    shown = history_lines(note)
    assert len(shown) == 10
    assert shown[0].startswith("  2026-12-01 10:03 UTC") and shown[-1].startswith("  2026-12-01 10:12 UTC")
    assert "  ... 3 earlier message(s)" in note.splitlines()
    assert "13 customer message(s) scored" in note


def test_a_conversation_of_ten_messages_is_shown_whole():
    note = note_of(trajectory(10))
    assert len(history_lines(note)) == 10
    assert "earlier message(s)" not in note


def test_an_ordinary_message_answering_an_agent_names_no_signal():
    assert not any(line.startswith("Signals:") for line in note_of(trajectory(2)).splitlines())
    assert ("Signals: the customer wrote again before any agent reply (2 customer messages unanswered)."
            in note_of(trajectory(2, unanswered=2)).splitlines())


def test_unscored_languages_are_counted_per_message_and_each_named_once():
    note = note_of(trajectory(1), unscored_languages=["fr", "de", "fr"])
    assert ("Not scored: 3 customer message(s) in a language the scorer cannot read (de, fr); read them yourself."
            in note.splitlines())
