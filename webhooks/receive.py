"""What every webhook view does: authenticate, parse, store durably, answer fast."""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import current_app, jsonify, request

from ticketpulse.escalation.feedback import TagChange
from ticketpulse.webhooks.events import CommentEvent
from ticketpulse.webhooks.feedback import receive_tags
from ticketpulse.webhooks.inbox import accept
from ticketpulse import metrics
from ticketpulse.models import ticket_ref
from ticketpulse.webhooks import lenient_json
from ticketpulse.webhooks.payload import PayloadError

log = logging.getLogger("ticketpulse.webhooks")


def read_json() -> Any:
    body = request.get_data(cache=True)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body", "not UTF-8 text") from None
    if not text.strip():
        raise PayloadError("body", "empty; expected a JSON object")
    try:
        return lenient_json.loads(text)
    except ValueError as exc:
        raise PayloadError("body", f"not valid JSON ({exc})") from None
    except RecursionError:  # e.g. 50,000 "[": the parser recurses once per level
        raise PayloadError("body", "nested too deeply") from None


def receive(
    authenticate: Callable[[bytes, Any], None],
    parse: Callable[[Any, Any], CommentEvent | TagChange | None],
):
    authenticate(request.get_data(cache=True), request.headers)
    event = parse(read_json(), request.headers)
    if isinstance(event, TagChange):  # feedback on an escalation, not a comment
        return receive_tags(event)
    if event is None:
        return jsonify(status="ignored", reason="not a comment event"), 200
    # Clean the comment now (text, fingerprint and key are cached on the event): cleaning a long
    # HTML comment must not run while the session holds the database's write lock (SQLite takes
    # it at BEGIN IMMEDIATE).
    _fingerprint, key = event.fingerprint, event.comment_key
    sessions = current_app.extensions["ticketpulse.sessions"]
    with sessions() as session:
        result = accept(session, event)
        session.commit()
    status = "duplicate" if result.duplicate else "accepted"
    metrics.WEBHOOKS.labels(helpdesk=event.helpdesk, status=status).inc()
    log.info(
        "ticket %s: %s %s comment=%s key=%s",
        ticket_ref(event.helpdesk, event.account, event.external_id), event.source, status, result.comment_id, key,
    )
    return jsonify(status=status, comment_id=result.comment_id), 200 if result.duplicate else 202
