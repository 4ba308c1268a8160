"""bench/memory.py as a user runs it: its PostgreSQL database is dropped after the runs, the
RSS breakdown starts from a fresh interpreter, not from one the PostgreSQL runs have grown, and
each start of `serve` takes a free port."""

import os
import re
import socket
import sys

import pytest

from tests.bench_helpers import ADMIN_URL, database_exists, hold, load_bench


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
    assert not database_exists(bench.DATABASE)


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


def test_each_start_takes_a_free_port(monkeypatch, capsys):
    bench = load_bench("memory")
    ports = []

    def start_serve(env, port, log):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # in use: serve would have exited, or measured another run's serve
        ports.append(port)
        return Serve(), 0.5

    monkeypatch.setattr(bench, "start_serve", start_serve)
    monkeypatch.setattr(bench, "stop", lambda serve: None)
    monkeypatch.setattr(sys, "argv", ["memory.py", "--database", "sqlite", "--runs", "1", "--idle", "0"])
    with hold(8731):
        bench.main()

    assert len(ports) == 2 and "sqlite: serve, 1 runs" in capsys.readouterr().out
