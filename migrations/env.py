"""Alembic's environment. The models are read only to compare against (`alembic check`,
autogenerate); revision files never import them, so a later model change cannot rewrite history."""

import logging
from contextlib import nullcontext

from alembic import context
from sqlalchemy import event, text

from ticketpulse.models.db import make_engine
from ticketpulse.models.tables import Base, UTCDateTime

log = logging.getLogger("ticketpulse.migrations")
config = context.config
target_metadata = Base.metadata
# PostgreSQL: one migration run at a time per database (any 64-bit number of our own). Replicas
# that each run `db upgrade` or `serve` as they start would otherwise all create the first
# tables at once, and all but one fail; the others now wait, then find the database at head.
MIGRATION_LOCK = 0x7469636B70756C73  # "tickpuls"


def render_item(type_, obj, autogen_context):
    """Autogenerate writes our UTCDateTime as the column type it stores, not as an import of ours."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        _without_foreign_keys(engine)
    with engine.connect() as connection, connection.begin() if sqlite else nullcontext():
        # SQLite: the whole run in one transaction, begun IMMEDIATE (make_engine), so one run at a
        # time holds the write lock from reading the revision to the last migration's commit.
        # Alembic commits each migration on its own there: a second `db upgrade` started at once
        # read the revision between two of them and ran the next one again ("already exists").
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=sqlite, render_item=render_item)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":  # held until the migrations commit
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
            if sqlite:
                _report_broken_references(connection)
    engine.dispose()


def _without_foreign_keys(engine) -> None:
    """SQLite's batch migrations rebuild a table (copy, drop, rename): with foreign keys enforced,
    dropping a table that other rows point at fails, so migrations run with them off (the pragma
    is a no-op inside a transaction: it is set as the connection opens, after make_engine's ON)."""

    @event.listens_for(engine, "connect")
    def _off(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")


def _report_broken_references(connection) -> None:
    """What the enforcement would have caught, checked once at the end: rows pointing at none.
    Said, not refused: such rows are also left by a ticket deleted by hand in the sqlite3 shell
    (which enforces no foreign keys), and no migration should stop at them."""
    broken = connection.execute(text("PRAGMA foreign_key_check")).all()
    if broken:
        table, row, parent = broken[0][:3]
        log.warning("%d row(s) point at rows that do not exist, e.g. %s row %s points at no %s row",
                    len(broken), table, row, parent)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
