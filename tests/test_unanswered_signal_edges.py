"""Which agent comments answer the customer (README: "2 or more customer messages in a row
without a public agent comment"): a private note is the agents' talk among themselves, and the
customer, who cannot see it, is still waiting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
from ticketpulse.models import Escalation
from ticketpulse.runtime import build_runtime
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

ANSWERS = {"My invoice is wrong.": (-0.3, 0.4, 0.2), "Hello?? Anyone there??": (-0.4, 0.7, 0.3)}


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
    return build_runtime(config, environment, engine=engine, scorer=ScriptedScorer(dict(ANSWERS)), helpdesks=helpdesks)


def say(client, text, n, *, staff=False, public=True):
    event = comment_event("48213", str(400 + n), text, time=f"2025-03-05T1{n}:00:00Z", staff=staff, public=public)
    assert post_zendesk(client, event).status_code in (200, 202)


def escalations(sessions):
    with sessions() as session:
        return [(e.severity, e.rule) for e in session.scalars(select(Escalation).order_by(Escalation.id))]


def test_a_private_agent_note_between_two_customer_messages_is_no_reply(client, sessions, runtime):
    say(client, "My invoice is wrong.", 0)
    say(client, "Checking with billing before I answer.", 1, staff=True, public=False)
    say(client, "Hello?? Anyone there??", 2)
    runtime.worker.drain()

    assert escalations(sessions) == [("medium", "unanswered_frustration")]


def test_a_public_agent_reply_between_them_is_one(client, sessions, runtime):
    say(client, "My invoice is wrong.", 0)
    say(client, "Which invoice number?", 1, staff=True)
    say(client, "Hello?? Anyone there??", 2)
    runtime.worker.drain()

    assert escalations(sessions) == []
