"""A fake Zendesk Support API on loopback, with the real request and response shapes.

Enforces API-token auth, replaces the tag list on PUT (storing tags in lower case, as Zendesk
does), rejects a stale `updated_stamp` with 409, refuses updates to closed tickets, invalid
priorities, a group that is not one of the account's and an assignee outside the ticket's group
with 422 (`details` per field), and can be told to answer 429/503 with `Retry-After` or to lose
an answer (a proxy's 504 after the request was carried out). A PUT's `comment` is stored as a
comment, served by `GET /api/v2/tickets/{id}/comments` with offset or cursor pagination.
Every request it receives is recorded for the tests to assert on.
"""

from __future__ import annotations

import base64
import html
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import hashlib
import hmac
import json
import secrets

import requests
from flask import Flask, jsonify, request

PRIORITIES = {"urgent", "high", "normal", "low"}
WEBHOOK_FIELDS = {"name", "status", "endpoint", "http_method", "request_format", "subscriptions", "authentication",
                  "custom_headers", "description", "external_source", "signing_secret"}
CONDITIONAL = "conditional_ticket_events"
# Zendesk signs test sends of a webhook that does not exist yet with this static secret.
STATIC_TEST_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
FORBIDDEN = {"error": "Forbidden",
             "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."}


def _webhook_error(status: int, code: str, title: str, detail: str, pointer: str | None = None):
    """The webhooks API's error shape: {"errors": [{code, title, detail, source}]}."""
    error = {"code": code, "title": title, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return jsonify(errors=[error]), status


def _cursor(comment: dict) -> str:
    """An opaque page cursor, as Zendesk's are."""
    return base64.urlsafe_b64encode(f"comment:{comment['id']}".encode()).decode()


def _ulid() -> str:
    return "01" + "".join(secrets.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(24))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + body)): Zendesk's webhook signature."""
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


@dataclass
class Recorded:
    method: str
    path: str
    json: Any
    authorization: str | None


