"""Posting a message id again returns the first answer, also when messages dated earlier (a
customer's or an agent's) were posted after it: the replay decides on what was stored when the
message was first answered, as the first answer did."""

from __future__ import annotations

import pytest

from tests.test_api import AUTH, api, api_environment, post  # noqa: F401 (fixtures)
from tests.scripted_scorer import ScriptedScorer

LATE = "It still fails and I need it today."
EARLY = "Quick question about exports."
DECLINED = "My card was declined."
ANYONE = "Hello?? Anyone there??"
SCRIPT = {LATE: (-0.3, 0.65, 0.4), EARLY: (-0.1, 0.2, 0.1), DECLINED: (-0.3, 0.4, 0.2), ANYONE: (-0.4, 0.7, 0.3)}
ANSWER_FIELDS = ("action", "severity", "rule", "reason", "note", "scored_messages", "history", "trend",
                 "consecutive_negative", "escalated_severity", "tone")


@pytest.fixture
def scorer():
    return ScriptedScorer(SCRIPT)


def message(text, time, message_id, author="customer"):
    return {"text": text, "time": f"2026-12-01T{time}:00Z", "message_id": message_id, "author": author}


def test_a_retry_answers_as_the_first_time_after_an_earlier_dated_customer_message(api):
    post(api, "chat-r1", message("Hi, how can I help?", "10:00", "a-0", author="agent"))  # it posts its replies
    first = post(api, "chat-r1", message(LATE, "10:10", "m-late")).json
    assert first["action"] == "respond" and first["rule"] is None
    # dated before it, posted after: the customer now wrote twice without a reply, which escalates
    assert post(api, "chat-r1", message(EARLY, "10:05", "m-early")).json["action"] == "escalate"

    retry = post(api, "chat-r1", message(LATE, "10:10", "m-late"))

    assert retry.status_code == 200 and retry.json["duplicate"] is True
    assert {key: retry.json[key] for key in ANSWER_FIELDS} == {key: first[key] for key in ANSWER_FIELDS}


def test_a_retry_of_a_handover_keeps_its_reason_after_an_earlier_dated_agent_reply(api):
    post(api, "chat-r2", message("Hi, how can I help?", "09:55", "a-0", author="agent"))  # it posts its replies
    post(api, "chat-r2", message(DECLINED, "10:00", "c-1"))
    first = post(api, "chat-r2", message(ANYONE, "10:30", "c-2")).json
    assert (first["action"], first["rule"]) == ("escalate", "unanswered_frustration")
    post(api, "chat-r2", message("Sorry, which card was it?", "10:10", "a-1", author="agent"))

    retry = post(api, "chat-r2", message(ANYONE, "10:30", "c-2")).json

    assert retry["duplicate"] is True
    assert {key: retry[key] for key in ANSWER_FIELDS} == {key: first[key] for key in ANSWER_FIELDS}
