"""The conversation API decides and writes the note as the worker does: the unanswered-messages
signal, and the messages in a language the scorer cannot read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ticketpulse.config import Config
from ticketpulse.escalation.comments import AuthorRole
from ticketpulse.escalation.conversations import Conversations, Message
from ticketpulse.sentiment import SentimentScore
from tests.scripted_scorer import ScriptedScorer

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
DECLINED = "My card was declined."
ANYONE = "Hello?? Anyone there??"
GERMAN = "Hallo, meine Karte wurde schon wieder abgelehnt, warum denn?"
FURIOUS = "This is the worst service ever, I am cancelling!!!"
SCRIPT = {DECLINED: (-0.3, 0.4, 0.2), ANYONE: (-0.4, 0.7, 0.3), FURIOUS: (-0.9, 0.95, 0.9)}


class GermanUnreadScorer(ScriptedScorer):
    """The offline scorer's answer to a German message: not read, its language named."""

    def score(self, text, context=()):
        if text == GERMAN:
            self.calls.append((text, tuple(context)))
            return SentimentScore(score=0.0, frustration=0.0, urgency=0.0, scorer=self.name,
                                  scorer_version=self.version, unsupported_language="de")
        return super().score(text, context)


@pytest.fixture
def conversations(sessions):
    return Conversations(sessions, GermanUnreadScorer(SCRIPT), Config())


def post(conversations, text, minutes, author=AuthorRole.CUSTOMER, message_id=None):
    return conversations.post(Message("chat-7", text, text, text, author, T0 + timedelta(minutes=minutes), message_id))


def test_a_customer_writing_again_before_any_agent_reply_is_escalated_by_the_api(conversations):
    post(conversations, "Hi, how can I help?", -1, author=AuthorRole.AGENT)  # this client posts its replies
    post(conversations, DECLINED, 0)

    answer = post(conversations, ANYONE, 30, message_id="m-2")

    assert answer.action == "escalate"
    assert answer.decision.rule == "unanswered_frustration" and answer.decision.severity == "medium"
    assert "Signals: the customer wrote again before any agent reply (2 customer messages unanswered)." in answer.note
    assert conversations.conversation("chat-7").decision.rule == "unanswered_frustration"
    again = post(conversations, ANYONE, 30, message_id="m-2")
    assert again.duplicate and again.decision.rule == "unanswered_frustration"


def test_the_same_follow_up_after_an_agent_reply_is_answered_not_escalated(conversations):
    post(conversations, DECLINED, 0)
    post(conversations, "Sorry to hear that, which card?", 10, author=AuthorRole.AGENT)

    answer = post(conversations, ANYONE, 30)

    assert answer.action == "respond" and answer.decision is None


def test_the_api_handover_note_names_the_messages_it_could_not_read(conversations):
    post(conversations, DECLINED, 0)
    post(conversations, "Which card was it?", 5, author=AuthorRole.AGENT)
    post(conversations, GERMAN, 10)

    answer = post(conversations, FURIOUS, 20)

    assert answer.action == "escalate" and answer.decision.severity == "critical"
    assert ("Not scored: 1 customer message(s) in a language the scorer cannot read (de); read them yourself."
            in answer.note)
