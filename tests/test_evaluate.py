"""``ticketpulse eval`` logic (sentiment.evaluate)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from ticketpulse.sentiment import evaluate as ev

FIXTURE = Path(__file__).parent / "fixtures" / "eval_small.tsv"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    ev.add_arguments(parser)
    return ev.run(parser.parse_args(argv))


def test_roc_auc_known_values():
    assert ev.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert ev.roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert ev.roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    # one inversion out of four pairs
    assert ev.roc_auc([0, 0, 1, 1], [0.1, 0.6, 0.5, 0.9]) == 0.75
    assert np.isnan(ev.roc_auc([1, 1], [0.1, 0.2]))


def test_roc_auc_matches_pairwise_count():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200).astype(bool)
    s = np.round(rng.normal(size=200) + y, 1)  # with ties
    pos, neg = s[y], s[~y]
    pairs = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert ev.roc_auc(y, s) == pytest.approx(pairs / (len(pos) * len(neg)))


def test_best_f1_and_precision_recall():
    y = [1, 1, 0, 1, 0, 0]
    s = [0.9, 0.8, 0.7, 0.6, 0.2, 0.1]
    thr, f1 = ev.best_f1(y, s)
    assert thr == 0.6 and f1 == pytest.approx(2 * 3 / (4 + 3))
    p, r, n = ev.precision_recall_at(y, s, 0.75)
    assert (p, r, n) == (1.0, pytest.approx(2 / 3), 2)


def test_eval_fixture_frustration(capsys):
    code = run([str(FIXTURE), "--positive", "frustrated", "--target", "frustration"])
    out = capsys.readouterr().out
    assert code == 0
    assert "ROC-AUC: 1.0000" in out
    assert "best F1:" in out
    assert "frustration_threshold (frustration >= 0.75)" in out
    assert "critical (frustration >= 0.9)" in out


def test_eval_fixture_negativity_by_index(capsys):
    code = run([str(FIXTURE), "--text-column", "0", "--label-column", "1", "--positive", "frustrated",
                "--target", "negativity"])
    out = capsys.readouterr().out
    assert code == 0
    auc = float(out.split("ROC-AUC: ")[1].split()[0])
    assert auc >= 0.9
    assert "negative_score_threshold (score <= -0.6)" in out


def test_eval_csv_without_header(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text('"still no refund, third time asking",1\n"how do I log in?",0\n'
                    '"on hold for an hour, unacceptable",1\n"thanks, all good",0\n')
    code = run([str(path), "--text-column", "0", "--label-column", "1", "--header", "no"])
    assert code == 0
    assert "ROC-AUC: 1.0000" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["/nonexistent/file.tsv"], "no such file"),
        ([str(FIXTURE), "--text-column", "body"], "text column 'body' not found"),
        ([str(FIXTURE), "--label-column", "7"], "label column '7' not found"),
        ([str(FIXTURE), "--positive", "nope"], "must mark some rows"),
        ([], "give a FILE"),
    ],
)
def test_bad_input_is_one_line_error(argv, message, capsys):
    code = run(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("ticketpulse: error: ")


def test_goemotions_report_on_tiny_copy(tmp_path, capsys):
    root = tmp_path / "data"
    for kind in ("original", "group"):
        (root / "goemotions" / kind).mkdir(parents=True)
    rows = [("I am so angry at this, furious", "2", "1"), ("this is fine thank you", "15", "3"),
            ("annoying and stupid", "3", "1"), ("what time is it", "27", "2"),
            ("I love this so much", "18", "3"), ("so sad today", "25", "1")]
    (root / "goemotions" / "original" / "test.tsv").write_text(
        "".join(f"{t}\t{e}\tc{i}\n" for i, (t, e, _) in enumerate(rows)))
    (root / "goemotions" / "group" / "test.tsv").write_text(
        "".join(f"{t}\t{g}\tc{i}\n" for i, (t, _, g) in enumerate(rows)))
    assert run(["--goemotions", str(root)]) == 0
    out = capsys.readouterr().out
    assert "calibration: frustration >= 0.75" in out
    assert "score < -0.6" in out
    assert out.count("ROC-AUC") == 2


def _run_with_config(argv: list[str], config: Path | None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")  # the CLI's global option
    ev.add_arguments(parser)
    args = parser.parse_args((["--config", str(config)] if config else []) + argv)
    return ev.run(args)


def test_eval_reads_thresholds_from_config(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TICKETPULSE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./ticketpulse.toml: built-in defaults
    assert _run_with_config([str(FIXTURE), "--positive", "frustrated"], None) == 0
    default_out = capsys.readouterr().out
    assert "at frustration_threshold (frustration >= 0.75)" in default_out

    config = tmp_path / "other.toml"
    config.write_text("[thresholds]\nfrustration_threshold = 0.6\ncritical_frustration_threshold = 0.95\n"
                      "negative_score_threshold = -0.4\n")
    assert _run_with_config([str(FIXTURE), "--positive", "frustrated"], config) == 0
    out = capsys.readouterr().out
    assert "at frustration_threshold (frustration >= 0.6)" in out
    assert "at critical (frustration >= 0.95)" in out
    assert "frustration >= 0.75" not in out
    line = lambda text: next(x for x in text.splitlines() if x.startswith("at frustration_threshold"))  # noqa: E731
    assert line(out) != line(default_out)

    assert _run_with_config([str(FIXTURE), "--positive", "frustrated", "--target", "negativity"], config) == 0
    assert "at negative_score_threshold (score <= -0.4)" in capsys.readouterr().out


def test_eval_bad_config_is_one_line_error(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[thresholds]\nfrustration_threshold = 3\n")
    assert _run_with_config([str(FIXTURE), "--positive", "frustrated"], config) == 2
    err = capsys.readouterr().err
    assert err.startswith("ticketpulse: error: ") and "frustration_threshold" in err and err.count("\n") == 1


def test_eval_reports_pearson_against_numeric_ratings(runner, tmp_path):
    path = tmp_path / "ratings.tsv"
    path.write_text(
        "id\trating\ttext\n"
        "1\t3.2\tI love this, thank you so much!\n"
        "2\t0.1\tThe package arrived on Tuesday.\n"
        "3\t-3.4\tWorst service ever, I am furious.\n"
        "4\t1.5\tPretty good overall.\n"
        "5\t-1.8\tStill waiting, not happy.\n",
        encoding="utf-8",
    )

    result = runner("eval", str(path), "--text-column", "text", "--label-column", "rating",
                    "--target", "score", "--ratings", "--no-progress")

    assert result.code == 0, result.err
    r = float(result.out.split("Pearson r:")[1])
    assert r > 0.8


def test_eval_names_the_row_with_a_non_numeric_rating(runner, tmp_path):
    path = tmp_path / "ratings.tsv"
    path.write_text("text\tlabel\nhello\t1\nbye\tn/a\n", encoding="utf-8")

    result = runner("eval", str(path), "--ratings", "--no-progress")

    assert result.code == 2
    assert "row 2: rating 'n/a' is not a number" in result.err


@pytest.mark.parametrize("delimiter, problem", [("", "is not one character"), ("ab", "is not one character"),
                                                ('"', "cannot separate columns")])
def test_eval_refuses_a_delimiter_csv_cannot_split_on(runner, tmp_path, delimiter, problem):
    path = tmp_path / "labelled.csv"
    path.write_text("text;label\nawful;1\n", encoding="utf-8")

    result = runner("eval", str(path), "--delimiter", delimiter, "--no-progress")

    assert result.code == 2
    assert f"argument --delimiter: {delimiter!r} {problem}" in result.err
