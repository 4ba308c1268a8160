"""Engine and session setup for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ticketpulse.config import normalize_url


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _use_immediate_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _use_immediate_transactions(engine: Engine) -> None:
    """SQLite: every transaction takes the write lock up front (BEGIN IMMEDIATE).

    That is SQLite's stand-in for PostgreSQL's row locks: two workers never decide on the same
    ticket at once, and a read-then-write never fails half-way with "database is locked".
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, NORMAL syncs the log at checkpoints, not at every commit: a commit is
            # durable as soon as it is in the WAL file, across any crash of our processes (kill -9
            # included: the OS still writes the file out). Only a power loss or OS crash could
            # drop the last commits, and never corrupts the database. FULL's fsync per commit
            # held the write lock for a disk flush on every webhook.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
