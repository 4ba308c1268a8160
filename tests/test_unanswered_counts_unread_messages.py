"""A customer message the scorer could not read (stored as "unsupported language", kept out of the
rules) still counts toward the messages written without an agent reply: a count of messages is
not a score. Three messages unanswered, two of them in German, are three unanswered, in the
worker, the conversation API and its retry; the rules that read the scores still never see the
unread one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.test_api import AUTH, api, api_environment, get, post  # noqa: F401 (fixtures)
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.escalation.signals import unanswered_counts
from ticketpulse.escalation.tracker import ScorePoint
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
from ticketpulse.models import Escalation
from ticketpulse.runtime import build_runtime
from ticketpulse.sentiment import SentimentScore

GERMAN = ("Hallo, meine Karte wurde schon wieder abgelehnt, warum denn?", "Hallo? Ist da jemand? Ich warte immer noch.")
ANYONE = "Hello?? Anyone there??"  # frustration 0.7: unanswered_frustration (>= 0.6) only when written again
SCRIPT = {ANYONE: (-0.4, 0.7, 0.3), "Which card was it?": (0.0, 0.0, 0.0)}


class UnreadGerman(ScriptedScorer):
    """The offline scorer's answer to German: not read, its language named."""

    def score(self, text, context=()):
        if text in GERMAN:
            self.calls.append((text, tuple(context)))
            return SentimentScore(score=0.0, frustration=0.0, urgency=0.0, scorer=self.name,
                                  scorer_version=self.version, unsupported_language="de")
        return super().score(text, context)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=timezone.utc)


def test_unread_messages_count_but_get_no_point():
    points = [ScorePoint(at(12), -0.4, 0.7, 0.3)]
    assert [p.unanswered for p in unanswered_counts(points, [], [at(10), at(11)])] == [3]
    # an agent reply after the unread ones starts the count again
    assert [p.unanswered for p in unanswered_counts(points, [at(11, 30)], [at(10), at(11)])] == [1]


# -- the worker -------------------------------------------------------------------------------------


@pytest.fixture
def fake_zendesk():
    fake = FakeZendesk()
    fake.add_ticket("48213", tags=["billing"])
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def runtime(config, environment, engine, fake_zendesk):
    policy = HttpPolicy(attempts=3, max_wait=5, backoff=0.01)
    helpdesks = {"zendesk": ZendeskHelpdesk(ZendeskClient(fake_zendesk.url, fake_zendesk.email, fake_zendesk.token, policy))}
    return build_runtime(config, environment, engine=engine, scorer=UnreadGerman(dict(SCRIPT)), helpdesks=helpdesks)


def say(client, text, n, *, staff=False):
    event = comment_event("48213", str(400 + n), text, time=f"2025-03-05T1{n}:00:00Z", staff=staff)
    assert post_zendesk(client, event).status_code in (200, 202)


def escalations(sessions):
    with sessions() as session:
        return [(e.severity, e.rule, e.note) for e in session.scalars(select(Escalation).order_by(Escalation.id))]


@pytest.mark.parametrize("turns", ["one turn", "a turn per message"])
def test_the_worker_counts_unread_messages_as_written_unanswered(client, sessions, runtime, turns):
    say(client, GERMAN[0], 0)
    if turns == "a turn per message":
        runtime.worker.drain()  # the unread messages are then read back from the stored history
    say(client, GERMAN[1], 1)
    if turns == "a turn per message":
        runtime.worker.drain()
    say(client, ANYONE, 2)
    runtime.worker.drain()

    [(severity, rule, note)] = escalations(sessions)
    assert (severity, rule) == ("medium", "unanswered_frustration")
    assert "3 customer messages in a row without an agent reply" in note
    assert "1 customer message(s) scored" in note  # the rules read only the English one
    assert "2 customer message(s) in a language the scorer cannot read (de)" in note


def test_an_agent_reply_after_the_unread_messages_is_still_an_answer(client, sessions, runtime):
    say(client, GERMAN[0], 0)
    say(client, GERMAN[1], 1)
    say(client, "Which card was it?", 2, staff=True)
    say(client, ANYONE, 3)
    runtime.worker.drain()

    assert escalations(sessions) == []


# -- the conversation API ---------------------------------------------------------------------------


@pytest.fixture
def scorer():
    return UnreadGerman(dict(SCRIPT))


def message(text, minute, message_id, author="customer"):
    return {"text": text, "time": f"2026-12-01T10:{minute:02d}:00Z", "message_id": message_id, "author": author}


def test_the_api_counts_unread_messages_as_written_unanswered_and_a_retry_agrees(api):
    greeting = dict(message("Hi, how can I help?", 0, "a-0", author="agent"), time="2026-12-01T09:59:00Z")
    post(api, "chat-unread", greeting)  # this client posts its replies
    post(api, "chat-unread", message(GERMAN[0], 0, "c-1"))
    post(api, "chat-unread", message(GERMAN[1], 5, "c-2"))

    first = post(api, "chat-unread", message(ANYONE, 10, "c-3")).json

    assert (first["action"], first["rule"]) == ("escalate", "unanswered_frustration")
    assert "3 customer messages in a row without an agent reply" in first["reason"]
    assert first["scored_messages"] == 1 and [p["score"] for p in first["history"]] == [-0.4]
    retry = post(api, "chat-unread", message(ANYONE, 10, "c-3")).json
    assert retry["duplicate"] is True
    assert (retry["action"], retry["rule"], retry["reason"]) == (first["action"], first["rule"], first["reason"])


def test_the_api_counts_an_unread_message_after_an_earlier_agent_reply(api):
    post(api, "chat-unread2", message("Which card was it?", 0, "a-1", author="agent"))
    post(api, "chat-unread2", message(GERMAN[0], 5, "c-1"))

    answer = post(api, "chat-unread2", message(ANYONE, 10, "c-2")).json

    assert (answer["action"], answer["rule"]) == ("escalate", "unanswered_frustration")
    assert "2 customer messages in a row" in answer["reason"]


def test_the_api_restarts_the_count_at_an_agent_reply_after_the_unread_message(api):
    post(api, "chat-unread3", message(GERMAN[0], 0, "c-1"))
    post(api, "chat-unread3", message("Which card was it?", 5, "a-1", author="agent"))

    answer = post(api, "chat-unread3", message(ANYONE, 10, "c-2")).json

    assert (answer["action"], answer["rule"]) == ("respond", None)
