"""bench/recovery.py as a user runs it: its PostgreSQL databases are dropped however a run ends,
a run that gets stuck ends saying what it waited for instead of hanging, and `serve` takes a
free port."""

import socket
import sys
import time

import pytest

from tests.bench_helpers import ADMIN_URL, database_exists, load_bench, needs_postgres


def stuck(*args):
    raise SystemExit("the whole backlog done: not within 300 s")


@needs_postgres
def test_a_failed_outage_run_drops_its_database(monkeypatch):
    bench = load_bench("recovery")
    monkeypatch.setattr(bench, "run_outage", stuck)
    monkeypatch.setattr(sys, "argv", ["recovery.py", "--admin-url", ADMIN_URL, "--outage", "1"])
    with pytest.raises(SystemExit):
        bench.main()
    assert not database_exists("tp_bench_outage")


@needs_postgres
def test_a_failed_kill_run_on_postgresql_drops_its_database(monkeypatch):
    bench = load_bench("recovery")
    monkeypatch.setattr(bench, "run", lambda kind, *args: stuck() if kind == "postgresql" else None)
    monkeypatch.setattr(sys, "argv", ["recovery.py", "--admin-url", ADMIN_URL])
    with pytest.raises(SystemExit):
        bench.main()
    assert not database_exists("tp_bench_recovery")


def test_a_wait_that_never_ends_says_what_it_waited_for():
    bench = load_bench("recovery")
    began = time.monotonic()
    with pytest.raises(SystemExit, match="the killed process's tickets done: not within 0.2 s"):
        bench.wait_until(lambda: False, 0.2, "the killed process's tickets done")
    assert time.monotonic() - began < 5


def test_the_kill_run_serves_on_a_free_port(monkeypatch, tmp_path):
    from tests.test_bench_memory import hold

    bench = load_bench("recovery")
    started = []

    class Started(Exception):
        pass

    def popen(command, **kwargs):
        started.append((command, kwargs))
        raise Started  # the run stops at its first process

    monkeypatch.setattr(bench.subprocess, "Popen", popen)
    with hold(8721), pytest.raises(Started):
        bench.run("sqlite", f"sqlite:///{tmp_path / 'r.db'}", tmp_path, 1)

    [(command, kwargs)] = started
    port = int(command[command.index("--port") + 1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # nothing else there
