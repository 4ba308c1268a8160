"""Applying an escalation to a helpdesk: the senior group, a priority, tags and a private note."""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from escalation.rules import severity_rank
from integrations.freshdesk import FreshdeskClient
from integrations.http import ConflictError, HttpPolicy, TransientError
from integrations.zendesk import ZendeskClient
from sentiment.clean import squash_whitespace
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


def request_record(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One write request as Applied.requests (and the escalation row) keep it."""
    return {"method": method, "path": path, "json": body}


def log_dry_run(helpdesk: str, base_url: str, requests: list[dict[str, Any]]) -> Applied:
    """Log the exact requests that would have been sent; send nothing."""
    for sent in requests:
        log.warning(
            "DRY RUN (no %s credentials): %s %s%s %s",
            helpdesk, sent["method"], base_url, sent["path"], json.dumps(sent["json"]),
        )
    return Applied(requests=requests, dry_run=True)


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
            return Applied(requests=[request_record("PUT", f"/api/v2/tickets/{plan.ticket_id}", body)])
        raise TransientError(f"zendesk ticket {plan.ticket_id}: 409 conflict {ZENDESK_CONFLICT_RETRIES} times", status=409)


class DryRunZendesk:
    """No credentials: log the exact request that would have been sent, send nothing."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = (base_url or "https://{subdomain}.zendesk.com").rstrip("/")

    def apply(self, plan: EscalationPlan) -> Applied:
        body = zendesk_update(plan, plan.snapshot)
        return log_dry_run("Zendesk", self.base_url, [request_record("PUT", f"/api/v2/tickets/{plan.ticket_id}", body)])


def freshdesk_update(plan: EscalationPlan, ticket: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v2/tickets/{id}: Freshdesk replaces the whole tag list, so send the union."""
    body: dict[str, Any] = {
        "priority": int(plan.priority),
        "tags": escalated_tags(list(ticket.get("tags") or []), plan),
    }
    if plan.group_id is not None:
        body["group_id"] = plan.group_id
    return body


def note_html(note: str) -> str:
    """The note as simple HTML: escaped, one <br> per line break."""
    return html.escape(note, quote=False).replace("\n", "<br>")


def freshdesk_note(plan: EscalationPlan) -> dict[str, Any]:
    return {"body": note_html(plan.note), "private": True}



def note_on_ticket(conversations: list[dict[str, Any]], note: str) -> bool:
    """Is this escalation's note (a private note with its first line) already on the ticket?"""
    first_line = squash_whitespace(note.splitlines()[0]) if note.strip() else ""
    if not first_line:
        return False
    for conversation in conversations:
        if conversation.get("private") is not True:
            continue
        text = conversation.get("body_text") or html.unescape(conversation.get("body") or "")
        if first_line in squash_whitespace(text):
            return True
    return False


class FreshdeskHelpdesk:
    """Two writes: the ticket update (PUT) and a private note (POST), each sent at most once.

    A crash between them, or after the note but before the pipeline records success, is
    recovered on the retry: the ticket's tags say the update is done, its conversations say
    whether the note is.
    """

    def __init__(self, client: FreshdeskClient) -> None:
        self.client = client

    def apply(self, plan: EscalationPlan) -> Applied:
        ticket = self.client.get_ticket(plan.ticket_id)
        tags = list(ticket.get("tags") or [])
        sent: list[dict[str, Any]] = []
        already = already_escalated(tags, plan)
        if already and plan.tags.severity_tag(plan.severity) not in tags:
            return Applied(requests=[], already=True)  # a higher severity is on it: this one is moot
        if not already:
            body = freshdesk_update(plan, ticket)
            self.client.update_ticket(plan.ticket_id, body)
            sent.append(request_record("PUT", f"/api/v2/tickets/{plan.ticket_id}", body))
        if not note_on_ticket(self.client.list_conversations(plan.ticket_id), plan.note):
            note = freshdesk_note(plan)
            self.client.add_note(plan.ticket_id, note)
            sent.append(request_record("POST", f"/api/v2/tickets/{plan.ticket_id}/notes", note))
        return Applied(requests=sent, already=already)


class DryRunFreshdesk:
    """No credentials: log the exact requests (update and note) that would have been sent."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = (base_url or "https://{domain}.freshdesk.com").rstrip("/")

    def apply(self, plan: EscalationPlan) -> Applied:
        path = f"/api/v2/tickets/{plan.ticket_id}"
        return log_dry_run("Freshdesk", self.base_url, [
            request_record("PUT", path, freshdesk_update(plan, plan.snapshot)),
            request_record("POST", f"{path}/notes", freshdesk_note(plan)),
        ])


def build_helpdesks(config: Config, env: Environment, policy: HttpPolicy | None = None) -> dict[str, Helpdesk]:
    helpdesks: dict[str, Helpdesk] = {}
    if env.zendesk_api_url and env.zendesk_email and env.zendesk_api_token:
        client = ZendeskClient(env.zendesk_api_url, env.zendesk_email, env.zendesk_api_token, policy)
        helpdesks["zendesk"] = ZendeskHelpdesk(client)
    else:
        helpdesks["zendesk"] = DryRunZendesk(env.zendesk_api_url)
    if env.freshdesk_api_url and env.freshdesk_api_key:
        helpdesks["freshdesk"] = FreshdeskHelpdesk(FreshdeskClient(env.freshdesk_api_url, env.freshdesk_api_key, policy))
    else:
        helpdesks["freshdesk"] = DryRunFreshdesk(env.freshdesk_api_url)
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
