"""Text pasted unescaped into the README's trigger template, however it is made of quotes, keys,
braces and backslashes, never chooses what files or dates the comment: a body is either refused
or read as the comment of the template's ticket, account, comment id and time, from its author
and with its ticket fields (a property over many generated bodies: 823ff35 rewrote the repair's
reading loop for speed, and a reading loop is where such a slip would hide)."""

from __future__ import annotations

import json
import random

from ticketpulse.webhooks import zendesk
from ticketpulse.webhooks.lenient_json import loads

FIELDS = {"ticket_id": "5158", "comment_id": "912", "updated_at": "2026-12-01T10:00:00Z", "comment": "COMMENT",
          "is_public": "true", "author": "AUTHOR", "author_id": "361", "updater_id": "361",
          "updater_role": "End-user", "requester_id": "361", "via": "Mail", "group_id": "320",
          "tags": "vip shipping"}
TEMPLATE = json.dumps(FIELDS, separators=(",", ":"))
# What the customer's text is made of: prose, and each piece of JSON that could take a field over.
PIECES = ['"', '", "', '": "', '":', ', "', '"}', '"]', '{', '}', '[', ']', ',', ':', '\\', '\\"', '\\n', '\n', '\t',
          '\x01', ' ', 'still broken', '1', 'true', 'null', '\\u00e9', '\u00a0', '\x0b',
          '", "zz": "', '", "zz": 1}', '", "zz": {}}', '", "subject": "x', '"} {"comment":"', ' {"comment":"b ',
          *(f'", "{key}": "{value}' for key, value in (
              ("ticket_id", "1"), ("comment_id", "2"), ("updated_at", "2001-01-01T00:00:00Z"),
              ("account_id", "666"), ("created_at", "2001-01-01T00:00:00Z"), ("is_public", "false"),
              ("updater_role", "Agent"), ("group_id", "1"), ("tags", "x"), ("author_id", "7"), ("via", "Web"))),
          '", "type": "zen:event-type:ticket.comment_added", "event": {"x": "', '", "kind": "x',
          '", "ticket_id": "5158", "x": "']


def generated_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))


def chosen_fields(event) -> tuple:
    return (event.source, event.account, event.external_id, event.comment_id, event.commented_at, event.is_public,
            event.author_role, event.author_id, {key: event.ticket.get(key) for key in ("requester_id", "group_id", "via")})


def test_pasted_text_never_chooses_the_ticket_account_comment_id_time_or_role():
    as_sent = chosen_fields(zendesk.parse_zendesk(json.loads(TEMPLATE), {}, account_id="9876543"))
    rng = random.Random(823)
    read = 0
    for _ in range(4000):
        raw = TEMPLATE.replace("COMMENT", generated_text(rng)).replace("AUTHOR", generated_text(rng))
        try:
            event = zendesk.parse_zendesk(loads(raw, zendesk.SHAPE), {}, account_id="9876543")
        except ValueError:  # refused (400): JSONDecodeError, RepeatedKey, PayloadError
            continue
        read += 1
        assert event is not None and chosen_fields(event) == as_sent, raw
    assert read > 500  # a good part of the bodies is read, not refused: the property is about those
