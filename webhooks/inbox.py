"""The inbox write: one durable row per comment event, duplicates recognized.

The hot path of every webhook, so it is lean: Core statements (compiled once, cached by
SQLAlchemy), on PostgreSQL one round trip (insert-or-get the ticket, mark it due, insert the
comment: one statement, in autocommit), on SQLite two. The ticket row's `next_run_at` puts the ticket in the
work queue (see escalation/queue.py); the upsert also locks the row, which is what lets the
worker hand a ticket back without losing a comment that arrives meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ticketpulse.escalation.queue import NOTIFY_CHANNEL
from ticketpulse.webhooks.events import CommentEvent
from ticketpulse.models import Comment, Ticket, utcnow

log = logging.getLogger("ticketpulse.webhooks")

_COMMENTS = Comment.__table__
_TICKETS = Ticket.__table__


@dataclass(frozen=True)
class Accepted:
    comment_id: int
    duplicate: bool


def _fit(value: str | None, column) -> str | None:
    """Free text cut to its column's length (PostgreSQL enforces it, SQLite does not)."""
    return value[: column.type.length] if value else value


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


def _build_statements():
    """Built once: each webhook only binds its values (SQLAlchemy caches the compiled SQL)."""
    ticket = _ticket_upsert(postgresql).cte("ticket")
    inserted = (
        postgresql.insert(_COMMENTS)
        .from_select(["ticket_id", *_COMMENT_COLUMNS], select(ticket.c.id, *(_comment_param(n) for n in _COMMENT_COLUMNS)))
        .on_conflict_do_nothing(index_elements=["ticket_id", "comment_key"])
        .returning(_COMMENTS.c.id)
        .cte("inserted")
    )
    # No NOTIFY in here: PostgreSQL serialises every committing transaction that notifies (a
    # database-wide lock held through the commit's WAL flush), which capped ingest at one fsync
    # per webhook across all processes. The Inbox's notifier sends it after the commit instead.
    postgres_one_trip = select(select(inserted.c.id).scalar_subquery(), select(ticket.c.id).scalar_subquery())
    sqlite_comment = (
        sqlite.insert(_COMMENTS)
        .values(ticket_id=bindparam("ticket_id"), **{n: _comment_param(n) for n in _COMMENT_COLUMNS})
        .on_conflict_do_nothing(index_elements=["ticket_id", "comment_key"])
        .returning(_COMMENTS.c.id)
    )
    existing = select(_COMMENTS.c.id).where(
        _COMMENTS.c.ticket_id == bindparam("ticket_id"), _COMMENTS.c.comment_key == bindparam("c_comment_key")
    )
    return postgres_one_trip, _ticket_upsert(sqlite), sqlite_comment, existing


_POSTGRES_STORE, _SQLITE_TICKET, _SQLITE_COMMENT, _EXISTING = _build_statements()


def _params(event: CommentEvent, now: datetime) -> dict:
    return {
        "now": now,
        "t_helpdesk": event.helpdesk,
        "t_account": event.account,
        "t_external_id": event.external_id,
        "c_comment_key": event.comment_key,
        "c_fingerprint": event.fingerprint,
        "c_source": event.source,
        "c_delivery_id": _fit(event.delivery_id, Comment.delivery_id),
        "c_author_id": event.author_id,
        "c_author_name": _fit(event.author_name, Comment.author_name),
        "c_author_role": str(event.author_role),
        "c_is_public": event.is_public,
        "c_body": event.body,
        "c_text": event.text,
        "c_commented_at": event.commented_at,
        "c_ticket_snapshot": event.ticket,
        "c_status": "pending",
        "c_attempts": 0,
    }


def store(connection: Connection, event: CommentEvent) -> Accepted:
    """Store the event in the inbox on `connection` (the caller commits, unless it is in
    autocommit on PostgreSQL: the store is then one statement, atomic by itself). A second
    delivery stores nothing and answers the first one's id."""
    params = _params(event, utcnow())
    if connection.dialect.name == "postgresql":
        comment_id, ticket_id = connection.execute(_POSTGRES_STORE, params).one()
    else:
        ticket_id = connection.execute(_SQLITE_TICKET, params).scalar_one()
        comment_id = connection.execute(_SQLITE_COMMENT, params | {"ticket_id": ticket_id}).scalar_one_or_none()
    if comment_id is not None:
        return Accepted(comment_id=comment_id, duplicate=False)
    existing = connection.execute(_EXISTING, {"ticket_id": ticket_id, "c_comment_key": event.comment_key}).scalar_one()
    return Accepted(comment_id=existing, duplicate=True)


class Inbox:
    """Where the webhooks store events: one short transaction per event, on its own connection
    (no ORM session: its bookkeeping cost more than the statements).

    PostgreSQL: the store is one statement, so it runs as its own transaction (autocommit): one
    round trip, where BEGIN / statement / COMMIT took three. SQLite: BEGIN IMMEDIATE (the write
    lock, models/db.py), two statements, COMMIT.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._one_statement = engine.dialect.name == "postgresql"
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT") if self._one_statement else None
        self.notifier = Notifier(self._autocommit) if self._one_statement else None

    def store(self, event: CommentEvent) -> Accepted:
        if not self._one_statement:
            with self.engine.begin() as connection:
                return store(connection, event)
        with self._autocommit.connect() as connection:
            accepted = store(connection, event)
        if not accepted.duplicate:
            self.notifier.ring()
        return accepted


class Notifier:
    """PostgreSQL: NOTIFY the workers of other processes that comments are due, after the
    webhooks' commits, from one thread per process, at most once per COALESCE_SECONDS.

    A burst of webhooks costs a few notifications instead of one each (each is a transaction
    that takes PostgreSQL's database-wide notify lock); an idle worker still wakes within
    milliseconds of the first. A notification is only a hint: workers also poll, so one lost
    while the database is away delays work by a poll interval at most.
    """

    COALESCE_SECONDS = 0.02

    def __init__(self, autocommit_engine) -> None:
        self.engine = autocommit_engine
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
        while True:
            wanted.wait()
            wanted.clear()
            try:
                with self.engine.connect() as connection:
                    connection.execute(_NOTIFY)
            except Exception as exc:  # the database is away: the workers' polling covers it
                log.debug("could not notify the workers: %s", exc)
            time.sleep(self.COALESCE_SECONDS)


_NOTIFY = select(func.pg_notify(NOTIFY_CHANNEL, ""))


def accept(session: Session, event: CommentEvent) -> Accepted:
    """Store the event in the inbox within an ORM session (the caller commits)."""
    return store(session.connection(), event)


def ensure_ticket(session: Session, helpdesk: str, account: str, external_id: str) -> int:
    """The ticket's id, inserting the ticket if it is new (it is not made due)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(_TICKETS)
        .values(helpdesk=helpdesk, account=account, external_id=external_id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["helpdesk", "account", "external_id"])
    )
    return session.scalars(
        select(Ticket.id).where(
            Ticket.helpdesk == helpdesk, Ticket.account == account, Ticket.external_id == external_id
        )
    ).one()
