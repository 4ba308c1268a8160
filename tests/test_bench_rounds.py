"""The benches' repetition counts: 0 (which measured nothing, then crashed on a median of no
values, after the whole set-up) is refused by argparse, exit 2 naming the option."""

import sys

import pytest

from tests.bench_helpers import load_bench


def never(*args, **kwargs):
    raise AssertionError("the run started")


@pytest.mark.parametrize("script, argv, first_step", [
    ("ingest", ["--rounds", "0", "--skip-wrk", "--database", "sqlite"], "database"),
    ("pipeline", ["--rounds", "0"], "run"),
    ("bench_ab_local_scorer", ["--rounds", "0"], "baseline_tree"),
    ("memory", ["--runs", "0", "--database", "sqlite"], "one_run"),
    ("recovery", ["--tickets", "0"], "run"),
    ("bench_llm", ["--runs", "0"], "run_once"),
    ("bench_local_scorer", ["--runs", "0"], "generated_messages"),
    ("bench_worker_llm", ["--runs", "0"], "bench"),
    ("dashboard", ["--runs", "0"], "seed"),
])
def test_a_count_of_zero_is_refused_before_the_run(monkeypatch, capsys, script, argv, first_step):
    bench = load_bench(script)
    monkeypatch.setattr(bench, first_step, never)
    monkeypatch.setattr(sys, "argv", [f"{script}.py", *argv])

    with pytest.raises(SystemExit) as exit_:
        bench.main()

    assert exit_.value.code == 2
    option = argv[0]
    assert f"error: argument {option}: at least 1, not 0" in capsys.readouterr().err
