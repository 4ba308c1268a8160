"""The benches' PostgreSQL databases: each run's names its own (tp_bench_<bench>_<pid>_<hex>, every
bench through bench/databases.py), so a second run at the same time never drops the first one's;
and a run drops what it made however it ends (an exception, a Ctrl-C while it migrates, or where
no `finally` of the script covers it)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.bench_helpers import ADMIN_URL, ROOT, database_exists, existing_databases, load_bench, needs_postgres

NAMES = {
    "ingest": {"DATABASE": "tp_bench_ingest"},
    "memory": {"DATABASE": "tp_bench_memory"},
    "pipeline": {"EMPTY": "tp_bench_empty", "HISTORY": "tp_bench_history"},
    "recovery": {"OUTAGE": "tp_bench_outage", "RECOVERY": "tp_bench_recovery"},
}


@pytest.mark.parametrize("script", sorted(NAMES))
def test_two_runs_name_their_databases_apart(script):
    first, second = load_bench(script), load_bench(script)
    for attribute, prefix in NAMES[script].items():
        mine, theirs = getattr(first, attribute), getattr(second, attribute)
        assert mine != theirs
        for name in (mine, theirs):  # a plain PostgreSQL identifier, the run's pid in it
            assert re.fullmatch(rf"{prefix}_{os.getpid()}_[0-9a-f]+", name) and len(name) <= 63


def databases_of(pid: int, prefix: str) -> list[str]:
    """The databases named `prefix`_`pid`_... (those of one run)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL)
    try:
        with admin.connect() as conn:
            return list(conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :like"),
                                     {"like": f"{prefix}_{pid}_%"}).scalars())
    finally:
        admin.dispose()


class Server:
    pid = -1


def ingest_fixed_rate_only(bench, monkeypatch) -> None:
    """bench/ingest.py on PostgreSQL, its servers and load generator stood in for."""
    monkeypatch.setattr(bench, "start_gunicorn", lambda *args, **kwargs: Server())
    monkeypatch.setattr(bench, "stop", lambda server: None)
    monkeypatch.setattr(bench, "run_fixed_rate",
                        lambda *args: {"sent_rate": 5.0, "p50": 1.0, "p99": 2.0, "max": 2.0, "failures": {}})
    monkeypatch.setattr(sys, "argv", ["ingest.py", "--database", "postgresql", "--admin-url", ADMIN_URL,
                                      "--skip-wrk", "--rounds", "1", "--rate", "5", "--rate-seconds", "1"])
    bench.main()


@needs_postgres
def test_a_second_run_at_the_same_time_leaves_the_first_runs_database(monkeypatch, capsys):
    from bench.databases import drop_postgres, fresh_postgres

    first = load_bench("ingest")
    fresh_postgres(ADMIN_URL, first.DATABASE)  # the first run, measuring
    try:
        second = load_bench("ingest")
        ingest_fixed_rate_only(second, monkeypatch)

        assert "postgresql: fixed rate 5 req/s" in capsys.readouterr().out
        assert database_exists(first.DATABASE)
        assert not database_exists(second.DATABASE)
    finally:
        drop_postgres(ADMIN_URL, first.DATABASE)


@needs_postgres
def test_ctrl_c_while_migrating_drops_the_database(monkeypatch):
    """The database exists from before the migration: a Ctrl-C then (a real SIGINT) drops it too."""
    import ticketpulse.migrations

    bench = load_bench("ingest")

    def interrupted(url):
        assert database_exists(bench.DATABASE)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(10)  # the KeyboardInterrupt arrives here
        pytest.fail("no KeyboardInterrupt")

    monkeypatch.setattr(ticketpulse.migrations, "upgrade", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_fixed_rate_only(bench, monkeypatch)
    assert not database_exists(bench.DATABASE)


UNCOVERED = """
import os, signal, sys, time
from bench.databases import fresh_postgres, run_name

name = run_name("tp_bench_uncovered")
fresh_postgres(sys.argv[1], name)
print(name, flush=True)
if sys.argv[2] == "ctrl-c":
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(10)
raise RuntimeError("the run failed")
"""


@needs_postgres
@pytest.mark.parametrize("ending", ["ctrl-c", "exception"])
def test_a_run_ended_where_no_finally_covers_it_still_drops_its_database(ending):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(UNCOVERED), ADMIN_URL, ending], cwd=ROOT,
                            env=os.environ | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert ("KeyboardInterrupt" if ending == "ctrl-c" else "RuntimeError: the run failed") in result.stderr
    name = result.stdout.strip()
    assert name.startswith("tp_bench_uncovered_")
    assert not database_exists(name)


