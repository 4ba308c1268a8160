"""Signing and posting Zendesk webhooks the way Zendesk does."""

from __future__ import annotations


from datetime import datetime, timedelta, timezone

from tests.conftest import ZENDESK_SECRET, as_body
from ticketpulse.webhooks.signing import zendesk_signature


def zendesk_timestamp(ago: timedelta = timedelta(0)) -> str:
    """A signature timestamp as Zendesk writes it (ISO-8601 UTC, seconds): now, or `ago` before."""
    return (datetime.now(timezone.utc) - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_headers(body: bytes, *, secret: str = ZENDESK_SECRET, invocation: str = "8350205582",
                   timestamp: str | None = None) -> dict:
    """Headers as Zendesk sends them, signed now (the server refuses stale signatures)."""
    timestamp = timestamp or zendesk_timestamp()
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Account-Id": "9876543",
        "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "X-Zendesk-Webhook-Invocation-Id": invocation,
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        "X-Zendesk-Webhook-Signature": zendesk_signature(secret, timestamp, body),
    }


def post_zendesk(client, payload, **kwargs):
    body = as_body(payload)
    return client.post("/webhooks/zendesk", data=body, headers=signed_headers(body, **kwargs))


def comment_event(ticket_id: str, comment_id: str, body: str, *, time: str, staff: bool = False, public: bool = True,
                  tags: list[str] | None = None, author_id: str = "301") -> dict:
    """A `ticket.comment_added` event shaped exactly like Zendesk's."""
    return {
        "account_id": 9876543,
        "id": f"evt-{ticket_id}-{comment_id}",
        "time": time,
        "type": "zen:event-type:ticket.comment_added",
        "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{ticket_id}",
        "detail": {
            "id": ticket_id, "requester_id": "301", "group_id": "320", "status": "OPEN", "priority": "NORMAL",
            "tags": tags if tags is not None else ["shipping"], "updated_at": time[:19] + "Z",
        },
        "event": {
            "comment": {"id": comment_id, "body": body, "is_public": public,
                        "author": {"id": author_id, "is_staff": staff, "name": "Dana Cole"}},
            "meta": {"sequence": {"id": f"seq-{comment_id}", "position": 1}},
        },
    }
