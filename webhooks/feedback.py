"""Feedback deliveries: a ticket's tags changed, so an agent may have called an escalation wrong.

Zendesk: the event-subscribed webhook's `zen:event-type:ticket.tags_changed` (subscribe the same
webhook that delivers comments to it), or a trigger with the README's `"kind":"tags_changed"`
body. Freshdesk: an automation rule with the README's `"kind":"tags_changed"` body. The event's
exact shape is not confirmed, so the added, removed and current tags are read from any of the
places it may put them. Only tags are read: no customer text.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, jsonify

from ticketpulse.escalation.feedback import Outcome, TagChange, record_tag_change
from ticketpulse.models import ticket_ref
from ticketpulse.webhooks import payload

log = logging.getLogger("ticketpulse.webhooks")

TAGS_CHANGED = "zen:event-type:ticket.tags_changed"
KIND = "tags_changed"


def is_tags_change(data: Any) -> bool:
    """Is this delivery a tag change (rather than a comment)?"""
    if not isinstance(data, dict):
        return False
    return data.get("type") == TAGS_CHANGED or payload.text(data, "kind") == KIND


def _first_tags(data: dict, *paths: str) -> tuple[str, ...] | None:
    for path in paths:
        if payload._lookup(data, path) is not payload._MISSING:
            return tuple(payload.tag_list(data, path))
    return None


def parse_zendesk_tags(data: dict, headers, account_id: str | None = None) -> TagChange:
    """`account_id`: the server's ZENDESK_ACCOUNT_ID; the account comes from signed data only."""
    from ticketpulse.webhooks.zendesk import signed_account

    account = signed_account(data, headers, account_id)

    if data.get("type") == TAGS_CHANGED:
        number = payload.identifier(data, "detail.id")
        if number is None:
            subject = payload.text(data, "subject") or ""
            number = subject.removeprefix("zen:ticket:") if subject.startswith("zen:ticket:") else None
        number = payload.ticket_number(number, "detail.id")
        added = _first_tags(data, "event.tags_added", "event.added_tags", "event.tags.added", "event.added") or ()
        removed = _first_tags(data, "event.tags_removed", "event.removed_tags", "event.tags.removed", "event.removed") or ()
        current = _first_tags(data, "event.current", "event.tags.current", "detail.tags")
        return TagChange(
            "zendesk", account, number, added, removed, current,
            changed_at=payload.timestamp(data, "time"), delivery_id=payload.text(data, "id"),
        )
    # A trigger-connected webhook with {"kind":"tags_changed","ticket_id":...,"tags":"{{ticket.tags}}"}.
    number = payload.ticket_number(payload.identifier(data, "ticket_id", required=True), "ticket_id")
    return TagChange(
        "zendesk", account, number, current=tuple(payload.tag_list(data, "tags")),
        changed_at=payload.timestamp(data, "updated_at"),
    )


def parse_freshdesk_tags(data: dict, default_domain: str | None) -> TagChange:
    """The README's automation rule body: {"kind":"tags_changed","ticket":{"id","tags","url"}}."""
    from ticketpulse.webhooks.freshdesk import account

    number = payload.ticket_number(payload.identifier(data, "ticket.id", required=True), "ticket.id")
    tags = tuple(tag.strip() for tag in payload.tag_list(data, "ticket.tags", separators=",") if tag.strip())
    return TagChange(
        "freshdesk", account(payload.text(data, "ticket.url"), default_domain), number, current=tags,
        changed_at=payload.timestamp(data, "ticket.updated_at"),
    )


def receive_tags(change: TagChange):
    """Record the verdict the tags say; 200 whatever the outcome (the helpdesk need not retry)."""
    tag = current_app.config["TICKETPULSE"].tags.false_alarm
    sessions = current_app.extensions["ticketpulse.sessions"]
    with sessions.begin() as session:
        outcome = record_tag_change(session, change, tag)
    log.info(
        "ticket %s: tags changed, feedback %s", ticket_ref(change.helpdesk, change.account, change.external_id), outcome
    )
    status = "ignored" if outcome in (Outcome.NOT_ESCALATED, Outcome.UNCHANGED) else "recorded"
    return jsonify(status=status, feedback=str(outcome)), 200
