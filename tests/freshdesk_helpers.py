"""Posting Freshdesk automation-rule webhooks the way Freshdesk does (the README's JSON body)."""

from __future__ import annotations

import base64

from tests.conftest import FRESHDESK_SECRET, as_body


def token_headers(secret: str = FRESHDESK_SECRET) -> dict:
    return {"Content-Type": "application/json", "X-Webhook-Token": secret}


def basic_headers(password: str = FRESHDESK_SECRET, user: str = "freshdesk") -> dict:
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Content-Type": "application/json", "Authorization": f"Basic {credentials}"}


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
