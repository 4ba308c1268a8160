"""Applying an escalation to a helpdesk: the senior group, a priority, tags and a private note."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from escalation.rules import severity_rank
from integrations.http import ConflictError, HttpPolicy, TransientError
from integrations.zendesk import ZendeskClient
from ticketpulse.config import SEVERITIES, Config, Environment, Tags

log = logging.getLogger("ticketpulse.helpdesk")

ZENDESK_CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class EscalationPlan:
    """Everything needed to escalate one ticket, independent of the helpdesk's API shape."""

    ticket_id: str
    severity: str
    group_id: int | None
    priority: str | int
    note: str
    tags: Tags
    # The ticket as the webhook last described it; used when no API can be read (dry-run).
    snapshot: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What was (or, in dry-run, would have been) sent; `already` when the ticket had it."""

    requests: list[dict[str, Any]]
    dry_run: bool = False
    already: bool = False


class Helpdesk(Protocol):
    def apply(self, plan: EscalationPlan) -> Applied: ...


def escalated_tags(current: list[str], plan: EscalationPlan) -> list[str]:
    """The ticket's tags with ours added; our older severity tag replaced, every other tag kept."""
    ours = {plan.tags.severity_tag(level) for level in SEVERITIES}
    kept = [tag for tag in current if tag not in ours]
    wanted = [plan.tags.escalated, plan.tags.severity_tag(plan.severity)]
    return list(dict.fromkeys(kept + wanted))


def already_escalated(current: list[str], plan: EscalationPlan) -> bool:
    """True when the ticket already carries this severity or a higher one (a retry after a crash)."""
    return any(
        plan.tags.severity_tag(level) in current
        for level in SEVERITIES
        if severity_rank(level) >= severity_rank(plan.severity)
    )


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
        for _ in range(ZENDESK_CONFLICT_RETRIES):
            ticket = self.client.get_ticket(plan.ticket_id)
            if already_escalated(list(ticket.get("tags") or []), plan):
                return Applied(requests=[], already=True)
            body = zendesk_update(plan, ticket)
            try:
                self.client.update_ticket(plan.ticket_id, body)
            except ConflictError:
                log.info("zendesk ticket %s changed under us; re-reading", plan.ticket_id)
                continue
            return Applied(requests=[{"method": "PUT", "path": f"/api/v2/tickets/{plan.ticket_id}", "json": body}])
        raise TransientError(f"zendesk ticket {plan.ticket_id}: 409 conflict {ZENDESK_CONFLICT_RETRIES} times", status=409)


class DryRunZendesk:
    """No credentials: log the exact request that would have been sent, send nothing."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = (base_url or "https://{subdomain}.zendesk.com").rstrip("/")

    def apply(self, plan: EscalationPlan) -> Applied:
        body = zendesk_update(plan, plan.snapshot)
        path = f"/api/v2/tickets/{plan.ticket_id}"
        log.warning("DRY RUN (no Zendesk credentials): PUT %s%s %s", self.base_url, path, json.dumps(body))
        return Applied(requests=[{"method": "PUT", "path": path, "json": body}], dry_run=True)


def build_helpdesks(config: Config, env: Environment, policy: HttpPolicy | None = None) -> dict[str, Helpdesk]:
    helpdesks: dict[str, Helpdesk] = {}
    if env.zendesk_api_url and env.zendesk_email and env.zendesk_api_token:
        client = ZendeskClient(env.zendesk_api_url, env.zendesk_email, env.zendesk_api_token, policy)
        helpdesks["zendesk"] = ZendeskHelpdesk(client)
    else:
        helpdesks["zendesk"] = DryRunZendesk(env.zendesk_api_url)
    return helpdesks


def plan_for(config: Config, helpdesk: str, ticket_id: str, severity: str, note: str, snapshot: dict) -> EscalationPlan:
    section = getattr(config, helpdesk)
    return EscalationPlan(
        ticket_id=ticket_id,
        severity=severity,
        group_id=section.group_for(severity),
        priority=getattr(section.priority, severity),
        note=note,
        tags=config.tags,
        snapshot=snapshot,
    )
