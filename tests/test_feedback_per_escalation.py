"""Each escalation gets its own verdict from the agent's tags: the tags as they are (a Zendesk
trigger, a Freshdesk rule) give a verdict to an escalation that has none yet, also when an
earlier one of the same ticket has a word (a lead's "Right call"), and keep that word."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.dashboard_seed import Esc, Msg, SeedTicket, seed
from tests.freshdesk_helpers import post_freshdesk
from tests.zendesk_helpers import post_zendesk
from ticketpulse.escalation.feedback import record_verdict
from ticketpulse.models import Escalation, Verdict, utcnow

TRIGGER = {"kind": "tags_changed", "ticket_id": "48213", "tags": "shipping sentiment_escalated sentiment_false_alarm"}
FRESHDESK_RULE = {"kind": "tags_changed", "ticket": {"id": "11", "tags": "refund, sentiment_false_alarm",
                                                      "url": "https://acme.freshdesk.com/helpdesk/tickets/11"}}


def confirmed_then_escalated_higher(sessions, helpdesk: str, number: str) -> int:
    """A medium escalation a lead confirmed on the dashboard, then a critical one of the same ticket."""
    start = utcnow() - timedelta(days=1)
    with sessions.begin() as session:
        ticket = seed(session, SeedTicket(helpdesk, number, start, messages=[Msg(0, -0.65, 0.8), Msg(60, -0.9, 0.96)],
                                          escalations=[Esc(0, "medium", "frustration")]))
        record_verdict(session, ticket.id, Verdict.CONFIRMED, source="dashboard", at=start + timedelta(minutes=30))
        medium = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket.id)).one()
        session.add(Escalation(ticket_id=ticket.id, comment_id=medium.comment_id + 1, severity="critical",
                               rule="critical_frustration", note="n", status="applied",
                               created_at=start + timedelta(minutes=60), finished_at=start + timedelta(minutes=60)))
        return ticket.id


def verdicts(sessions, ticket_id):
    with sessions() as session:
        return session.execute(
            select(Escalation.severity, Escalation.verdict, Escalation.verdict_source)
            .where(Escalation.ticket_id == ticket_id).order_by(Escalation.id)
        ).all()


@pytest.mark.parametrize("helpdesk, number, post, body", [
    ("zendesk", "48213", post_zendesk, TRIGGER),
    ("freshdesk", "11", post_freshdesk, FRESHDESK_RULE),
])
def test_the_tags_as_they_are_give_a_later_higher_escalation_its_verdict(client, sessions, helpdesk, number, post, body):
    ticket_id = confirmed_then_escalated_higher(sessions, helpdesk, number)

    assert post(client, body).get_json() == {"status": "recorded", "feedback": "recorded"}

    assert verdicts(sessions, ticket_id) == [
        ("medium", "confirmed", "dashboard"),  # the lead's word on it stands
        ("critical", "false_alarm", helpdesk),
    ]
    assert post(client, body).get_json()["feedback"] == "unchanged"  # firing again: each has its word


def test_removing_the_tag_takes_back_the_false_alarm_and_keeps_the_confirmation(client, sessions):
    ticket_id = confirmed_then_escalated_higher(sessions, "zendesk", "48213")
    post_zendesk(client, TRIGGER)
    removed = {
        "account_id": 9876543, "id": "7c1e0b6a-0000-4000-8000-000000000002", "time": utcnow().isoformat(),
        "type": "zen:event-type:ticket.tags_changed", "subject": "zen:ticket:48213",
        "detail": {"id": "48213", "tags": ["shipping", "sentiment_escalated"]},
        "event": {"tags_added": [], "tags_removed": ["sentiment_false_alarm"]},
    }

    assert post_zendesk(client, removed).get_json()["feedback"] == "cleared"

    assert verdicts(sessions, ticket_id) == [("medium", "confirmed", "dashboard"), ("critical", None, None)]
