"""The PostgreSQL databases the benches make for a run, and drop however the run ends."""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from typing import Iterator

from bench import cleanup


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
               f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
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


def _admin(admin_url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()

