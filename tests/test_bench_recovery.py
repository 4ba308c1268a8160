"""bench/recovery.py as a user runs it: its PostgreSQL databases are dropped however a run ends,
a run that gets stuck ends saying what it waited for instead of hanging, `serve` takes a free
port, and the service's log lines go to a file the run names, not between its results."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bench_helpers import ADMIN_URL, ROOT, database_exists, hold, load_bench, needs_postgres


def stuck(*args):
    raise SystemExit("the whole backlog done: not within 300 s")


@needs_postgres
def test_a_failed_outage_run_drops_its_database(monkeypatch, tmp_path):
    bench = load_bench("recovery")
    monkeypatch.setattr(bench, "run_outage", stuck)
    monkeypatch.setattr(sys, "argv", ["recovery.py", "--admin-url", ADMIN_URL, "--outage", "1",
                                      "--log", str(tmp_path / "service.log")])
    with pytest.raises(SystemExit):
        bench.main()
    assert not database_exists(bench.OUTAGE)


@needs_postgres
def test_a_failed_kill_run_on_postgresql_drops_its_database(monkeypatch, tmp_path):
    bench = load_bench("recovery")
    monkeypatch.setattr(bench, "run", lambda kind, *args: stuck() if kind == "postgresql" else None)
    monkeypatch.setattr(sys, "argv", ["recovery.py", "--admin-url", ADMIN_URL, "--log", str(tmp_path / "service.log")])
    with pytest.raises(SystemExit):
        bench.main()
    assert not database_exists(bench.RECOVERY)


def test_a_wait_that_never_ends_says_what_it_waited_for():
    bench = load_bench("recovery")
    began = time.monotonic()
    with pytest.raises(SystemExit, match="the killed process's tickets done: not within 0.2 s"):
        bench.wait_until(lambda: False, 0.2, "the killed process's tickets done")
    assert time.monotonic() - began < 5


def test_the_kill_run_serves_on_a_free_port_and_logs_to_the_file(monkeypatch, tmp_path):
    bench = load_bench("recovery")
    started = []

    class Started(Exception):
        pass

    def popen(command, **kwargs):
        started.append((command, kwargs))
        raise Started  # the run stops at its first process

    monkeypatch.setattr(bench.subprocess, "Popen", popen)
    log = tmp_path / "service.log"
    with hold(8721), pytest.raises(Started):
        bench.run("sqlite", f"sqlite:///{tmp_path / 'r.db'}", tmp_path, 1, log)

    [(command, kwargs)] = started
    port = int(command[command.index("--port") + 1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # nothing else there
    assert kwargs["stdout"].name == str(log) and kwargs["stderr"] is kwargs["stdout"]


FAKE_RUN = """
import sys
from tests.bench_helpers import load_bench

bench = load_bench("recovery")

def run(kind, url, tmp, tickets, *rest):  # what the real runs do in this process, and a result
    from ticketpulse.config import Config, Environment
    from ticketpulse.migrations import upgrade
    from ticketpulse.webhooks import create_app

    upgrade(url)
    app = create_app({"TICKETPULSE": Config(), "ENVIRONMENT": Environment(database_url=url,
                      zendesk_webhook_secret="s")})
    assert app.test_client().post("/webhooks/zendesk", data=b"{}").status_code == 401
    print(f"{kind}: the result")

bench.run = run
sys.argv = ["recovery.py"]
bench.main()
"""


def test_the_services_log_lines_go_to_a_file_it_names_not_between_the_results(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
    env |= {"TMPDIR": str(tmp_path), "TEST_DATABASE_URL": ""}  # SQLite only; the log file in tmp_path
    result = subprocess.run([sys.executable, "-c", FAKE_RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    named, *results = result.stdout.splitlines()
    assert results == ["sqlite: the result"]
    log = Path(named.removeprefix("service logs: "))
    assert log.parent == tmp_path and log.suffix == ".log"
    logged = log.read_text()
    assert "Running upgrade" in logged and "refused POST /webhooks/zendesk" in logged
