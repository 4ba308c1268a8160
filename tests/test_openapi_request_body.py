"""The OpenAPI description of a posted message says what the server accepts: every body it
answers with 201 is valid under the PostedMessage schema, and every body it refuses with a 400
for a reason a JSON Schema can say is invalid under it (so a generated client refuses it first)."""

from __future__ import annotations

import jsonschema
import pytest

from tests.test_api import AUTH, api, api_environment, scorer  # noqa: F401 (fixtures)
from ticketpulse.webhooks.openapi import SPEC

ACCEPTED = [
    {"text": "Hi, how do I export my invoices?"},
    {"text": "Hi", "author": "agent", "time": "2026-12-01T10:00:00Z", "message_id": "m-1"},
    {"text": "Hi", "message_id": 7},
    {"text": "Hi", "time": None},
    {"text": "Hi", "message_id": None},
    {"text": "Hi", "message_id": "x" * 100},
]
REFUSED = [
    {"text": "   "},
    {"text": None},
    {"text": "Hi", "author": None},
    {"text": "Hi", "txt": "Hi"},
    {"text": "Hi", "message_id": ""},
    {"text": "Hi", "message_id": "two words"},
    {"text": "Hi", "message_id": "x" * 101},
    {"text": "Hi", "message_id": 1.5},
    {"text": "Hi", "message_id": True},
    {"text": "Hi", "time": 1733000000},
]


def valid(body: dict) -> bool:
    schema = {"$ref": "#/components/schemas/PostedMessage", "components": SPEC["components"]}
    return jsonschema.Draft202012Validator(schema).is_valid(body)


@pytest.mark.parametrize("body", ACCEPTED, ids=repr)
def test_a_body_the_server_accepts_is_valid_under_the_posted_message_schema(api, body):
    response = api.post("/api/v1/conversations/chat-spec/messages", json=body, headers=AUTH)
    assert response.status_code == 201, response.json
    assert valid(body)


@pytest.mark.parametrize("body", REFUSED, ids=repr)
def test_a_body_the_server_refuses_is_invalid_under_the_posted_message_schema(api, body):
    response = api.post("/api/v1/conversations/chat-spec/messages", json=body, headers=AUTH)
    assert response.status_code == 400, response.json
    assert not valid(body)
