"""The overview's escalation rate counts the conversations `backtest` counts: tickets with a
customer message the rules read."""

from __future__ import annotations

from datetime import timedelta

from tests.dashboard_seed import Skip, SeedTicket, seed, seed_unread
from tests.test_dashboard import basic, dashboard, seeded, text_of  # noqa: F401  (fixtures)
from ticketpulse.escalation.backtest import replay, stored_histories
from ticketpulse.escalation.reports import overview
from ticketpulse.models import utcnow
from ticketpulse.config import Thresholds


def test_agent_only_and_unread_tickets_are_not_conversations_of_the_rate(dashboard, seeded, sessions):
    now = utcnow()
    with sessions.begin() as session:
        # An agent's outbound ticket, and one whose only message the scorer cannot read.
        seed(session, SeedTicket("zendesk", "5001", now - timedelta(days=1), skipped=[Skip(5, "agent comment")]))
        unread = seed(session, SeedTicket("zendesk", "5002", now - timedelta(days=1)))
        seed_unread(session, unread, now - timedelta(days=1, minutes=-5))

    page = text_of(dashboard.test_client().get("/dashboard/?period=week", headers=basic()))
    assert "Conversations 21" in page and "14.3%" in page  # as before these two tickets came
    with sessions() as session:
        week = overview(session, "week")
        histories = stored_histories(session, since=now - timedelta(days=7))
    assert week.conversations == replay(histories, Thresholds()).tickets == 21
