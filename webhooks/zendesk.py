"""POST /webhooks/zendesk: event-subscribed and trigger-connected webhooks."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app

from ticketpulse.escalation.comments import AuthorRole
from ticketpulse.webhooks.events import CommentEvent
from ticketpulse.models import utcnow
from ticketpulse.sentiment.clean import ZENDESK_SEPARATOR
from ticketpulse.webhooks import lenient_json, payload
from ticketpulse.webhooks.payload import PayloadError
from ticketpulse.webhooks.feedback import KIND, is_tags_change, parse_zendesk_tags
from ticketpulse.webhooks.receive import receive
from ticketpulse.webhooks.signing import verify_zendesk

bp = Blueprint("zendesk", __name__)

COMMENT_ADDED = "zen:event-type:ticket.comment_added"
_AGENT_ROLES = {"agent", "admin", "administrator", "light agent", "light_agent", "staff"}
# "{{ticket.latest_public_comment}}" renders as Zendesk's separator line and "Name, date" before
# the text; a customer's own "-----" heading the message is not it.
_RENDERED_HEADER = re.compile(rf"\A\s*{ZENDESK_SEPARATOR}\s*\n\s*\n?[^\n]{{1,200}}\n\s*\n", re.MULTILINE)


# The values of a trigger body that hold a customer's text (pasted in, maybe unescaped).
TEXT_FIELDS = ("comment", "author")
# The fields a trigger body may have (the README's template, older ones): where the text is
# unescaped, it ends only before one of these. Not "kind" or "type" (there they are the text's), nor
# "status" or "priority", in no template and in many a pasted log.
TRIGGER_FIELDS = frozenset({
    "ticket_id", "comment_id", "comment", "is_public", "author", "author_id", "updater_id", "updater_role",
    "requester_id", "via", "group_id", "tags", "brand", "updated_at", "created_at", "account_id",
})
SHAPE = lenient_json.Shape(text=frozenset(TEXT_FIELDS), keys={"": TRIGGER_FIELDS})
# Fields that file or date a trigger's comment. The text can add fields after itself (`…", "updated_at":
# "2001-01-01", "x": "`, or as the body's last field when the text is the template's last): these are
# read only from before the first text field. The README's template gives them there.
PLACED_FIELDS = ("comment_id", "account_id", "created_at", "updated_at")

ACCOUNT_HEADER = "X-Zendesk-Account-Id"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"


@bp.post("/webhooks/zendesk")
def zendesk_webhook():
    env = current_app.config["ENVIRONMENT"]
    tolerance = current_app.config["TICKETPULSE"].webhooks.signature_tolerance_seconds
    return receive(
        "zendesk",
        authenticate=lambda body, headers: verify_zendesk(
            body, headers, env.zendesk_webhook_secrets, tolerance_seconds=tolerance
        ),
        parse=lambda data, headers: parse_zendesk(data, headers, account_id=env.zendesk_account_id),
        shape=SHAPE,
    )


def parse_zendesk(data: Any, headers, *, account_id: str | None = None) -> CommentEvent | None:
    """A comment event from either webhook kind; None for event types we don't handle.

    `account_id` is the server's ZENDESK_ACCOUNT_ID, if set.
    """
    if not isinstance(data, dict):
        raise PayloadError("body", "expected a JSON object")
    _refuse_a_trigger_comment_dressed_as_another_kind(data)
    if is_tags_change(data):
        return parse_zendesk_tags(data, headers, account_id)
    if "type" in data and "event" in data:
        return parse_event(data, headers, account_id)
    return parse_trigger(data, headers, account_id)


def _refuse_a_trigger_comment_dressed_as_another_kind(data: dict) -> None:
    """The kind of body is told from its keys, and a trigger's body holds the customer's text
    unescaped: text that completes the JSON can add keys no template repeats ("type" and "event",
    "kind") and have the body read as an event for any ticket, or as another ticket's tag change.
    Zendesk's own events never carry a trigger's "ticket_id" and "comment". Other keys pasted
    JSON may bring ("detail", "error") change nothing and are let be."""
    if "ticket_id" in data and "comment" in data:
        marks = []
        if "type" in data and "event" in data:  # read as an event (an admin's "type" alone is fine)
            marks += ["type", "event"]
        elif str(data.get("type", "")).startswith("zen:"):  # read as a tag-change event
            marks.append("type")
        if payload.text(data, "kind") == KIND:
            marks.append("kind")
        if marks:
            raise PayloadError("body", f"a trigger's comment body also carries {', '.join(marks)}: "
                                       "fields that a customer's text can add are not read")


def signed_account(data: dict, headers, configured: str | None) -> str:
    """The account, from the signed body (`account_id`) or the server's configuration only.

    X-Zendesk-Account-Id is not covered by the signature: it never chooses the account (anyone
    replaying a capture could set it), and a request whose header names another account than the
    signed one is refused rather than guessed at.
    """
    signed = payload.id_number(payload.identifier(data, "account_id"), "account_id")
    if signed and configured and signed != configured:
        raise PayloadError("account_id", f"{signed} is not this server's account (ZENDESK_ACCOUNT_ID={configured})")
    account = signed or configured
    header = payload.check_identifier(headers.get(ACCOUNT_HEADER), f"{ACCOUNT_HEADER} header")
    if header and account and (header.lstrip("0") or "0") != account:
        source = "the signed account_id" if signed else "ZENDESK_ACCOUNT_ID"
        raise PayloadError(f"{ACCOUNT_HEADER} header", f"{header} does not match {source} {account}")
    return account or "default"


def parse_event(data: dict, headers, account_id: str | None = None) -> CommentEvent | None:
    """An event-subscribed webhook (`zen:event-type:ticket.comment_added`)."""
    if payload.text(data, "type") != COMMENT_ADDED:
        return None
    external_id = payload.identifier(data, "detail.id")
    if external_id is None:
        subject = payload.text(data, "subject") or ""
        external_id = subject.removeprefix("zen:ticket:") if subject.startswith("zen:ticket:") else None
    external_id = payload.ticket_number(external_id, "detail.id")
    if not isinstance(data["event"], dict) or not isinstance(data["event"].get("comment"), dict):
        raise PayloadError("event.comment", "missing")
    comment_id = payload.id_number(payload.identifier(data, "event.comment.id", required=True), "event.comment.id")
    body = payload.text(data, "event.comment.body") or ""
    is_public = payload.boolean(data, "event.comment.is_public")
    if is_public is None:
        raise PayloadError("event.comment.is_public", "missing")
    author_id = payload.identifier(data, "event.comment.author.id")
    requester_id = payload.identifier(data, "detail.requester_id")
    is_staff = payload.boolean(data, "event.comment.author.is_staff")
    if is_staff is True:
        role = AuthorRole.AGENT
    elif is_staff is False or (author_id and author_id == requester_id):
        role = AuthorRole.CUSTOMER
    else:
        role = AuthorRole.UNKNOWN
    return CommentEvent(
        helpdesk="zendesk",
        account=signed_account(data, headers, account_id),
        external_id=external_id,
        comment_id=comment_id,
        body=body,
        is_public=is_public,
        author_role=role,
        author_id=author_id,
        author_name=payload.text(data, "event.comment.author.name"),
        commented_at=payload.timestamp(data, "time") or utcnow(),
        source="zendesk.event",
        delivery_id=payload.text(data, "id") or _invocation_id(headers),
        ticket=_ticket_snapshot(data, "detail.", requester_id),
    )


def parse_trigger(data: dict, headers, account_id: str | None = None) -> CommentEvent:
    """A trigger-connected webhook with the JSON body template from the README."""
    payload.refuse_moved_fields(data, SHAPE)
    external_id = payload.ticket_number(payload.identifier(data, "ticket_id", required=True), "ticket_id")
    body = _trigger_comment(data)
    requester_id = payload.identifier(data, "requester_id")
    author_id = payload.identifier(data, "author_id") or payload.identifier(data, "updater_id")
    placed = placed_fields(data)
    return CommentEvent(
        helpdesk="zendesk",
        account=signed_account(placed, headers, account_id),
        external_id=external_id,
        comment_id=payload.id_number(payload.identifier(placed, "comment_id"), "comment_id"),
        body=strip_rendered_header(body),
        is_public=payload.boolean(data, "is_public", default=True),
        author_role=_trigger_role(payload.text(data, "updater_role")),
        author_id=author_id,
        author_name=payload.text(data, "author"),
        commented_at=_trigger_time(placed),
        source="zendesk.trigger",
        delivery_id=_invocation_id(headers),
        ticket=_trigger_snapshot(data, requester_id),
    )


def placed_fields(data: dict) -> dict:
    """The PLACED_FIELDS of a trigger body that a customer's text cannot have added."""
    keys = list(data)
    first_text = min((keys.index(key) for key in TEXT_FIELDS if key in data), default=len(keys))
    return {key: data[key] for key in PLACED_FIELDS if key in data and keys.index(key) < first_text}


