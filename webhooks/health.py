"""GET /healthz: is the database reachable, and how old is the oldest pending work?"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from escalation.queue import backlog

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    sessions = current_app.extensions["ticketpulse.sessions"]
    try:
        with sessions() as session:
            summary = backlog(session)
    except SQLAlchemyError as exc:
        response = jsonify(status="error", database="unreachable", error=str(exc.__class__.__name__))
        response.status_code = 503
        response.headers["Retry-After"] = "10"
        return response
    return jsonify(status="ok", database="ok", **summary)