@dataclass
class FakeZendesk:
    email: str = "bot@example.com"
    token: str = "zd-token"
    tickets: dict[str, dict] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    # Scripted failures, consumed one per request: (status, retry_after or None).
    failures: list[tuple[int, str | None]] = field(default_factory=list)
    # The same, only for requests with this method (e.g. {"PUT": [(503, None)]}): nothing is carried out.
    method_failures: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    # Simulate another agent editing the ticket between our read and our write.
    concurrent_edits: int = 0
    # Seconds every answer takes, to keep work in flight (crash tests).
    latency: float = 0.0
    # Answer this many requests with 200 and a body that is not the API's (a proxy's page).
    garbage_answers: int = 0
    # Carry out this many requests of a method, then lose the answer: a 504 from a proxy in between.
    lost_answers: dict[str, int] = field(default_factory=dict)
    # The most comments per page this account answers with (Zendesk: up to 100).
    comments_page_size: int = 100
    _next_comment_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The user the API token belongs to (GET /api/v2/users/me).
    user: dict = field(default_factory=lambda: {
        "id": 361000000001, "name": "Ticketpulse Bot", "email": "bot@example.com", "role": "admin",
        "active": True, "verified": True, "time_zone": "UTC", "locale": "en-US",
    })

    webhooks: dict[str, dict] = field(default_factory=dict)
    webhook_secrets: dict[str, str] = field(default_factory=dict)
    triggers: dict[int, dict] = field(default_factory=dict)
    # What the test endpoint received from Zendesk: (headers, body) per test send.
    test_sends: list[tuple[dict, bytes]] = field(default_factory=list)
    # The most webhooks per page this account answers with (Zendesk: page[size] up to 100).
    webhooks_page_size: int = 100
    account_id: int = 9876543
    # The account's groups (GET /api/v2/groups): id -> name; deleted ones are not listed.
    groups: dict[int, str] = field(default_factory=lambda: {320: "Support", 360001234567: "Senior support"})
    groups_page_size: int = 100
    # Each group's agents: Zendesk refuses (422) a ticket whose assignee is not in its group.
    group_members: dict[int, set[int]] = field(default_factory=lambda: {320: {310}, 360001234567: {311}})

    def add_ticket(self, ticket_id: str, tags: list[str] | None = None, **fields) -> dict:
        ticket = {
            "id": int(ticket_id),
            "status": "open",
            "priority": "normal",
            "group_id": 320,
            "tags": list(tags or []),
            "updated_at": "2025-03-05T17:40:11Z",
            "comments": [],
            **fields,
        }
        self.tickets[str(ticket_id)] = ticket
        return ticket

    def add_comment(self, ticket_id: str, body: str, *, public: bool = True, author_id: int = 301) -> dict:
        """A comment as Zendesk stores it (`author_id` 301: the requester)."""
        ticket = self.tickets[str(ticket_id)]
        self._next_comment_id += 1
        comment = {
            "id": self._next_comment_id, "type": "Comment", "author_id": author_id, "body": body,
            "html_body": f'<div class="zd-comment" dir="auto"><p dir="auto">{html.escape(body)}</p></div>',
            "plain_body": body, "public": public, "attachments": [], "audit_id": self._next_comment_id + 5000,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {}, "custom": {}}, "created_at": ticket["updated_at"],
        }
        ticket["comments"].append(comment)
        return comment

    def private_comments(self, ticket_id: str) -> list[dict]:
        return [comment for comment in self.tickets[str(ticket_id)]["comments"] if comment["public"] is False]

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def _touch(self, ticket: dict) -> None:
        stamp = datetime.fromisoformat(ticket["updated_at"].replace("Z", "+00:00")) + timedelta(seconds=1)
        ticket["updated_at"] = stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def app(self) -> Flask:
        app = Flask("fake-zendesk")

        def authorized() -> bool:
            expected = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
            return request.headers.get("Authorization") == f"Basic {expected}"

        def public(ticket: dict) -> dict:
            return {key: value for key, value in ticket.items() if key != "comments"}

        @app.before_request
        def record_and_gate():
            if self.latency:
                time.sleep(self.latency)
            with self.lock:
                self.requests.append(
                    Recorded(request.method, request.path, request.get_json(silent=True), request.headers.get("Authorization"))
                )
                if not authorized():
                    return jsonify(error="Couldn't authenticate you"), 401
                if self.garbage_answers:
                    self.garbage_answers -= 1
                    return jsonify(maintenance=True, message="Back soon")
                scripted = self.method_failures.get(request.method) or self.failures
                if scripted:
                    status, retry_after = scripted.pop(0)
                    response = jsonify(error="APIRateLimitExceeded" if status == 429 else "ServiceUnavailable")
                    response.status_code = status
                    if retry_after is not None:
                        response.headers["Retry-After"] = retry_after
                    return response
            return None

        @app.get("/api/v2/users/me")
        def me():
            return jsonify(user=self.user)

        @app.get("/api/v2/groups")
        @app.get("/api/v2/groups.json")  # Zendesk answers both; its next_page links name the second
        def list_groups():
            # Offset pagination like the triggers: per_page up to 100, next_page an absolute URL.
            per_page = min(int(request.args.get("per_page", 100)), 100, self.groups_page_size)
            page = int(request.args.get("page", 1))
            everything = [
                {"id": group_id, "name": name, "description": "", "default": group_id == min(self.groups),
                 "deleted": False, "is_public": True, "created_at": "2025-01-02T10:00:00Z",
                 "updated_at": "2025-01-02T10:00:00Z", "url": f"{request.host_url}api/v2/groups/{group_id}.json"}
                for group_id, name in sorted(self.groups.items())
            ]
            start = (page - 1) * per_page
            more = start + per_page < len(everything)
            return jsonify(
                groups=everything[start:start + per_page], count=len(everything), previous_page=None,
                next_page=f"{request.host_url}api/v2/groups.json?page={page + 1}&per_page={per_page}" if more else None,
            )

        self._webhook_routes(app)
        self._trigger_routes(app)

        @app.get("/api/v2/tickets/<ticket_id>")
        def show(ticket_id: str):
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return jsonify(error="RecordNotFound", description="Not found"), 404
            return jsonify(ticket=public(ticket))

        @app.get("/api/v2/tickets/<ticket_id>/comments")
        def list_comments(ticket_id: str):
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return jsonify(error="RecordNotFound", description="Not found"), 404
            return self._comments_page(ticket)

        @app.after_request
        def lose_the_answer(response):
            with self.lock:
                if self.lost_answers.get(request.method) and response.status_code < 300:
                    self.lost_answers[request.method] -= 1
                    lost = jsonify(error="GatewayTimeout", description="Gateway Timeout")
                    lost.status_code = 504
                    return lost
            return response

        @app.put("/api/v2/tickets/<ticket_id>")
        def update(ticket_id: str):
            with self.lock:
                ticket = self.tickets.get(ticket_id)
                if ticket is None:
                    return jsonify(error="RecordNotFound", description="Not found"), 404
                body = (request.get_json(silent=True) or {}).get("ticket")
                if not isinstance(body, dict):
                    return jsonify(error="InvalidEndpoint", description="ticket is required"), 400
                if self.concurrent_edits:
                    self.concurrent_edits -= 1
                    self._touch(ticket)
                if "safe_update" in body and body.get("updated_stamp") != ticket["updated_at"]:
                    return jsonify(
                        error="UpdateConflict",
                        description="Safe Update prevented the update due to outdated ticket data.",
                    ), 409
                if ticket["status"] == "closed":
                    return jsonify(
                        error="RecordInvalid",
                        description="Record validation errors",
                        details={"status": [{"description": "Status: closed prevents ticket update"}]},
                    ), 422
                if "priority" in body and body["priority"] not in PRIORITIES:
                    return jsonify(
                        error="RecordInvalid",
                        description="Record validation errors",
                        details={"priority": [{"description": "Priority: is invalid"}]},
                    ), 422
                if body.get("group_id") is not None and body["group_id"] not in self.groups:
                    return jsonify(  # the shape of Zendesk's other validation errors (this text unconfirmed)
                        error="RecordInvalid",
                        description="Record validation errors",
                        details={"group": [{"description": "Group: is invalid"}]},
                    ), 422
                if (refused := self._assignee_outside_group(ticket, body)) is not None:
                    return refused
                for key in ("group_id", "priority", "status", "assignee_id"):
                    if key in body:
                        ticket[key] = body[key]
                if "tags" in body:
                    ticket["tags"] = list(dict.fromkeys(tag.lower() for tag in body["tags"]))  # replaces; lower case
                self._touch(ticket)
                if isinstance(body.get("comment"), dict):
                    comment = body["comment"]
                    self.add_comment(ticket_id, comment.get("body") or "", public=comment.get("public", True) is not False,
                                     author_id=self.user["id"])
                return jsonify(ticket=public(ticket), audit={"id": len(self.requests), "events": []})

        return app

    def _comments_page(self, ticket: dict):
        """Oldest first unless sorted otherwise. Cursor pagination when asked for (`page[size]`,
        `page[after]`, `sort` = `created_at` or `-created_at`): `meta` {has_more, after_cursor,
        before_cursor} and `links`; else offset pagination (`per_page`, `page`, `sort_order`):
        `next_page` / `previous_page` as absolute URLs and `count`."""
        comments = list(ticket["comments"])
        base = f"{request.host_url}api/v2/tickets/{ticket['id']}/comments"
        if any(key.startswith("page[") for key in request.args) or "sort" in request.args:
            sort = request.args.get("sort", "created_at")
            if sort not in ("created_at", "-created_at"):
                return jsonify(error="InvalidPaginationParameter", description=f"sort {sort} is not supported"), 400
            size = int(request.args.get("page[size]", 100))
            if not 1 <= size <= 100:
                return jsonify(error="InvalidPaginationParameter", description="page[size] must be between 1 and 100"), 400
            size = min(size, self.comments_page_size)
            if sort.startswith("-"):
                comments.reverse()
            after = request.args.get("page[after]")
            start = next((n + 1 for n, c in enumerate(comments) if _cursor(c) == after), len(comments)) if after else 0
            page = comments[start:start + size]
            has_more = start + size < len(comments)
            after_cursor = _cursor(page[-1]) if page else None
            return jsonify(
                comments=page,
                meta={"has_more": has_more, "after_cursor": after_cursor,
                      "before_cursor": _cursor(page[0]) if page else None},
                links={"next": f"{base}.json?page[after]={after_cursor}&page[size]={size}&sort={sort}" if has_more else None,
                       "prev": None},
            )
        per_page = min(int(request.args.get("per_page", 100)), 100, self.comments_page_size)
        page_number = int(request.args.get("page", 1))
        if request.args.get("sort_order") == "desc":
            comments.reverse()
        start = (page_number - 1) * per_page
        more = start + per_page < len(comments)
        return jsonify(
            comments=comments[start:start + per_page], count=len(comments),
            next_page=f"{base}.json?page={page_number + 1}&per_page={per_page}" if more else None,
            previous_page=f"{base}.json?page={page_number - 1}&per_page={per_page}" if page_number > 1 else None,
        )

    def _assignee_outside_group(self, ticket: dict, body: dict):
        """Zendesk's 422 for a ticket (moved or assigned) whose assignee is not a member of its group."""
        group_id = body.get("group_id", ticket.get("group_id"))
        assignee_id = body.get("assignee_id", ticket.get("assignee_id"))
        if assignee_id is None or group_id is None or assignee_id in self.group_members.get(group_id, set()):
            return None
        return jsonify(
            error="RecordInvalid",
            description="Record validation errors",
            details={"assignee": [{"description": "Assignee: is not a member of the group"}]},
        ), 422

    # -- webhooks API: /api/v2/webhooks --------------------------------------------------------

    def _check_webhook(self, body: Any, existing: dict | None = None):
        """None, or the error answer Zendesk gives for this webhook body."""
        if not isinstance(body, dict) or not isinstance(body.get("webhook"), dict):
            return _webhook_error(400, "InvalidValue", "Invalid value", "webhook is required", "/webhook")
        webhook = body["webhook"]
        for key in webhook:
            if key not in WEBHOOK_FIELDS:
                return _webhook_error(400, "UnknownField", "Unknown field", f"{key} is not a webhook field", f"/webhook/{key}")
        merged = {**(existing or {}), **webhook}
        for key in ("name", "status", "endpoint", "http_method", "request_format"):
            if not merged.get(key):
                return _webhook_error(400, "MissingField", "Missing field", f"{key} is required", f"/webhook/{key}")
        if merged["status"] not in ("active", "inactive"):
            return _webhook_error(400, "InvalidValue", "Invalid value", "status must be active or inactive", "/webhook/status")
        if not str(merged["endpoint"]).startswith(("https://", "http://")):
            return _webhook_error(400, "InvalidValue", "Invalid value", "endpoint must be a valid URL", "/webhook/endpoint")
        subscriptions = merged.get("subscriptions") or []
        if CONDITIONAL in subscriptions and len(subscriptions) > 1:
            return _webhook_error(400, "InvalidValue", "Invalid value",
                                  "conditional_ticket_events cannot be combined with event types", "/webhook/subscriptions")
        events = [event for event in subscriptions if event != CONDITIONAL]
        if any(not str(event).startswith("zen:event-type:") for event in events):
            return _webhook_error(400, "InvalidValue", "Invalid value", "unknown event type", "/webhook/subscriptions")
        if events and (merged["http_method"] != "POST" or merged["request_format"] != "json"):
            return _webhook_error(400, "InvalidValue", "Invalid value",
                                  "event-subscribed webhooks must use POST and json", "/webhook/http_method")
        if existing is not None and (CONDITIONAL in (existing.get("subscriptions") or [])) != (CONDITIONAL in subscriptions):
            return _webhook_error(400, "InvalidValue", "Invalid value",
                                  "a webhook's connection method cannot be changed", "/webhook/subscriptions")
        return None

    def _webhook_routes(self, app: Flask) -> None:
        def admin_only():
            return (jsonify(FORBIDDEN), 403) if self.user.get("role") != "admin" else None

        def not_found(webhook_id: str):
            return _webhook_error(404, "WebhookNotFound", "Webhook not found", f"No webhook with id {webhook_id}")

        @app.get("/api/v2/webhooks")
        def list_webhooks():
            if (forbidden := admin_only()) is not None:
                return forbidden
            size = int(request.args.get("page[size]", 20))
            if not 1 <= size <= 100:
                return _webhook_error(400, "InvalidPaginationParameter", "Invalid pagination parameter",
                                      "page[size] must be between 1 and 100")
            size = min(size, self.webhooks_page_size)
            name = (request.args.get("filter[name_contains]") or "").lower()
            matching = [w for w in self.webhooks.values() if name in w["name"].lower()]
            after = request.args.get("page[after]")
            start = next((n + 1 for n, w in enumerate(matching) if w["id"] == after), 0) if after else 0
            page = matching[start:start + size]
            has_more = start + size < len(matching)
            return jsonify(
                webhooks=page,
                meta={"has_more": has_more, "after_cursor": page[-1]["id"] if page else None,
                      "before_cursor": page[0]["id"] if page else None},
                links={"next": f"{request.host_url}api/v2/webhooks?page[after]={page[-1]['id']}" if has_more else None,
                       "prev": None},
            )

        @app.post("/api/v2/webhooks")
        def create_webhook():
            if (forbidden := admin_only()) is not None:
                return forbidden
            body = request.get_json(silent=True)
            if (error := self._check_webhook(body)) is not None:
                return error
            with self.lock:
                webhook = {key: value for key, value in body["webhook"].items() if key != "signing_secret"}
                webhook |= {"id": _ulid(), "created_at": "2025-03-05T17:40:11Z", "created_by": str(self.user["id"]),
                            "updated_at": "2025-03-05T17:40:11Z"}
                webhook.setdefault("subscriptions", [])
                self.webhooks[webhook["id"]] = webhook
                self.webhook_secrets[webhook["id"]] = base64.b64encode(secrets.token_bytes(32)).decode()
            return jsonify(webhook=webhook), 201

        @app.get("/api/v2/webhooks/<webhook_id>")
        def show_webhook(webhook_id: str):
            if (forbidden := admin_only()) is not None:
                return forbidden
            webhook = self.webhooks.get(webhook_id)
            return jsonify(webhook=webhook) if webhook else not_found(webhook_id)

        @app.put("/api/v2/webhooks/<webhook_id>")
        def update_webhook(webhook_id: str):
            if (forbidden := admin_only()) is not None:
                return forbidden
            existing = self.webhooks.get(webhook_id)
            if existing is None:
                return not_found(webhook_id)
            body = request.get_json(silent=True)
            if (error := self._check_webhook(body, existing)) is not None:
                return error
            with self.lock:
                existing.update({key: value for key, value in body["webhook"].items() if key != "signing_secret"})
                existing["updated_at"] = "2025-03-05T17:41:00Z"
            return "", 204

        @app.get("/api/v2/webhooks/<webhook_id>/signing_secret")
        def signing_secret(webhook_id: str):
            if (forbidden := admin_only()) is not None:
                return forbidden
            if webhook_id not in self.webhooks:
                return not_found(webhook_id)
            return jsonify(signing_secret={"algorithm": "SHA256", "secret": self.webhook_secrets[webhook_id]})

        @app.post("/api/v2/webhooks/test")
        def test_webhook():
            """Send the given request to its endpoint, signed, and answer with what came back."""
            if (forbidden := admin_only()) is not None:
                return forbidden
            webhook_id = request.args.get("webhook_id")
            if webhook_id and webhook_id not in self.webhooks:
                return not_found(webhook_id)
            sent = (request.get_json(silent=True) or {}).get("request")
            if not isinstance(sent, dict) or not sent.get("endpoint"):
                return _webhook_error(400, "InvalidValue", "Invalid value", "request.endpoint is required", "/request/endpoint")
            secret = self.webhook_secrets[webhook_id] if webhook_id else STATIC_TEST_SECRET
            payload = sent.get("payload") or ""
            body = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            headers = {
                "Content-Type": "application/json",
                "X-Zendesk-Account-Id": str(self.account_id),
                "X-Zendesk-Webhook-Id": webhook_id or "test",
                "X-Zendesk-Webhook-Invocation-Id": str(secrets.randbelow(10**10)),
                "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
                "X-Zendesk-Webhook-Signature": sign(secret, timestamp, body),
            }
            self.test_sends.append((headers, body))
            try:
                answer = requests.request(sent.get("http_method", "POST"), sent["endpoint"], data=body, headers=headers,
                                          timeout=12)
            except requests.RequestException as exc:
                return jsonify(response={"headers": [], "status": 502, "body": f"Failed to connect: {type(exc).__name__}"})
            return jsonify(response={
                "headers": [{"key": key, "value": value} for key, value in answer.headers.items()],
                "status": answer.status_code,
                "body": answer.text,
            })

    # -- triggers API: /api/v2/triggers --------------------------------------------------------

    def _trigger_routes(self, app: Flask) -> None:
        def invalid(description: str):
            return jsonify(error="RecordInvalid", description="Record validation errors",
                           details={"base": [{"description": description}]}), 422

        def check(trigger: Any):
            if not isinstance(trigger, dict):
                return jsonify(error="InvalidEndpoint", description="trigger is required"), 400
            if not trigger.get("title"):
                return invalid("Title: cannot be blank")
            conditions = trigger.get("conditions")
            if not isinstance(conditions, dict) or not (conditions.get("all") or conditions.get("any")):
                return invalid("Conditions: must have at least one condition")
            actions = trigger.get("actions")
            if not isinstance(actions, list) or not actions:
                return invalid("Actions: must have at least one action")
            for action in actions:
                if action.get("field") == "notification_webhook":
                    value = action.get("value")
                    if not isinstance(value, list) or len(value) != 2 or value[0] not in self.webhooks:
                        return invalid("Notify active webhook: the webhook does not exist")
                    if CONDITIONAL not in self.webhooks[value[0]].get("subscriptions", []):
                        return invalid("Notify active webhook: the webhook is not connected to triggers")
                    try:
                        json.loads(value[1].replace("{{", "").replace("}}", ""))
                    except ValueError:
                        return invalid("Notify active webhook: the JSON body is not valid JSON")
            return None

        @app.get("/api/v2/triggers")
        def list_triggers():
            per_page = int(request.args.get("per_page", 100))
            page = int(request.args.get("page", 1))
            everything = sorted(self.triggers.values(), key=lambda t: t["position"])
            start = (page - 1) * per_page
            more = start + per_page < len(everything)
            return jsonify(
                triggers=everything[start:start + per_page], count=len(everything), previous_page=None,
                next_page=f"{request.host_url}api/v2/triggers.json?page={page + 1}&per_page={per_page}" if more else None,
            )

        @app.post("/api/v2/triggers")
        def create_trigger():
            if self.user.get("role") != "admin":
                return jsonify(FORBIDDEN), 403
            trigger = (request.get_json(silent=True) or {}).get("trigger")
            if (error := check(trigger)) is not None:
                return error
            with self.lock:
                trigger_id = 360000000000 + len(self.triggers) + 1
                stored = {**trigger, "id": trigger_id, "active": trigger.get("active", True),
                          "position": len(self.triggers) + 1, "created_at": "2025-03-05T17:40:11Z",
                          "updated_at": "2025-03-05T17:40:11Z", "url": f"{request.host_url}api/v2/triggers/{trigger_id}.json"}
                self.triggers[trigger_id] = stored
            return jsonify(trigger=stored), 201

        @app.put("/api/v2/triggers/<int:trigger_id>")
        def update_trigger(trigger_id: int):
            if self.user.get("role") != "admin":
                return jsonify(FORBIDDEN), 403
            stored = self.triggers.get(trigger_id)
            if stored is None:
                return jsonify(error="RecordNotFound", description="Not found"), 404
            trigger = (request.get_json(silent=True) or {}).get("trigger")
            if (error := check({**stored, **(trigger or {})} if isinstance(trigger, dict) else trigger)) is not None:
                return error
            with self.lock:
                stored.update(trigger)
                stored["updated_at"] = "2025-03-05T17:41:00Z"
            return jsonify(trigger=stored)
