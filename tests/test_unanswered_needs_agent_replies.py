"""Rule unanswered_frustration ("2+ customer messages in a row without a public agent comment")
needs the agents' replies. The Zendesk event webhook sends them; a trigger or a Freshdesk rule set
up for the customer's updates alone never does, and there a calm follow-up was escalated medium
with a note saying "2 customer messages in a row without an agent reply", which was false.

Through the real webhook -> worker path, with the offline scorer (the user's repro: the follow-up
scores frustration 0.61, under the frustration rule's 0.75): no escalation while no agent reply
ever arrived through that webhook kind; the rule fires once agent replies arrive and two customer
messages truly have none between them.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, select

from tests.freshdesk_helpers import post_freshdesk, reply
from tests.test_api import AUTH, api, api_environment, post  # noqa: F401 (fixtures)
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.escalation.backtest import replay, stored_histories
from ticketpulse.models import Comment, Escalation, Ticket
from ticketpulse.runtime import build_runtime

LOGIN = "Hi, I cannot log in, the reset link does not work."
AGAIN = "I tried again this morning and it still fails."  # offline scorer: frustration 0.61
ANSWER = "Sorry about that, I have sent you a new reset link."
REQUESTER, AGENT = "301", "902"


@pytest.fixture
def runtime(config, environment, engine):
    return build_runtime(config, environment, engine=engine)  # the offline scorer, dry-run helpdesks


def escalations(sessions):
    with sessions() as session:
        return [(e.severity, e.rule, e.note) for e in session.scalars(select(Escalation).order_by(Escalation.id))]


def trigger(client, ticket: str, comment_id: int, text: str, minute: int, *, agent: bool = False):
    """A delivery of the README's trigger body, as Zendesk renders it."""
    author = AGENT if agent else REQUESTER
    body = {"ticket_id": ticket, "comment_id": str(comment_id), "updated_at": f"2025-03-05T10:{minute:02d}:00Z",
            "comment": text, "is_public": "true", "author": "Sam Agent" if agent else "Dana Cole",
            "author_id": author, "updater_id": author, "updater_role": "Agent" if agent else "End-user",
            "requester_id": REQUESTER, "via": "Web form", "group_id": "320", "tags": "login"}
    assert post_zendesk(client, body).status_code == 202


def freshdesk(client, ticket: str, text: str, *, agent: bool = False):
    """A delivery of the README's customer-replies rule, or of the agents' replies rule."""
    body = reply(ticket, text, name="Jane Doe")
    if agent:  # the third rule's body: "performer":"agent" after event
        body = {"event": body["event"], "performer": "agent", **{k: v for k, v in body.items() if k != "event"}}
        body["comment_text"] = f"Sam Agent : {text}"
        body["comment_html"] = f"Sam Agent : <div>{text}</div>"
    assert post_freshdesk(client, body).status_code == 202


# -- no agent reply ever arrived through this webhook kind --------------------------------------


def test_a_trigger_follow_up_is_not_called_unanswered_while_no_agent_reply_ever_arrived(
        client, sessions, runtime, caplog):
    caplog.set_level(logging.WARNING, logger="ticketpulse.pipeline")
    trigger(client, "5001", 1, LOGIN, 0)
    runtime.worker.drain()
    trigger(client, "5001", 2, AGAIN, 50)
    trigger(client, "5002", 3, LOGIN, 1)
    trigger(client, "5002", 4, AGAIN, 51)
    runtime.worker.drain()

    assert escalations(sessions) == []
    said = [r.getMessage() for r in caplog.records if "no agent reply has ever arrived" in r.getMessage()]
    assert len(said) == 1  # once, not per comment
    assert "through zendesk.trigger" in said[0] and "ticketpulse setup zendesk --trigger" in said[0]


def test_a_freshdesk_follow_up_is_not_called_unanswered_while_no_agent_reply_ever_arrived(client, sessions, runtime):
    freshdesk(client, "4521", LOGIN)
    freshdesk(client, "4521", AGAIN)
    runtime.worker.drain()

    assert escalations(sessions) == []


def test_the_backtest_replays_the_trigger_history_as_the_worker_decided(client, sessions, runtime):
    trigger(client, "5001", 1, LOGIN, 0)
    trigger(client, "5001", 2, AGAIN, 50)
    runtime.worker.drain()

    with sessions() as session:
        histories = stored_histories(session)
    assert [p.unanswered for p in histories[0]] == [0, 0]  # unknown, not "2 in a row"
    assert replay(histories, runtime.config.thresholds).rules["unanswered_frustration"] == 0


# -- agent replies arrive -------------------------------------------------------------------------


