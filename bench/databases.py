"""The PostgreSQL databases the benches make for a run, and drop however the run ends."""

from __future__ import annotations

import atexit
import os
import secrets
import sys
from contextlib import contextmanager
from typing import Iterator

# What fresh_postgres made and drop_postgres has not dropped yet: dropped at exit, so a run that
# a Ctrl-C or an exception stops where no `finally` covers it (while migrating, or during the
# `finally` itself) leaves nothing behind.
_made: set[tuple[str, str]] = set()


def run_name(prefix: str) -> str:
    """A database name of this run alone: two runs at the same time (on one host or two sharing the
    server) never drop each other's database. The pid tells whose a leftover of a killed run is."""
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"


def fresh_postgres(admin_url: str, name: str, template: str | None = None) -> str:
    """An empty database `name` (a copy of `template` if given; one of this name made earlier in the
    run dropped first); its URL."""
    from sqlalchemy.engine import make_url

    _made.add((admin_url, name))  # before it exists: a Ctrl-C just after CREATE still drops it
    try:
        _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
               f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    except Exception:
        _made.discard((admin_url, name))  # refused (no such server, no right to CREATE): nothing to drop
        raise
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, name: str) -> None:
    _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _made.discard((admin_url, name))


@contextmanager
def temporary_postgres(admin_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """The URL of a fresh database named by run_name(prefix), dropped on the way out."""
    name = run_name(prefix)
    url = fresh_postgres(admin_url, name, template)
    try:
        yield url
    finally:
        drop_postgres(admin_url, name)


@atexit.register
def _drop_the_rest() -> None:
    for admin_url, name in sorted(_made):
        try:
            drop_postgres(admin_url, name)
        except Exception as exc:  # the server gone: say what is left, the other drops still tried
            print(f"bench: could not drop database {name}: {exc}", file=sys.stderr, flush=True)


def _admin(admin_url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()
