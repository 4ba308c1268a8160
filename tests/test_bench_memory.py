"""bench/memory.py as a user runs it: its PostgreSQL database is dropped after the runs, and the
RSS breakdown starts from a fresh interpreter, not from one the PostgreSQL runs have grown."""

import os
import re
import sys

import pytest

from tests.bench_helpers import ADMIN_URL, database_exists, load_bench


class Serve:
    pid = os.getpid()


@pytest.mark.skipif(not ADMIN_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_the_postgresql_database_is_dropped_after_the_runs(monkeypatch, capsys):
    bench = load_bench("memory")
    monkeypatch.setattr(bench, "start_serve", lambda env, port, log: (Serve(), 0.5))
    monkeypatch.setattr(bench, "stop", lambda serve: None)
    monkeypatch.setattr(sys, "argv", ["memory.py", "--database", "postgresql", "--admin-url", ADMIN_URL,
                                      "--runs", "1", "--idle", "0"])

    bench.main()

    assert "postgresql: serve, 1 runs" in capsys.readouterr().out
    assert not database_exists("tp_bench_memory")


def test_the_breakdown_starts_from_a_fresh_interpreter(monkeypatch, capfd):
    """This test's process has imported SQLAlchemy and the app, as the PostgreSQL runs do: the
    breakdown's first step ("python") is a bare interpreter, far below this process."""
    bench = load_bench("memory")
    import ticketpulse.webhooks  # noqa: F401  (what a process that ran the benchmark holds)

    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)  # PostgreSQL skipped: the breakdown only
    monkeypatch.setattr(sys, "argv", ["memory.py", "--database", "postgresql", "--breakdown"])
    monkeypatch.setattr(bench, "one_run", lambda *args: pytest.fail("no serve run asked for"))

    bench.main()

    out = capfd.readouterr().out
    first_step = re.search(r"^  python\s+([\d.]+) MB", out, re.MULTILINE)
    assert first_step, out
    assert float(first_step.group(1)) < bench.rss_mb() / 2
