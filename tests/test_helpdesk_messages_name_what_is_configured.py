"""What the helpdesk side says names what is true: the variable a 404 asks to check is the one
that set the API's address, and the Freshdesk dry run logs the account's host when the webhook
named it."""

from __future__ import annotations

import logging

import pytest

from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from ticketpulse.config import Config, Environment, Tags
from ticketpulse.escalation.helpdesk import EscalationPlan, PermanentError
from ticketpulse.integrations import build_helpdesks
from ticketpulse.integrations.freshdesk import DryRunFreshdesk
from ticketpulse.integrations.http import HttpPolicy


def plan(number: str, **fields) -> EscalationPlan:
    return EscalationPlan(**({"external_id": number, "severity": "high", "group_id": None, "priority": "urgent",
                              "note": "[ticketpulse] Escalated: severity HIGH.", "tags": Tags()} | fields))


def test_a_zendesk_404_names_zendesk_base_url_when_that_is_what_is_set():
    """It said "check ZENDESK_SUBDOMAIN", which was not set at all."""
    fake = FakeZendesk()
    with LiveServer(fake.app()) as server:
        env = Environment(zendesk_base_url=server.url, zendesk_email=fake.email, zendesk_api_token=fake.token)
        helpdesk = build_helpdesks(Config(), env, HttpPolicy(attempts=1))["zendesk"]
        with pytest.raises(PermanentError) as raised:
            helpdesk.apply(plan("777"))
    assert "Zendesk has no ticket 777 (deleted, or not on this account: check ZENDESK_BASE_URL)" in str(raised.value)


def test_a_freshdesk_404_names_freshdesk_base_url_when_that_is_what_is_set():
    fake = FakeFreshdesk()
    with LiveServer(fake.app()) as server:
        env = Environment(freshdesk_base_url=server.url, freshdesk_api_key=fake.api_key)
        helpdesk = build_helpdesks(Config(), env, HttpPolicy(attempts=1))["freshdesk"]
        with pytest.raises(PermanentError) as raised:
            helpdesk.apply(plan("999999", priority=4))
    assert "Freshdesk has no ticket 999999 (deleted, or not on this account: check FRESHDESK_BASE_URL)" in str(raised.value)


def test_the_freshdesk_dry_run_logs_the_host_the_webhook_named(caplog):
    """It logged https://{domain}.freshdesk.com/... though ticket.url said acme.freshdesk.com."""
    snapshot = {"tags": ["refund"], "url": "https://acme.freshdesk.com/helpdesk/tickets/4521"}
    with caplog.at_level(logging.WARNING, logger="ticketpulse.helpdesk"):
        DryRunFreshdesk(None).apply(plan("4521", snapshot=snapshot, priority=4))
    assert "PUT https://acme.freshdesk.com/api/v2/tickets/4521 {" in caplog.text
    assert "POST https://acme.freshdesk.com/api/v2/tickets/4521/notes {" in caplog.text
    assert "{domain}" not in caplog.text


@pytest.mark.parametrize("snapshot", [{}, {"url": "not a url at all"}, {"url": "https://[::1"}])
def test_the_freshdesk_dry_run_without_a_host_keeps_the_placeholder(caplog, snapshot):
    with caplog.at_level(logging.WARNING, logger="ticketpulse.helpdesk"):
        DryRunFreshdesk(None).apply(plan("4521", snapshot=snapshot, priority=4))
    assert "PUT https://{domain}.freshdesk.com/api/v2/tickets/4521 {" in caplog.text


def test_the_configured_freshdesk_address_wins_over_the_webhooks_host(caplog):
    snapshot = {"url": "https://support.acme.com/helpdesk/tickets/4521"}  # a portal's own domain
    with caplog.at_level(logging.WARNING, logger="ticketpulse.helpdesk"):
        build_helpdesks(Config(), Environment(freshdesk_domain="acme"))["freshdesk"].apply(plan("4521", snapshot=snapshot, priority=4))
    assert "PUT https://acme.freshdesk.com/api/v2/tickets/4521 {" in caplog.text
