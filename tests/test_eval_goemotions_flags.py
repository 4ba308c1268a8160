"""`ticketpulse eval --goemotions DIR`: --no-progress is honoured, and the options of a labelled FILE
(--target, FILE itself ...), which GoEmotions' own labels would leave unread, are refused (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketpulse.cli import main

ROWS = 500  # the progress bar shows from 500 texts on


@pytest.fixture
def goemotions(tmp_path) -> Path:
    root = tmp_path / "data"
    texts = ["I am so angry at this, furious", "this is fine thank you", "annoying and stupid", "so sad today"]
    emotions, groups = ["2", "15", "3", "25"], ["1", "3", "1", "1"]
    for kind, labels in (("original", emotions), ("group", groups)):
        (root / "goemotions" / kind).mkdir(parents=True)
        (root / "goemotions" / kind / "test.tsv").write_text(
            "".join(f"{texts[i % 4]} {i}\t{labels[i % 4]}\tc{i}\n" for i in range(ROWS)))
    return root


def test_no_progress_hides_the_progress_bar(goemotions, capsys):
    assert main(["eval", "--goemotions", str(goemotions)]) == 0
    assert "scoring" in capsys.readouterr().err  # the bar this test would miss

    assert main(["eval", "--goemotions", str(goemotions), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.count("ROC-AUC") == 2


@pytest.mark.parametrize("extra, named", [
    (["--target", "urgency"], "--target"),
    (["--target", "frustration"], "--target"),
    (["labelled.tsv"], "FILE"),
    (["--positive", "1", "--ratings"], "--positive, --ratings are"),
])
def test_a_file_option_with_goemotions_is_refused(goemotions, capsys, extra, named):
    assert main(["eval", "--goemotions", str(goemotions), "--no-progress", *extra]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert line.startswith("ticketpulse: error: --goemotions reports negativity and frustration") and named in line
    assert captured.out == ""  # refused before scoring
