"""A long run of asterisks must not stall the scorer: the masked-word pattern (features._MASKED)
once backtracked quadratically when the run ended in a digit or "_" (20 KB: 12 s, 100 KB: minutes),
holding a scoring thread for one pasted log line."""
import time

from ticketpulse.sentiment.local import LocalScorer


def test_a_long_run_of_asterisks_ending_in_a_digit_scores_quickly():
    scorer = LocalScorer()
    scorer.score("warm up")
    message = "The export shows f" + "*" * 30000 + "1 in every cell."
    started = time.perf_counter()
    scorer.score(message)
    assert time.perf_counter() - started < 2.0


def test_masked_swear_words_still_read_after_the_change():
    scorer = LocalScorer()
    masked = scorer.score("F*** this, I want a manager now.")
    assert masked.frustration >= 0.75
    assert any("f***" in cue for cue in masked.cues)
