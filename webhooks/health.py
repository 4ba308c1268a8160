"""GET /healthz: is the database reachable, and how old is the oldest pending work? GET /metrics."""

from __future__ import annotations

import prometheus_client
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from ticketpulse.escalation.jobs import backlog
from ticketpulse.metrics import registry as metrics_registry
from ticketpulse.webhooks.responses import database_unavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    sessions = current_app.extensions["ticketpulse.sessions"]
    try:
        with sessions() as session:
            summary = backlog(session)
    except SQLAlchemyError as exc:
        return database_unavailable(
            jsonify(status="error", database="unreachable", error=str(exc.__class__.__name__))
        )
    return jsonify(status="ok", database="ok", **summary)


@bp.get("/metrics")
def metrics():
    """Prometheus metrics of this process (the embedded server's worker threads included), or of
    every process when PROMETHEUS_MULTIPROC_DIR is set (gunicorn -w N)."""
    return Response(prometheus_client.generate_latest(metrics_registry()), mimetype=prometheus_client.CONTENT_TYPE_LATEST)
