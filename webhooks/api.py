"""The conversation API under /api/v1: escalate-or-respond for AI reply bots and sidebar apps.

POST /api/v1/conversations/<id>/messages scores the message in the request and answers with the
decision and a tone hint; GET /api/v1/conversations/<id> and GET /api/v1/tickets/<helpdesk>/<number>
show a trajectory. Bearer keys from TICKETPULSE_API_KEYS; refused while none is set.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from typing import Any, Literal

from flask import Blueprint, Flask, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError, field_validator

from ticketpulse import metrics
from ticketpulse.config import ConfigError, field_problems
from ticketpulse.escalation import reports
from ticketpulse.escalation.comments import AuthorRole
from ticketpulse.escalation.conversations import (
    CONVERSATION_ID,
    CONVERSATION_ID_RULE,
    MAX_MESSAGE_ID_LENGTH,
    AmbiguousTicket,
    Answer,
    Conversations,
    Message,
    ScoringError,
    State,
    UnknownConversation,
)
from ticketpulse.escalation.tracker import ScorePoint, Trend
from ticketpulse.models import ticket_number
from ticketpulse.sentiment import SentimentScore
from ticketpulse.webhooks.events import text_fingerprint
from ticketpulse.webhooks.openapi import SPEC
from ticketpulse.webhooks.payload import MAX_CLOCK_SKEW, PayloadError, clean_string
from ticketpulse.webhooks.request_input import same_secret, storable
from ticketpulse.webhooks.responses import json_error
from ticketpulse.sentiment.clean import clean_text
from ticketpulse.sentiment.factory import scorer_settings

log = logging.getLogger("ticketpulse.api")

bp = Blueprint("api", __name__, url_prefix="/api/v1")

HELPDESKS = ("zendesk", "freshdesk")
ACCOUNTS_NAMED = 5  # in a 404 for a ticket under other accounts than ?account= asked for
_scorer_lock = threading.Lock()
SCORER_RETRY_AFTER = "5"  # seconds, on a 503 when the scorer fails
_BUILT_FOR = "ticketpulse.api_scorer_settings"  # app.extensions: the settings the API built its scorer from


class ApiError(Exception):
    def __init__(self, message: str, status: int, **headers: str) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


class PostedMessage(BaseModel):
    """The body of POST /conversations/<id>/messages."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr
    author: Literal["customer", "agent"] = "customer"
    time: datetime | None = None
    message_id: str | None = None

    @field_validator("text")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty; send the message's text")
        return value

    @field_validator("time", mode="before")
    @classmethod
    def _iso_utc(cls, value: Any) -> datetime | None:
        """An ISO 8601 time as aware UTC; a time without an offset is taken as UTC."""
        if value is None:
            return None
        example = "e.g. 2026-12-01T21:40:00Z"
        if not isinstance(value, str):
            raise ValueError(f"expected an ISO 8601 time as a string, {example}")
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value[:40]!r}; {example}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        try:
            parsed = parsed.astimezone(timezone.utc)
        except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            raise ValueError(f"out of range: {value[:40]!r}") from None
        # The webhooks' bound: history is ordered by time, so a message further ahead would stay the
        # latest and hide every later one. Refused, not re-dated as a webhook's: the client can fix it.
        ahead = parsed - datetime.now(timezone.utc)
        if ahead > MAX_CLOCK_SKEW:
            raise ValueError(
                f"{value[:40]!r} is {ahead.total_seconds():.0f} s in the future; at most "
                f"{MAX_CLOCK_SKEW.total_seconds():.0f} s of clock difference is accepted"
            )
        return parsed

    @field_validator("message_id", mode="before")
    @classmethod
    def _an_id(cls, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"expected a string or an integer, got {type(value).__name__}")
        value = str(value)
        if not value or len(value) > MAX_MESSAGE_ID_LENGTH or any(ch.isspace() for ch in value):
            raise ValueError(f"not a valid id (1 to {MAX_MESSAGE_ID_LENGTH} characters, no spaces)")
        if not storable(value):
            raise ValueError("not a valid id (no NUL or lone surrogate: the database cannot store them)")
        return value


_UNKNOWN_FIELD = f"unknown field (expected {', '.join(PostedMessage.model_fields)})"


# -- auth ---------------------------------------------------------------------------------------


