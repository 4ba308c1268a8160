"""A Freshdesk escalation reads the ticket and its conversations before it writes anything: our
note on the ticket says the escalation was made (the update always goes first), so a retry after
a crash never makes it again, even when an agent has undone it in between."""

from __future__ import annotations

import logging

import pytest

from tests.test_freshdesk_escalation import (  # noqa: F401 (fixtures)
    CRITICAL, SENIOR_GROUP, WorkerKilled, crash_once, fake_freshdesk, paths, rows, runtime, say, scorer,
)
from ticketpulse.models import Escalation


def test_a_retry_after_the_note_leaves_an_escalation_an_agent_undid_alone(
        client, sessions, runtime, fake_freshdesk, monkeypatch, caplog):
    crash_once(monkeypatch, after_note=True)  # the note is posted, the worker dies before recording it
    say(client, CRITICAL)
    with pytest.raises(WorkerKilled):
        runtime.worker.drain()
    ticket = fake_freshdesk.tickets["4521"]
    assert ticket["group_id"] == SENIOR_GROUP and "sentiment_severity_critical" in ticket["tags"]
    # Before the retry, an agent reads the note, disagrees, and puts the ticket back.
    ticket.update(group_id=43000123456, priority=2, tags=["refund", "vip"])

    with caplog.at_level(logging.INFO, logger="ticketpulse.freshdesk"):
        runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and escalation.request["requests"] == []
    assert escalation.reason == "our note is on it but not our tags: an agent undid the escalation; left so"
    assert "our note is on it but not our tags: an agent undid the escalation; left so" in caplog.text
    assert len(paths(fake_freshdesk, "PUT")) == 1  # not escalated a second time
    assert (ticket["group_id"], ticket["priority"], ticket["tags"]) == (43000123456, 2, ["refund", "vip"])
    assert len(fake_freshdesk.notes("4521")) == 1


def test_a_first_try_reads_the_conversations_before_the_update(client, sessions, runtime, fake_freshdesk):
    say(client, CRITICAL)
    runtime.worker.drain()

    assert paths(fake_freshdesk) == [
        ("GET", "/api/v2/tickets/4521"),
        ("GET", "/api/v2/tickets/4521/conversations"),
        ("PUT", "/api/v2/tickets/4521"),
        ("POST", "/api/v2/tickets/4521/notes"),
    ]
    [escalation] = rows(sessions, Escalation)
    assert [r["method"] for r in escalation.request["requests"]] == ["PUT", "POST"]
