"""What a failed Freshdesk escalation tells the admin: what was not found or refused, and why it
is not tried again, on the escalation row and in `ticketpulse jobs`."""

from __future__ import annotations

import pytest

from ticketpulse.escalation.helpdesk import PermanentError
from ticketpulse.runtime import build_runtime
from tests.test_freshdesk_escalation import (  # noqa: F401 (fixtures)
    CRITICAL, fake_freshdesk, live_freshdesk, paths, rows, say, scorer,
)
from ticketpulse.models import Escalation


def escalate(client, config, environment, engine, scorer, fake, *, ticket="4521", api_key=None) -> None:
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer,
                            helpdesks={"freshdesk": live_freshdesk(fake, api_key)})
    say(client, CRITICAL, ticket=ticket)
    runtime.worker.drain()


def test_an_unknown_ticket_fails_naming_the_ticket_and_why_it_is_not_retried(
        client, sessions, config, environment, engine, scorer, fake_freshdesk, runner, monkeypatch):
    escalate(client, config, environment, engine, scorer, fake_freshdesk, ticket="999999")

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed" and escalation.attempts == 1
    assert escalation.reason.endswith(
        "/api/v2/tickets/999999 -> 404: Not Found. Freshdesk has no ticket 999999 (deleted, or not on this "
        "account: check FRESHDESK_DOMAIN); not retried, as every try would get the same 404")
    assert paths(fake_freshdesk) == [("GET", "/api/v2/tickets/999999")]

    monkeypatch.setenv("DATABASE_URL", environment.database_url)
    listed = runner("jobs")
    assert listed.code == 0
    [line] = [line for line in listed.out.splitlines() if line.startswith("escalation")]
    assert "freshdesk:999999" in line and "failed" in line and "Freshdesk has no ticket 999999" in line


def test_a_ticket_deleted_before_the_note_names_the_ticket(fake_freshdesk):
    from ticketpulse.config import Tags
    from ticketpulse.escalation.helpdesk import EscalationPlan

    plan = EscalationPlan(external_id="4521", severity="high", group_id=None, priority=3,
                          note="[ticketpulse] Escalated: severity HIGH.", tags=Tags())
    helpdesk = live_freshdesk(fake_freshdesk)
    real = helpdesk.client.add_note

    def deleted_then_note(external_id, body):  # an agent deletes the ticket right before the note
        del fake_freshdesk.tickets[external_id]
        return real(external_id, body)

    helpdesk.client.add_note = deleted_then_note
    with pytest.raises(PermanentError) as raised:
        helpdesk.apply(plan)

    assert raised.value.status == 404
    assert "/api/v2/tickets/4521/notes -> 404: Not Found. Freshdesk has no ticket 4521" in str(raised.value)


def test_a_refused_api_key_names_the_variable_to_set(client, sessions, config, environment, engine, scorer, fake_freshdesk):
    escalate(client, config, environment, engine, scorer, fake_freshdesk, api_key="revoked-key")

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "failed"
    assert escalation.reason.endswith(
        "-> 401: You have to be logged in to perform this action. Freshdesk refused the API key: "
        "set FRESHDESK_API_KEY to the key in the agent's Profile settings")
