"""Freshdesk: the API v2 client, the update body and note, the adapter and the dry-run.

The escalation reads the ticket and its conversations, then sends `PUT /api/v2/tickets/{id}`
(group, priority, and the ticket's tags plus ours: Freshdesk replaces the whole list), then
`POST .../notes` with a private note. Neither is sent twice: on a retry our note on the ticket
shows both were made (an agent may have undone the update since: it is not made again), else the
ticket's tags show whether the update was.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from ticketpulse.escalation.helpdesk import (
    AGENT_UNDID_IT,
    CARRIES_HIGHER,
    Applied,
    EscalationPlan,
    HelpdeskError,
    PermanentError,
    carried,
    escalated_tags,
    is_our_note,
    raised_priority,
    request_record,
)
from ticketpulse.integrations.dry_run import log_dry_run
from ticketpulse.integrations.http import (
    HttpPolicy,
    api_root,
    expect_object,
    expect_strings,
    explained,
    path_segment,
    ticket_gone,
    update_refused,
)

log = logging.getLogger("ticketpulse.freshdesk")

PER_PAGE = 100  # Freshdesk's maximum
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")  # a DNS name, for the log
MAX_PAGES = 100  # 10,000 conversations: far beyond any real ticket; guards against a Link loop


class FreshdeskClient:
    """One small method per remote call."""

    def __init__(self, base_url: str, api_key: str, policy: HttpPolicy | None = None, *,
                 url_variable: str = "FRESHDESK_DOMAIN"):
        self.base_url = api_root(base_url)
        self.policy = policy or HttpPolicy()
        self.url_variable = url_variable  # the one base_url came from: what a 404 on a ticket says to check
        # API key auth: the key as the Basic username, "X" as the password.
        self.auth = (api_key, "X")

    def _url(self, path: str) -> str:
        return f"{self.base_url}/api/v2/{path}"

    def _ticket_url(self, external_id: str, rest: str = "") -> str:
        return self._url(f"tickets/{path_segment(external_id)}{rest}")

    def _exchange(self, method: str, url: str, *, ticket: str | None = None, **kwargs: Any) -> tuple[Any, Any]:
        """The policy's exchange, its errors saying what they mean here (`ticket`: the call's)."""
        try:
            return self.policy.exchange(method, url, auth=self.auth, **kwargs)
        except HelpdeskError as exc:
            raise explained(exc, _meaning(exc.status, ticket, method, self.url_variable)) from None

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._exchange(method, url, **kwargs)[0]

    def get_ticket(self, external_id: str) -> dict[str, Any]:
        url = self._ticket_url(external_id)
        return expect_object(self._request("GET", url, ticket=external_id), None, f"GET {url}")

    def get_current_agent(self) -> dict[str, Any]:
        """GET /api/v2/agents/me: the agent whose API key this is."""
        url = self._url("agents/me")
        return expect_object(self._request("GET", url), None, f"GET {url}")

    def list_groups(self) -> list[dict[str, Any]]:
        """GET /api/v2/groups, every page: id, name, description ..."""
        return self._every_page(self._url("groups"), "groups")

    def update_ticket(self, external_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /api/v2/tickets/{id} with only the changed fields; `tags` replaces the list."""
        return self._request("PUT", self._ticket_url(external_id), ticket=external_id, json=body)

    def add_note(self, external_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v2/tickets/{id}/notes with {"body": html, "private": ...}; 201 + the note.

        Not idempotent: retried in-call only on 429. After a timeout or 5xx the caller looks at
        the conversations before posting again.
        """
        return self._request(
            "POST", self._ticket_url(external_id, "/notes"), ticket=external_id, json=body, idempotent=False
        )

    def list_conversations(self, external_id: str) -> list[dict[str, Any]]:
        """Every reply and note of the ticket."""
        return self._every_page(self._ticket_url(external_id, "/conversations"), f"conversations of ticket {external_id}",
                                ticket=external_id)

    def _every_page(self, url: str, what: str, *, ticket: str | None = None) -> list[dict[str, Any]]:
        """The objects of a list endpoint, following its `Link: <...>; rel="next"` header for at
        most MAX_PAGES pages."""
        next_url: str | None = url
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page, response = self._exchange("GET", next_url, ticket=ticket, params=params)
            if not isinstance(page, list):
                raise PermanentError(f"GET {next_url}: expected a list of {what}, got {type(page).__name__}")
            items.extend(item for item in page if isinstance(item, dict))
            next_url = self._next_page(response.links.get("next", {}).get("url"))
            if next_url is None:
                return items
            params = None  # the next link carries page and per_page
        log.warning("more than %d pages of %s; read the first ones only", MAX_PAGES, what)
        return items

    def _next_page(self, link: str | None) -> str | None:
        """The next page on our base URL: the API key is never sent to a host a header names."""
        if not link:
            return None
        parts = urlsplit(link)
        path = parts.path[parts.path.find("/api/v2/"):] if "/api/v2/" in parts.path else parts.path
        return f"{self.base_url}{path}" + (f"?{parts.query}" if parts.query else "")


def _meaning(status: int | None, ticket: str | None, method: str, url_variable: str) -> str | None:
    """What an answer means for the admin: what to fix, or what is gone for good."""
    if status == 401:
        return "Freshdesk refused the API key: set FRESHDESK_API_KEY to the key in the agent's Profile settings"
    if ticket is None:
        return None
    if status == 404:  # an empty 404; an invalid group is a 400 naming it
        return ticket_gone("Freshdesk", ticket, url_variable)
    if status == 400 and method == "PUT":
        return update_refused("Freshdesk")
    return None


def ticket_path(plan: EscalationPlan) -> str:
    return f"/api/v2/tickets/{plan.external_id}"


PRIORITIES = (1, 2, 3, 4)  # Freshdesk's: low, medium, high, urgent


def freshdesk_update(plan: EscalationPlan, ticket: dict[str, Any]) -> dict[str, Any]:
    """PUT /api/v2/tickets/{id}: Freshdesk replaces the whole tag list, so send the union."""
    body: dict[str, Any] = {
        "priority": int(raised_priority(plan, ticket.get("priority"), PRIORITIES)),
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


def note_on_ticket(conversations: list[dict[str, Any]], note: str, where: str) -> bool:
    """Is this escalation's note (a private note holding it, helpdesk.is_our_note) already on the ticket?"""
    if not note.strip():
        return False
    for conversation in conversations:
        if conversation.get("private") is not True:
            continue
        if is_our_note(_note_text(conversation, where), note):
            return True
    return False


def _note_text(conversation: dict[str, Any], where: str) -> str:
    """A private note's text. A body that is not text is not guessed to be someone else's note
    (posting ours again could double it): failed, naming the field, as the same answer comes again."""
    for key in ("body_text", "body"):
        value = conversation.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise PermanentError(f'{where}: expected "{key}" of a private note as a string, got {type(value).__name__}')
        return value if key == "body_text" else html.unescape(value)
    return ""


class FreshdeskHelpdesk:
    """Two writes: the ticket update (PUT) and a private note (POST), each sent at most once.

    A crash between them, or after the note but before the pipeline records success, is
    recovered on the retry: its conversations say whether the note (and so the update) is done,
    the ticket's tags whether the update is.
    """

    def __init__(self, client: FreshdeskClient) -> None:
        self.client = client

    def apply(self, plan: EscalationPlan) -> Applied:
        ticket = self.client.get_ticket(plan.external_id)
        tags = expect_strings(ticket, "tags", f"GET {ticket_path(plan)}")  # written back: must be the ticket's
        sent: list[dict[str, Any]] = []
        already = carried(tags, plan)
        if already == CARRIES_HIGHER:
            return Applied(requests=[], already=already)  # this one is moot
        # Read before writing: the update always goes first, so our note on the ticket means both
        # were made; tags missing since then are an agent's undoing, not work left to do.
        conversations = self.client.list_conversations(plan.external_id)
        if note_on_ticket(conversations, plan.note, f"GET {ticket_path(plan)}/conversations"):
            if not already:
                log.info("ticket %s: %s", plan.ticket_ref or plan.external_id, AGENT_UNDID_IT)
            return Applied(requests=[], already=already or AGENT_UNDID_IT)
        if not already:
            body = freshdesk_update(plan, ticket)
            record = plan.sending("PUT", ticket_path(plan), body)
            self.client.update_ticket(plan.external_id, body)
            sent.append(record)
        note = freshdesk_note(plan)
        record = plan.sending("POST", f"{ticket_path(plan)}/notes", note)
        self.client.add_note(plan.external_id, note)
        sent.append(record)
        return Applied(requests=sent, already=already)


class DryRunFreshdesk:
    """No credentials: log the exact requests (update and note) that would have been sent."""

    PLACEHOLDER = "https://{domain}.freshdesk.com"

    def __init__(self, base_url: str | None) -> None:
        self.base_url = api_root(base_url or self.PLACEHOLDER)

    def _base_url(self, plan: EscalationPlan) -> str:
        """The configured address, else the host of the ticket's `url` from the webhook body (the
        account it came from), else the placeholder."""
        if self.base_url != self.PLACEHOLDER:
            return self.base_url
        url = plan.snapshot.get("url")
        try:  # read as the webhook read the account from it (webhooks/freshdesk.py account)
            host = urlsplit(url if "//" in url else f"//{url}").hostname if isinstance(url, str) else None
        except ValueError:
            host = None
        return f"https://{host}" if host and _HOST.fullmatch(host) else self.base_url

    def apply(self, plan: EscalationPlan) -> Applied:
        path = ticket_path(plan)
        return log_dry_run("Freshdesk", self._base_url(plan), [
            request_record("PUT", path, freshdesk_update(plan, plan.snapshot)),
            request_record("POST", f"{path}/notes", freshdesk_note(plan)),
        ], plan.ticket_ref)
