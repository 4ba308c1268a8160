"""GET /healthz: is the database reachable, migrated and writable, and how old is the oldest pending work?
GET /metrics."""

from __future__ import annotations

from functools import cache

import prometheus_client
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ticketpulse.escalation.jobs import backlog
from ticketpulse.metrics import registry as metrics_registry
from ticketpulse.migrations import database_revisions, head_revisions, known_revisions
from ticketpulse.webhooks.responses import database_unavailable

bp = Blueprint("health", __name__)

# A write like the webhooks' (to no row, rolled back): a standby after a failover, a database set
# read-only, a user without the grant or an unwritable SQLite file refuse it, as every webhook.
_WRITE_PROBE = text("UPDATE tickets SET id = id WHERE 1 = 0")


@bp.get("/healthz")
def healthz():
    sessions = current_app.extensions["ticketpulse.sessions"]
    try:
        with sessions() as session:
            revisions = database_revisions(session.connection())
            if revisions != _heads():
                return _not_migrated(revisions)
            refused = _refused_write(session)
            if refused:
                return database_unavailable(jsonify(status="error", database="unwritable", error=refused))
            summary = backlog(session)
    except SQLAlchemyError as exc:
        return database_unavailable(
            jsonify(status="error", database="unreachable", error=str(exc.__class__.__name__))
        )
    return jsonify(status="ok", database="ok", **summary)


def _refused_write(session) -> str | None:
    """Why the database takes no writes (the driver's words), or None when it does."""
    try:
        session.execute(_WRITE_PROBE)
    except DBAPIError as exc:
        if exc.connection_invalidated:  # the database went away: unreachable, not unwritable
            raise
        return str(exc.orig).strip().splitlines()[0]
    return None


@cache
def _heads() -> frozenset[str]:
    """The revision this code needs (read once: a new release is a new process)."""
    return frozenset(head_revisions())


def _not_migrated(revisions: set[str]) -> Response:
    """Not ready: the webhooks could not store their work in this schema."""
    current = ", ".join(sorted(revisions)) or None
    expected = ", ".join(sorted(_heads()))
    if revisions - known_revisions():
        error = f"the database was migrated by a newer ticketpulse ({current}); this one needs {expected}"
    else:
        error = f"the database is at revision {current or 'none'}, this ticketpulse needs {expected}: " \
                "run `ticketpulse db upgrade`"
    return database_unavailable(jsonify(status="error", database="not_migrated", revision=current,
                                        expected_revision=expected, error=error))


@bp.get("/metrics")
def metrics():
    """Prometheus metrics of this process (the embedded server's worker threads included), or of
    every process when PROMETHEUS_MULTIPROC_DIR is set (gunicorn -w N)."""
    return Response(prometheus_client.generate_latest(metrics_registry()), mimetype=prometheus_client.CONTENT_TYPE_LATEST)
