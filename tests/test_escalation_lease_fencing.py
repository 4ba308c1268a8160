"""The escalation row's records of helpdesk calls are fenced by the lease, as decisions are: a
worker whose escalation lease was taken over sends no further write and writes nothing on the new
holder's record, and what it did send stays on the row."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, update

from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
from ticketpulse.models import Escalation, Ticket, utcnow
from ticketpulse.runtime import build_runtime
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

FURIOUS = "I am DONE. Cancel my account, I'm reporting you to the BBB and my lawyer!!!"
TAGS = ["vip", "sentiment_escalated", "sentiment_severity_critical"]


def lease_runs_out(sessions) -> None:
    """As if the first worker had stalled past its lease (its heartbeat could not reach the database)."""
    with sessions.begin() as session:
        session.execute(update(Ticket).values(escalation_expires_at=utcnow() - timedelta(seconds=1)))


def runtime_for(fake, config, environment, engine):
    helpdesk = ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, HttpPolicy(attempts=1)))
    return build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({FURIOUS: (-0.9, 0.95, 0.9)}),
                         helpdesks={"zendesk": helpdesk})


def puts(fake) -> list:
    return [r for r in fake.requests if r.method == "PUT"]


def test_a_worker_taken_over_during_its_read_sends_no_put_and_leaves_the_new_holders_record_alone(
        client, sessions, config, environment, engine, monkeypatch):
    fake = FakeZendesk()
    fake.add_ticket("310", tags=["vip"])
    real_get = ZendeskClient.get_ticket
    first, second = [], []

    def get_then_lose_the_lease(self, external_id):
        ticket = real_get(self, external_id)
        if not first:  # the first worker read the ticket; then it stalls, and another takes over
            first.append(1)
            lease_runs_out(sessions)
            assert second[0].run_escalations_once("zendesk")
        return ticket

    monkeypatch.setattr(ZendeskClient, "get_ticket", get_then_lose_the_lease)
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        runtime = runtime_for(fake, config, environment, engine)
        second.append(runtime.worker)
        post_zendesk(client, comment_event("310", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
        runtime.worker.drain()

    with sessions() as session:
        escalation = session.scalars(select(Escalation)).one()
    assert len(puts(fake)) == 1  # the new holder's; the first worker sent nothing after losing the ticket
    assert fake.tickets["310"]["tags"] == TAGS and len(fake.tickets["310"]["comments"]) == 1
    assert escalation.status == "applied" and escalation.attempts == 2
    assert list(escalation.request) == ["requests"]  # the new holder's record, nothing added to it
    assert [r["method"] for r in escalation.request["requests"]] == ["PUT"]


def test_a_worker_taken_over_during_its_put_does_not_overwrite_the_new_holders_try_and_its_put_stays_recorded(
        client, sessions, config, environment, engine, monkeypatch):
    fake = FakeZendesk()
    fake.add_ticket("311", tags=["vip"])
    real_get, real_put = ZendeskClient.get_ticket, ZendeskClient.update_ticket
    reading, go_on = threading.Event(), threading.Event()
    calls = []

    def get(self, external_id):
        calls.append("GET")
        if len(calls) == 3:  # the new holder's read: it waits there while the first one records
            reading.set()
            assert go_on.wait(30)
        return real_get(self, external_id)

    def put_then_lose_the_lease(self, external_id, body):
        result = real_put(self, external_id, body)
        if len(calls) == 1:  # the first worker's PUT reached Zendesk; then it stalls, and another takes over
            lease_runs_out(sessions)
            calls.append("takeover")
            threading.Thread(target=lambda: second.run_escalations_once("zendesk"), daemon=True).start()
            assert reading.wait(30)
        return result

    monkeypatch.setattr(ZendeskClient, "get_ticket", get)
    monkeypatch.setattr(ZendeskClient, "update_ticket", put_then_lose_the_lease)
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        runtime = runtime_for(fake, config, environment, engine)
        second = runtime.worker
        post_zendesk(client, comment_event("311", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
        runtime.worker.run_once()  # scored and decided
        runtime.worker.run_escalations_once("zendesk")  # the first worker: its PUT, then its record
        with sessions() as session:
            mid_try = session.scalars(select(Escalation)).one()
        go_on.set()
        deadline = utcnow() + timedelta(seconds=30)
        while utcnow() < deadline:
            with sessions() as session:
                if session.scalars(select(Escalation.status)).one() != "pending":
                    break

    # While the new holder was trying, the first worker's late record changed nothing of its try.
    assert (mid_try.status, mid_try.attempts) == ("pending", 2)
    assert mid_try.request == {"earlier_tries": [puts_record := mid_try.request["earlier_tries"][0]]}
    assert puts_record["method"] == "PUT" and puts_record["json"]["ticket"]["tags"] == TAGS
    with sessions() as session:
        escalation = session.scalars(select(Escalation)).one()
    assert len(puts(fake)) == 1
    assert escalation.status == "applied" and escalation.reason == "the ticket already carried this severity"
    assert escalation.request == {"requests": [], "earlier_tries": [puts_record]}  # the PUT, once
