"""What the web app answers when the database is down, shared by the error handlers and /healthz."""

from __future__ import annotations

# Seconds, as the Retry-After header of a 503: Zendesk retries a 503 only when it is under 60 s.
DATABASE_DOWN_RETRY_AFTER = "10"