def _trigger_comment(data: dict) -> str:
    """The rendered comment. Rendered empty (a comment of attachments only) it is kept, and
    skipped later as an empty comment, as the event webhook's empty body is; absent, or left
    as an unrendered placeholder, it is missing."""
    body = payload.text(data, "comment")
    if body is not None:
        return body
    value = data.get("comment")
    if isinstance(value, str) and not payload.is_placeholder(value.strip()):
        return ""
    raise PayloadError("comment", "missing")


def _invocation_id(headers) -> str | None:
    """Recorded to find the delivery in Zendesk's invocation log. Unsigned: it keys nothing and
    refuses nothing (a value that is no id is not recorded)."""
    try:
        return payload.check_identifier(headers.get(INVOCATION_HEADER), f"{INVOCATION_HEADER} header")
    except PayloadError:
        return None


def _trigger_role(role: str | None) -> AuthorRole:
    """The README's trigger fires only on end-users' updates; trust it unless the payload says agent."""
    if role and role.strip().lower() in _AGENT_ROLES:
        return AuthorRole.AGENT
    return AuthorRole.CUSTOMER


def _trigger_time(data: dict) -> datetime:
    """The comment's time: the ticket's update time the trigger fired on, else arrival."""
    return payload.timestamp(data, "created_at") or payload.timestamp(data, "updated_at") or utcnow()


def _trigger_snapshot(data: dict, requester_id: str | None) -> dict:
    """The ticket as a trigger body gives it: only the fields a template has (TRIGGER_FIELDS; a
    "status" or "priority" there is a customer's text's, never the ticket's)."""
    given = {key: value for key, value in data.items() if key in TRIGGER_FIELDS}
    return _ticket_snapshot(given, "", requester_id)


def _ticket_snapshot(data: dict, prefix: str, requester_id: str | None) -> dict:
    snapshot = {
        "requester_id": requester_id,
        "group_id": payload.identifier(data, f"{prefix}group_id"),
        "status": payload.text(data, f"{prefix}status"),
        "priority": payload.text(data, f"{prefix}priority"),
        "tags": payload.tag_list(data, f"{prefix}tags"),
        "updated_at": payload.text(data, f"{prefix}updated_at"),
    }
    return {key: value for key, value in snapshot.items() if value not in (None, [])}


def strip_rendered_header(body: str) -> str:
    return _RENDERED_HEADER.sub("", body, count=1)
