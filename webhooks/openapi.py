"""The conversation API's OpenAPI 3.1 description, served at /api/v1/openapi.json.

tests/test_api.py validates the real answers against these schemas, so they cannot drift apart.
"""

from __future__ import annotations

from ticketpulse.escalation.conversations import MAX_MESSAGE_ID_LENGTH
from ticketpulse.models.tables import MAX_TICKET_NUMBER_LENGTH
from ticketpulse.webhooks.payload import MAX_CLOCK_SKEW

SEVERITY = {"type": ["string", "null"], "enum": ["low", "medium", "high", "critical", None]}
TREND = {"type": "string", "enum": ["improving", "declining", "stable", "insufficient_data"]}
NUMBER_0_1 = {"type": "number", "minimum": 0, "maximum": 1}
ERROR_RESPONSE = {"description": "What is wrong, naming the field.", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
UNAVAILABLE_RESPONSE = {
    "description": "The database (or, for a post, the scorer) failed: nothing was stored; retry after Retry-After.",
    "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}

_STATE_PROPERTIES = {
    "scored_messages": {"type": "integer", "minimum": 0, "description": "Customer messages scored."},
    "score": {
        "oneOf": [{"$ref": "#/components/schemas/Score"}, {"type": "null"}],
        "description": "The latest customer message's score (of this message, in a POST answer).",
    },
    "trend": {**TREND, "description": "Latest score against the first of the trend window."},
    "trend_delta": {"type": "number", "description": "That difference; 0 without enough messages."},
    "peak_frustration": {"oneOf": [NUMBER_0_1, {"type": "null"}]},
    "consecutive_negative": {"type": "integer", "minimum": 0},
    "escalated_severity": {**SEVERITY, "description": "The highest severity escalated so far."},
    "history": {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Point"},
        "description": "Scored customer messages by message time, oldest first (the latest 50).",
    },
    "tone": {"$ref": "#/components/schemas/Tone"},
}

SPEC: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "ticketpulse conversation API",
        "version": "1",
        "description": (
            "Post each message of a conversation; the answer says whether to hand over to a human "
            "(`escalate`) or to answer (`respond`), with the tone to answer in. Conversations are "
            "kept apart from helpdesk tickets. Every error is JSON `{\"error\": ...}` naming the field."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/conversations/{conversation_id}/messages": {
            "post": {
                "operationId": "postMessage",
                "summary": "Add a message; score it, decide, and answer at once.",
                "parameters": [{"$ref": "#/components/parameters/ConversationId"}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PostedMessage"}}},
                },
                "responses": {
                    "201": {"description": "Stored, scored and decided.", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}}},
                    "200": {"description": "This message_id was posted before: its first answer, again.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Answer"}}}},
                    "400": ERROR_RESPONSE,
                    "401": ERROR_RESPONSE,
                    "403": ERROR_RESPONSE,
                    "413": ERROR_RESPONSE,
                    "503": UNAVAILABLE_RESPONSE,
                },
            }
        },
        "/conversations/{conversation_id}": {
            "get": {
                "operationId": "getConversation",
                "summary": "A conversation's trajectory, last escalation and tone hint.",
                "parameters": [{"$ref": "#/components/parameters/ConversationId"}],
                "responses": {
                    "200": {"description": "The conversation.", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Conversation"}}}},
                    "400": ERROR_RESPONSE,
                    "401": ERROR_RESPONSE,
                    "403": ERROR_RESPONSE,
                    "404": ERROR_RESPONSE,
                    "503": UNAVAILABLE_RESPONSE,
                },
            }
        },
        "/tickets/{helpdesk}/{number}": {
            "get": {
                "operationId": "getTicket",
                "summary": "A helpdesk ticket's trajectory, last escalation and tone hint (for sidebar apps).",
                "parameters": [
                    {"name": "helpdesk", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": ["zendesk", "freshdesk"]}},
                    {"name": "number", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": f"^[0-9]{{1,{MAX_TICKET_NUMBER_LENGTH}}}$"},
                     "description": "The ticket's number as the helpdesk shows it (leading zeros are ignored)."},
                    {"name": "account", "in": "query", "required": False, "schema": {"type": "string"},
                     "description": "The helpdesk account, only when one number exists in several. A ticket "
                                    "that is not under it but under others is a 404 naming those accounts."},
                ],
                "responses": {
                    "200": {"description": "The ticket.", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}}},
                    "400": ERROR_RESPONSE,
                    "401": ERROR_RESPONSE,
                    "403": ERROR_RESPONSE,
                    "404": ERROR_RESPONSE,
                    "503": UNAVAILABLE_RESPONSE,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This description.",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {
                    "application/json": {"schema": {"type": "object"}}}}},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "One of the keys in TICKETPULSE_API_KEYS."},
        },
        "parameters": {
            "ConversationId": {
                "name": "conversation_id", "in": "path", "required": True,
                "description": "Your id for the conversation.",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$"},
            },
        },
        "schemas": {
            "PostedMessage": {
                "type": "object",
                "additionalProperties": False,
                "required": ["text"],
                "properties": {
                    "text": {"type": "string", "pattern": "\\S",
                             "description": "The message (plain text or HTML), not only spaces."},
                    "author": {"type": "string", "enum": ["customer", "agent"], "default": "customer",
                               "description": "Agent messages are stored, not scored."},
                    "time": {"type": ["string", "null"], "format": "date-time",
                             "description": "When it was written (ISO 8601; default now). History is ordered by it. "
                                            f"More than {MAX_CLOCK_SKEW.total_seconds() / 60:.0f} minutes ahead of the "
                                            "server's clock is refused."},
                    "message_id": {"type": ["string", "integer", "null"],
                                   # for a string; an integer's digits count the same
                                   "minLength": 1, "maxLength": MAX_MESSAGE_ID_LENGTH, "pattern": "^\\S*$",
                                   "description": f"Your id for the message (1-{MAX_MESSAGE_ID_LENGTH} characters, "
                                                  "no spaces, no NUL): "
                                                  "posting it again returns the first answer and changes nothing. "
                                                  "Without it every post is a new message."},
                },
            },
            "Score": {
                "type": "object",
                "required": ["score", "label", "frustration", "urgency"],
                "properties": {
                    "score": {"type": "number", "minimum": -1, "maximum": 1, "description": "Sentiment."},
                    "label": {"type": "string", "enum": ["negative", "neutral", "positive"]},
                    "frustration": NUMBER_0_1,
                    "urgency": NUMBER_0_1,
                    "scorer": {"type": "string"},
                    "fallback_reason": {"type": "string"},
                    "unsupported_language": {
                        "type": "string",
                        "description": "the message's language, which the scorer cannot read: the "
                                       "numbers are placeholders and the message is kept out of the rules",
                    },
                },
            },
            "Point": {
                "type": "object",
                "additionalProperties": False,
                "required": ["time", "score", "label", "frustration", "urgency"],
                "properties": {
                    "time": {"type": "string", "format": "date-time"},
                    "score": {"type": "number", "minimum": -1, "maximum": 1},
                    "label": {"type": "string", "enum": ["negative", "neutral", "positive"]},
                    "frustration": NUMBER_0_1,
                    "urgency": NUMBER_0_1,
                },
            },
            "Tone": {
                "type": "object",
                "additionalProperties": False,
                "required": ["label", "instruction"],
                "properties": {
                    "label": {"type": "string", "enum": ["empathetic", "professional", "friendly", "deescalate"],
                              "description": "deescalate when the trend is declining or frustration is high."},
                    "instruction": {"type": "string", "description": "From [tone] in the config file."},
                },
            },
            "Decision": {
                "type": "object",
                "additionalProperties": False,
                "required": ["severity", "rule", "reason"],
                "properties": {
                    "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
                    "rule": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
            "LastEscalation": {
                "type": "object",
                "additionalProperties": False,
                "required": ["severity", "rule", "status", "time", "note"],
                "properties": {
                    "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
                    "rule": {"type": "string"},
                    "status": {"type": "string", "enum": ["pending", "applied", "failed"],
                               "description": "For helpdesk tickets: whether the helpdesk has it yet."},
                    "time": {"type": "string", "format": "date-time"},
                    "note": {"type": "string"},
                },
            },
            "Answer": {
                "type": "object",
                "additionalProperties": False,
                "required": ["conversation_id", "message_id", "duplicate", "scored", "action", "severity", "rule",
                             "reason", "note", "signals", "score", "trend", "trend_delta", "peak_frustration",
                             "consecutive_negative", "escalated_severity", "scored_messages", "history", "tone"],
                "properties": {
                    "conversation_id": {"type": "string"},
                    "message_id": {"type": ["string", "null"]},
                    "duplicate": {"type": "boolean"},
                    "scored": {"type": "boolean", "description": "False for agent messages."},
                    "action": {"type": "string", "enum": ["escalate", "respond"],
                               "description": "escalate: hand over to a human now (once per severity)."},
                    "severity": {**SEVERITY, "description": "The escalation's severity; null when responding."},
                    "rule": {"type": ["string", "null"], "description": "The rule that holds, if any."},
                    "reason": {"type": "string", "description": "Why escalate, or why respond."},
                    "note": {"type": ["string", "null"], "description": "The handover note, when escalating."},
                    "signals": {"type": "array", "items": {"type": "string"},
                                "description": "The words or phrases that moved this message's score."},
                    **_STATE_PROPERTIES,
                },
            },
            "Conversation": {
                "type": "object",
                "additionalProperties": False,
                "required": ["conversation_id", "messages", "last_escalation", "decision", *_STATE_PROPERTIES],
                "properties": {
                    "conversation_id": {"type": "string"},
                    "messages": {"type": "integer", "minimum": 0, "description": "Messages stored, agents' too."},
                    "last_escalation": {"oneOf": [{"$ref": "#/components/schemas/LastEscalation"}, {"type": "null"}]},
                    "decision": {"oneOf": [{"$ref": "#/components/schemas/Decision"}, {"type": "null"}],
                                 "description": "What the rules say of the latest customer message."},
                    **_STATE_PROPERTIES,
                },
            },
            "Ticket": {
                "type": "object",
                "additionalProperties": False,
                "required": ["helpdesk", "ticket", "messages", "last_escalation", "decision", *_STATE_PROPERTIES],
                "properties": {
                    "helpdesk": {"type": "string", "enum": ["zendesk", "freshdesk"]},
                    "ticket": {"type": "string"},
                    "messages": {"type": "integer", "minimum": 0},
                    "last_escalation": {"oneOf": [{"$ref": "#/components/schemas/LastEscalation"}, {"type": "null"}]},
                    "decision": {"oneOf": [{"$ref": "#/components/schemas/Decision"}, {"type": "null"}]},
                    **_STATE_PROPERTIES,
                },
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            },
        },
    },
}
