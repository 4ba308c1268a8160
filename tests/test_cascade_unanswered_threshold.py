"""The cascade sends a local result near unanswered_frustration_threshold to the LLM: the rule
unanswered_frustration reads it (on a message written again before any agent reply), so near it
the LLM's answer must decide, as it would with the LLM for everything. Not on the customer's first
message (no context): the rule never reads that one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.test_cascade import TableLocal, cascade, llm, llm_table  # noqa: F401 (fixture)
from ticketpulse.config import Thresholds
from ticketpulse.escalation.rules import decide
from ticketpulse.escalation.tracker import ScorePoint, track

AT = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)


def decided(score, unanswered: int):
    """The rules on a second message the customer wrote with no agent reply in between."""
    t = Thresholds()
    points = [ScorePoint(AT, 0.0, 0.1, 0.1), ScorePoint(AT.replace(minute=5), score.score, score.frustration,
                                                        score.urgency, unanswered=unanswered)]
    trajectory = track(points, window=t.trend_window, delta=t.trend_delta, negative_threshold=t.negative_score_threshold)
    found = decide(trajectory, t)
    return found.rule if found else None


def test_a_local_result_just_below_the_unanswered_threshold_gets_the_llms_decision(fake_openai, llm):
    # Far from 0.75, 0.9 and -0.6; 0.1 below unanswered_frustration_threshold (0.6).
    local = TableLocal({"Hello?? Still waiting.": (-0.2, 0.5)})
    llm_table(fake_openai, {"Hello?? Still waiting.": (-0.3, 0.65)})
    scorer = cascade(local, llm)

    result = scorer.score("Hello?? Still waiting.", ("My order never came.",))

    assert len(fake_openai.requests) == 1
    assert result.extra["cascade"] == "frustration near unanswered_frustration_threshold"
    everything = llm.score_llm("Hello?? Still waiting.")
    assert decided(result, unanswered=2) == decided(everything, unanswered=2) == "unanswered_frustration"
    assert decided(local.score("Hello?? Still waiting."), unanswered=2) is None  # the case matters


@pytest.mark.parametrize("frustration, asks_llm", [(0.44, False), (0.46, True), (0.6, True)])
def test_the_band_around_the_unanswered_threshold(fake_openai, llm, frustration, asks_llm):
    scorer = cascade(TableLocal({"m": (0.0, frustration)}), llm, band=0.15)
    scorer.score("m", ("an earlier message",))
    assert (len(fake_openai.requests) == 1) is asks_llm


def test_a_first_message_near_the_unanswered_threshold_stays_local(fake_openai, llm):
    # Nothing before it, so no run of unanswered messages: only the other thresholds need the LLM.
    scorer = cascade(TableLocal({"m": (0.0, 0.55)}), llm, band=0.15)

    result = scorer.score("m")

    assert fake_openai.requests == []
    assert "cascade" not in result.extra
