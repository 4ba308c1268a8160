"""The API budget is taken for the requests a Zendesk escalation may make: GET + PUT on a first try,
and one more on a try after one whose PUT answer was unknown, which also reads the ticket's comments
for our note before it writes (e4b876f)."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.conftest import FRESHDESK_SENIOR_GROUP, ZENDESK_SENIOR_GROUP
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.test_freshdesk_escalation import make_due, paths, rows
from tests.test_zendesk_client import CRITICAL
from tests.test_zendesk_reads_before_writing import TICKET, live_zendesk, say_critical
from ticketpulse.config import Config
from ticketpulse.models import ApiBudget, Escalation, utcnow
from ticketpulse.runtime import build_runtime

# Three requests a minute: a bucket of 3, refilled by 0.05 a second (nothing in a test's run).
PER_MINUTE = 3


def runtime_with_a_small_budget(environment, engine, fake: FakeZendesk):
    config = Config.model_validate({
        "zendesk": {"senior_group_id": ZENDESK_SENIOR_GROUP, "requests_per_minute": PER_MINUTE},
        "freshdesk": {"senior_group_id": FRESHDESK_SENIOR_GROUP},
    })
    return build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({CRITICAL: (-0.95, 0.96, 0.9)}),
                         helpdesks={"zendesk": live_zendesk(fake)})


def tokens_left(sessions) -> float:
    with sessions() as session:
        return session.scalar(select(ApiBudget.tokens).where(ApiBudget.helpdesk == "zendesk"))


def test_a_retry_after_an_unknown_put_answer_waits_for_three_requests_of_budget(client, sessions, environment, engine):
    fake = FakeZendesk()
    fake.add_ticket("48213", tags=["shipping"])
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        fake.method_failures = {"PUT": [(503, None)]}  # not made, but a 503 does not say so
        runtime = runtime_with_a_small_budget(environment, engine, fake)
        say_critical(client)
        runtime.worker.drain()
        [escalation] = rows(sessions, Escalation)
        assert escalation.status == "pending" and "earlier_tries" in escalation.request
        assert round(tokens_left(sessions)) == PER_MINUTE - 2  # the first try: GET + PUT
        sent = len(fake.requests)

        # Room for GET + PUT, not for the comments read as well.
        with sessions.begin() as session:
            session.execute(update(ApiBudget).values(tokens=2.5, updated_at=utcnow()))
        make_due(sessions)
        runtime.worker.drain()

        [escalation] = rows(sessions, Escalation)
        assert escalation.status == "pending" and "zendesk API budget" in escalation.reason
        assert len(fake.requests) == sent  # nothing sent before the budget allows all three

        with sessions.begin() as session:
            session.execute(update(ApiBudget).values(tokens=3, updated_at=utcnow()))
        make_due(sessions)
        runtime.worker.drain()

        [escalation] = rows(sessions, Escalation)
        assert escalation.status == "applied"
        assert paths(fake)[sent:] == [("GET", TICKET), ("GET", f"{TICKET}/comments"), ("PUT", TICKET)]
        assert tokens_left(sessions) < 0.5  # all three taken
