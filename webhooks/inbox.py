"""The inbox write: one durable row per comment event, duplicates recognized.

The hot path of every webhook, so it is lean: Core statements compiled once for the database's
dialect and run on a DBAPI connection each webhook thread keeps (no pool checkout, no ping, no
ORM or result objects: that bookkeeping cost more than the statements). On PostgreSQL the store
is one statement, in autocommit: one round trip (insert-or-get the ticket, mark it due, insert
the comment); on SQLite two, in a write transaction. The ticket row's `next_run_at` puts the
ticket in the work queue (see escalation/queue.py); the upsert also locks the row, which is what
lets the worker hand a ticket back without losing a comment that arrives meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from ticketpulse.escalation.queue import NOTIFY_CHANNEL
from ticketpulse.webhooks.events import CommentEvent
from ticketpulse.models import Comment, Ticket, utcnow
from ticketpulse.models.db import WRITE_LOCK_TIMEOUT_SECONDS, sqlite_write_lock

log = logging.getLogger("ticketpulse.webhooks")

_COMMENTS = Comment.__table__
_TICKETS = Ticket.__table__
# Free text is cut to its column's length (PostgreSQL enforces it, SQLite does not).
_DELIVERY_ID_LENGTH = _COMMENTS.c.delivery_id.type.length
_AUTHOR_NAME_LENGTH = _COMMENTS.c.author_name.type.length


@dataclass(frozen=True)
class Accepted:
    comment_id: int
    duplicate: bool


def _ticket_upsert(dialect):
    """Insert the ticket or, if it exists, make it due now (unless it is due sooner)."""
    statement = dialect.insert(_TICKETS).values(
        helpdesk=bindparam("t_helpdesk"), account=bindparam("t_account"), external_id=bindparam("t_external_id"),
        created_at=bindparam("now", type_=_TICKETS.c.created_at.type),
        next_run_at=bindparam("now", type_=_TICKETS.c.next_run_at.type),
    )
    due = _TICKETS.c.next_run_at
    return statement.on_conflict_do_update(
        index_elements=["helpdesk", "account", "external_id"],
        set_={"next_run_at": case((due.is_(None), statement.excluded.next_run_at),
                                  (due > statement.excluded.next_run_at, statement.excluded.next_run_at),
                                  else_=due)},
    ).returning(_TICKETS.c.id)


_COMMENT_COLUMNS = [
    "comment_key", "fingerprint", "source", "delivery_id", "author_id", "author_name", "author_role", "is_public",
    "body", "text", "commented_at", "received_at", "ticket_snapshot", "status", "attempts", "run_after",
]


def _comment_param(name: str):
    column = _COMMENTS.c[name]
    if name in ("received_at", "run_after"):
        return bindparam("now", type_=column.type)
    return bindparam(f"c_{name}", type_=column.type)


def _postgres_store():
    """Insert-or-get the ticket (marking it due) and insert the comment: one statement.

    No NOTIFY in here: PostgreSQL serialises every committing transaction that notifies (a
    database-wide lock held through the commit's WAL flush), which capped ingest at one fsync per
    webhook across all processes. The Inbox's notifier sends it after the commit instead.
    """
    ticket = _ticket_upsert(postgresql).cte("ticket")
    inserted = (
        postgresql.insert(_COMMENTS)
        .from_select(["ticket_id", *_COMMENT_COLUMNS], select(ticket.c.id, *(_comment_param(n) for n in _COMMENT_COLUMNS)))
        .on_conflict_do_nothing(index_elements=["ticket_id", "comment_key"])
        .returning(_COMMENTS.c.id)
        .cte("inserted")
    )
    return select(select(inserted.c.id).scalar_subquery(), select(ticket.c.id).scalar_subquery())


def _sqlite_comment():
    return (
        sqlite.insert(_COMMENTS)
        .values(ticket_id=bindparam("ticket_id"), **{n: _comment_param(n) for n in _COMMENT_COLUMNS})
        .on_conflict_do_nothing(index_elements=["ticket_id", "comment_key"])
        .returning(_COMMENTS.c.id)
    )


_EXISTING = select(_COMMENTS.c.id).where(
    _COMMENTS.c.ticket_id == bindparam("ticket_id"), _COMMENTS.c.comment_key == bindparam("c_comment_key")
)


class _Compiled:
    """A Core statement compiled once for a dialect, bound and run on a DBAPI cursor.

    The same SQL and the same bind processing (the column types' `bind_processor`: UTC times,
    JSON) as SQLAlchemy's own execution, without its per-call bookkeeping.
    """

    def __init__(self, statement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._order = compiled.positiontup  # the names in order for "?" (SQLite); None for %(name)s
        processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()}
        self._processors = {name: processor for name, processor in processors.items() if processor is not None}
        self._names = list(compiled.binds)

    def parameters(self, values: dict[str, Any]) -> dict[str, Any] | list[Any]:
        bound = {name: values[name] for name in self._names}
        for name, processor in self._processors.items():
            bound[name] = processor(bound[name])
        return [bound[name] for name in self._order] if self._order is not None else bound

    def slot(self, name: str) -> int:
        """Where a parameter without bind processing sits in the positional list (SQLite), to be
        filled in after `parameters` bound the others."""
        if self._order is None or name in self._processors or self._order.count(name) != 1:
            raise TypeError(f"{name!r} is not one unprocessed positional parameter of {self.sql!r}")
        return self._order.index(name)

    def one(self, cursor, values: dict[str, Any]):
        return self.run(cursor, self.parameters(values))

    def run(self, cursor, parameters: dict[str, Any] | list[Any]):
        cursor.execute(self.sql, parameters)
        return cursor.fetchone()


def _params(event: CommentEvent, now: datetime) -> dict:
    return {
        "now": now,
        "t_helpdesk": event.helpdesk,
        "t_account": event.account,
        "t_external_id": event.external_id,
        "c_comment_key": event.comment_key,
        "c_fingerprint": event.fingerprint,
        "c_source": event.source,
        "c_delivery_id": event.delivery_id[:_DELIVERY_ID_LENGTH] if event.delivery_id else event.delivery_id,
        "c_author_id": event.author_id,
        "c_author_name": event.author_name[:_AUTHOR_NAME_LENGTH] if event.author_name else event.author_name,
        "c_author_role": str(event.author_role),
        "c_is_public": event.is_public,
        "c_body": event.body,
        "c_text": event.text,
        "c_commented_at": event.commented_at,
        "c_ticket_snapshot": event.ticket,
        "c_status": "pending",
        "c_attempts": 0,
    }


def kept_connection(engine: Engine):
    """A DBAPI connection of the engine's (its connect events ran: SQLite's pragmas), detached
    from the pool: kept by one thread for its life. PostgreSQL's is in autocommit."""
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    pooled.detach()  # the pool counts it no more
    if engine.dialect.name == "postgresql":
        connection.autocommit = True
    return connection


