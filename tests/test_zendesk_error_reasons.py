"""What a failed Zendesk escalation tells the admin, on the escalation row and in `ticketpulse
jobs`: what Zendesk refused or has not got, what it answered, and why it is not tried again."""

from __future__ import annotations

from ticketpulse.config import Config
from ticketpulse.runtime import build_runtime
from tests.scripted_scorer import ScriptedScorer
from tests.test_zendesk_client import CRITICAL, escalations, fake_zendesk, zendesk_helpdesk  # noqa: F401 (fixture)
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk


def escalate(client, config, environment, engine, helpdesk, ticket="48213"):
    runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({CRITICAL: (-0.95, 0.96, 0.9)}),
                            helpdesks={"zendesk": helpdesk})
    assert post_zendesk(client, comment_event(ticket, "403", CRITICAL, time="2025-03-05T13:00:00Z")).status_code == 202
    runtime.worker.drain()


def job_line(runner, monkeypatch, environment) -> str:
    monkeypatch.setenv("DATABASE_URL", environment.database_url)
    listed = runner("jobs")
    assert listed.code == 0
    [line] = [line for line in listed.out.splitlines() if line.startswith("escalation")]
    return line


def test_an_update_refused_with_422_fails_with_zendesks_reason_in_the_jobs_list(
        client, sessions, environment, engine, fake_zendesk, runner, monkeypatch):
    config = Config.model_validate({"zendesk": {"senior_group_id": 360009999999}})  # not one of the account's
    escalate(client, config, environment, engine, zendesk_helpdesk(fake_zendesk))

    [escalation] = escalations(sessions)
    assert escalation.status == "failed" and escalation.attempts == 1
    refused = ("/api/v2/tickets/48213 -> 422: Record validation errors (group: Group: is invalid). "
               "Zendesk changed nothing on the ticket; not retried, as the same update would be refused again")
    assert escalation.reason.endswith(refused)
    [sent] = escalation.request["refused"]  # what was sent, with Zendesk's answer
    assert sent["method"] == "PUT" and sent["json"]["ticket"]["group_id"] == 360009999999
    assert (sent["try"], sent["status"]) == (1, 422) and sent["reason"].endswith(refused)
    assert list(escalation.request) == ["refused"]  # nothing left as if still being sent
    assert [r.method for r in fake_zendesk.writes()] == ["PUT"]
    assert fake_zendesk.tickets["48213"]["tags"] == ["shipping", "vip"] and fake_zendesk.tickets["48213"]["group_id"] == 320
    line = job_line(runner, monkeypatch, environment)
    assert "zendesk:48213" in line and "failed" in line and line.endswith(refused)


def test_an_unknown_ticket_fails_naming_the_ticket_and_why_it_is_not_retried(
        client, sessions, config, environment, engine, fake_zendesk):
    escalate(client, config, environment, engine, zendesk_helpdesk(fake_zendesk), ticket="777")

    [escalation] = escalations(sessions)
    assert escalation.status == "failed" and escalation.attempts == 1
    assert escalation.reason.endswith(
        "/api/v2/tickets/777 -> 404: Not found. Zendesk has no ticket 777 (deleted, or not on this account: "
        "check ZENDESK_SUBDOMAIN); not retried, as every try would get the same 404")
    assert [(r.method, r.path) for r in fake_zendesk.requests] == [("GET", "/api/v2/tickets/777")]


def test_refused_credentials_name_the_variables_to_check(client, sessions, config, environment, engine, fake_zendesk):
    client_with_old_token = ZendeskClient(fake_zendesk.url, fake_zendesk.email, "revoked", HttpPolicy(attempts=1))
    escalate(client, config, environment, engine, ZendeskHelpdesk(client_with_old_token))

    [escalation] = escalations(sessions)
    assert escalation.status == "failed"
    assert escalation.reason.endswith(
        "-> 401: Couldn't authenticate you. Zendesk refused the credentials: check ZENDESK_EMAIL and "
        "ZENDESK_API_TOKEN, and that token access is enabled (Admin Center > Apps and integrations > APIs)")


def test_a_retry_after_the_group_is_corrected_sends_the_configured_group(
        client, sessions, environment, engine, fake_zendesk, runner, monkeypatch, tmp_path):
    # The admin's first senior_group_id is refused (422, not retried); they correct it and retry.
    wrong = Config.model_validate({"zendesk": {"senior_group_id": 360009999999}})
    escalate(client, wrong, environment, engine, zendesk_helpdesk(fake_zendesk))
    config_file = tmp_path / "ticketpulse.toml"
    config_file.write_text("[zendesk]\nsenior_group_id = 360001234567\n")
    monkeypatch.setenv("DATABASE_URL", environment.database_url)
    assert runner("jobs", "retry", "--all", "--config", str(config_file)).code == 0

    corrected = Config.model_validate({"zendesk": {"senior_group_id": 360001234567}})
    build_runtime(corrected, environment, engine=engine, scorer=ScriptedScorer({}),
                  helpdesks={"zendesk": zendesk_helpdesk(fake_zendesk)}).worker.drain()

    [escalation] = escalations(sessions)
    assert escalation.status == "applied" and escalation.group_id == 360001234567
    assert fake_zendesk.tickets["48213"]["group_id"] == 360001234567