@bp.before_request
def authenticate():
    if request.endpoint == "api.openapi":
        return None
    keys = current_app.config["ENVIRONMENT"].api_keys
    if not keys:
        raise ApiError("the API is disabled: set TICKETPULSE_API_KEYS to one or more keys", 403)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            "Authorization: missing; send `Authorization: Bearer <key>`", 401, **{"WWW-Authenticate": "Bearer"}
        )
    if not key_matches(token.strip(), keys):
        raise ApiError(
            "Authorization: unknown API key", 401,
            **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    # Werkzeug decodes the query string as strict UTF-8 when ?account= is read: a 500 otherwise.
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("query string: not UTF-8; percent-encode ?account=", 400) from None
    return None


def key_matches(token: str, keys: tuple[str, ...]) -> bool:
    """Constant-time against every key: the time taken says nothing of which key is close."""
    matched = False
    for key in keys:
        matched |= same_secret(token, key)
    return matched


# -- views --------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)


@bp.post("/conversations/<conversation_id>/messages")
def post_message(conversation_id: str):
    conversation_id = checked_conversation_id(conversation_id)
    posted = read_message()
    text = clean_text(clean_string(posted.text))
    if not text.strip():
        raise PayloadError("text", "empty once cleaned of markup; send the message's text")
    message = Message(
        conversation_id=conversation_id,
        body=clean_string(posted.text),
        text=text,
        fingerprint=text_fingerprint(text),
        author=AuthorRole(posted.author),
        commented_at=posted.time or datetime.now(timezone.utc),
        message_id=posted.message_id,
    )
    try:
        answer = conversations().post(message)
    except ScoringError as exc:
        # Nothing was stored: the caller's retry (with the same message_id) is safe.
        log.error("conversation %s: %s", conversation_id, exc)
        raise ApiError(f"{exc}; nothing was stored, retry later", 503, **{"Retry-After": SCORER_RETRY_AFTER}) from None
    status = "duplicate" if answer.duplicate else answer.action
    metrics.API_MESSAGES.labels(outcome=status).inc()
    log.info(
        "conversation %s: message %s %s%s", conversation_id, answer.message_id or "-", status,
        f" ({answer.decision.severity}: {answer.reason})" if answer.escalate else "",
    )
    body = {"conversation_id": conversation_id, **answer_json(answer)}
    return jsonify(body), 200 if answer.duplicate else 201


@bp.get("/conversations/<conversation_id>")
def get_conversation(conversation_id: str):
    conversation_id = checked_conversation_id(conversation_id)
    try:
        state = conversations().conversation(conversation_id)
    except UnknownConversation:
        raise ApiError(f"conversation_id: no conversation {conversation_id!r}; post a message to start one", 404)
    return jsonify({"conversation_id": conversation_id, **state_json(state)})


@bp.get("/tickets/<helpdesk>/<number>")
def get_ticket(helpdesk: str, number: str):
    if helpdesk not in HELPDESKS:
        raise ApiError(f"helpdesk: expected one of {', '.join(HELPDESKS)}, got {helpdesk!r}", 404)
    stored = ticket_number(number)
    if stored is None:
        raise ApiError(f"number: not a ticket number: {number[:40]!r}", 404)
    number = stored
    account = request.args.get("account") or None
    if account is not None and not storable(account):
        raise ApiError(f"account: not an account id: {account[:40]!r}", 400)
    try:
        state = conversations().ticket(helpdesk, number, account)
    except UnknownConversation:
        raise ApiError(_not_found(helpdesk, number, account), 404) from None
    except AmbiguousTicket:
        raise ApiError(f"account: {helpdesk} ticket {number} exists in several accounts; add ?account=<id>", 400)
    return jsonify({"helpdesk": helpdesk, "ticket": number, **state_json(state)})


def _not_found(helpdesk: str, number: str, account: str | None) -> str:
    """A ticket that has reached ticketpulse under other accounts than ?account= says so, naming them."""
    if account is not None:
        with current_app.extensions["ticketpulse.sessions"]() as session:
            accounts = reports.accounts_with(session, helpdesk, number, ACCOUNTS_NAMED + 1)
        if accounts:
            named = ", ".join(repr(a) for a in accounts[:ACCOUNTS_NAMED]) + (", ..." if len(accounts) > ACCOUNTS_NAMED else "")
            fix = f"?account={accounts[0]}, or leave it out" if len(accounts) == 1 else "one of them as ?account="
            return (f"account: {helpdesk} ticket {number} is not under account {account[:40]!r}; it is under "
                    f"{'account' if len(accounts) == 1 else 'accounts'} {named}: give {fix}")
    return f"number: no {helpdesk} ticket {number} has reached ticketpulse"


# -- reading the request ------------------------------------------------------------------------


def checked_conversation_id(value: str) -> str:
    if not CONVERSATION_ID.fullmatch(value):
        raise ApiError(f"conversation_id: {CONVERSATION_ID_RULE}", 400)
    return value


def read_message() -> PostedMessage:
    try:
        body = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body", "not UTF-8 text") from None
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PayloadError("body", f"not valid JSON ({exc}); expected an object with \"text\"") from None
    except RecursionError:
        raise PayloadError("body", "nested too deeply") from None
    if not isinstance(data, dict):
        raise PayloadError("body", "expected a JSON object with \"text\"")
    try:
        return PostedMessage.model_validate(data)
    except ValidationError as exc:
        raise ApiError("; ".join(field_problems(exc, top="body", unknown=_UNKNOWN_FIELD)), 400) from None


# -- the domain, per request --------------------------------------------------------------------


def conversations() -> Conversations:
    return Conversations(
        current_app.extensions["ticketpulse.sessions"], scorer(current_app), current_app.config["TICKETPULSE"]
    )


def scorer(app: Flask):
    """The app's scorer: given by `ticketpulse serve` (or a test), which replaces it on a reload;
    else built on first use, and again when a reloaded config changed its settings (gunicorn)."""
    config = app.config["TICKETPULSE"]
    found = _current_scorer(app, config)
    if found is not None:
        return found
    with _scorer_lock:
        found = _current_scorer(app, config)
        if found is None:
            from ticketpulse.sentiment.factory import build_scorer

            try:
                found = build_scorer(config, app.config["ENVIRONMENT"])
            except ConfigError as exc:
                # Retried, as the README promises: a reloaded config builds it anew.
                raise ApiError(f"scoring unavailable: {exc}", 503, **{"Retry-After": SCORER_RETRY_AFTER}) from None
            app.extensions["ticketpulse.scorer"] = found
            app.extensions[_BUILT_FOR] = scorer_settings(config)
    return found


def _current_scorer(app: Flask, config):
    """The scorer to use; None when there is none yet, or the config it was built for changed."""
    found = app.extensions.get("ticketpulse.scorer")
    built_for = app.extensions.get(_BUILT_FOR)  # None for a scorer given by `serve` or a test
    return found if found is not None and built_for in (None, scorer_settings(config)) else None


# -- answers ------------------------------------------------------------------------------------


def score_json(score: SentimentScore | ScorePoint | None) -> dict | None:
    if score is None:
        return None
    body = {
        "score": score.score,
        "label": score.label,
        "frustration": score.frustration,
        "urgency": score.urgency,
    }
    if isinstance(score, SentimentScore):
        body["scorer"] = score.scorer
        if score.fallback_reason:
            body["fallback_reason"] = score.fallback_reason
        if score.unsupported_language:  # not read by the scorer: kept out of the rules
            body["unsupported_language"] = score.unsupported_language
    return body


def point_json(point: ScorePoint) -> dict:
    return {
        "time": iso(point.commented_at),
        "score": point.score,
        "label": point.label,
        "frustration": point.frustration,
        "urgency": point.urgency,
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def state_json(state: State) -> dict:
    trajectory = state.trajectory
    last = state.last_escalation
    return {
        "messages": state.messages,
        "scored_messages": state.scored_messages,
        "score": score_json(trajectory.current) if trajectory else None,
        "trend": (trajectory.trend if trajectory else Trend.INSUFFICIENT_DATA).value,
        "trend_delta": trajectory.trend_delta if trajectory else 0.0,
        "peak_frustration": trajectory.peak_frustration if trajectory else None,
        "consecutive_negative": trajectory.consecutive_negative if trajectory else 0,
        "history": [point_json(point) for point in trajectory.history] if trajectory else [],
        "escalated_severity": state.escalated_severity,
        "last_escalation": (
            {
                "severity": last.severity,
                "rule": last.rule,
                "status": last.status,
                "time": iso(last.created_at),
                "note": last.note,
            }
            if last
            else None
        ),
        "decision": (
            {"severity": state.decision.severity, "rule": state.decision.rule, "reason": state.decision.reason}
            if state.decision
            else None
        ),
        "tone": {"label": state.tone.label, "instruction": state.tone.instruction},
    }


def answer_json(answer: Answer) -> dict:
    state = state_json(answer.state)
    decision = answer.decision
    return {
        "message_id": answer.message_id,
        "duplicate": answer.duplicate,
        "scored": answer.score is not None,
        "action": answer.action,
        "severity": decision.severity if answer.escalate else None,
        "rule": decision.rule if decision else None,
        "reason": answer.reason,
        "note": answer.note,
        "signals": list(answer.score.cues) if answer.score is not None else [],
        "score": score_json(answer.score),
        "trend": state["trend"],
        "trend_delta": state["trend_delta"],
        "peak_frustration": state["peak_frustration"],
        "consecutive_negative": state["consecutive_negative"],
        "escalated_severity": state["escalated_severity"],
        "scored_messages": state["scored_messages"],
        "history": state["history"],
        "tone": state["tone"],
    }


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return json_error(str(exc), exc.status, **exc.headers)
