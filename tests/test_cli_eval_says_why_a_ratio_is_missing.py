"""`ticketpulse eval` printed `precision nan` when nothing reached a threshold (a small file in
which no message scores 0.9): a 0/0 ratio says why there is none, never `nan`."""

from __future__ import annotations

import numpy as np

from ticketpulse.sentiment.evaluate import report

CALM_FILE = ("text\tlabel\n"
             "Where is my order?\t1\n"
             "Thanks, that fixed it.\t0\n"
             "Can you check the invoice please\t1\n"
             "All good now\t0\n")


def test_eval_says_nothing_flagged_where_no_message_reaches_a_threshold(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the built-in thresholds: 0.75 and critical 0.9
    path = tmp_path / "calm.tsv"
    path.write_text(CALM_FILE)

    result = runner("eval", str(path), "--no-progress")

    assert result.code == 0, result.err
    assert "nan" not in result.out
    critical = next(line for line in result.out.splitlines() if line.startswith("at critical"))
    assert "precision - (nothing flagged)" in critical and "flagged 0 (0.0%)" in critical


def test_eval_report_says_why_without_positives():
    lines = []

    class Out:
        def write(self, text):
            lines.append(text)

    report(np.array([False, False, False]), [0.1, 0.95, 0.2], "frustration", out=Out())

    printed = "".join(lines)
    assert "nan" not in printed
    assert "ROC-AUC: - (needs positives and negatives)" in printed
    assert "best F1: - (no positives)" in printed
    assert "recall - (no positives)" in printed


def test_eval_ratings_says_why_there_is_no_correlation_when_the_ratings_do_not_vary(runner, tmp_path):
    path = tmp_path / "same.tsv"
    path.write_text("text\tlabel\nWhere is my order?\t1\nThird time asking, still broken!!!\t1\n")

    result = runner("eval", str(path), "--ratings", "--no-progress")

    assert result.code == 0, result.err
    assert "Pearson r: - (the scores or the ratings do not vary)" in result.out
    assert "RuntimeWarning" not in result.err


def test_eval_ratings_refuses_a_rating_that_is_not_finite(runner, tmp_path):
    # float() reads "nan" and "inf": Pearson r was NaN, said to be ratings that "do not vary"
    path = tmp_path / "ratings.tsv"
    path.write_text("text\tlabel\nWhere is my order?\t1\nThird time asking, still broken!!!\tnan\n")

    result = runner("eval", str(path), "--ratings", "--no-progress")

    assert result.code == 2
    assert "row 2: rating 'nan' is not a finite number" in result.err


def test_eval_ratings_refuses_a_single_rating(runner, tmp_path):
    path = tmp_path / "one.tsv"
    path.write_text("text\tlabel\nWhere is my order?\t1\n")

    result = runner("eval", str(path), "--ratings", "--no-progress")

    assert result.code == 2
    assert "1 rating(s): Pearson r needs at least 2" in result.err
    assert "RuntimeWarning" not in result.err
