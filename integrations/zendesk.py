"""Zendesk: the Support API client, the escalation's update body, the adapter and the dry-run.

The escalation is one `PUT /api/v2/tickets/{id}`: group, priority, tags (Zendesk replaces the
whole list, so the ticket is read first and every other tag kept) and a private comment. It sends
`safe_update` with the `updated_at` it read; a 409 means an agent changed the ticket in between,
so it reads again and retries. A 422 because the ticket's assignee is no member of the group it
moves to is sent again with the ticket unassigned.

A retry after a write whose answer was never seen (a timeout, a 5xx, a crash right after sending)
also reads the ticket's comments: our private note there means the update was made, and tags
missing since are an agent's undoing, not work left to do. A first try reads no comments.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterator
from urllib.parse import urlsplit

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from ticketpulse.escalation.helpdesk import (
    AGENT_UNDID_IT,
    Applied,
    ConflictError,
    EscalationPlan,
    HelpdeskError,
    PermanentError,
    TransientError,
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

log = logging.getLogger("ticketpulse.helpdesk")

# Zendesk's validation details as integrations/http.py lists them: "(field: ...; field: ...)".
_ASSIGNEE_DETAIL = re.compile(r"[(;] ?assignee: ")
CONFLICT_RETRIES = 3  # fresh reads after a 409, within one call
MAX_PAGES = 100  # of webhooks, triggers, groups or comments: far beyond any account; guards against a cursor loop
COMMENTS_PAGE_SIZE = 100  # Zendesk's maximum page[size]; a ticket holds at most 5,000 comments


class ZendeskClient:
    """One small method per remote call."""

    def __init__(self, base_url: str, email: str, api_token: str, policy: HttpPolicy | None = None, *,
                 url_variable: str = "ZENDESK_SUBDOMAIN"):
        self.base_url = api_root(base_url)
        self.policy = policy or HttpPolicy()
        self.url_variable = url_variable  # the one base_url came from: what a 404 on a ticket says to check
        # API token auth: "{email}/token:{api_token}" as HTTP Basic.
        self.auth = (f"{email}/token", api_token)

    def _request(self, method: str, url: str, *, ticket: str | None = None, **kwargs: Any) -> Any:
        """The policy's request, its errors saying what they mean here (`ticket`: the call's)."""
        try:
            return self.policy.request(method, url, auth=self.auth, **kwargs)
        except HelpdeskError as exc:
            raise explained(exc, _meaning(exc.status, ticket, method, self.url_variable)) from None

    def _ticket_url(self, external_id: str) -> str:
        return f"{self.base_url}/api/v2/tickets/{path_segment(external_id)}"

    def get_ticket(self, external_id: str) -> dict[str, Any]:
        url = self._ticket_url(external_id)
        return expect_object(self._request("GET", url, ticket=external_id), "ticket", f"GET {url}")

    def update_ticket(self, external_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /api/v2/tickets/{id} with body {"ticket": {...}}."""
        return self._request("PUT", self._ticket_url(external_id), ticket=external_id, json=body)

    def list_comments(self, external_id: str) -> Iterator[dict[str, Any]]:
        """GET /api/v2/tickets/{id}/comments, newest first (cursor pagination: meta.has_more /
        after_cursor), each page fetched only when the caller reads on: our note is among the
        latest comments, so a search for it stops after a page or two."""
        url = f"{self._ticket_url(external_id)}/comments"
        params: dict[str, Any] = {"page[size]": COMMENTS_PAGE_SIZE, "sort": "-created_at"}
        for _ in range(MAX_PAGES):
            page = expect_object(self._request("GET", url, ticket=external_id, params=params), None, f"GET {url}")
            comments = page.get("comments")
            if not isinstance(comments, list):  # read as "no note" it would have the update sent again
                raise PermanentError(f'GET {url}: expected "comments" as a list, got {type(comments).__name__}')
            yield from (comment for comment in comments if isinstance(comment, dict))
            meta = page.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return
            params["page[after]"] = meta["after_cursor"]
        log.warning("more than %d pages of comments on ticket %s; read the latest ones only", MAX_PAGES, external_id)

    # -- setup and check-config: the account, its webhooks and triggers ---------------------------

    def _api(self, path: str) -> str:
        return f"{self.base_url}/api/v2/{path}"

    def get_current_user(self) -> dict[str, Any]:
        """GET /api/v2/users/me: whom the credentials authenticate (anonymous: id null)."""
        url = self._api("users/me")
        return expect_object(self._request("GET", url), "user", f"GET {url}")

    def list_webhooks(self, name_contains: str | None = None) -> list[dict[str, Any]]:
        """GET /api/v2/webhooks, every page (cursor pagination: meta.has_more / after_cursor)."""
        url = self._api("webhooks")
        params: dict[str, Any] = {"page[size]": 100}
        if name_contains:
            params["filter[name_contains]"] = name_contains
        webhooks: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page = expect_object(self._request("GET", url, params=params), None, f"GET {url}")
            webhooks.extend(item for item in page.get("webhooks") or [] if isinstance(item, dict))
            meta = page.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                break
            params["page[after]"] = meta["after_cursor"]
        return webhooks

    def create_webhook(self, webhook: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v2/webhooks {"webhook": {...}} → 201 {"webhook": {"id": ...}}. Not idempotent."""
        url = self._api("webhooks")
        answer = self._request("POST", url, json={"webhook": webhook}, idempotent=False)
        return expect_object(answer, "webhook", f"POST {url}")

    def update_webhook(self, webhook_id: str, webhook: dict[str, Any]) -> None:
        """PUT /api/v2/webhooks/{id} {"webhook": {...}} → 204."""
        self._request("PUT", self._api(f"webhooks/{path_segment(webhook_id)}"), json={"webhook": webhook})

    def get_signing_secret(self, webhook_id: str) -> str:
        """GET /api/v2/webhooks/{id}/signing_secret → {"signing_secret": {"algorithm", "secret"}}."""
        url = self._api(f"webhooks/{path_segment(webhook_id)}/signing_secret")
        secret = expect_object(self._request("GET", url), "signing_secret", f"GET {url}").get("secret")
        if not isinstance(secret, str) or not secret:
            raise TransientError(f"GET {url}: no secret in the answer")
        return secret

    def test_webhook(self, webhook_id: str, request: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v2/webhooks/test?webhook_id={id}: Zendesk sends `request` to the endpoint,
        signed with that webhook's secret, and answers with what the endpoint answered."""
        url = self._api("webhooks/test")
        answer = self._request(
            "POST", url, params={"webhook_id": webhook_id}, json={"request": request}, idempotent=False
        )
        return expect_object(answer, "response", f"POST {url}")

    def list_triggers(self) -> list[dict[str, Any]]:
        """GET /api/v2/triggers, every page."""
        return self._every_offset_page("triggers")

    def list_groups(self) -> list[dict[str, Any]]:
        """GET /api/v2/groups, every page: id, name, deleted ... (setup checks the configured ids)."""
        return self._every_offset_page("groups")

    def _every_offset_page(self, name: str) -> list[dict[str, Any]]:
        """The objects of a list endpoint with offset pagination (`next_page`), at most MAX_PAGES pages."""
        url: str | None = self._api(name)
        params: dict[str, Any] | None = {"per_page": 100}
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page = expect_object(self._request("GET", url, params=params), None, f"GET {url}")
            found.extend(item for item in page.get(name) or [] if isinstance(item, dict))
            next_page = page.get("next_page")
            if not next_page:
                break
            url, params = self._same_host(next_page), None
        return found

    def create_trigger(self, trigger: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v2/triggers {"trigger": {...}} → 201 {"trigger": {...}}. Not idempotent."""
        url = self._api("triggers")
        answer = self._request("POST", url, json={"trigger": trigger}, idempotent=False)
        return expect_object(answer, "trigger", f"POST {url}")

    def update_trigger(self, trigger_id: int | str, trigger: dict[str, Any]) -> dict[str, Any]:
        """PUT /api/v2/triggers/{id} {"trigger": {...}} → 200 {"trigger": {...}}."""
        url = self._api(f"triggers/{path_segment(str(trigger_id))}")
        return expect_object(self._request("PUT", url, json={"trigger": trigger}), "trigger", f"PUT {url}")

    def _same_host(self, link: str) -> str:
        """A next-page link on our base URL: the token is never sent to a host a body names."""
        parts = urlsplit(link)
        path = parts.path[parts.path.find("/api/v2/"):] if "/api/v2/" in parts.path else parts.path
        return f"{self.base_url}{path}" + (f"?{parts.query}" if parts.query else "")


def _meaning(status: int | None, ticket: str | None, method: str, url_variable: str) -> str | None:
    """What an answer means for the admin: what to fix, or what is gone for good."""
    if status == 401:
        return ("Zendesk refused the credentials: check ZENDESK_EMAIL and ZENDESK_API_TOKEN, and that token "
                "access is enabled (Admin Center > Apps and integrations > APIs)")
    if ticket is None:
        return None
    if status == 404:
        return ticket_gone("Zendesk", ticket, url_variable)
    if status == 422 and method == "PUT":
        return update_refused("Zendesk")
    return None


def ticket_path(plan: EscalationPlan) -> str:
    return f"/api/v2/tickets/{plan.external_id}"


PRIORITIES = ("low", "normal", "high", "urgent")  # Zendesk's, lowest first


def zendesk_update(plan: EscalationPlan, ticket: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "priority": raised_priority(plan, ticket.get("priority"), PRIORITIES),
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
                before_sleep=lambda state: self._conflicted(plan, state.outcome.exception()),
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
        # What is written back must be what was read: the tags (replaced) and the safe_update stamp.
        where = f"GET {ticket_path(plan)}"
        tags = expect_strings(ticket, "tags", where)
        if ticket.get("updated_at") is not None and not isinstance(ticket["updated_at"], str):
            raise PermanentError(f'{where}: expected "updated_at" as a string, got {type(ticket["updated_at"]).__name__}')
        if already := carried(tags, plan):
            return Applied(requests=[], already=already)
        if plan.may_be_applied_already and self._note_on_ticket(plan):
            # The update carries the note, so the note means the update was made.
            log.info("ticket %s: %s", plan.ticket_ref or plan.external_id, AGENT_UNDID_IT)
            return Applied(requests=[], already=AGENT_UNDID_IT)
        body = zendesk_update(plan, ticket)
        try:
            record = self._send(plan, body)
        except PermanentError as exc:
            if not _assignee_outside_group(exc, body, ticket):
                raise
            # The assignee is no member of the senior group: Zendesk refused the whole update
            # (nothing was written, the stamp still holds). As its agent UI does on a group
            # change, the ticket moves unassigned, for the senior group to take.
            plan.refused(exc)
            log.info("ticket %s: assignee %s is not in group %s; moving it unassigned",
                     plan.ticket_ref or plan.external_id, ticket.get("assignee_id"), plan.group_id)
            body["ticket"]["assignee_id"] = None
            record = self._send(plan, body)
        return Applied(requests=[record])

    @staticmethod
    def _conflicted(plan: EscalationPlan, conflict: BaseException | None) -> None:
        """A 409 on the update, about to be read again and retried."""
        if isinstance(conflict, ConflictError):
            plan.refused(conflict)
        log.info("ticket %s: changed under us (409); re-reading", plan.ticket_ref or plan.external_id)

    def _note_on_ticket(self, plan: EscalationPlan) -> bool:
        """Is this escalation's note (a private comment holding it) on the ticket?"""
        where = f"GET {ticket_path(plan)}/comments"
        return any(
            comment.get("public") is False and is_our_note(_comment_text(comment, where), plan.note)
            for comment in self.client.list_comments(plan.external_id)
        )

    def _send(self, plan: EscalationPlan, body: dict[str, Any]) -> dict[str, Any]:
        record = plan.sending("PUT", ticket_path(plan), body)
        self.client.update_ticket(plan.external_id, body)
        return record


def _comment_text(comment: dict[str, Any], where: str) -> str:
    """A comment's text as sent (`body`; `plain_body` without formatting). A text that is not a
    string is not guessed to be someone else's (the update sent again would double the note):
    failed, naming the field, as the same answer comes again."""
    for key in ("body", "plain_body"):
        value = comment.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise PermanentError(f'{where}: expected "{key}" of a comment as a string, got {type(value).__name__}')
        return value
    return ""


def _assignee_outside_group(exc: PermanentError, body: dict[str, Any], ticket: dict[str, Any]) -> bool:
    """Zendesk's 422 for a group change whose assignee is not a member of the new group:
    `{"details": {"assignee": [{"description": "Assignee: is not a member of the group"}]}}`."""
    return (
        exc.status == 422
        and "group_id" in body["ticket"]
        and ticket.get("assignee_id") is not None
        and _ASSIGNEE_DETAIL.search(str(exc)) is not None
    )


class DryRunZendesk:
    """No credentials: log the exact request that would have been sent, send nothing."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = api_root(base_url or "https://{subdomain}.zendesk.com")

    def apply(self, plan: EscalationPlan) -> Applied:
        body = zendesk_update(plan, plan.snapshot)
        return log_dry_run("Zendesk", self.base_url, [request_record("PUT", ticket_path(plan), body)], plan.ticket_ref)
