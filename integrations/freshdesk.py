"""Freshdesk API v2 client: one small method per remote call."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from integrations.http import HttpPolicy, PermanentError, expect_object, path_segment

log = logging.getLogger("ticketpulse.freshdesk")

PER_PAGE = 100  # Freshdesk's maximum
MAX_PAGES = 100  # 10,000 conversations: far beyond any real ticket; guards against a Link loop


class FreshdeskClient:
    def __init__(self, base_url: str, api_key: str, policy: HttpPolicy | None = None):
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HttpPolicy()
        # API key auth: the key as the Basic username, "X" as the password.
        self.auth = (api_key, "X")

    def _url(self, path: str) -> str:
        return f"{self.base_url}/api/v2/{path}"

    def _ticket_url(self, ticket_id: str, rest: str = "") -> str:
        return self._url(f"tickets/{path_segment(ticket_id)}{rest}")

    def get_ticket(self, ticket_id: str) -> dict[str, Any]:
        url = self._ticket_url(ticket_id)
        return expect_object(self.policy.request("GET", url, auth=self.auth), None, f"GET {url}")

    def update_ticket(self, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /api/v2/tickets/{id} with only the changed fields; `tags` replaces the list."""
        return self.policy.request("PUT", self._ticket_url(ticket_id), json=body, auth=self.auth)

    def add_note(self, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v2/tickets/{id}/notes with {"body": html, "private": ...}; 201 + the note.

        Not idempotent: retried in-call only on 429. After a timeout or 5xx the caller looks at
        the conversations before posting again.
        """
        return self.policy.request(
            "POST", self._ticket_url(ticket_id, "/notes"), json=body, auth=self.auth, idempotent=False
        )

    def list_conversations(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every reply and note of the ticket, following the `Link: <...>; rel="next"` header."""
        url: str | None = self._ticket_url(ticket_id, "/conversations")
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        conversations: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page, response = self.policy.exchange("GET", url, params=params, auth=self.auth)
            if not isinstance(page, list):
                raise PermanentError(f"GET {url}: expected a list of conversations, got {type(page).__name__}")
            conversations.extend(item for item in page if isinstance(item, dict))
            url = self._next_page(response.links.get("next", {}).get("url"))
            if url is None:
                return conversations
            params = None  # the next link carries page and per_page
        log.warning("ticket %s: more than %d pages of conversations; read the first ones only", ticket_id, MAX_PAGES)
        return conversations

    def _next_page(self, link: str | None) -> str | None:
        """The next page on our base URL: the API key is never sent to a host a header names."""
        if not link:
            return None
        parts = urlsplit(link)
        path = parts.path[parts.path.find("/api/v2/"):] if "/api/v2/" in parts.path else parts.path
        return f"{self.base_url}{path}" + (f"?{parts.query}" if parts.query else "")
