"""bench/ingest.py as a user runs it: whatever happens in a run, its servers are stopped and its
PostgreSQL database is dropped (the servers and the load generators are stood in for)."""

import os
import socket
import sys
import time

import pytest

from tests.bench_helpers import ADMIN_URL, ROOT, database_exists, hold, load_bench, needs_postgres


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    pid = -1


def run_fixed_rate_only(bench, monkeypatch, started: list, stopped: list) -> None:
    def start_gunicorn(*args, **kwargs):
        started.append(Server())
        return started[-1]

    monkeypatch.setattr(bench, "start_gunicorn", start_gunicorn)
    monkeypatch.setattr(bench, "stop", stopped.append)
    monkeypatch.setattr(sys, "argv", ["ingest.py", "--database", "postgresql", "--admin-url", ADMIN_URL,
                                      "--skip-wrk", "--rounds", "1", "--rate", "5", "--rate-seconds", "1"])
    bench.main()


@needs_postgres
def test_the_postgresql_database_is_dropped_when_the_run_ends(monkeypatch, capsys):
    bench = load_bench("ingest")
    answered = {"sent_rate": 5.0, "p50": 1.0, "p99": 2.0, "max": 2.0, "failures": {}}
    monkeypatch.setattr(bench, "run_fixed_rate", lambda *args: answered)
    started, stopped = [], []

    run_fixed_rate_only(bench, monkeypatch, started, stopped)

    assert "postgresql: fixed rate 5 req/s" in capsys.readouterr().out
    assert stopped == started and len(started) == 2
    assert not database_exists(bench.DATABASE)


@needs_postgres
def test_a_run_that_fails_still_stops_its_servers_and_drops_the_database(monkeypatch):
    bench = load_bench("ingest")

    def connection_refused(*args):
        raise ConnectionRefusedError("the app went away")

    monkeypatch.setattr(bench, "run_fixed_rate", connection_refused)
    started, stopped = [], []

    with pytest.raises(ConnectionRefusedError):
        run_fixed_rate_only(bench, monkeypatch, started, stopped)

    assert stopped == started and len(started) == 2
    assert not database_exists(bench.DATABASE)


def test_a_server_that_cannot_start_is_stopped_and_leaves_the_others_stopped(monkeypatch, tmp_path):
    """The second server fails to start (its port taken, say): the first is not left running."""
    bench = load_bench("ingest")
    started, stopped = [], []

    def start_gunicorn(target, *args, **kwargs):
        if "bare_flask" in target:
            raise SystemExit("gunicorn bench.bare_flask:create_app() did not start")
        started.append(Server())
        return started[-1]

    monkeypatch.setattr(bench, "start_gunicorn", start_gunicorn)
    monkeypatch.setattr(bench, "stop", stopped.append)
    monkeypatch.setattr(sys, "argv", ["ingest.py", "--database", "sqlite", "--skip-wrk", "--rounds", "1"])
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SystemExit, match="did not start"):
        bench.main()

    assert stopped == started and len(started) == 1
    assert not (tmp_path / "ticketpulse.db").exists()


def test_gunicorn_that_exits_at_start_up_is_reported_with_its_log_at_once(tmp_path):
    """A gunicorn that cannot start (here: no such app) is reported with its log, not waited for
    30 s, and nothing is left running."""
    bench = load_bench("ingest")
    log = tmp_path / "app.log"
    env = os.environ | {"PYTHONPATH": str(ROOT)}

    began = time.monotonic()
    with pytest.raises(SystemExit) as failed:
        bench.start_gunicorn("bench.no_such_module:create_app()", free_port(), env, 1, log)

    assert time.monotonic() - began < 20  # its 30 s start-up deadline was not waited out
    assert "No module named 'bench.no_such_module'" in str(failed.value)


def test_a_port_another_server_answers_on_is_refused_not_measured(tmp_path):
    """An HTTP server already on the port (a leftover of an earlier run, say) answers the start-up
    check: the bench would measure it in place of the gunicorn that could not bind."""
    import http.server
    import threading

    bench = load_bench("ingest")
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        with pytest.raises(SystemExit, match=f"port {other.server_port} is in use"):
            started = bench.start_gunicorn("bench.bare_flask:create_app()", other.server_port,
                                           os.environ | {"PYTHONPATH": str(ROOT)}, 1, tmp_path / "bare.log")
            bench.stop(started)  # taken for a running server: not left behind by the failing test
    finally:
        other.shutdown()
        other.server_close()


def test_a_port_the_previous_round_just_closed_is_not_taken_for_in_use():
    """The SQLite stage's server closed its connections first (TIME_WAIT on its port): the
    PostgreSQL stage's server binds the same port, as gunicorn can."""
    bench = load_bench("ingest")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    served.close()  # the server closes first: its side waits in TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()

    bench.refuse_a_taken_port(port)


def test_each_server_takes_a_free_port_not_a_fixed_one(monkeypatch, tmp_path):
    """8701-8703 held by another run (or anything else): the run still starts its three servers,
    each on a port nothing listens on, and measures those."""
    from contextlib import ExitStack

    bench = load_bench("ingest")
    started, measured = {}, []
    listening = ExitStack()
    first = free_port()

    def lowest_free_port() -> int:
        """The OS may hand out one port twice while nothing listens on it: the lowest free one from
        `first` always does, so a port picked before the server before it listens is a clash."""
        for port in range(first, first + 1000):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise AssertionError("no free port")

    def start_gunicorn(target, port, *args, **kwargs):
        server = listening.enter_context(socket.socket())  # listens until the run ends, as gunicorn would
        server.bind(("127.0.0.1", port))  # in use: gunicorn could not bind, or another run's would answer
        server.listen()
        started[target.partition(":")[0]] = port
        return Server()

    def run_wrk(port, *args):
        measured.append(port)
        return {"rate": 100.0, "p50": 1.0, "p99": 2.0, "non2xx": 0}

    def run_fixed_rate(port, *args):
        measured.append(port)
        return {"sent_rate": 5.0, "p50": 1.0, "p99": 2.0, "max": 2.0, "failures": {}}

    monkeypatch.setattr(bench, "free_port", lowest_free_port)
    monkeypatch.setattr(bench, "start_gunicorn", start_gunicorn)
    monkeypatch.setattr(bench, "stop", lambda server: None)
    monkeypatch.setattr(bench, "run_wrk", run_wrk)
    monkeypatch.setattr(bench, "run_fixed_rate", run_fixed_rate)
    monkeypatch.setattr(bench.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(sys, "argv", ["ingest.py", "--database", "sqlite", "--rounds", "1", "--seconds", "1",
                                      "--bodies-per-second", "2", "--rate", "5", "--rate-seconds", "1"])
    monkeypatch.chdir(tmp_path)
    with listening, ExitStack() as held:
        for port in (8701, 8702, 8703):
            held.enter_context(hold(port))
        bench.main()

    app, bare, minimal = started["ticketpulse.webhooks"], started["bench.bare_flask"], started["bench.minimal_receiver"]
    assert len({app, bare, minimal}) == 3
    assert measured == [app, bare, minimal, app, bare]  # wrk's round, then the fixed rate's
