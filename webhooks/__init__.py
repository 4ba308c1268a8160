"""The Flask web app: one blueprint per helpdesk, plus health. No scoring happens here."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ticketpulse.models import make_engine, make_session_factory
from ticketpulse.config import load_config, load_environment
from ticketpulse.logs import configure_logging
from ticketpulse.webhooks.responses import database_unavailable, json_error
from ticketpulse.webhooks.payload import PayloadError
from ticketpulse.webhooks.signing import AuthenticationError

log = logging.getLogger("ticketpulse.webhooks")

__all__ = ["create_app"]


def create_app(test_config: dict | None = None) -> Flask:
    """The app factory; gunicorn runs it as `gunicorn "ticketpulse.webhooks:create_app()"`."""
    app = Flask(__name__)
    test_config = dict(test_config or {})
    config = test_config.pop("TICKETPULSE", None) or load_config()
    env = test_config.pop("ENVIRONMENT", None) or load_environment()
    app.config.from_mapping(
        TICKETPULSE=config,
        ENVIRONMENT=env,
        DATABASE_URL=env.database_url,
        MAX_CONTENT_LENGTH=config.webhooks.max_body_bytes,
    )
    app.config.update(test_config)
    if not app.testing:
        configure_logging()
    engine = app.config.get("ENGINE") or make_engine(app.config["DATABASE_URL"])
    app.extensions["ticketpulse.sessions"] = make_session_factory(engine)

    from ticketpulse.webhooks import dashboard, freshdesk, health, zendesk

    app.register_blueprint(zendesk.bp)
    app.register_blueprint(freshdesk.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(dashboard.bp)
    _register_error_handlers(app)
    return app


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AuthenticationError)
    def unauthorized(exc: AuthenticationError):
        return json_error(str(exc), 401)

    @app.errorhandler(PayloadError)
    def bad_payload(exc: PayloadError):
        return json_error(str(exc), 400)

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError):
        log.error("database unavailable: %s", exc.orig)
        return database_unavailable(json_error("database unavailable; retry later", 503))

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError):
        log.exception("database error")
        return database_unavailable(json_error("database error; retry later", 503))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {413: f"request body larger than {app.config['MAX_CONTENT_LENGTH']} bytes"}
        return json_error(messages.get(exc.code, exc.description or exc.name), exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return json_error("internal error", 500)
