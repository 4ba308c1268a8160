"""Lowering [worker] max_attempts in a live reload: an escalation that already had as many tries
as the new limit, or more, gets one more try (as a comment does), instead of being failed at once,
unseen by the helpdesk, as if every one of its tries had been cut short by a crash."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from ticketpulse.config import load_config
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
from ticketpulse.models import Escalation, Ticket, utcnow
from ticketpulse.reload import LiveConfig
from ticketpulse.runtime import build_runtime, follow_config
from tests.conftest import ZENDESK_SENIOR_GROUP
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

FURIOUS = "I am DONE. Cancel my account, I'm reporting you to the BBB and my lawyer!!!"


def worker_config(max_attempts: int) -> str:
    return f"[zendesk]\nsenior_group_id = {ZENDESK_SENIOR_GROUP}\n\n[worker]\nmax_attempts = {max_attempts}\n"


@pytest.fixture
def fake():
    fake = FakeZendesk()
    fake.add_ticket("400", tags=["vip"])
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def setup(tmp_path, fake, client, environment, engine):
    """A worker following a config file (max_attempts 6) and an escalation that failed 3 tries."""
    config_file = tmp_path / "ticketpulse.toml"
    config_file.write_text(worker_config(6))
    live = LiveConfig(load_config(config_file), config_file)
    helpdesk = ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, HttpPolicy(attempts=1)))
    runtime = build_runtime(live.current, environment, engine=engine,
                            scorer=ScriptedScorer({FURIOUS: (-0.9, 0.95, 0.9)}), helpdesks={"zendesk": helpdesk})
    worker = runtime.worker  # one worker for the test, as `ticketpulse worker` keeps one
    follow_config(runtime, worker, live)
    fake.failures = [(503, None)] * 3  # the helpdesk is down for three tries
    post_zendesk(client, comment_event("400", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
    for _try in range(3):
        worker.drain()
        due_now(runtime.sessions)
    assert escalation(runtime.sessions)[:2] == ("pending", 3)
    return worker, live, config_file


def due_now(sessions) -> None:
    """As if the backoff had passed."""
    now = utcnow()
    with sessions.begin() as session:
        session.execute(update(Escalation).where(Escalation.status == "pending").values(run_after=now))
        session.execute(update(Ticket).where(Ticket.escalate_at.is_not(None)).values(escalate_at=now))


def escalation(sessions) -> tuple:
    with sessions() as session:
        row = session.scalars(select(Escalation)).one()
        return row.status, row.attempts, row.reason


def test_an_escalation_past_a_lowered_limit_gets_one_more_try_and_is_applied(setup, fake, sessions):
    worker, live, config_file = setup
    config_file.write_text(worker_config(2))
    assert live.reload("test")  # the helpdesk is back, and the admin lowers the limit

    worker.drain()

    status, _attempts, reason = escalation(sessions)
    assert (status, reason) == ("applied", None)
    assert fake.tickets["400"]["tags"] == ["vip", "sentiment_escalated", "sentiment_severity_critical"]


def test_an_escalation_past_a_lowered_limit_whose_one_more_try_fails_ends_failed_with_the_helpdesks_reason(
        setup, fake, sessions):
    worker, live, config_file = setup
    config_file.write_text(worker_config(2))
    assert live.reload("test")
    fake.failures = [(503, None)] * 5  # still down
    requests = len(fake.requests)

    worker.drain()
    due_now(sessions)
    worker.drain()

    status, _attempts, reason = escalation(sessions)
    assert status == "failed"
    assert "503" in reason and "gave up" not in reason
    assert len(fake.requests) == requests + 1  # exactly one more try reached the helpdesk

