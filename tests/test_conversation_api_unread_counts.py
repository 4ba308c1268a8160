"""A message in a language the scorer cannot read is not a scored message, in every answer:
the POST answer, the GET of the conversation and the handover note all say so."""

from __future__ import annotations

import pytest

from tests.test_api import AUTH, api, api_environment, get, post  # noqa: F401 (fixtures)
from tests.test_conversation_api_signals import DECLINED, FURIOUS, GERMAN, SCRIPT, GermanUnreadScorer


@pytest.fixture
def scorer():
    return GermanUnreadScorer(SCRIPT)


def test_get_counts_an_unread_message_as_stored_not_scored_as_the_post_answer_does(api):
    post(api, "chat-de", {"text": DECLINED, "time": "2026-12-01T10:00:00Z"})
    unread = post(api, "chat-de", {"text": GERMAN, "time": "2026-12-01T10:05:00Z"}).json
    assert unread["score"]["unsupported_language"] == "de" and unread["scored_messages"] == 1

    state = get(api, "/api/v1/conversations/chat-de").json

    assert (state["messages"], state["scored_messages"]) == (2, 1)
    assert [point["score"] for point in state["history"]] == [-0.3]


def test_after_an_unread_message_the_next_answer_and_the_get_agree_on_the_count(api):
    post(api, "chat-de2", {"text": DECLINED, "time": "2026-12-01T10:00:00Z"})
    post(api, "chat-de2", {"text": GERMAN, "time": "2026-12-01T10:05:00Z"})
    furious = post(api, "chat-de2", {"text": FURIOUS, "time": "2026-12-01T10:10:00Z"}).json
    assert furious["action"] == "escalate" and "2 customer message(s) scored" in furious["note"]

    state = get(api, "/api/v1/conversations/chat-de2").json

    assert furious["scored_messages"] == state["scored_messages"] == 2
    assert state["messages"] == 3
