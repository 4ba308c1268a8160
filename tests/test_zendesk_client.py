"""The Zendesk client and adapter against the fake Support API: error reasons, URLs, tags."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ticketpulse.escalation.helpdesk import EscalationPlan, PermanentError
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
from ticketpulse.config import Tags
from ticketpulse.models import Escalation
from ticketpulse.runtime import build_runtime
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

CRITICAL = "I am done. Cancel everything, I'm reporting you to my bank!!!"


@pytest.fixture
def fake_zendesk():
    fake = FakeZendesk()
    fake.add_ticket("48213", tags=["shipping", "vip"])
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


def zendesk_helpdesk(fake, base_url=None) -> ZendeskHelpdesk:
    policy = HttpPolicy(attempts=2, max_wait=1, backoff=0.01)
    return ZendeskHelpdesk(ZendeskClient(base_url or fake.url, fake.email, fake.token, policy))


def plan(**fields) -> EscalationPlan:
    return EscalationPlan(**({"external_id": "48213", "severity": "high", "group_id": None, "priority": "urgent",
                              "note": "[ticketpulse] Escalated: severity HIGH.", "tags": Tags()} | fields))


def escalations(sessions) -> list[Escalation]:
    with sessions() as session:
        return list(session.scalars(select(Escalation).order_by(Escalation.id)))


def test_escalating_a_closed_ticket_ends_failed_naming_the_status_field(
        client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.tickets["48213"]["status"] = "closed"
    runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({CRITICAL: (-0.95, 0.96, 0.9)}),
                            helpdesks={"zendesk": zendesk_helpdesk(fake_zendesk)})
    event = comment_event("48213", "403", CRITICAL, time="2025-03-05T13:00:00Z")
    assert post_zendesk(client, event).status_code == 202
    runtime.worker.drain()

    [escalation] = escalations(sessions)
    assert escalation.status == "failed"
    assert "-> 422: Record validation errors (status: Status: closed prevents ticket update)" in escalation.reason


def test_an_invalid_priority_is_a_permanent_error_naming_the_field(fake_zendesk):
    with pytest.raises(PermanentError) as raised:
        zendesk_helpdesk(fake_zendesk).apply(plan(priority="p1"))

    assert raised.value.status == 422
    assert "Record validation errors (priority: Priority: is invalid)" in str(raised.value)


@pytest.mark.parametrize("suffix", ["/api/v2", "/api/v2/"])
def test_a_base_url_given_with_the_api_path_reaches_the_ticket(fake_zendesk, suffix):
    applied = zendesk_helpdesk(fake_zendesk, base_url=fake_zendesk.url + suffix).apply(plan())

    assert [(r.method, r.path) for r in fake_zendesk.requests] == [
        ("GET", "/api/v2/tickets/48213"), ("PUT", "/api/v2/tickets/48213")]
    assert [sent["path"] for sent in applied.requests] == ["/api/v2/tickets/48213"]
    assert "sentiment_severity_high" in fake_zendesk.tickets["48213"]["tags"]


def test_tags_configured_in_capitals_are_recognised_as_zendesk_stores_them_in_lower_case(fake_zendesk):
    tags = Tags(escalated="Sentiment_Escalated", severity_prefix="Sentiment_Severity_")
    helpdesk = zendesk_helpdesk(fake_zendesk)

    helpdesk.apply(plan(severity="medium", tags=tags, note="[ticketpulse] Escalated: severity MEDIUM."))
    assert fake_zendesk.tickets["48213"]["tags"] == ["shipping", "vip", "sentiment_escalated", "sentiment_severity_medium"]

    again = helpdesk.apply(plan(severity="medium", tags=tags, note="[ticketpulse] Escalated: severity MEDIUM."))
    assert again.already and again.requests == []  # a retry after a crash: no second update and note

    raised = helpdesk.apply(plan(severity="high", tags=tags))
    assert raised.requests[0]["json"]["ticket"]["tags"] == [
        "shipping", "vip", "sentiment_escalated", "Sentiment_Severity_high"]  # the older severity replaced
    assert fake_zendesk.tickets["48213"]["tags"] == ["shipping", "vip", "sentiment_escalated", "sentiment_severity_high"]
    assert len([r for r in fake_zendesk.requests if r.method == "PUT"]) == 2
    assert len(fake_zendesk.tickets["48213"]["comments"]) == 2


def test_a_token_pasted_with_an_invisible_character_is_a_permanent_error_saying_so(fake_zendesk):
    client = ZendeskClient(fake_zendesk.url, fake_zendesk.email, "zd-\u200btoken", HttpPolicy(attempts=3, backoff=0.01))

    with pytest.raises(PermanentError) as raised:
        ZendeskHelpdesk(client).apply(plan())

    assert "the API credentials hold '\\u200b', which HTTP cannot send: copy the email, token or key again" in str(raised.value)
    assert fake_zendesk.requests == []  # nothing reached Zendesk, and it is not retried


def test_an_error_page_that_is_not_json_is_kept_on_one_line(runner, monkeypatch):
    from flask import Flask

    proxy = Flask("proxy")
    page = "<!DOCTYPE html>\n<html>\n<head><title>403 Forbidden</title></head>\n<body>blocked by policy</body>\n</html>\n"
    proxy.add_url_rule("/<path:anything>", "page", lambda anything: (page, 403))
    with LiveServer(proxy) as server:
        monkeypatch.setenv("ZENDESK_BASE_URL", server.url)
        monkeypatch.setenv("ZENDESK_EMAIL", "bot@example.com")
        monkeypatch.setenv("ZENDESK_API_TOKEN", "zd-token")
        result = runner("setup", "zendesk", "--url", "https://ticketpulse.example.com")

    assert result.code == 1
    [line] = result.err.strip().splitlines()
    assert line.endswith("/api/v2/users/me -> 403: <!DOCTYPE html> <html> <head><title>403 Forbidden</title></head> "
                         "<body>blocked by policy</body> </html>")


def test_a_webhooks_api_error_about_no_field_reads_as_zendesk_wrote_it():
    from flask import Flask, jsonify

    zendesk = Flask("zendesk-webhooks-api")
    limit = {"code": "WebhookLimitExceeded", "title": "Webhook limit exceeded",
             "detail": "Your account has reached its limit of 10 webhooks"}
    zendesk.add_url_rule("/api/v2/webhooks", "create", lambda: (jsonify(errors=[limit]), 422), methods=["POST"])
    with LiveServer(zendesk) as server:
        client = ZendeskClient(server.url, "bot@example.com", "zd-token", HttpPolicy(attempts=1))
        with pytest.raises(PermanentError) as raised:
            client.create_webhook({"name": "ticketpulse"})

    assert str(raised.value).endswith("/api/v2/webhooks -> 422: Your account has reached its limit of 10 webhooks")
