"""A scoring turn's size follows what the scorer costs per ticket it scores: tickets whose
comments are all skipped (agent replies, private notes) cost the scorer nothing and must not make a
slow scorer (an LLM) look cheap, or the next turn queues many slow calls behind each other in one
thread instead of spreading them over the worker's threads."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from ticketpulse.models import Comment
from ticketpulse.runtime import build_runtime
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk


class SlowScorer(ScriptedScorer):
    """As slow as an LLM call, relative to a turn (TurnSize.TURN_SECONDS)."""

    def score(self, text, context=()):
        time.sleep(0.15)
        return super().score(text, context)


@pytest.fixture
def worker(config, environment, engine):
    return build_runtime(config, environment, engine=engine, scorer=SlowScorer({}), helpdesks={}).worker


def post(client, ticket: str, *, staff: bool = False) -> None:
    event = comment_event(ticket, "1", "Any news on my order?", time="2025-03-05T10:00:00Z", staff=staff)
    assert post_zendesk(client, event).status_code == 202


def test_turns_of_skipped_agent_replies_leave_a_slow_scorer_one_ticket_a_turn(client, sessions, worker):
    post(client, "100")
    assert worker.run_once()  # one slow call: one ticket a turn
    assert worker.turn.size == 1
    for t in range(12):  # agent replies only: skipped, the scorer is not called
        post(client, str(200 + t), staff=True)
    worker.drain()

    for t in range(3):
        post(client, str(300 + t))
    assert worker.run_once()

    with sessions() as session:
        pending = session.scalar(select(func.count()).where(Comment.status == "pending"))
    assert pending == 2  # one ticket scored; the other two are left to the other threads
    assert worker.turn.size == 1
