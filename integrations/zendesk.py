"""Zendesk: the Support API client, the escalation's update body, the adapter and the dry-run.

The escalation is one `PUT /api/v2/tickets/{id}`: group, priority, tags (Zendesk replaces the
whole list, so the ticket is read first and every other tag kept) and a private comment. It sends
`safe_update` with the `updated_at` it read; a 409 means an agent changed the ticket in between,
so it reads again and retries.
"""

from __future__ import annotations

import logging
from typing import Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from ticketpulse.escalation.helpdesk import (
    Applied,
    ConflictError,
    EscalationPlan,
    TransientError,
    already_escalated,
    escalated_tags,
    request_record,
)
from ticketpulse.integrations.dry_run import log_dry_run
from ticketpulse.integrations.http import HttpPolicy, expect_object, path_segment

log = logging.getLogger("ticketpulse.helpdesk")

CONFLICT_RETRIES = 3  # fresh reads after a 409, within one call


class ZendeskClient:
    """One small method per remote call."""

    def __init__(self, base_url: str, email: str, api_token: str, policy: HttpPolicy | None = None):
        self.base_url = base_url.rstrip("/")
        self.policy = policy or HttpPolicy()
        # API token auth: "{email}/token:{api_token}" as HTTP Basic.
        self.auth = (f"{email}/token", api_token)

    def _ticket_url(self, external_id: str) -> str:
        return f"{self.base_url}/api/v2/tickets/{path_segment(external_id)}"

    def get_ticket(self, external_id: str) -> dict[str, Any]:
        url = self._ticket_url(external_id)
        return expect_object(self.policy.request("GET", url, auth=self.auth), "ticket", f"GET {url}")

    def update_ticket(self, external_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /api/v2/tickets/{id} with body {"ticket": {...}}."""
        return self.policy.request("PUT", self._ticket_url(external_id), json=body, auth=self.auth)


def ticket_path(plan: EscalationPlan) -> str:
    return f"/api/v2/tickets/{plan.external_id}"


def zendesk_update(plan: EscalationPlan, ticket: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "priority": plan.priority,
        "tags": escalated_tags(list(ticket.get("tags") or []), plan),
        "comment": {"body": plan.note, "public": False},
    }
    if plan.group_id is not None:
        body["group_id"] = plan.group_id
    if ticket.get("updated_at"):
        body["safe_update"] = True
        body["updated_stamp"] = ticket["updated_at"]
    return {"ticket": body}


class ZendeskHelpdesk:
    def __init__(self, client: ZendeskClient) -> None:
        self.client = client

    def apply(self, plan: EscalationPlan) -> Applied:
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(ConflictError),
                stop=stop_after_attempt(CONFLICT_RETRIES),
                reraise=True,
                before_sleep=lambda _state: log.info(
                    "zendesk ticket %s changed under us; re-reading", plan.external_id
                ),
            ):
                with attempt:
                    return self._apply_once(plan)
        except ConflictError:
            raise TransientError(
                f"zendesk ticket {plan.external_id}: 409 conflict {CONFLICT_RETRIES} times", status=409
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply_once(self, plan: EscalationPlan) -> Applied:
        ticket = self.client.get_ticket(plan.external_id)
        if already_escalated(list(ticket.get("tags") or []), plan):
            return Applied(requests=[], already=True)
        body = zendesk_update(plan, ticket)
        record = plan.sending("PUT", ticket_path(plan), body)
        self.client.update_ticket(plan.external_id, body)
        return Applied(requests=[record])


class DryRunZendesk:
    """No credentials: log the exact request that would have been sent, send nothing."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = (base_url or "https://{subdomain}.zendesk.com").rstrip("/")

    def apply(self, plan: EscalationPlan) -> Applied:
        body = zendesk_update(plan, plan.snapshot)
        return log_dry_run("Zendesk", self.base_url, [request_record("PUT", ticket_path(plan), body)])
