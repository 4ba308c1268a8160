"""A lower escalation still pending beside a higher one of its ticket (it was in flight when the
higher one was decided, and a crash or a failed try left it pending) is stored as superseded when
its turn comes, not sent: the helpdesk sees only the highest."""

from __future__ import annotations

from tests.test_retry_supersedes_lower_escalations import OURS, seed_ticket, work
from tests.test_zendesk_client import escalations, fake_zendesk  # noqa: F401 (fixture)


def test_a_pending_medium_beside_a_pending_critical_is_superseded_not_sent(
        sessions, config, environment, engine, fake_zendesk):
    seed_ticket(sessions, medium="pending", critical="pending")

    work(config, environment, engine, fake_zendesk)

    assert [put.json["ticket"]["tags"][-1] for put in fake_zendesk.writes()] == ["sentiment_severity_critical"]
    assert fake_zendesk.tickets["48213"]["tags"] == ["shipping", "vip", *OURS]
    assert len(fake_zendesk.tickets["48213"]["comments"]) == 1
    medium, critical = escalations(sessions)
    assert (medium.status, medium.reason, critical.status) == ("superseded", "superseded by critical", "applied")


def test_a_pending_medium_after_the_critical_was_applied_is_superseded_not_sent(
        sessions, config, environment, engine, fake_zendesk):
    seed_ticket(sessions, medium="pending", critical="applied")  # and an agent removed our tags since

    work(config, environment, engine, fake_zendesk)

    assert fake_zendesk.writes() == []
    medium, _ = escalations(sessions)
    assert (medium.status, medium.reason) == ("superseded", "superseded by critical")
