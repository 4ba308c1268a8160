"""bench/pipeline.py as a user runs it: its two PostgreSQL databases are dropped however the run
ends (a round that fails, a load interrupted with Ctrl-C), not only after a run that completes."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_pipeline_under_test", ROOT / "bench" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_databases() -> list[str]:
    admin = create_engine(ADMIN_URL)
    try:
        with admin.connect() as conn:
            return list(conn.execute(text("SELECT datname FROM pg_database WHERE datname IN "
                                          "('tp_bench_empty', 'tp_bench_history')")).scalars())
    finally:
        admin.dispose()


def run_pipeline_bench(bench, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["pipeline.py", "--database", "postgresql", "--admin-url", ADMIN_URL,
                                      "--history-tickets", "20", "--tickets", "5", "--rounds", "1"])
    bench.main()


def test_a_completed_run_drops_both_databases(monkeypatch, capsys):
    bench = load_bench()
    run_pipeline_bench(bench, monkeypatch)
    assert "postgresql: with history / empty = " in capsys.readouterr().out
    assert bench_databases() == []


def test_an_interrupted_run_drops_both_databases(monkeypatch):
    bench = load_bench()

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "measure", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline_bench(bench, monkeypatch)
    assert bench_databases() == []
