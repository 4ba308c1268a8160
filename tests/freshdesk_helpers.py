"""Posting Freshdesk automation-rule webhooks the way Freshdesk does (the README's JSON body)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import ZENDESK_SECRET
from ticketpulse.config import Config, Environment

FRESHDESK_SECRET = "fd-whk-7Qm2vX9rLp4sT8"
SENIOR_GROUP = 43000777000


def token_headers(secret: str = FRESHDESK_SECRET) -> dict:
    return {"Content-Type": "application/json", "X-Webhook-Token": secret}


def basic_headers(password: str = FRESHDESK_SECRET, user: str = "freshdesk") -> dict:
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Content-Type": "application/json", "Authorization": f"Basic {credentials}"}


def as_body(payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()


def post_freshdesk(client, payload, headers: dict | None = None):
    return client.post("/webhooks/freshdesk", data=as_body(payload), headers=token_headers() if headers is None else headers)


def reply(ticket_id: str, text: str, *, name: str = "Jane Doe", tags: str = "refund, vip",
          event: str = "{reply_sent:sent}", domain: str = "acme.freshdesk.com") -> dict:
    """A "Reply is sent" delivery with the README's body, as Freshdesk renders it."""
    return {
        "event": event,
        "ticket": {
            "id": ticket_id, "subject": "Refund still missing", "status": "Open", "priority": "Medium",
            "group_id": "43000123456", "group": "Billing", "tags": tags,
            "url": f"https://{domain}/helpdesk/tickets/{ticket_id}",
        },
        "requester": {"id": "43009876543", "email": "jane@example.com", "name": name},
        "comment_html": f"{name} : <div>{text}</div>",
        "comment_text": f"{name} : {text}",
    }


@pytest.fixture
def config() -> Config:
    return Config.model_validate({
        "zendesk": {"senior_group_id": 360001234567},
        "freshdesk": {"senior_group_id": SENIOR_GROUP},
    })


@pytest.fixture
def environment(database_url) -> Environment:
    return Environment(
        database_url=database_url,
        zendesk_webhook_secret=ZENDESK_SECRET,
        freshdesk_webhook_secret=FRESHDESK_SECRET,
    )
