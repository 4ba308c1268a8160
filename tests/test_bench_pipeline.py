"""bench/pipeline.py as a user runs it: its two PostgreSQL databases are dropped however the run
ends (a round that fails, a load interrupted with Ctrl-C), not only after a run that completes."""

import sys

import pytest

from tests.bench_helpers import ADMIN_URL, existing_databases, load_bench

pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")


def bench_databases(bench) -> list[str]:
    return existing_databases(bench.EMPTY, bench.HISTORY)


def run_pipeline_bench(bench, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["pipeline.py", "--database", "postgresql", "--admin-url", ADMIN_URL,
                                      "--history-tickets", "20", "--tickets", "5", "--rounds", "1"])
    bench.main()


def test_a_completed_run_drops_both_databases(monkeypatch, capsys):
    bench = load_bench("pipeline")
    run_pipeline_bench(bench, monkeypatch)
    assert "postgresql: with history / empty = " in capsys.readouterr().out
    assert bench_databases(bench) == []


def test_an_interrupted_run_drops_both_databases(monkeypatch):
    bench = load_bench("pipeline")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "measure", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline_bench(bench, monkeypatch)
    assert bench_databases(bench) == []
