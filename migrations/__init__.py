"""Alembic migrations: the only way the schema is created or changed.

`upgrade(url)` is what `ticketpulse db upgrade` and `ticketpulse serve` run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ticketpulse.config import normalize_url

HERE = Path(__file__).resolve().parent
_REVISION = re.compile(r"^(down_)?revision\b[^=]*=\s*['\"]?([\w]+)?['\"]?", re.MULTILINE)


def alembic_config(database_url: str):
    from alembic.config import Config as AlembicConfig

    # Alembic's default `stdout` is sys.stdout as it was when alembic.config was first imported:
    # a stream replaced since (a test's capture, closed after it) would be written to.
    config = AlembicConfig(stdout=sys.stdout)
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", normalize_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`. At head already (every start of `serve` but the
    first), one query answers it and Alembic is never imported: a restart after a crash is
    quicker, and `serve` does not keep Alembic's modules in memory."""
    if revision == "head" and at_head(database_url):
        return
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def head_revisions() -> set[str]:
    """The revisions no other migration builds on, read from the migration files' headers."""
    revisions, parents = _revision_graph()
    return revisions - parents


def known_revisions() -> set[str]:
    """Every revision this ticketpulse has a migration for."""
    return _revision_graph()[0]


def _revision_graph() -> tuple[set[str], set[str]]:
    """The revisions of the migration files, and those another one builds on."""
    revisions, parents = set(), set()
    for path in (HERE / "versions").glob("*.py"):
        found = dict((bool(down), value) for down, value in _REVISION.findall(path.read_text(encoding="utf-8")))
        if found.get(False):
            revisions.add(found[False])
            if found.get(True) and found[True] != "None":
                parents.add(found[True])
    return revisions, parents


def database_revisions(connection) -> set[str]:
    """The revisions the database is at; none when it was never migrated."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return set()
    return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}


def at_head(database_url: str) -> bool:
    """Is the database at the head revision? (False when unsure: Alembic then decides.)"""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    heads = head_revisions()
    engine = create_engine(normalize_url(database_url), poolclass=_null_pool())
    try:
        with engine.connect() as connection:
            current = database_revisions(connection)
    except SQLAlchemyError:  # unsure (unreachable ...): Alembic says what is wrong
        return False
    finally:
        engine.dispose()
    return bool(heads) and current == heads


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool
