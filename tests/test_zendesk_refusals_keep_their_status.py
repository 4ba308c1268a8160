"""A write the Zendesk adapter sends again by itself (read again after a 409, sent unassigned after
the assignee's 422) is on the escalation row as refused with Zendesk's own status and reason,
not as a write of unknown answer (status null) that the client happened to send again."""

from __future__ import annotations

from tests.test_escalation_row_answers import escalate, fake_zendesk, the_escalation  # noqa: F401 (fixture)

STALE = "409: Safe Update prevented the update due to outdated ticket data."


def test_a_stale_update_sent_again_keeps_zendesks_409(client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.add_ticket("48213", tags=["shipping"])
    fake_zendesk.concurrent_edits = 1  # an agent changes the ticket between our read and our write
    escalate(client, config, environment, engine, fake_zendesk)

    escalation = the_escalation(sessions)
    assert escalation.status == "applied"
    [stale] = escalation.request["refused"]
    assert (stale["try"], stale["method"], stale["status"]) == (1, "PUT", 409)
    assert f"PUT {fake_zendesk.url}/api/v2/tickets/48213 -> {STALE}" in stale["reason"]
    assert [r.method for r in fake_zendesk.writes()] == ["PUT", "PUT"]


def test_every_stale_update_of_a_try_keeps_its_409(client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.add_ticket("48213", tags=["shipping"])
    fake_zendesk.concurrent_edits = 50
    escalate(client, config, environment, engine, fake_zendesk)

    escalation = the_escalation(sessions)
    assert escalation.status == "pending"
    refused = escalation.request["refused"]
    assert [r["status"] for r in refused] == [409, 409, 409]
    assert all(STALE in r["reason"] for r in refused[:2])
    assert refused[-1]["reason"] == escalation.reason  # the last one ended the try: its error
