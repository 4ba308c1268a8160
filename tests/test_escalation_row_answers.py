"""What the escalation row's `request` says of each write sent to the helpdesk: `requests` the
ones the helpdesk accepted (in the try that applied it), `refused` the ones it refused, with the
try, the status and the helpdesk's reason (kept through a `jobs retry`), `earlier_tries` the
ones whose answer was never seen; nothing is left under `sending` once a try has ended. The
dashboard's ticket page lists them with their answers."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from tests.conftest import ZENDESK_SENIOR_GROUP
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.test_freshdesk_escalation import fake_freshdesk as fake_freshdesk  # noqa: F401 (fixture)
from tests.test_freshdesk_escalation import live_freshdesk, say as say_freshdesk
from tests.scripted_scorer import ScriptedScorer
from tests.test_dashboard import PASSWORD, basic, text_of
from tests.test_zendesk_client import CRITICAL, zendesk_helpdesk
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.config import Config, Environment
from ticketpulse.models import Escalation, Ticket
from ticketpulse.runtime import build_runtime

UNKNOWN_GROUP = 360009999999  # not one of the fake account's groups: Zendesk answers 422
INVALID_GROUP = "/api/v2/tickets/48213 -> 422: Record validation errors (group: Group: is invalid)."


@pytest.fixture
def fake_zendesk():
    fake = FakeZendesk()
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


def escalate(client, config, environment, engine, fake, *, post=True):
    runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({CRITICAL: (-0.95, 0.96, 0.9)}),
                            helpdesks={"zendesk": zendesk_helpdesk(fake)})
    if post:
        event = comment_event("48213", "403", CRITICAL, time="2025-03-05T13:00:00Z")
        assert post_zendesk(client, event).status_code == 202
    runtime.worker.drain()


def the_escalation(sessions) -> Escalation:
    with sessions() as session:
        return session.scalars(select(Escalation)).one()


def test_a_put_refused_422_is_recorded_as_refused_and_stays_so_after_jobs_retry_succeeds(
        client, sessions, environment, engine, fake_zendesk, runner, monkeypatch):
    fake_zendesk.add_ticket("48213", tags=["vip"])
    escalate(client, Config.model_validate({"zendesk": {"senior_group_id": UNKNOWN_GROUP}}), environment, engine,
             fake_zendesk)
    failed = the_escalation(sessions)
    assert failed.status == "failed"
    [refused] = failed.request["refused"]
    assert (refused["try"], refused["method"], refused["status"]) == (1, "PUT", 422)
    assert INVALID_GROUP in refused["reason"] and refused["reason"] == failed.reason
    assert "sending" not in failed.request and "earlier_tries" not in failed.request

    # The admin fixes the group and queues the escalation again; it is applied at its next try.
    with sessions.begin() as session:
        session.get(Escalation, failed.id).group_id = ZENDESK_SENIOR_GROUP
    monkeypatch.setenv("DATABASE_URL", environment.database_url)
    assert runner("jobs", "retry", "--kind", "escalation", str(failed.id)).code == 0
    escalate(client, Config.model_validate({}), environment, engine, fake_zendesk, post=False)

    applied = the_escalation(sessions)
    assert applied.status == "applied" and applied.reason is None
    assert [r["json"]["ticket"]["group_id"] for r in applied.request["requests"]] == [ZENDESK_SENIOR_GROUP]
    assert applied.request["refused"] == [refused]  # not moved among writes whose answer was never seen
    assert set(applied.request) == {"requests", "refused"}
    assert [r.method for r in fake_zendesk.writes()] == ["PUT", "PUT"]


def test_a_first_put_refused_for_the_assignee_is_refused_and_the_second_accepted(
        client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.add_ticket("48213", tags=["shipping"], assignee_id=310)  # not in the senior group
    escalate(client, config, environment, engine, fake_zendesk)

    escalation = the_escalation(sessions)
    assert escalation.status == "applied"
    [first] = escalation.request["refused"]
    [second] = escalation.request["requests"]
    assert first["try"] == 1 and "assignee_id" not in first["json"]["ticket"] and first["status"] == 422
    assert "(assignee: Assignee: is not a member of the group)" in first["reason"]
    assert second["json"]["ticket"]["assignee_id"] is None
    assert "earlier_tries" not in escalation.request


def test_stale_updates_are_each_recorded_refused_the_last_with_the_409(
        client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.add_ticket("48213", tags=["shipping"])
    fake_zendesk.concurrent_edits = 50  # an agent changes the ticket between each read and write
    escalate(client, config, environment, engine, fake_zendesk)

    escalation = the_escalation(sessions)
    assert escalation.status == "pending" and escalation.attempts == 1
    refused = escalation.request["refused"]
    assert [(r["try"], r["method"]) for r in refused] == [(1, "PUT")] * 3
    assert refused[-1]["status"] == 409 and refused[-1]["reason"] == escalation.reason
    assert "409 conflict 3 times" in escalation.reason
    assert list(escalation.request) == ["refused"]


def test_a_stale_update_then_an_accepted_one(client, sessions, config, environment, engine, fake_zendesk):
    fake_zendesk.add_ticket("48213", tags=["shipping"])
    fake_zendesk.concurrent_edits = 1
    escalate(client, config, environment, engine, fake_zendesk)

    escalation = the_escalation(sessions)
    assert escalation.status == "applied"
    [stale] = escalation.request["refused"]
    [accepted] = escalation.request["requests"]
    assert stale["json"]["ticket"]["updated_stamp"] != accepted["json"]["ticket"]["updated_stamp"]
    assert "earlier_tries" not in escalation.request


def test_freshdesk_an_update_accepted_and_a_note_refused(client, sessions, config, environment, engine, fake_freshdesk):
    fake_freshdesk.method_failures["POST"] = [(400, None)]  # the PUT is taken; the note refused
    runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({CRITICAL: (-0.95, 0.96, 0.9)}),
                            helpdesks={"freshdesk": live_freshdesk(fake_freshdesk)})
    say_freshdesk(client, CRITICAL)
    runtime.worker.drain()

    escalation = the_escalation(sessions)
    assert escalation.status == "failed"
    [put] = escalation.request["earlier_tries"]
    [note] = escalation.request["refused"]
    assert (put["method"], put["answer"]) == ("PUT", "accepted: the client went on to its next write")
    assert (note["method"], note["status"], note["try"]) == ("POST", 400, 1)
    assert "/api/v2/tickets/4521/notes -> 400" in note["reason"] and note["reason"] == escalation.reason


def test_the_ticket_page_lists_each_write_with_its_answer(
        client, sessions, environment, engine, fake_zendesk, database_url):
    from ticketpulse.webhooks import create_app

    fake_zendesk.add_ticket("48213", tags=["vip"])
    config = Config.model_validate({"zendesk": {"senior_group_id": UNKNOWN_GROUP}})
    escalate(client, config, environment, engine, fake_zendesk)
    with sessions() as session:
        ticket_id = session.scalar(select(Ticket.id))

    env = Environment(database_url=database_url, dashboard_password=PASSWORD, zendesk_subdomain="acme")
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine})
    page = html.unescape(text_of(app.test_client().get(f"/dashboard/tickets/{ticket_id}", headers=basic())))

    assert "Sent to the helpdesk, and its answers" in page
    assert "try 1: PUT /api/v2/tickets/48213 refused: PUT " in page and INVALID_GROUP in page


def test_a_put_whose_worker_died_before_the_answer_says_so_at_the_next_try(
        client, sessions, config, environment, engine, fake_zendesk, monkeypatch):
    from tests.test_freshdesk_escalation import WorkerKilled
    from ticketpulse.integrations.zendesk import ZendeskClient

    fake_zendesk.add_ticket("48213", tags=["vip"])
    real = ZendeskClient.update_ticket
    killed = []

    def update_then_die(self, external_id, body):
        result = real(self, external_id, body)
        if not killed:
            killed.append(1)
            raise WorkerKilled()  # the PUT reached Zendesk; the worker died before its answer was recorded
        return result

    monkeypatch.setattr(ZendeskClient, "update_ticket", update_then_die)
    with pytest.raises(WorkerKilled):
        escalate(client, config, environment, engine, fake_zendesk)
    assert list(the_escalation(sessions).request) == ["sending"]  # in flight: recorded before it was sent
    escalate(client, config, environment, engine, fake_zendesk, post=False)

    escalation = the_escalation(sessions)
    assert escalation.status == "applied" and escalation.request["requests"] == []  # the re-read found it done
    [earlier] = escalation.request["earlier_tries"]
    assert (earlier["try"], earlier["method"]) == (1, "PUT")
    assert earlier["answer"] == "none seen: a new try began before its answer (the worker stopped, or its lease ran out)"
    assert len(fake_zendesk.writes()) == 1
