"""An escalation raises a ticket's priority to the one configured for its severity, and never
lowers it: an Urgent ticket escalated at low severity stays Urgent, on both helpdesks."""

from __future__ import annotations

import pytest

from ticketpulse.config import Tags
from ticketpulse.escalation.helpdesk import EscalationPlan
from ticketpulse.integrations.freshdesk import FreshdeskClient, FreshdeskHelpdesk
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk

POLICY = HttpPolicy(attempts=2, max_wait=1, backoff=0.01)


def plan(number: str, priority, severity: str = "low") -> EscalationPlan:
    return EscalationPlan(external_id=number, severity=severity, group_id=None, priority=priority,
                          note="[ticketpulse] Escalated: severity LOW.", tags=Tags())


@pytest.mark.parametrize("own, configured, sent", [
    ("urgent", "normal", "urgent"),  # the agent's Urgent stays
    ("high", "normal", "high"),
    ("low", "normal", "normal"),  # raised to the severity's
    (None, "high", "high"),  # no priority yet
])
def test_zendesk_raises_the_priority_and_never_lowers_it(own, configured, sent):
    fake = FakeZendesk()
    fake.add_ticket("48213", priority=own)
    with LiveServer(fake.app()) as server:
        ZendeskHelpdesk(ZendeskClient(server.url, fake.email, fake.token, POLICY)).apply(plan("48213", configured))
    (write,) = [w for w in fake.writes() if w.method == "PUT"]
    assert write.json["ticket"]["priority"] == sent
    assert fake.tickets["48213"]["priority"] == sent


@pytest.mark.parametrize("own, configured, sent", [(4, 2, 4), (3, 2, 3), (1, 2, 2), (2, 3, 3)])
def test_freshdesk_raises_the_priority_and_never_lowers_it(own, configured, sent):
    fake = FakeFreshdesk()
    fake.add_ticket("4521", priority=own)
    with LiveServer(fake.app()) as server:
        FreshdeskHelpdesk(FreshdeskClient(server.url, fake.api_key, POLICY)).apply(plan("4521", configured))
    (write,) = [w for w in fake.writes() if w.method == "PUT"]
    assert write.json["priority"] == sent
    assert fake.tickets["4521"]["priority"] == sent
