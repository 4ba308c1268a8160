"""Every refused webhook is logged once with its reason and counted in /metrics.

Never the body or the secret: the reason label is one of a small fixed set, and the log line
carries the error message we answer with (which names a header or field, not its value).
"""

from __future__ import annotations

import logging

from flask import request

from ticketpulse import metrics

log = logging.getLogger("ticketpulse.webhooks")

HELPDESKS = ("zendesk", "freshdesk")
WEBHOOK_SECRETS = {"zendesk": "ZENDESK_WEBHOOK_SECRET", "freshdesk": "FRESHDESK_WEBHOOK_SECRET"}
MAX_MESSAGE = 300
# reason label per HTTP status when the error does not carry its own `reason`.
REASONS = {400: "invalid_payload", 401: "authentication_failed", 413: "too_large"}


def webhook_helpdesk(path: str | None = None) -> str | None:
    """`zendesk` for a request to /webhooks/zendesk (or below it), else None; `path` defaults to
    the current Flask request's."""
    parts = (request.path if path is None else path).split("/")
    if len(parts) >= 3 and parts[1] == "webhooks" and parts[2] in HELPDESKS:
        return parts[2]
    return None


def record_refusal(status: int, message: str, reason: str | None = None) -> None:
    """Log and count a 4xx answer to a webhook; other paths are not webhooks and not counted."""
    record_server_refusal(request.method, request.path, request.remote_addr, status, message, reason)


def record_server_refusal(
    method: str, path: str, remote_addr: str | None, status: int, message: str, reason: str | None = None
) -> None:
    """The same, for a request the web server refused before the app saw it (`serve`'s waitress
    answers an oversized body's 413 itself)."""
    helpdesk = webhook_helpdesk(path)
    if helpdesk is None:
        return
    reason = reason or REASONS.get(status) or f"http_{status}"
    metrics.WEBHOOK_REFUSALS.labels(helpdesk=helpdesk, reason=reason).inc()
    log.warning(
        "refused %s %s from %s: %d %s: %s", method, path, remote_addr or "?", status, reason, message[:MAX_MESSAGE],
    )


def authentication_reason(exc: Exception, secret: str | None) -> str:
    """`secret_not_set` when the server has no secret (every delivery fails: a setup mistake),
    else the error's own `reason` if it has one, else `authentication_failed`."""
    if not secret:
        return "secret_not_set"
    return getattr(exc, "reason", None) or REASONS[401]


def missing_webhook_secrets(env) -> list[str]:
    """One warning per webhook endpoint that refuses everything because its secret is unset."""
    return [
        f"{variable} is not set: every POST /webhooks/{helpdesk} is refused with 401 "
        f"(set it to the secret the {helpdesk.capitalize()} webhook sends)"
        for helpdesk, variable in WEBHOOK_SECRETS.items()
        if not getattr(env, variable.lower())
    ]
