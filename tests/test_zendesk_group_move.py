"""Moving an escalated ticket to the senior group when an agent outside that group has it.

Zendesk refuses a ticket whose assignee is not a member of its group: 422 `{"details":
{"assignee": [{"description": "Assignee: is not a member of the group"}]}}`."""

from __future__ import annotations

import pytest

from tests.conftest import ZENDESK_SENIOR_GROUP
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.test_zendesk_client import CRITICAL, escalations, zendesk_helpdesk
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.runtime import build_runtime

JUNIOR_AGENT = 310  # a member of group 320 only
SENIOR_AGENT = 311  # a member of the senior group


@pytest.fixture
def fake_zendesk():
    fake = FakeZendesk()
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


def escalate(client, config, environment, engine, fake):
    runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({CRITICAL: (-0.95, 0.96, 0.9)}),
                            helpdesks={"zendesk": zendesk_helpdesk(fake)})
    assert post_zendesk(client, comment_event("48213", "403", CRITICAL, time="2025-03-05T13:00:00Z")).status_code == 202
    runtime.worker.drain()


def test_a_ticket_assigned_outside_the_senior_group_moves_there_unassigned(
        client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.add_ticket("48213", tags=["shipping"], assignee_id=JUNIOR_AGENT)
    escalate(client, config, environment, engine, fake_zendesk)

    [escalation] = escalations(sessions)
    assert escalation.status == "applied", escalation.reason
    ticket = fake_zendesk.tickets["48213"]
    assert (ticket["group_id"], ticket["assignee_id"]) == (ZENDESK_SENIOR_GROUP, None)
    assert "sentiment_escalated" in ticket["tags"] and "shipping" in ticket["tags"]
    assert len(ticket["comments"]) == 1 and ticket["comments"][0]["public"] is False


def test_a_ticket_assigned_to_a_member_of_the_senior_group_keeps_its_assignee(
        client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.group_members[320].add(SENIOR_AGENT)
    fake_zendesk.add_ticket("48213", tags=["shipping"], assignee_id=SENIOR_AGENT)
    escalate(client, config, environment, engine, fake_zendesk)

    [escalation] = escalations(sessions)
    assert escalation.status == "applied", escalation.reason
    [put] = fake_zendesk.writes()
    assert "assignee_id" not in put.json["ticket"]
    assert fake_zendesk.tickets["48213"]["assignee_id"] == SENIOR_AGENT


def test_an_unassigned_ticket_moves_in_one_update(client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.add_ticket("48213", tags=["shipping"])
    escalate(client, config, environment, engine, fake_zendesk)

    [put] = fake_zendesk.writes()
    assert put.json["ticket"]["group_id"] == ZENDESK_SENIOR_GROUP and "assignee_id" not in put.json["ticket"]
