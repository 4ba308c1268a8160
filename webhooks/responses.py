"""The web app's JSON answers: `{"error": ...}` with a status, and the database-down 503."""

from __future__ import annotations

from flask import Response, jsonify

# Seconds, as the Retry-After header of a 503: Zendesk retries a 503 only when it is under 60 s.
DATABASE_DOWN_RETRY_AFTER = "10"


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
