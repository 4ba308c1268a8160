"""Zendesk Support API client: one small method per remote call."""

from __future__ import annotations

from typing import Any

from integrations.http import HttpPolicy, expect_object, path_segment


class ZendeskClient:
    def __init__(self, base_url: str, email: str, api_token: str, policy: HttpPolicy | None = None):
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HttpPolicy()
        # API token auth: "{email}/token:{api_token}" as HTTP Basic.
        self.auth = (f"{email}/token", api_token)

    def _url(self, path: str) -> str:
        return f"{self.base_url}/api/v2/{path}"

    def get_ticket(self, ticket_id: str) -> dict[str, Any]:
        url = self._url(f"tickets/{path_segment(ticket_id)}")
        return expect_object(self.policy.request("GET", url, auth=self.auth), "ticket", f"GET {url}")

    def update_ticket(self, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /api/v2/tickets/{id} with body {"ticket": {...}}."""
        url = self._url(f"tickets/{path_segment(ticket_id)}")
        return self.policy.request("PUT", url, json=body, auth=self.auth)
