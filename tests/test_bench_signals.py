"""A bench ended by SIGTERM (`timeout 60 bench/...`, a CI job cancelled) or by Ctrl-C drops its
PostgreSQL databases and leaves none of the processes it started running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.bench_helpers import ADMIN_URL, ROOT, database_exists, needs_postgres
from tests.test_bench_database_names import databases_of

pytestmark = needs_postgres


def processes() -> dict[int, tuple[str, int, int]]:
    """Every process on the host: pid -> (state, parent pid, process group)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it exited while we looked
            continue
        found[int(stat.parent.name)] = (fields[0], int(fields[1]), int(fields[2]))
    return found


def children_of(pid: int) -> list[int]:
    return [child for child, (_, parent, _) in processes().items() if parent == pid]


def descendants_of(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    pytest.fail(f"not within {timeout:g} s: {what}")


class Run:
    """A script started as a user starts one, in a session of its own. Whatever it leaves (it has
    failed then) is killed and dropped after the test, so no other test meets it."""

    def __init__(self, command: list[str], prefix: str, tmp_path: Path) -> None:
        self.prefix, self.out, self.err = prefix, tmp_path / "stdout", tmp_path / "stderr"
        # files, not pipes: a pipe that a child left running holds open would never end
        self.process = subprocess.Popen(command, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)},
                                        stdout=self.out.open("w"), stderr=self.err.open("w"), start_new_session=True)
        self.seen: set[int] = set()

    def started(self) -> list[int]:
        """The processes it has started so far (and theirs), remembered for the clean-up."""
        found = descendants_of(self.process.pid)
        self.seen.update(found)
        return found

    def databases(self) -> list[str]:
        return databases_of(self.process.pid, self.prefix)

    def end(self, signum: int) -> tuple[int, str]:
        self.started()
        self.process.send_signal(signum)  # to the bench alone, as `timeout` or `kill` sends it
        self.process.wait(timeout=90)
        return self.process.returncode, self.err.read_text()

    def left_running(self) -> list[int]:
        """What it started and is still running (not a zombie), a worker it was not seen to start
        (in the process group of one it was) too."""
        groups = {self.process.pid, *self.seen}
        return sorted(pid for pid, (state, _, group) in processes().items()
                      if state != "Z" and pid != self.process.pid and (pid in self.seen or group in groups))

    def clean_up(self) -> None:
        from bench.databases import drop_postgres

        for pid in [self.process.pid, *self.left_running()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        for name in self.databases():
            drop_postgres(ADMIN_URL, name)


HELPER = """
import subprocess, sys, time
from bench.children import start
from bench.databases import fresh_postgres, run_name

fresh_postgres(sys.argv[1], run_name("tp_bench_signalled"))
# a server in a session of its own with a worker of its own (gunicorn), and one in ours (serve)
start([sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"],
      own_session=True)
start(["sleep", "60"])
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_run_signalled_drops_its_database_and_stops_what_it_started(signum, tmp_path):
    run = Run([sys.executable, "-c", textwrap.dedent(HELPER), ADMIN_URL], "tp_bench_signalled", tmp_path)
    try:
        wait_for(lambda: run.out.read_text() == "ready\n" or run.process.poll() is not None, 30, "ready")
        assert run.process.poll() is None, run.err.read_text()
        wait_for(lambda: len(run.started()) == 3, 10, "the servers and the worker started")
        made = run.databases()
        assert len(made) == 1

        status, stderr = run.end(signum)

        assert status == (128 + signal.SIGTERM if signum == signal.SIGTERM else -signal.SIGINT), stderr
        assert not database_exists(made[0])
        assert run.left_running() == []
    finally:
        run.clean_up()


def test_sigterm_while_ingest_starts_its_servers_stops_both_gunicorns_and_drops_the_database(tmp_path):
    """The bench's gunicorns run in sessions of their own: a SIGTERM that ended the bench alone
    left them (and their workers) serving, and the database with them."""
    run = Run([sys.executable, "bench/ingest.py", "--database", "postgresql", "--admin-url", ADMIN_URL, "--skip-wrk",
               "--rounds", "1", "--workers", "1", "--rate", "2", "--rate-seconds", "60"], "tp_bench_ingest", tmp_path)
    try:
        # the first gunicorn serving (its master and a worker), the second one starting
        wait_for(lambda: len(children_of(run.process.pid)) == 2, 60, "both gunicorns started")
        made = run.databases()
        assert len(made) == 1

        status, stderr = run.end(signal.SIGTERM)

        assert status == 128 + signal.SIGTERM, stderr
        assert not database_exists(made[0])
        assert len(run.seen) >= 3
        assert run.left_running() == []
    finally:
        run.clean_up()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_signal_while_serve_starts_stops_it_and_drops_the_database(signum, tmp_path):
    """memory.py waits for `serve` to answer: a signal then left `serve` running."""
    run = Run([sys.executable, "bench/memory.py", "--database", "postgresql", "--admin-url", ADMIN_URL,
               "--runs", "1", "--idle", "0"], "tp_bench_memory", tmp_path)
    try:
        wait_for(run.started, 30, "serve started")
        made = run.databases()
        assert len(made) == 1

        status, stderr = run.end(signum)

        assert status == (128 + signal.SIGTERM if signum == signal.SIGTERM else -signal.SIGINT), stderr
        assert not database_exists(made[0])
        assert run.left_running() == []
    finally:
        run.clean_up()
