"""POST /webhooks/freshdesk: the "Trigger webhook" action of an automation rule.

Freshdesk has no webhook subscriptions and signs nothing: an admin writes the JSON body (the
README's template) and a secret header. Placeholders render as names or numbers, unescaped, with
"Author Name : " before the comment, so every field is read defensively. There is no delivery or
comment id: a retried delivery is recognized by ticket id + the cleaned text's fingerprint
(`CommentEvent.comment_key`).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app

from ticketpulse.escalation.comments import AuthorRole
from ticketpulse.webhooks.events import CommentEvent
from ticketpulse.models import Ticket, utcnow
from ticketpulse.sentiment.clean import squash_whitespace
from ticketpulse.webhooks import lenient_json, payload
from ticketpulse.webhooks.payload import PayloadError
from ticketpulse.webhooks.feedback import is_tags_change, parse_freshdesk_tags
from ticketpulse.webhooks.receive import receive
from ticketpulse.webhooks.signing import verify_freshdesk

bp = Blueprint("freshdesk", __name__)

SOURCE = "freshdesk.automation"
MAX_ACCOUNT_LENGTH = Ticket.__table__.c.account.type.length
STATUSES = {"open": 2, "pending": 3, "resolved": 4, "closed": 5}
PRIORITIES = {"low": 1, "medium": 2, "high": 3, "urgent": 4}
# Leaves of Freshdesk's brace string `{{triggered_event}}`, e.g. `{note_type:private}`.
_EVENT_PAIR = re.compile(r"([A-Za-z_]+)\s*:\s*([^{}:,\s]+)")
_AGENT = {"agent", "agents", "admin", "staff"}
# "Author Name : " rendered before the comment when the author's name is unknown to us.
_ANY_AUTHOR_PREFIX = re.compile(r"\A\s*[^:\n<>]{1,80} : ")
# Where "Author Name : " may end; the name itself may hold a colon ("Acme: Billing").
_PREFIX_END = re.compile(r"\s*:\s*")
_MAX_NAMED_PREFIX = 400
# The README's bodies (replies, first messages, tag changes): the values holding a customer's text,
# and each object's keys. Where the text is unescaped, it ends only before one of these keys.
SHAPE = lenient_json.Shape(
    text=frozenset({"ticket.subject", "requester.name", "requester.email", "comment_html", "comment_text"}),
    keys={
        "": frozenset({"event", "kind", "performer", "ticket", "requester", "comment_html", "comment_text"}),
        "ticket": frozenset({"id", "subject", "status", "priority", "group_id", "group", "tags", "url", "updated_at"}),
        "requester": frozenset({"id", "email", "name"}),
    },
)


@bp.post("/webhooks/freshdesk")
def freshdesk_webhook():
    env = current_app.config["ENVIRONMENT"]
    return receive(
        "freshdesk",
        authenticate=lambda body, headers: verify_freshdesk(body, headers, env.freshdesk_webhook_secrets),
        parse=lambda data, headers: parse_freshdesk(data, default_domain=env.freshdesk_domain),
        shape=SHAPE,
    )


def parse_freshdesk(data: Any, *, default_domain: str | None = None) -> CommentEvent:
    """The comment event of one automation-rule delivery (the README's JSON body)."""
    if not isinstance(data, dict):
        raise PayloadError("body", "expected a JSON object")
    if is_tags_change(data):
        if "comment_text" in data or "comment_html" in data:
            # a customer's text completed the reply body with "kind": its comment is not a tag change
            raise PayloadError("body", "a reply body also carries kind: fields that a customer's text can add are not read")
        return parse_freshdesk_tags(data, default_domain)
    payload.refuse_moved_fields(data, SHAPE)
    external_id = payload.ticket_number(payload.identifier(data, "ticket.id", required=True), "ticket.id")
    event = event_pairs(payload.text(data, "event"))
    is_public = event.get("note_type") != "private"
    role = author_role(event, placed_performer(data))
    by_requester = is_public and role == AuthorRole.CUSTOMER
    # The requester's name is the author's only when the requester wrote it.
    author_name = payload.text(data, "requester.name") if by_requester else None
    return CommentEvent(
        helpdesk="freshdesk",
        account=account(payload.text(data, "ticket.url"), default_domain),
        external_id=external_id,
        comment_id=None,  # Freshdesk renders no comment id: the key is the text's fingerprint
        body=strip_author_prefix(comment_body(data), author_name),
        is_public=is_public,
        author_role=role,
        author_id=payload.identifier(data, "requester.id") if by_requester else None,
        author_name=author_name,
        commented_at=utcnow(),
        source=SOURCE,
        ticket=ticket_snapshot(data),
    )


def comment_body(data: dict) -> str:
    """comment_text if rendered, else comment_html; an empty comment is kept (and skipped later)."""
    text = payload.text(data, "comment_text")
    if text is not None:
        return text
    markup = payload.text(data, "comment_html")
    if markup is not None:
        return markup
    for key in ("comment_text", "comment_html"):
        value = data.get(key)
        if isinstance(value, str) and not payload.is_placeholder(value.strip()):
            return ""  # rendered but empty, e.g. a reply that is only an attachment
    raise PayloadError("comment_text", "missing (send comment_text or comment_html)")


def strip_author_prefix(body: str, author_name: str | None) -> str:
    """Remove the "Author Name : " Freshdesk puts in front of a rendered comment.

    With the author's name known, only that name is removed (compared after HTML unescaping,
    case and spacing aside, a colon in the name allowed); without it, any short "Someone : "
    before the text.
    """
    if not author_name:
        return _ANY_AUTHOR_PREFIX.sub("", body, count=1)
    wanted = _plain_name(author_name)
    for end in _PREFIX_END.finditer(body, 0, _MAX_NAMED_PREFIX):
        name = body[:end.start()]
        if any(ch in name for ch in "\n<>"):  # past the first line, or into the markup: no prefix
            break
        if _plain_name(name) == wanted:
            return body[end.end():]
    return body


def _plain_name(name: str) -> str:
    """A name as compared: HTML entities read (either side may be rendered escaped), case and
    spacing aside."""
    return squash_whitespace(html.unescape(name)).casefold()



def event_pairs(event: str | None) -> dict[str, str]:
    """`{note_type:private}` → {"note_type": "private"}; nested values give their leaves."""
    if not event:
        return {}
    return {key.lower(): value.lower() for key, value in _EVENT_PAIR.findall(event)}


# The top-level keys whose values hold a customer's text (SHAPE.text): `ticket` (its subject),
# `requester`, `comment_html`, `comment_text`.
_TEXT_KEYS = frozenset(path.split(".", 1)[0] for path in SHAPE.text)


def placed_performer(data: dict) -> str | None:
    """`performer` as the agents' replies rule places it: before every value a customer's text
    fills. One after them is the text's (`x","performer":"agent` in a customer's reply completes
    the body): read, it would skip the customer's message and count it as an agent's reply."""
    if "performer" not in data:
        return None
    keys = list(data)
    first_text = min((keys.index(key) for key in _TEXT_KEYS if key in data), default=len(keys))
    return payload.text(data, "performer") if keys.index("performer") < first_text else None


def author_role(event: dict[str, str], performer: str | None) -> AuthorRole:
    """The README's rule fires only for the requester's replies; the payload may say otherwise."""
    said = set(event.values()) | ({performer.lower()} if performer else set())
    if said & _AGENT or event.get("note_type") == "private":  # only agents write private notes
        return AuthorRole.AGENT
    return AuthorRole.CUSTOMER


def account(url: str | None, default_domain: str | None) -> str:
    """The Freshdesk domain (`acme.freshdesk.com`): FRESHDESK_DOMAIN, else the ticket URL's host.

    The server's configuration wins: a ticket URL on a portal's own domain (support.acme.com)
    is the same account; one on another *.freshdesk.com account is refused, not stored apart.
    """
    host = None
    if url:
        try:
            host = urlsplit(url if "//" in url else f"//{url}").hostname
        except ValueError:
            host = None
        if host and (len(host) > MAX_ACCOUNT_LENGTH or any(ch.isspace() for ch in host)):
            raise PayloadError("ticket.url", "not a Freshdesk ticket URL (host name too long or not a name)")
    if default_domain:
        domain = default_domain.strip().lower()
        domain = domain if "." in domain else f"{domain}.freshdesk.com"
        if host and host != domain and host.endswith(".freshdesk.com") and domain.endswith(".freshdesk.com"):
            raise PayloadError("ticket.url", f"{host} is not this server's account (FRESHDESK_DOMAIN={domain})")
        return domain
    return host or "default"


def _code(value: str | None, names: dict[str, int]) -> int | str | None:
    """A status or priority as Freshdesk's number, from a name ("Open") or a number ("2")."""
    if value is None:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return names.get(value.lower(), value)


def ticket_snapshot(data: dict) -> dict:
    tags = [tag.strip() for tag in payload.tag_list(data, "ticket.tags", separators=",")]
    snapshot = {
        "requester_id": payload.identifier(data, "requester.id"),
        "requester_email": payload.text(data, "requester.email"),
        "group_id": payload.identifier(data, "ticket.group_id"),
        "group": payload.text(data, "ticket.group"),
        "status": _code(payload.text(data, "ticket.status"), STATUSES),
        "priority": _code(payload.text(data, "ticket.priority"), PRIORITIES),
        "tags": [tag for tag in tags if tag],
        "url": payload.text(data, "ticket.url"),
    }
    return {key: value for key, value in snapshot.items() if value not in (None, [])}
