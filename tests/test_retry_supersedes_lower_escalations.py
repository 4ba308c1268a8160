"""`ticketpulse jobs retry` and a failed lower escalation whose ticket has a higher one: stored as
superseded, not sent, so that the helpdesk sees only the highest (as when a decision replaces a
pending one)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ticketpulse.runtime import build_runtime
from tests.dashboard_seed import Esc, Msg, SeedTicket, seed
from tests.scripted_scorer import ScriptedScorer
from tests.test_zendesk_client import escalations, fake_zendesk, plan, zendesk_helpdesk  # noqa: F401 (fixture)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
OURS = ["sentiment_escalated", "sentiment_severity_critical"]


def seed_ticket(sessions, medium: str, critical: str) -> None:
    with sessions.begin() as session:
        seed(session, SeedTicket("zendesk", "48213", T0, messages=[Msg(0, -0.7, 0.8), Msg(5, -0.95, 0.96)],
                                 escalations=[Esc(0, "medium", "frustration", status=medium),
                                              Esc(1, "critical", "critical_frustration", status=critical)]))


def work(config, environment, engine, fake) -> None:
    build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({}),
                  helpdesks={"zendesk": zendesk_helpdesk(fake)}).worker.drain()


@pytest.mark.parametrize("critical", ["pending", "failed"])
def test_a_retried_medium_is_superseded_by_a_critical_pending_or_retried_with_it(
        sessions, config, environment, engine, fake_zendesk, runner, monkeypatch, critical):
    seed_ticket(sessions, medium="failed", critical=critical)
    monkeypatch.setenv("DATABASE_URL", environment.database_url)

    retried = runner("jobs", "retry", "--all")
    work(config, environment, engine, fake_zendesk)

    assert retried.code == 0, retried.err
    # One escalation seen by Zendesk: one PUT, one private note, the critical tag only.
    assert [put.json["ticket"]["tags"][-1] for put in fake_zendesk.writes()] == ["sentiment_severity_critical"]
    ticket = fake_zendesk.tickets["48213"]
    assert ticket["tags"] == ["shipping", "vip", *OURS]
    assert len(ticket["comments"]) == 1 and "CRITICAL" in ticket["comments"][0]["body"]
    medium, top = escalations(sessions)
    assert (medium.status, medium.reason) == ("superseded", "superseded by critical")
    assert top.status == "applied"
    assert retried.out.splitlines() == [
        f"queued {1 if critical == 'failed' else 0} failed job(s) again",
        "superseded 1, not queued: a higher escalation of the ticket is pending, applied or queued: "
        f"escalation {medium.id} (by critical)",
    ]


def test_a_medium_retried_by_id_after_the_critical_was_applied_is_superseded_not_sent(
        sessions, config, environment, engine, fake_zendesk, runner, monkeypatch):
    seed_ticket(sessions, medium="failed", critical="applied")
    fake_zendesk.tickets["48213"]["tags"] = ["shipping", *OURS]
    monkeypatch.setenv("DATABASE_URL", environment.database_url)
    medium, _ = escalations(sessions)

    retried = runner("jobs", "retry", "--kind", "escalation", str(medium.id))
    work(config, environment, engine, fake_zendesk)

    assert retried.code == 0 and retried.out.startswith("queued 0 failed job(s) again\nsuperseded 1"), retried.out
    medium, _ = escalations(sessions)
    assert (medium.status, medium.reason) == ("superseded", "superseded by critical")
    assert fake_zendesk.writes() == []


def test_a_retried_medium_of_a_ticket_whose_critical_also_failed_but_is_not_retried_is_queued(
        sessions, config, environment, engine, fake_zendesk, runner, monkeypatch):
    seed_ticket(sessions, medium="failed", critical="failed")
    monkeypatch.setenv("DATABASE_URL", environment.database_url)
    medium, _ = escalations(sessions)

    retried = runner("jobs", "retry", "--kind", "escalation", str(medium.id))

    assert retried.out == "queued 1 failed job(s) again\n", retried.out
    medium, top = escalations(sessions)
    assert (medium.status, top.status) == ("pending", "failed")


def test_zendesk_leaves_a_ticket_carrying_a_higher_severity_as_it_is(fake_zendesk):
    fake_zendesk.tickets["48213"]["tags"] = ["shipping", *OURS]

    applied = zendesk_helpdesk(fake_zendesk).apply(plan(severity="medium", priority="high"))

    assert applied.already == "the ticket already carried a higher severity" and applied.requests == []
    assert fake_zendesk.writes() == [] and fake_zendesk.tickets["48213"]["tags"] == ["shipping", *OURS]
