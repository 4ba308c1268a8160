"""The tuning advice (dashboard's tuning page, `backtest`) replays reviewed conversations; since each
escalation has its own verdict (e6f3b56), a conversation can have a confirmed escalation and a
false alarm. It must stay escalated: counted as a false alarm, a threshold that stopped escalating
it would be said to avoid a false alarm "and keep all confirmed" while dropping the confirmed one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tests.dashboard_seed import furious, seed, souring
from ticketpulse.escalation.tuning import reviewed_histories
from ticketpulse.models import Escalation, utcnow


def test_a_conversation_with_a_confirmed_escalation_and_a_false_alarm_must_stay_escalated(sessions):
    now = utcnow()
    with sessions.begin() as session:
        mixed = seed(session, furious("zendesk", "48213", now - timedelta(hours=5)))
        for severity, verdict in (("medium", "confirmed"), ("critical", "false_alarm")):
            session.execute(update(Escalation).where(Escalation.ticket_id == mixed.id, Escalation.severity == severity)
                            .values(verdict=verdict, verdict_source="dashboard", verdict_at=now))
        seed(session, souring("zendesk", "11", now - timedelta(hours=4), "false_alarm"))
        seed(session, souring("zendesk", "12", now - timedelta(hours=3)))

    with sessions() as session:
        reviewed = reviewed_histories(session)

    assert [len(history) for history in reviewed.confirmed] == [3]  # the mixed one, kept escalated
    assert [len(history) for history in reviewed.false_alarms] == [2]  # only the souring false alarm
    assert [len(history) for history in reviewed.unreviewed] == [2]
