"""Engine and session setup for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import os
import threading
import weakref
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import asbool

from ticketpulse.config import normalize_url


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class NoDatabaseError(LookupError):
    """A SQLite file that does not exist, opened with create_database=False."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no database exists at {path}")
        self.path = path


def make_engine(url: str, *, create_database: bool = True) -> Engine:
    """create_database=False: a SQLite file that does not exist is a NoDatabaseError, where
    connecting would create it empty (a command that only reads the database, run in another
    directory, left a ticketpulse.db there). PostgreSQL creates no database by connecting."""
    # An error's message names the statement, not its values: they are the customer's words, and
    # the web app and the worker log a database error with its traceback.
    url = normalize_url(url)
    if url.startswith("sqlite"):
        if not create_database:
            _refuse_a_missing_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)
        _use_immediate_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def _refuse_a_missing_file(url: str) -> None:
    parsed = make_url(url)
    path = parsed.database or ""
    if asbool(parsed.query.get("uri", False)):  # as the driver reads it
        # A file: URI. Its mode ro or rw refuses a missing file by itself, memory has none; without
        # a mode (rwc, SQLite's default) connecting creates the file, so its path is checked.
        if parsed.query.get("mode") in ("ro", "rw", "memory"):
            return
        if path.startswith("file:"):
            path = unquote(urlsplit(path).path)
    if path in ("", ":memory:"):
        return
    if not os.path.exists(path):
        raise NoDatabaseError(os.path.abspath(path))


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

    # SQLite has one write lock, and a connection waiting for it in SQLite's busy handler sleeps
    # up to 100 ms between tries: under concurrent writers (webhook threads, the worker's lanes)
    # transactions paid those sleeps. This process's transactions queue on a lock of their own
    # instead, so the next one starts the moment the last one ends (other processes still meet
    # in SQLite's busy handler; an flock queue across processes was tried: it held every writer
    # while one connection ran SQLite's automatic checkpoint after its commit, and p99 at 200
    # webhooks/s doubled).
    lock = _WRITE_LOCKS[engine] = threading.Lock()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        # Bounded: should a thread ever hold two transactions, the second waits in SQLite's busy
        # handler as before instead of here forever.
        if lock.acquire(timeout=WRITE_LOCK_TIMEOUT_SECONDS):
            connection.info["ticketpulse_writer"] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _end(connection)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection) -> None:
        if connection.info.pop("ticketpulse_writer", False):
            lock.release()

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record) -> None:  # a connection dropped mid-transaction
        if record.info.pop("ticketpulse_writer", False):
            lock.release()


WRITE_LOCK_TIMEOUT_SECONDS = 30.0
_WRITE_LOCKS: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()


def sqlite_write_lock(engine: Engine) -> threading.Lock:
    """The write lock every transaction on this SQLite engine takes (for raw DBAPI writers)."""
    return _WRITE_LOCKS[engine]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