def test_once_the_trigger_delivers_agent_replies_two_unanswered_messages_escalate(client, sessions, runtime):
    trigger(client, "5000", 1, LOGIN, 0)  # another ticket, answered: replies arrive by the trigger
    trigger(client, "5000", 2, ANSWER, 5, agent=True)
    trigger(client, "5001", 3, LOGIN, 10)
    trigger(client, "5001", 4, AGAIN, 50)
    runtime.worker.drain()

    [(severity, rule, note)] = escalations(sessions)
    assert (severity, rule) == ("medium", "unanswered_frustration")
    assert "2 customer messages in a row without an agent reply" in note
    with sessions() as session:  # the agent's comment by the trigger: recorded as a reply, never scored
        agent = session.scalars(select(Comment).where(Comment.body == ANSWER)).one()
    assert (agent.author_role, agent.is_public, agent.status, agent.reason) == ("agent", True, "skipped", "agent comment")


def test_a_trigger_follow_up_after_an_agent_reply_is_not_escalated(client, sessions, runtime):
    trigger(client, "5001", 1, LOGIN, 0)
    trigger(client, "5001", 2, ANSWER, 5, agent=True)
    trigger(client, "5001", 3, AGAIN, 50)
    runtime.worker.drain()

    assert escalations(sessions) == []


def test_once_freshdesk_delivers_agent_replies_two_unanswered_messages_escalate(client, sessions, runtime):
    freshdesk(client, "4520", LOGIN)
    freshdesk(client, "4520", ANSWER, agent=True)
    freshdesk(client, "4521", LOGIN)
    freshdesk(client, "4521", AGAIN)
    freshdesk(client, "4522", LOGIN)
    freshdesk(client, "4522", ANSWER, agent=True)
    freshdesk(client, "4522", AGAIN)
    runtime.worker.drain()

    rows = escalations(sessions)
    assert [(severity, rule) for severity, rule, _ in rows] == [("medium", "unanswered_frustration")]
    with sessions() as session:  # the ticket without a reply between its two messages
        assert session.scalars(select(Ticket.external_id).join(Escalation)).all() == ["4521"]
    assert "2 customer messages in a row without an agent reply" in rows[0][2]


def test_the_event_webhook_counts_unanswered_messages_as_before(client, sessions, runtime):
    """It sends every comment: no agent reply yet means none was written."""
    for n, text in enumerate((LOGIN, AGAIN)):
        event = comment_event("48213", str(400 + n), text, time=f"2025-03-05T1{n}:00:00Z")
        assert post_zendesk(client, event).status_code == 202
    runtime.worker.drain()

    [(severity, rule, note)] = escalations(sessions)
    assert (severity, rule) == ("medium", "unanswered_frustration")


# -- the conversation API: each client is its own bot -----------------------------------------------


@pytest.fixture
def scorer(config, environment):
    from ticketpulse.sentiment.factory import build_scorer

    return build_scorer(config, environment)  # the offline scorer


def message(text, minute, message_id, author="customer"):
    return {"text": text, "time": f"2026-12-01T10:{minute:02d}:00Z", "message_id": message_id, "author": author}


def test_a_conversation_whose_client_never_posted_an_agent_message_is_not_called_unanswered(api):
    post(api, "chat-silent", message(LOGIN, 0, "c-1"))

    answer = post(api, "chat-silent", message(AGAIN, 50, "c-2")).json

    assert answer["action"] == "respond" and answer["rule"] is None


def test_a_conversation_whose_client_posts_its_replies_counts_unanswered_messages(api):
    post(api, "chat-talks", message("Hi, how can I help?", 0, "a-1", author="agent"))
    post(api, "chat-talks", message(LOGIN, 1, "c-1"))

    answer = post(api, "chat-talks", message(AGAIN, 50, "c-2")).json

    assert (answer["action"], answer["rule"]) == ("escalate", "unanswered_frustration")


# -- the worker's hot path ------------------------------------------------------------------------------


def probes(engine):
    """The statements that ask whether a webhook kind ever delivered an agent reply."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if "author_role = 'agent' AND is_public = true" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_the_worker_asks_once_a_turn_while_unknown_and_never_again_once_replies_arrive(
        client, sessions, runtime, engine):
    seen = probes(engine)
    for n in range(5):  # five tickets of one account: one probe a turn, not one a ticket or a comment
        trigger(client, f"60{n}", 10 + n, LOGIN, n)
        trigger(client, f"60{n}", 30 + n, LOGIN, 10 + n)
    turns = runtime.worker.drain()
    assert 1 <= len(seen) <= turns < 5

    trigger(client, "5000", 1, ANSWER, 20, agent=True)
    runtime.worker.drain()
    trigger(client, "600", 40, AGAIN, 40)
    runtime.worker.drain()  # the probe finds the reply
    seen.clear()
    for n in range(1, 5):
        trigger(client, f"60{n}", 40 + n, AGAIN, 40 + n)
        runtime.worker.drain()
    assert seen == []  # known: remembered for good
