"""The replays (`eval --conversations`, `backtest`, the tuning advice) count a customer message the
scorer could not read as written without an agent reply, as the worker does (one rule,
escalation/signals.py unanswered_counts): two messages in German, then "Hello?? Anyone there??",
is three unanswered messages and escalates (unanswered_frustration) in the worker and in every
replay."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from tests.test_unanswered_counts_unread_messages import (  # noqa: F401 (fixtures)
    ANYONE, GERMAN, SCRIPT, UnreadGerman, fake_zendesk, runtime, say,
)
from ticketpulse.config import Thresholds
from ticketpulse.escalation import backtest, feedback, tuning
from ticketpulse.escalation.conversation_eval import AGENT, CUSTOMER, Conversation, Turn, replay
from ticketpulse.models import Escalation, Ticket, Verdict

WORKER_DECIDED = ("medium", "unanswered_frustration")


def worker_decides(client, sessions, runtime) -> tuple[str, str]:
    for n, text in enumerate([*GERMAN, ANYONE]):
        say(client, text, n)
    runtime.worker.drain()
    with sessions() as session:
        [escalation] = session.scalars(select(Escalation)).all()
        return escalation.severity, escalation.rule


def at(hour: int) -> datetime:
    return datetime(2025, 3, 5, hour, tzinfo=timezone.utc)


def test_eval_conversations_decides_as_the_worker_on_unread_messages(client, sessions, runtime):
    conversation = Conversation(0, tuple(
        Turn(n, CUSTOMER, at(10 + n), text, level=2) for n, text in enumerate([*GERMAN, ANYONE])))

    replayed = replay(conversation, UnreadGerman(dict(SCRIPT)), Thresholds())

    assert (replayed.severity, replayed.rules) == (WORKER_DECIDED[0], [WORKER_DECIDED[1]])
    assert [point.unanswered for _, point in replayed.points] == [3]
    assert worker_decides(client, sessions, runtime) == WORKER_DECIDED


def test_eval_conversations_still_restarts_the_count_at_an_agent_reply():
    turns = (Turn(0, CUSTOMER, at(10), GERMAN[0], level=1), Turn(1, AGENT, at(11), "Which card was it?"),
             Turn(2, CUSTOMER, at(12), ANYONE, level=2))

    replayed = replay(Conversation(0, turns), UnreadGerman(dict(SCRIPT)), Thresholds())

    assert replayed.severity is None and [point.unanswered for _, point in replayed.points] == [1]


def test_backtest_replays_the_stored_unread_messages_as_the_worker_decided(client, sessions, runtime):
    decided = worker_decides(client, sessions, runtime)

    with sessions() as session:
        histories = backtest.stored_histories(session)
        simulated = backtest.replay(histories, Thresholds())
        recorded = backtest.recorded_escalations(session, simulated.tickets)

    assert [[point.unanswered for point in history] for history in histories] == [[3]]
    assert decided == WORKER_DECIDED
    assert dict(simulated.highest) == dict(recorded.highest) == {"medium": 1}
    assert dict(simulated.rules) == dict(recorded.rules) == {"unanswered_frustration": 1}


def test_tuning_replays_a_reviewed_escalation_with_its_unread_messages(client, sessions, runtime):
    assert worker_decides(client, sessions, runtime) == WORKER_DECIDED
    with sessions.begin() as session:
        ticket_id = session.scalar(select(Ticket.id))
        feedback.record_verdict(session, ticket_id, Verdict.FALSE_ALARM, source="dashboard")

    with sessions() as session:
        reviewed = tuning.reviewed_histories(session)

    [history] = reviewed.false_alarms
    assert [point.unanswered for point in history] == [3]
    # replayed under the thresholds the worker used, it is escalated, as the worker did: the advice
    # can name the unanswered rule's threshold as the one that would have avoided it
    found = tuning.candidates(reviewed, Thresholds())
    assert "unanswered_frustration_threshold" in [candidate.key for candidate in found]
