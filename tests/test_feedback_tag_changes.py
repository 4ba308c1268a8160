"""What a tag change says about the false-alarm tag (escalation/feedback.py): the tag among
several added at once counts, whatever the case the helpdesk spells it in."""

from __future__ import annotations

from datetime import datetime, timezone

from ticketpulse.escalation.feedback import TagChange, verdict_from_tags
from ticketpulse.models import Verdict

TAG = "sentiment_false_alarm"


def change(added=(), removed=()):
    return TagChange(helpdesk="zendesk", account="1", external_id="7", added=tuple(added), removed=tuple(removed))


def test_the_false_alarm_tag_added_with_other_tags_is_a_false_alarm():
    assert verdict_from_tags(change(added=["vip", TAG]), TAG) == (True, Verdict.FALSE_ALARM)


def test_the_false_alarm_tag_added_in_other_case_is_a_false_alarm():
    assert verdict_from_tags(change(added=["Sentiment_False_Alarm"]), TAG) == (True, Verdict.FALSE_ALARM)


def test_the_false_alarm_tag_removed_with_others_takes_it_back():
    assert verdict_from_tags(change(removed=["vip", TAG.upper()]), TAG) == (True, None)


def test_other_tags_changing_say_nothing_about_it():
    assert verdict_from_tags(change(added=["vip"], removed=["billing"]), TAG) == (False, None)


def test_a_verdict_is_given_to_the_escalations_the_helpdesk_saw_not_to_superseded_ones(sessions):
    from sqlalchemy import select

    from ticketpulse.escalation.feedback import Outcome, record_verdict
    from ticketpulse.models import Comment, Escalation, EscalationStatus, Ticket

    with sessions.begin() as session:
        ticket = Ticket(helpdesk="zendesk", account="1", external_id="7")
        session.add(ticket)
        session.flush()
        comment = Comment(ticket_id=ticket.id, comment_key="id:1", fingerprint="f", source="zendesk.event",
                          author_role="customer", is_public=True, body="x", status="done",
                          commented_at=datetime(2026, 12, 1, 10, tzinfo=timezone.utc))
        session.add(comment)
        session.flush()
        session.add_all([
            Escalation(ticket_id=ticket.id, comment_id=comment.id, severity="medium", rule="frustration", note="n",
                       status=EscalationStatus.SUPERSEDED),
            Escalation(ticket_id=ticket.id, comment_id=comment.id, severity="critical", rule="critical_frustration",
                       note="n", status=EscalationStatus.APPLIED),
        ])
        ticket_id = ticket.id

    with sessions.begin() as session:
        assert record_verdict(session, ticket_id, Verdict.FALSE_ALARM, source="dashboard") is Outcome.RECORDED

    with sessions() as session:
        verdicts = dict(session.execute(select(Escalation.severity, Escalation.verdict)).all())
    assert verdicts == {"medium": None, "critical": Verdict.FALSE_ALARM}