class Inbox:
    """Where the webhooks store events: one short transaction per event, on a DBAPI connection
    of the calling thread's own (made from the engine's pool, then detached from it).

    PostgreSQL: the store is one statement, run in autocommit: one round trip, where BEGIN /
    statement / COMMIT took three, and no ping: a connection found broken (the server restarted)
    is replaced and the store sent once more on a new one (it is idempotent: a comment already
    stored is found by its key). SQLite: the write lock (models/db.py), BEGIN IMMEDIATE, two
    statements, COMMIT. A database error reaches the app as SQLAlchemy's (a 503).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self._postgres = dialect.name == "postgresql"
        self._dbapi_error = dialect.loaded_dbapi.Error
        self._threads = threading.local()
        if self._postgres:
            self._store_sql = _Compiled(_postgres_store(), dialect)
            self.notifier = Notifier(engine)
        else:
            self._ticket_sql = _Compiled(_ticket_upsert(sqlite), dialect)
            self._comment_sql = _Compiled(_sqlite_comment(), dialect)
            self._ticket_id_slot = self._comment_sql.slot("ticket_id")
            self._write_lock = sqlite_write_lock(engine)
            self.notifier = None
        self._existing_sql = _Compiled(_EXISTING, dialect)

    def store(self, event: CommentEvent) -> Accepted:
        """Store the event; a second delivery stores nothing and answers the first one's id."""
        values = _params(event, utcnow())
        try:
            accepted = self._store_on_a_live_connection(values)
        except self._dbapi_error as exc:
            raise DBAPIError.instance(None, None, exc, self._dbapi_error, dialect=self.engine.dialect) from None
        if self.notifier is not None and not accepted.duplicate:
            self.notifier.ring()
        return accepted

    def _store_on_a_live_connection(self, values: dict[str, Any]) -> Accepted:
        connection, reused = self._connection()
        try:
            return self._store(connection, values)
        except self._dbapi_error:
            self._discard(connection)
            if not (self._postgres and reused and connection.broken):
                raise
        connection, _ = self._connection()
        try:
            return self._store(connection, values)
        except self._dbapi_error:
            self._discard(connection)
            raise

    def _store(self, connection, values: dict[str, Any]) -> Accepted:
        cursor = connection.cursor()
        try:
            if self._postgres:
                comment_id, ticket_id = self._store_sql.one(cursor, values)
            else:
                return self._store_sqlite(cursor, values)
            if comment_id is not None:
                return Accepted(comment_id=comment_id, duplicate=False)
            existing = self._existing_sql.one(cursor, values | {"ticket_id": ticket_id})[0]
            return Accepted(comment_id=existing, duplicate=True)
        finally:
            cursor.close()

    def _store_sqlite(self, cursor, values: dict[str, Any]) -> Accepted:
        # Both statements are bound before the write lock is taken (all but the ticket's id, known
        # inside): the lock that every process's webhooks queue on is held for the statements alone.
        ticket_parameters = self._ticket_sql.parameters(values)
        comment_parameters = self._comment_sql.parameters(values | {"ticket_id": None})
        locked = self._write_lock.acquire(timeout=WRITE_LOCK_TIMEOUT_SECONDS)
        try:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                ticket_id = self._ticket_sql.run(cursor, ticket_parameters)[0]
                comment_parameters[self._ticket_id_slot] = ticket_id
                inserted = self._comment_sql.run(cursor, comment_parameters)
                comment_id = inserted[0] if inserted else self._existing_sql.one(cursor, values | {"ticket_id": ticket_id})[0]
                cursor.execute("COMMIT")
            except BaseException:
                if cursor.connection.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
        finally:
            if locked:
                self._write_lock.release()
        return Accepted(comment_id=comment_id, duplicate=inserted is None)

    def _connection(self) -> tuple[Any, bool]:
        """This thread's DBAPI connection, and whether it served a store before."""
        threads = self._threads
        if getattr(threads, "connection", None) is not None and threads.pid == os.getpid():
            return threads.connection, True
        connection = kept_connection(self.engine)
        # A connection inherited across fork() is the parent's: never used, never closed here.
        threads.connection, threads.pid = connection, os.getpid()
        return connection, False

    def _discard(self, connection) -> None:
        self._threads.connection = None
        try:
            connection.close()
        except self._dbapi_error:
            pass


