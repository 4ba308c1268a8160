"""A fake Zendesk Support API on loopback, with the real request and response shapes.

Enforces API-token auth, replaces the tag list on PUT, rejects a stale `updated_stamp` with
409, validates priorities with 422, and can be told to answer 429/503 with `Retry-After`.
Every request it receives is recorded for the tests to assert on.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, jsonify, request

PRIORITIES = {"urgent", "high", "normal", "low"}


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
    # Simulate another agent editing the ticket between our read and our write.
    concurrent_edits: int = 0
    # Seconds every answer takes, to keep work in flight (crash tests).
    latency: float = 0.0
    # Answer this many requests with 200 and a body that is not the API's (a proxy's page).
    garbage_answers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The user the API token belongs to (GET /api/v2/users/me).
    user: dict = field(default_factory=lambda: {
        "id": 361000000001, "name": "Ticketpulse Bot", "email": "bot@example.com", "role": "admin",
        "active": True, "verified": True, "time_zone": "UTC", "locale": "en-US",
    })

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
                if self.failures:
                    status, retry_after = self.failures.pop(0)
                    response = jsonify(error="APIRateLimitExceeded" if status == 429 else "ServiceUnavailable")
                    response.status_code = status
                    if retry_after is not None:
                        response.headers["Retry-After"] = retry_after
                    return response
            return None

        @app.get("/api/v2/users/me")
        def me():
            return jsonify(user=self.user)

        @app.get("/api/v2/tickets/<ticket_id>")
        def show(ticket_id: str):
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return jsonify(error="RecordNotFound", description="Not found"), 404
            return jsonify(ticket=public(ticket))

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
                if "priority" in body and body["priority"] not in PRIORITIES:
                    return jsonify(
                        error="RecordInvalid",
                        description="Record validation errors",
                        details={"priority": [{"description": "Priority: is invalid"}]},
                    ), 422
                for key in ("group_id", "priority", "status", "assignee_id"):
                    if key in body:
                        ticket[key] = body[key]
                if "tags" in body:
                    ticket["tags"] = list(dict.fromkeys(body["tags"]))  # replaces the list
                if "comment" in body:
                    ticket["comments"].append(body["comment"])
                self._touch(ticket)
                return jsonify(ticket=public(ticket), audit={"id": len(self.requests), "events": []})

        return app
