"""The Flask web app: one blueprint per helpdesk, plus health. No scoring happens here."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, jsonify, request
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ticketpulse.models import make_engine, make_session_factory
from ticketpulse.config import load_config, load_environment
from ticketpulse.logs import configure_logging
from ticketpulse.startup import freeze_startup_objects
from ticketpulse.webhooks.inbox import Inbox
from ticketpulse.webhooks.responses import database_unavailable, json_error, with_security_headers
from ticketpulse.webhooks.payload import PayloadError
from ticketpulse.webhooks.refusals import authentication_reason, record_refusal, webhook_helpdesk
from ticketpulse.webhooks.signing import AuthenticationError

log = logging.getLogger("ticketpulse.webhooks")

__all__ = ["create_app"]


def create_app(test_config: dict | None = None) -> Flask:
    """The app factory; gunicorn runs it as `gunicorn "ticketpulse.webhooks:create_app()"`."""
    app = Flask(__name__)
    test_config = dict(test_config or {})
    live = test_config.pop("LIVE_CONFIG", None)  # `serve` shares its LiveConfig with the app
    owns_config = live is None and "TICKETPULSE" not in test_config  # gunicorn: the app reads the file
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
    app.extensions["ticketpulse.inbox"] = Inbox(engine)

    from ticketpulse.webhooks import dashboard, freshdesk, health, zendesk

    # `/dashboard/tuning/` or `/api/v1/conversations/x/` is the page or the JSON answer without the
    # slash, not a 404 (nor Werkzeug's redirect, which is absolute: see _relative_redirect).
    app.url_map.strict_slashes = False
    app.before_request(_relative_redirect)
    app.register_blueprint(zendesk.bp)
    app.register_blueprint(freshdesk.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(dashboard.bp)
    _register_error_handlers(app)
    app.after_request(with_security_headers)
    _register_api(app, test_config.get("SCORER"))
    if not app.testing:
        _warn_missing_secrets(env)
    if owns_config and not app.testing:
        live = _watch_config(app, config)
    if live is not None:
        live.subscribe(lambda _old, new: _take_config(app, new))
    if owns_config and not app.testing:  # gunicorn's worker (`serve` and `worker` freeze their own)
        freeze_startup_objects()
    return app


def _relative_redirect():
    """Werkzeug's own redirect (`/dashboard//tuning` -> `/dashboard/tuning`) names the URL it saw,
    http://host/... behind the TLS proxy, taking the browser off HTTPS. The path alone keeps the
    scheme and host the client used; the body is JSON, as every answer but the dashboard's pages."""
    moved = request.routing_exception
    if not isinstance(moved, RequestRedirect):
        return None
    url = urlsplit(moved.new_url)
    target = f"{url.path}?{url.query}" if url.query else url.path
    response = jsonify(location=target)
    response.status_code = moved.code  # 308: a POST stays a POST, with its body
    response.headers["Location"] = target
    return response


def _watch_config(app: Flask, config):
    """Under gunicorn each worker process watches the file and reloads on its own SIGHUP."""
    import threading

    from ticketpulse.reload import LiveConfig

    live = LiveConfig(config)
    live.watch()
    app.before_request(live.watch)  # a worker forked after create_app (--preload) starts its own
    if threading.current_thread() is threading.main_thread():
        live.reload_on_sighup()
    return live


def _take_config(app: Flask, config) -> None:
    """A reloaded config, for the next request."""
    app.config["TICKETPULSE"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.webhooks.max_body_bytes


def _warn_missing_secrets(env) -> None:
    from ticketpulse.webhooks.refusals import missing_webhook_secrets

    for warning in missing_webhook_secrets(env):
        log.warning("%s", warning)


def _register_api(app: Flask, scorer) -> None:
    """The conversation API; its scorer is built on first use unless one is given."""
    from ticketpulse.webhooks import api

    if scorer is not None:
        app.extensions["ticketpulse.scorer"] = scorer
    app.register_blueprint(api.bp)
    api.register_error_handlers(app)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AuthenticationError)
    def unauthorized(exc: AuthenticationError):
        secret = getattr(app.config["ENVIRONMENT"], f"{webhook_helpdesk()}_webhook_secret", None)
        record_refusal(401, str(exc), authentication_reason(exc, secret))
        return json_error(str(exc), 401)

    @app.errorhandler(PayloadError)
    def bad_payload(exc: PayloadError):
        record_refusal(400, str(exc))
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
        if exc.code and 400 <= exc.code < 500:
            record_refusal(exc.code, messages.get(exc.code, exc.description or exc.name))
        return json_error(messages.get(exc.code, exc.description or exc.name), exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return json_error("internal error", 500)
