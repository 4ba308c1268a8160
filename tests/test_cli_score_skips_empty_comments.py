"""`ticketpulse score` skips an empty comment as the worker does ("empty comment") instead of
scoring it as a calm message (frustration 0.34): exit 2 for an empty TEXT, and a JSON line
saying so for an empty stdin line, so that the lines out stay aligned with the lines in."""

from __future__ import annotations

import json

import pytest

EMPTY_ONCE_CLEANED = ["", "   ", "<p> </p>", "\u200b\ufeff", "&#8203;"]


@pytest.mark.parametrize("text", EMPTY_ONCE_CLEANED)
def test_score_refuses_a_text_that_is_empty_once_cleaned(runner, text):
    result = runner("score", text)

    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("ticketpulse: error: score: TEXT is not scored (empty comment")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_score_marks_each_empty_stdin_line_skipped_and_keeps_the_lines_aligned(runner):
    lines_in = ["Still broken. Third time asking!!!", "", "<p>&nbsp;</p>", "\u200b", "Thanks, that fixed it!"]

    result = runner("score", stdin="\n".join(lines_in) + "\n")

    assert result.code == 0, result.err
    lines_out = [json.loads(line) for line in result.out.splitlines()]
    assert len(lines_out) == len(lines_in)
    assert lines_out[1:4] == [{"skipped": "empty comment"}] * 3
    assert lines_out[0]["frustration"] > 0.5 and lines_out[4]["label"] == "positive"


def test_score_still_scores_a_text_with_words_after_markup(runner):
    result = runner("score", "<p>Where is my <b>refund</b>?</p>")

    assert result.code == 0, result.err
    assert set(json.loads(result.out)) >= {"score", "frustration", "urgency", "label"}
