"""What every webhook view does: authenticate, parse, store durably, answer fast."""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import current_app, jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from ticketpulse.escalation.feedback import TagChange
from ticketpulse.webhooks.events import CommentEvent
from ticketpulse.escalation.queue import SCORING_BELL
from ticketpulse.webhooks.feedback import receive_tags
from ticketpulse import metrics
from ticketpulse.models import ticket_ref
from ticketpulse.webhooks import lenient_json
from ticketpulse.webhooks.payload import PayloadError

log = logging.getLogger("ticketpulse.webhooks")


def read_body() -> bytes:
    """The raw body, never more than MAX_CONTENT_LENGTH bytes of it read: else 413.

    A Content-Length over the limit is refused before reading (Werkzeug). A chunked body has no
    length: Werkzeug would stop at the limit and hand over a cut body (a signature that does not
    match, JSON that does not parse), so read one byte more than the limit from the server's
    stream and refuse if it is there. (`ticketpulse serve`'s waitress refuses before the app.)
    """
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=True)  # checks Content-Length against the limit
    stream = request.environ["wsgi.input"]
    chunks, size = [], 0
    while size <= limit:
        try:
            chunk = stream.read(limit + 1 - size)
        except Exception as exc:  # the server's own error: broken chunk framing, a dropped connection
            raise BadRequest(f"body: could not be read ({type(exc).__name__}); send it again") from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


def read_json(body: bytes, shape: lenient_json.Shape | None = None) -> Any:
    """The body's JSON; `shape`: the helpdesk template's, where a customer's text sits in it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body", "not UTF-8 text") from None
    if not text.strip():
        raise PayloadError("body", "empty; expected a JSON object")
    try:
        return lenient_json.loads(text, shape)
    except lenient_json.RepeatedKey as exc:
        raise PayloadError("body", f"{exc}: a message that rewrites the body's fields cannot be read safely") from None
    except ValueError as exc:
        raise PayloadError("body", f"not valid JSON ({exc})") from None
    except RecursionError:  # e.g. 50,000 "[": the parser recurses once per level
        raise PayloadError("body", "nested too deeply") from None


def receive(
    helpdesk: str,
    authenticate: Callable[[bytes, Any], None],
    parse: Callable[[Any, Any], CommentEvent | TagChange | None],
    shape: lenient_json.Shape | None = None,
):
    body = read_body()
    authenticate(body, request.headers)
    event = parse(read_json(body, shape), request.headers)
    if isinstance(event, TagChange):  # feedback on an escalation, not a comment
        return receive_tags(event)
    if event is None:
        metrics.WEBHOOKS.labels(helpdesk=helpdesk, status="ignored").inc()
        return jsonify(status="ignored", reason="not a comment event"), 200
    # Clean the comment now (text, fingerprint and key are cached on the event): cleaning a long
    # HTML comment must not run while the session holds the database's write lock (SQLite takes
    # it at BEGIN IMMEDIATE).
    _fingerprint, key = event.fingerprint, event.comment_key
    # One short transaction of Core statements (the hot path: webhooks/inbox.py). No retry loop:
    # the store locks the ticket row, then inserts the comment, and every other writer of
    # comments (the worker) locks the ticket row first too, so it cannot deadlock
    # (tests/test_ingest_locking.py); any other database error is a 503 the helpdesk redelivers.
    result = current_app.extensions["ticketpulse.inbox"].store(event)
    if not result.duplicate:
        SCORING_BELL.ring()  # an idle worker thread in this process (`serve`) starts at once
    status = "duplicate" if result.duplicate else "accepted"
    metrics.WEBHOOKS.labels(helpdesk=event.helpdesk, status=status).inc()
    log.info(
        "ticket %s: %s %s comment=%s key=%s",
        ticket_ref(event.helpdesk, event.account, event.external_id), event.source, status, result.comment_id, key,
    )
    return jsonify(status=status, comment_id=result.comment_id), 200 if result.duplicate else 202
