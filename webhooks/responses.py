"""The web app's JSON answers: `{"error": ...}` with a status, and the database-down 503; the
security headers every answer carries."""

from __future__ import annotations

from flask import Response, jsonify

# Seconds, as the Retry-After header of a 503: Zendesk retries a 503 only when it is under 60 s.
DATABASE_DOWN_RETRY_AFTER = "10"
# No answer is sniffed as HTML (a JSON error quoting a request), none is framed by another site
# (the dashboard's verdict buttons clicked through a decoy page), and the dashboard's pages load
# nothing but their own stylesheet: no script runs, whatever a customer's message holds.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
}


def json_error(message: str, status: int, **headers: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers)
    return response


def database_unavailable(response: Response) -> Response:
    """A 503 that tells the helpdesk when to try again."""
    response.status_code = 503
    response.headers["Retry-After"] = DATABASE_DOWN_RETRY_AFTER
    return response


_SECURITY_HEADERS_BY_KEY = {name.lower(): (name, value) for name, value in SECURITY_HEADERS.items()}


def with_security_headers(response: Response) -> Response:
    """Every answer of the app; a view that sets one of them keeps its own. (One pass over the
    answer's few headers: four `setdefault`s, each a scan, were a tenth of a webhook's own time.)"""
    present = set(response.headers.keys(lower=True))
    response.headers.extend([header for key, header in _SECURITY_HEADERS_BY_KEY.items() if key not in present])
    return response
