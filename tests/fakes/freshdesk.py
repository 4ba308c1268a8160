"""A fake Freshdesk API v2 on loopback, with the real request and response shapes.

Enforces API-key auth (Basic `api_key:X`), replaces the tag list on PUT, validates fields with
Freshdesk's 400 body (`{"description": "Validation failed", "errors": [{field, message, code}]}`),
answers unknown tickets with 404, pages conversations with `per_page`/`page` and a `Link`
header, and can be told to answer 429/503 with `Retry-After`. Like the real API it counts the
account's calls per minute: every answer carries `X-RateLimit-Total`, `X-RateLimit-Remaining` and
`X-RateLimit-Used-CurrentRequest`, and a call over the limit gets 429 with `Retry-After` (the
seconds left in the minute). Every request is recorded.
"""

from __future__ import annotations

import base64
import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, jsonify, request

TICKET_FIELDS = {"group_id", "priority", "status", "tags", "responder_id", "custom_fields", "subject", "type"}
NOTE_FIELDS = {"body", "private", "incoming", "notify_emails", "user_id"}
AGENT_ID = 43000999000  # the agent whose API key the tests use


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    authorization: str | None


def _validation_failed(*errors: tuple[str, str, str]):
    body = {
        "description": "Validation failed",
        "errors": [{"field": f, "message": m, "code": c} for f, m, c in errors],
    }
    return jsonify(body), 400


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeFreshdesk:
    api_key: str = "fd-api-key"
    tickets: dict[str, dict] = field(default_factory=dict)
    conversations: dict[str, list[dict]] = field(default_factory=dict)
    groups: set[int] = field(default_factory=lambda: {43000123456, 43000777000})
    group_names: dict[int, str] = field(default_factory=lambda: {43000123456: "Billing", 43000777000: "Senior support"})
    requests: list[Recorded] = field(default_factory=list)
    # Scripted failures, consumed one per request: (status, retry_after or None).
    failures: list[tuple[int, str | None]] = field(default_factory=list)
    # The same, only for requests with this method (e.g. {"POST": [(429, "1")]}).
    method_failures: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    # Process a request with this method, then lose the answer: a 504 from a proxy in between.
    lost_answers: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Seconds every answer takes, to keep an escalation in flight longer than a lease.
    latency: float = 0.0
    url: str = ""
    # Freshdesk's Link header names the account's own domain, not the address we called.
    link_base: str = "https://acme.freshdesk.com"
    # The account's calls a minute (Pro: 400), counted over fixed one-minute windows.
    rate_limit: int = 400
    window_started: float = 0.0
    used_this_minute: int = 0
    _next_id: int = 9000

    def add_ticket(self, ticket_id: str, tags: list[str] | None = None, **fields) -> dict:
        ticket = {
            "id": int(ticket_id),
            "subject": "Refund still missing",
            "status": 2,
            "priority": 2,
            "source": 1,
            "group_id": 43000123456,
            "responder_id": None,
            "requester_id": 43009876543,
            "tags": list(tags or []),
            "custom_fields": {},
            "spam": False,
            "created_at": "2025-03-05T09:00:00Z",
            "updated_at": "2025-03-05T17:40:11Z",
            **fields,
        }
        self.tickets[str(ticket_id)] = ticket
        self.conversations.setdefault(str(ticket_id), [])
        return ticket

    def add_conversation(self, ticket_id: str, body: str, *, private: bool = False, incoming: bool = True) -> dict:
        self._next_id += 1
        conversation = {
            "id": self._next_id,
            "body": f"<div>{body}</div>",
            "body_text": body,
            "incoming": incoming,
            "private": private,
            "source": 2 if private else 0,
            "user_id": 43009876543 if incoming else AGENT_ID,
            "ticket_id": int(ticket_id),
            "from_email": None,
            "to_emails": [],
            "cc_emails": [],
            "bcc_emails": [],
            "support_email": None,
            "attachments": [],
            "created_at": "2025-03-05T17:40:11Z",
            "updated_at": "2025-03-05T17:40:11Z",
        }
        self.conversations.setdefault(str(ticket_id), []).append(conversation)
        return conversation

    def notes(self, ticket_id: str) -> list[dict]:
        return [c for c in self.conversations.get(str(ticket_id), []) if c["source"] == 2]

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def app(self) -> Flask:
        app = Flask("fake-freshdesk")

        def authorized() -> bool:
            expected = base64.b64encode(f"{self.api_key}:X".encode()).decode()
            return request.headers.get("Authorization") == f"Basic {expected}"

        @app.before_request
        def record_and_gate():
            if self.latency:
                time.sleep(self.latency)
            with self.lock:
                self.requests.append(
                    Recorded(request.method, request.path, dict(request.args), request.get_json(silent=True),
                             request.headers.get("Authorization"))
                )
                now = time.monotonic()
                if now - self.window_started >= 60:
                    self.window_started, self.used_this_minute = now, 0
                if self.used_this_minute >= self.rate_limit:
                    response = jsonify(message="You have exceeded the limit of requests per minute")
                    response.status_code = 429
                    response.headers["Retry-After"] = str(max(1, math.ceil(60 - (now - self.window_started))))
                    return response
                self.used_this_minute += 1  # every call counts, a refused one too
                if not authorized():
                    return jsonify(code="invalid_credentials", message="You have to be logged in to perform this action."), 401
                scripted = self.method_failures.get(request.method) or self.failures
                if scripted:
                    status, retry_after = scripted.pop(0)
                    response = jsonify(message="You have exceeded the limit of requests per minute"
                                       if status == 429 else "Service Unavailable")
                    response.status_code = status
                    if retry_after is not None:
                        response.headers["Retry-After"] = retry_after
                    return response
                if request.method in ("PUT", "POST") and not request.is_json:
                    return jsonify(code="invalid_content_type",
                                   message="Content-Type header should have application/json"), 415
            return None

        @app.after_request
        def lose_the_answer(response):
            with self.lock:
                if self.lost_answers.get(request.method) and response.status_code < 300:
                    self.lost_answers[request.method] -= 1
                    lost = jsonify(message="Gateway Timeout")
                    lost.status_code = 504
                    return lost
            return response

        @app.after_request
        def rate_limit_headers(response):  # runs before lose_the_answer: a proxy's 504 has none
            with self.lock:
                response.headers["X-RateLimit-Total"] = str(self.rate_limit)
                response.headers["X-RateLimit-Remaining"] = str(max(0, self.rate_limit - self.used_this_minute))
                response.headers["X-RateLimit-Used-CurrentRequest"] = "0" if response.status_code == 429 else "1"
            return response

        def not_found():
            return "", 404  # Freshdesk answers an unknown ticket id with an empty 404

        @app.get("/api/v2/agents/me")
        def me():
            return jsonify({
                "id": AGENT_ID, "available": True, "occasional": False, "signature": None,
                "ticket_scope": 1, "type": "support_agent", "group_ids": sorted(self.groups),
                "contact": {"name": "Ticketpulse Bot", "email": "bot@example.com", "active": True,
                            "language": "en", "time_zone": "Eastern Time (US & Canada)"},
                "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            })

        @app.get("/api/v2/groups")
        def groups():
            try:
                per_page = int(request.args.get("per_page", 30))
                page = int(request.args.get("page", 1))
            except ValueError:
                return _validation_failed(("per_page", "It should be a/an Positive Integer", "datatype_mismatch"))
            if not 1 <= per_page <= 100:
                return _validation_failed(("per_page", "It should be a Positive Integer less than or equal to 100",
                                           "invalid_value"))
            everything = [
                {"id": group_id, "name": self.group_names.get(group_id, f"Group {group_id}"), "description": None,
                 "escalate_to": None, "unassigned_for": None, "business_hour_id": None, "group_type": "support_agent_group",
                 "auto_ticket_assign": False, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
                for group_id in sorted(self.groups)
            ]
            start = (page - 1) * per_page
            response = jsonify(everything[start:start + per_page])
            if start + per_page < len(everything):
                response.headers["Link"] = f'<{self.link_base}/api/v2/groups?per_page={per_page}&page={page + 1}>; rel="next"'
            return response

        @app.get("/api/v2/tickets/<ticket_id>")
        def show(ticket_id: str):
            ticket = self.tickets.get(ticket_id)
            return jsonify(ticket) if ticket else not_found()

        @app.put("/api/v2/tickets/<ticket_id>")
        def update(ticket_id: str):
            with self.lock:
                ticket = self.tickets.get(ticket_id)
                if ticket is None:
                    return not_found()
                body = request.get_json(silent=True)
                if not isinstance(body, dict):
                    return _validation_failed(("body", "Request body has invalid json format", "invalid_json"))
                errors = []
                for key in body:
                    if key not in TICKET_FIELDS:
                        errors.append((key, "Unexpected/invalid field in request", "invalid_field"))
                if "priority" in body and (type(body["priority"]) is not int or body["priority"] not in (1, 2, 3, 4)):
                    errors.append(("priority", "It should be one of these values: '1,2,3,4'", "invalid_value"))
                if "group_id" in body:
                    if body["group_id"] is not None and type(body["group_id"]) is not int:
                        errors.append(("group_id", "Value set is of type String.It should be a/an Positive Integer",
                                       "datatype_mismatch"))
                    elif body["group_id"] is not None and body["group_id"] not in self.groups:
                        errors.append(("group_id", "There is no group matching the given group_id", "invalid_value"))
                if "tags" in body and not (isinstance(body["tags"], list) and all(isinstance(t, str) for t in body["tags"])):
                    errors.append(("tags", "It should be an Array", "datatype_mismatch"))
                if errors:
                    return _validation_failed(*errors)
                for key, value in body.items():
                    ticket[key] = list(dict.fromkeys(value)) if key == "tags" else value  # tags: replaced
                updated = datetime.fromisoformat(ticket["updated_at"].replace("Z", "+00:00")) + timedelta(seconds=1)
                ticket["updated_at"] = _stamp(updated)
                return jsonify(ticket)

        @app.post("/api/v2/tickets/<ticket_id>/notes")
        def add_note(ticket_id: str):
            with self.lock:
                if ticket_id not in self.tickets:
                    return not_found()
                body = request.get_json(silent=True) or {}
                errors = [(key, "Unexpected/invalid field in request", "invalid_field")
                          for key in body if key not in NOTE_FIELDS]
                if not isinstance(body.get("body"), str) or not body["body"].strip():
                    errors.append(("body", "It should not be blank as this is a mandatory field", "missing_field"))
                if "private" in body and not isinstance(body["private"], bool):
                    errors.append(("private", "Value set is of type String.It should be a/an Boolean", "datatype_mismatch"))
                if errors:
                    return _validation_failed(*errors)
                text = re.sub(r"<br\s*/?>", "\n", body["body"])
                text = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                note = self.add_conversation(ticket_id, text, private=body.get("private", True), incoming=False)
                note["body"] = body["body"]
                return jsonify(note), 201

        @app.get("/api/v2/tickets/<ticket_id>/conversations")
        def conversations(ticket_id: str):
            if ticket_id not in self.tickets:
                return not_found()
            try:
                per_page = int(request.args.get("per_page", 30))
                page = int(request.args.get("page", 1))
            except ValueError:
                return _validation_failed(("per_page", "It should be a/an Positive Integer", "datatype_mismatch"))
            if not 1 <= per_page <= 100:
                return _validation_failed(("per_page", "It should be a Positive Integer less than or equal to 100",
                                           "invalid_value"))
            items = self.conversations.get(ticket_id, [])
            start = (page - 1) * per_page
            response = jsonify(items[start:start + per_page])
            if start + per_page < len(items):
                response.headers["Link"] = (
                    f'<{self.link_base}/api/v2/tickets/{ticket_id}/conversations?per_page={per_page}&page={page + 1}>; rel="next"'
                )
            return response

        return app