@needs_postgres
def test_ctrl_c_while_bench_worker_llm_migrates_its_template_drops_it(monkeypatch):
    bench = load_bench("bench_worker_llm")
    made = []

    def interrupted(url):
        made.append(url.rsplit("/", 1)[1].split("?")[0])
        assert database_exists(made[0])
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "upgrade", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bench.PostgresDatabases(ADMIN_URL)

    assert re.fullmatch(rf"tp_bench_worker_llm_template_{os.getpid()}_[0-9a-f]+", made[0])
    assert not database_exists(made[0])


@needs_postgres
def test_bench_worker_llm_names_each_runs_copy_as_the_other_benches_do_and_drops_it():
    databases = load_bench("bench_worker_llm").PostgresDatabases(ADMIN_URL)
    try:
        with databases.fresh() as url:
            copy = url.rsplit("/", 1)[1].split("?")[0]
            assert re.fullmatch(rf"tp_bench_worker_llm_{os.getpid()}_[0-9a-f]+", copy)
            assert database_exists(copy)
        assert not database_exists(copy)
    finally:
        databases.close()
    assert existing_databases(copy, databases.template) == []


@needs_postgres
@pytest.mark.parametrize("script, prefix", [("bench_api", "tp_bench_api"), ("dashboard", "tp_bench_dashboard")])
def test_bench_api_and_dashboard_name_their_database_by_run_and_drop_it_when_interrupted(script, prefix, monkeypatch):
    bench = load_bench(script)
    made = []

    def interrupted(*args, **kwargs):
        made.extend(databases_of(os.getpid(), prefix))
        raise KeyboardInterrupt

    if script == "bench_api":
        monkeypatch.setattr(bench, "load_conversations", lambda path: [])
        monkeypatch.setattr(bench, "bench", lambda name, *args: interrupted() if name == "PostgreSQL" else None)
        argv = ["bench_api.py", "--database-url", ADMIN_URL]
    else:
        monkeypatch.setattr(bench, "seed", interrupted)
        argv = ["dashboard.py", "--no-sqlite", "--database-url", ADMIN_URL]
    monkeypatch.setattr(sys, "argv", argv)

    with pytest.raises(KeyboardInterrupt):
        bench.main()

    assert len(made) == 1
    assert not database_exists(made[0])


@needs_postgres
def test_drop_stale_drops_the_databases_of_runs_no_longer_alive_and_keeps_the_live_ones():
    from bench.databases import drop_postgres, fresh_postgres

    gone = subprocess.Popen(["true"])
    gone.wait()
    prefix = f"tp_bench_stale{os.getpid()}"
    dead, alive = f"{prefix}_{gone.pid}_00beef", f"{prefix}_{os.getpid()}_00beef"
    for name in (dead, alive):
        fresh_postgres(ADMIN_URL, name)
    try:
        result = subprocess.run([sys.executable, "bench/databases.py", "--drop-stale", "--admin-url", ADMIN_URL,
                                 "--prefix", prefix], cwd=ROOT, capture_output=True, text=True, timeout=60)

        assert result.returncode == 0, result.stderr
        assert f"dropped {dead}" in result.stdout and alive not in result.stdout
        assert existing_databases(dead, alive) == [alive]
    finally:
        for name in (dead, alive):
            drop_postgres(ADMIN_URL, name)


@needs_postgres
def test_drop_stale_keeps_a_database_a_session_uses_as_a_run_on_another_host_sharing_the_server_does():
    from sqlalchemy import create_engine

    from bench.databases import drop_postgres, fresh_postgres

    gone = subprocess.Popen(["true"])
    gone.wait()
    prefix = f"tp_bench_elsewhere{os.getpid()}"
    name = f"{prefix}_{gone.pid}_00beef"
    other_host = create_engine(fresh_postgres(ADMIN_URL, name))
    try:
        with other_host.connect():
            result = subprocess.run([sys.executable, "bench/databases.py", "--drop-stale", "--admin-url", ADMIN_URL,
                                     "--prefix", prefix], cwd=ROOT, capture_output=True, text=True, timeout=60)

            assert result.returncode == 0, result.stderr
            assert "0 stale bench database(s) dropped" in result.stdout
            assert database_exists(name)
    finally:
        other_host.dispose()
        drop_postgres(ADMIN_URL, name)


def test_drop_stale_without_a_server_url_says_so():
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    result = subprocess.run([sys.executable, "bench/databases.py", "--drop-stale"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--admin-url (or TEST_DATABASE_URL) is needed" in result.stderr
