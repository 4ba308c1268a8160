"""A false-alarm tag already recorded on a ticket is no verdict on an escalation made after it:
that escalation's own update kept the tag on the ticket (every other tag is sent back), and the
trigger it fires carries the tags as they are. The agent has not judged the new escalation yet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.dashboard_seed import Esc, Msg, SeedTicket, seed
from tests.freshdesk_helpers import post_freshdesk
from tests.test_feedback_per_escalation import FRESHDESK_RULE, TRIGGER, verdicts
from tests.zendesk_helpers import post_zendesk
from ticketpulse.escalation.feedback import record_tag_change, TagChange
from ticketpulse.models import Escalation, utcnow


def false_alarm_then_escalated_higher(sessions, helpdesk: str, number: str) -> int:
    """A medium escalation an agent tagged as a false alarm, then a critical one of the same ticket."""
    start = utcnow() - timedelta(days=1)
    with sessions.begin() as session:
        ticket = seed(session, SeedTicket(helpdesk, number, start, messages=[Msg(0, -0.65, 0.8), Msg(60, -0.9, 0.96)],
                                          escalations=[Esc(0, "medium", "frustration")]))
        tagged = TagChange(helpdesk, ticket.account, number, current=("sentiment_false_alarm",),
                           changed_at=start + timedelta(minutes=30))
        assert record_tag_change(session, tagged, "sentiment_false_alarm") == "recorded"
        medium = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket.id)).one()
        session.add(Escalation(ticket_id=ticket.id, comment_id=medium.comment_id + 1, severity="critical",
                               rule="critical_frustration", note="n", status="applied",
                               created_at=start + timedelta(minutes=60), finished_at=start + timedelta(minutes=60)))
        return ticket.id


@pytest.mark.parametrize("helpdesk, number, post, body", [
    ("zendesk", "48213", post_zendesk, TRIGGER),
    ("freshdesk", "11", post_freshdesk, FRESHDESK_RULE),
])
def test_a_tag_left_from_an_earlier_escalation_gives_a_later_one_no_verdict(client, sessions, helpdesk, number,
                                                                            post, body):
    ticket_id = false_alarm_then_escalated_higher(sessions, helpdesk, number)

    # The critical escalation's update fires the trigger: the old tag is still among the ticket's tags.
    assert post(client, body).get_json()["feedback"] == "unchanged"

    assert verdicts(sessions, ticket_id) == [("medium", "false_alarm", helpdesk), ("critical", None, None)]