class Notifier:
    """PostgreSQL: NOTIFY the workers of other processes that comments are due, after the
    webhooks' commits, from one thread per process, at most once per COALESCE_SECONDS.

    A burst of webhooks costs a few notifications instead of one each (each is a transaction
    that takes PostgreSQL's database-wide notify lock); an idle worker still wakes within
    milliseconds of the first. A notification is only a hint: workers also poll, so one lost
    while the database is away delays work by a poll interval at most.
    """

    COALESCE_SECONDS = 0.02

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._wanted = threading.Event()
        self._pid: int | None = None
        self._start_lock = threading.Lock()

    def ring(self) -> None:
        if self._pid != os.getpid():  # first ring in this process (gunicorn forks after create_app)
            with self._start_lock:
                if self._pid != os.getpid():
                    self._wanted = threading.Event()
                    threading.Thread(target=self._run, args=(self._wanted,), name="ticketpulse-notify",
                                     daemon=True).start()
                    self._pid = os.getpid()
        self._wanted.set()

    def _run(self, wanted: threading.Event) -> None:
        connection = None  # kept: a notification is one round trip
        while True:
            wanted.wait()
            wanted.clear()
            try:
                connection = connection or kept_connection(self.engine)
                connection.execute(_NOTIFY, (NOTIFY_CHANNEL,))
            except Exception as exc:  # the database is away: the workers' polling covers it
                log.debug("could not notify the workers: %s", exc)
                if connection is not None:
                    connection.close()
                connection = None
            time.sleep(self.COALESCE_SECONDS)


_NOTIFY = "SELECT pg_notify(%s, '')"
