"""Each escalation of a ticket has its own verdict (e6f3b56, f2655e7); the views show each one's:
the dashboard's ticket page (and its Clear button, there when any escalation has a word), and the
ticket-level lines of `tickets` and `show`, which list each escalation's word in order when they
differ instead of the first escalation's, or whichever sorts last."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.dashboard_seed import furious, seed
from tests.test_dashboard import basic, dashboard, text_of  # noqa: F401 (fixture)
from ticketpulse.escalation.reports import recent_tickets, ticket_view
from ticketpulse.models import Escalation, Ticket, utcnow


def furious_ticket(sessions, medium: str | None, critical: str | None) -> int:
    """A ticket escalated medium, then critical, with each escalation's own verdict."""
    with sessions.begin() as session:
        ticket = seed(session, furious("zendesk", "48213", utcnow() - timedelta(hours=5)))
        for severity, verdict in (("medium", medium), ("critical", critical)):
            session.execute(update(Escalation).where(Escalation.ticket_id == ticket.id, Escalation.severity == severity)
                            .values(verdict=verdict, verdict_source="zendesk" if verdict else None,
                                    verdict_at=utcnow() if verdict else None))
        return ticket.id


@pytest.mark.parametrize("medium, critical, shown", [
    (None, "false_alarm", "none, false_alarm"),
    ("confirmed", None, "confirmed, none"),
    ("confirmed", "false_alarm", "confirmed, false_alarm"),
    ("false_alarm", "false_alarm", "false_alarm"),
    (None, None, None),
])
def test_a_tickets_feedback_lists_each_escalations_own_verdict(sessions, medium, critical, shown):
    ticket_id = furious_ticket(sessions, medium, critical)
    with sessions() as session:
        [row] = recent_tickets(session, utcnow() - timedelta(days=1))
        view = ticket_view(session, session.get(Ticket, ticket_id))
    assert row.verdict == shown
    assert view.verdict == shown


def test_the_tickets_and_show_commands_print_each_escalations_verdict(runner, sessions, database_url, monkeypatch):
    furious_ticket(sessions, None, "false_alarm")
    monkeypatch.setenv("DATABASE_URL", database_url)

    listed = runner("tickets", "--since", "1d")
    shown = runner("show", "zendesk:48213")

    assert listed.code == 0 and listed.out.splitlines()[1].endswith("critical  none, false alarm")
    assert shown.code == 0 and shown.out.startswith(
        "zendesk:48213 (account 9876543) - escalated critical, feedback: none, false alarm")


def test_the_ticket_page_offers_to_clear_a_later_escalations_verdict(dashboard, sessions):
    ticket_id = furious_ticket(sessions, None, "false_alarm")

    page = dashboard.test_client().get(f"/dashboard/tickets/{ticket_id}", headers=basic())

    text = text_of(page)
    badges = re.findall(r"rule (\w+) · .*? · applied · (no feedback|false alarm|confirmed)", text)
    assert badges == [("frustration", "no feedback"), ("critical_frustration", "false alarm")]
    assert 'value="clear"' in page.get_data(as_text=True)
    assert "Were these 2 escalations right? (the buttons answer for all of them)" in text
