"""`setup zendesk --trigger` and `setup freshdesk` set the helpdesk up to send the agents' public
replies too (rule unanswered_frustration needs them); and `setup zendesk` during a rotation (two
secrets already) prints no secret line and exits 1, as README says."""

from __future__ import annotations

import re

from tests.test_setup import README, clean_environment, freshdesk, ticketpulse_server, zendesk  # noqa: F401
from ticketpulse.integrations.setup import (
    EARLIER_TRIGGER_TITLES, FRESHDESK_AGENT_REPLY_BODY, FRESHDESK_BODY, TRIGGER_BODY, TRIGGER_CONDITIONS, TRIGGER_TITLE,
)
from ticketpulse.webhooks.freshdesk import parse_freshdesk
from ticketpulse.webhooks.lenient_json import loads


def conditions(trigger: dict) -> set[tuple]:
    return {(c["field"], c["operator"], c["value"]) for c in trigger["conditions"]["all"]}


def test_the_trigger_sends_agents_public_comments_too(runner, zendesk, tmp_path):
    with ticketpulse_server(tmp_path, zendesk_secret=None) as server:
        runner("setup", "zendesk", "--url", server.url, "--trigger")

    [trigger] = zendesk.triggers.values()
    assert trigger["title"] == TRIGGER_TITLE
    assert not any(field == "role" for field, _, _ in conditions(trigger))  # not only end-users' updates
    assert ("comment_is_public", "is", "true") in conditions(trigger)  # our private note never loops
    assert "agents' replies" in trigger["description"]


def test_setup_updates_a_trigger_of_the_end_user_only_kind_instead_of_adding_one(runner, zendesk, tmp_path):
    with ticketpulse_server(tmp_path, zendesk_secret=None) as server:
        runner("setup", "zendesk", "--url", server.url, "--trigger")
        [(trigger_id, trigger)] = zendesk.triggers.items()
        old_conditions = {"all": TRIGGER_CONDITIONS["all"] + [{"field": "role", "operator": "is", "value": "end_user"}],
                          "any": []}
        trigger.update(title=EARLIER_TRIGGER_TITLES[0], conditions=old_conditions,
                       description="Sends each public end-user comment to ticketpulse (README: trigger-connected webhook).")

        again = runner("setup", "zendesk", "--url", server.url, "--trigger")

    [updated] = zendesk.triggers.values()  # the same one, not a second
    assert updated["id"] == trigger_id and updated["title"] == TRIGGER_TITLE
    assert not any(field == "role" for field, _, _ in conditions(updated))
    assert updated["actions"][0]["value"][1] == TRIGGER_BODY
    assert f"updated trigger '{TRIGGER_TITLE}' ({trigger_id})" in again.out
    assert "title, description, conditions" in again.out


def test_setup_freshdesk_prints_the_agents_replies_rule(runner, freshdesk, tmp_path, monkeypatch):
    monkeypatch.setenv("FRESHDESK_WEBHOOK_SECRET", "fd-whk-7Qm2vX9rLp4sT8")

    result = runner("setup", "freshdesk", "--url", "https://tp.example.com")

    assert result.code == 0, result.out + result.err
    rule = result.out[result.out.index("3. The rule for agents' replies"):]
    assert "Automations > Ticket Updates > New rule" in rule.splitlines()[0]
    assert "  When an action performed by:        Agent" in rule
    assert "  Involves any of these events:       Reply is sent" in rule
    assert "      X-Webhook-Token: fd-whk-7Qm2vX9rLp4sT8" in rule
    for line in FRESHDESK_AGENT_REPLY_BODY.splitlines():
        assert f"      {line}" in rule
    assert FRESHDESK_AGENT_REPLY_BODY == FRESHDESK_BODY.replace('"event":"{{triggered_event}}",',
                                                                '"event":"{{triggered_event}}","performer":"agent",')
    assert FRESHDESK_AGENT_REPLY_BODY in README


def test_the_agents_replies_body_as_freshdesk_renders_it_is_an_agent_reply():
    rendered = (FRESHDESK_AGENT_REPLY_BODY.replace("{{triggered_event}}", "{reply_sent:sent}")
                .replace("{{ticket.id}}", "4521").replace("{{ticket.url}}", "https://acme.freshdesk.com/a/tickets/4521")
                .replace("{{ticket.latest_public_comment_text}}", "Sam Agent : Sent you a new link.")
                .replace("{{ticket.latest_public_comment}}", "Sam Agent : <div>Sent you a new link.</div>"))
    rendered = re.sub(r"\{\{[a-z_.]+\}\}", "", rendered)

    event = parse_freshdesk(loads(rendered))

    assert (event.author_role, event.is_public) == ("agent", True)


def test_a_rotation_under_way_gets_no_secret_line_and_exit_1(runner, zendesk, tmp_path, monkeypatch):
    """Two secrets already, neither of them the other webhook's: the trigger webhook's alone would
    have the event webhook's deliveries refused, and a third is not accepted."""
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", "old-secret,new-secret")
    with ticketpulse_server(tmp_path, "old-secret,new-secret") as server:
        result = runner("setup", "zendesk", "--url", server.url, "--trigger")

    assert result.code == 1, result.out + result.err
    assert "ZENDESK_WEBHOOK_SECRET=" not in result.out
    assert "holds two secrets: a rotation is under way" in result.out
    assert "Finish the rotation (one secret left), then run this command again." in result.out
