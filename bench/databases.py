"""The PostgreSQL databases the benches make for a run, and drop however the run ends.

    .venv/bin/python bench/databases.py --drop-stale --admin-url URL   # what killed runs left
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

if __package__ in (None, ""):  # run as a script: `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cleanup  # noqa: E402

# tp_bench_<bench>_<pid>_<hex>, as run_name spells them
_RUN_NAME = re.compile(r"tp_bench_\w+?_(?P<pid>\d+)_[0-9a-f]{6}")
# A pid says whose a database is on the host that made it only: each database's comment names it.
_MADE_ON = "made by a ticketpulse bench on host "


def run_name(prefix: str) -> str:
    """A database name of this run alone: two runs at the same time (on one host or two sharing the
    server) never drop each other's database. The pid tells whose a leftover of a killed run is."""
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"


def fresh_postgres(admin_url: str, name: str, template: str | None = None) -> str:
    """An empty database `name` (a copy of `template` if given; one of this name made earlier in the
    run dropped first); its URL. Dropped at exit (bench/cleanup.py) unless drop_postgres came first,
    so a run that an exception, a Ctrl-C or a SIGTERM stops where no `finally` covers it (while
    migrating, or during the `finally` itself) leaves nothing behind."""
    from sqlalchemy.engine import make_url

    # before it exists: a Ctrl-C just after CREATE still drops it
    cleanup.remember(("database", admin_url, name), f"drop database {name}", lambda: drop_postgres(admin_url, name))
    try:
        _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
               f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""),
               f"COMMENT ON DATABASE {name} IS {_literal(_MADE_ON + socket.gethostname())}")
    except Exception:
        cleanup.forget(("database", admin_url, name))  # refused (no such server, no right to CREATE): nothing to drop
        raise
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, name: str) -> None:
    _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    cleanup.forget(("database", admin_url, name))


@contextmanager
def temporary_postgres(admin_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """The URL of a fresh database named by run_name(prefix), dropped on the way out."""
    name = run_name(prefix)
    url = fresh_postgres(admin_url, name, template)
    try:
        yield url
    finally:
        drop_postgres(admin_url, name)


def stale_databases(admin_url: str, prefix: str = "tp_bench_") -> list[str]:
    """The bench databases (named `prefix`...) made on this host (their comment says so: a run on
    another host sharing the server, or in another container, has pids of its own, and a database
    of a live run may have no session, as bench_worker_llm's template between copies) by runs
    whose process is gone (killed with kill -9), and that no session uses."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url)
    try:
        with admin.connect() as conn:
            rows = conn.execute(text(
                "SELECT datname, EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname), "
                "shobj_description(d.oid, 'pg_database') "
                "FROM pg_database d WHERE datname LIKE 'tp\\_bench\\_%' ORDER BY datname")).all()
    finally:
        admin.dispose()
    here = _MADE_ON + socket.gethostname()
    stale = []
    for name, in_use, made_on in rows:
        match = _RUN_NAME.fullmatch(name)
        if match and name.startswith(prefix) and made_on == here and not in_use and not _alive(int(match["pid"])):
            stale.append(name)
    return stale


def _literal(text: str) -> str:
    """`text` as an SQL string literal (COMMENT takes no bind parameter)."""
    return "'" + text.replace("'", "''") + "'"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _admin(admin_url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Drop the bench databases that killed runs left behind.")
    parser.add_argument("--drop-stale", action="store_true", required=True,
                        help="drop the tp_bench_* databases made on this host whose run's pid is not alive")
    parser.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL"),
                        help="a PostgreSQL URL allowed to DROP DATABASE (default $TEST_DATABASE_URL)")
    parser.add_argument("--prefix", default="tp_bench_", help="only the names starting so (tp_bench_ingest_, say)")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("--admin-url (or TEST_DATABASE_URL) is needed")
    try:
        stale = stale_databases(args.admin_url, args.prefix)
        for name in stale:
            drop_postgres(args.admin_url, name)
            print(f"dropped {name}")
    except Exception as exc:  # no such server, no right to drop: said in one line, not a traceback
        print(f"databases.py: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"{len(stale)} stale bench database(s) dropped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
