"""The work queue: due work found by the ticket's due time, short leases, crash leftovers, budgets."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select, update

from ticketpulse.escalation.pipeline import take_budget
from ticketpulse.escalation.queue import claim_ticket, host_id, reclaim_own, release
from ticketpulse.models import Comment, Score, Ticket, utcnow
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

FURIOUS = "I am DONE. Cancel my account, I'm reporting you to the BBB and my lawyer!!!"


def test_a_webhook_makes_its_ticket_due_and_a_claim_takes_the_earliest(client, sessions):
    post_zendesk(client, comment_event("7", "1", "hello", time="2025-03-05T10:00:00Z"))
    post_zendesk(client, comment_event("8", "1", "hello", time="2025-03-05T10:00:00Z"))
    with sessions() as session:
        first, second = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert first.next_run_at is not None and first.next_run_at <= second.next_run_at

    lease = claim_ticket(sessions, 30, "test")
    assert lease.external_id == "7"
    assert claim_ticket(sessions, 30, "test").external_id == "8"
    assert claim_ticket(sessions, 30, "test") is None  # both held


def test_an_expired_lease_is_taken_over_and_a_finished_ticket_leaves_the_queue(client, sessions, runtime_parts):
    post_zendesk(client, comment_event("7", "1", "hello", time="2025-03-05T10:00:00Z"))
    dead = claim_ticket(sessions, 30, "otherhost:1:1")
    with sessions.begin() as session:  # as if the holder died 30 s ago
        session.execute(update(Ticket).values(lease_expires_at=utcnow() - timedelta(seconds=1)))

    runtime_parts.worker.drain()

    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert session.scalars(select(Comment.status)).all() == ["done"]
        assert (ticket.lease_owner, ticket.next_run_at) == (None, None)  # out of the queue
    release(sessions, dead)  # the dead worker's late release changes nothing
    with sessions() as session:
        assert session.scalars(select(Ticket.next_run_at)).one() is None


def test_a_restart_frees_the_leases_its_dead_predecessor_left(client, sessions):
    post_zendesk(client, comment_event("7", "1", "hello", time="2025-03-05T10:00:00Z"))
    post_zendesk(client, comment_event("8", "1", "hello", time="2025-03-05T10:00:00Z"))
    host = host_id()
    claim_ticket(sessions, 30, f"{host}:999999:1")  # no such pid: a crashed process of this host
    claim_ticket(sessions, 30, "elsewhere:999999:1")  # another host's: left to expire

    assert reclaim_own(sessions) == 1
    assert claim_ticket(sessions, 30, "test").external_id == "7"


def test_the_api_budget_is_shared_and_refills(sessions):
    with sessions.begin() as session:
        assert take_budget(session, "zendesk", "acme", 2, per_minute=3) == 0
    with sessions.begin() as session:
        wait = take_budget(session, "zendesk", "acme", 2, per_minute=3)
    assert 10 < wait <= 20  # one request short at 3 a minute: about 20 s
    with sessions.begin() as session:
        assert take_budget(session, "zendesk", "other", 2, per_minute=3) == 0  # per account


def test_a_budget_smaller_than_one_escalation_still_lets_one_through_at_its_rate(sessions):
    from ticketpulse.models import ApiBudget

    # requests_per_minute = 3 on Freshdesk, whose escalation makes 4 requests
    with sessions.begin() as session:
        wait = take_budget(session, "freshdesk", "acme", 4, per_minute=3)
    assert 0 < wait <= 20  # one request short at 3 a minute
    with sessions.begin() as session:  # as if that wait has passed
        session.execute(update(ApiBudget).values(updated_at=utcnow() - timedelta(seconds=wait + 1)))
    with sessions.begin() as session:
        assert take_budget(session, "freshdesk", "acme", 4, per_minute=3) == 0  # not a wait for ever


def test_a_hung_helpdesk_does_not_hold_up_scoring(client, sessions, config, environment, engine):
    from ticketpulse.integrations.http import HttpPolicy
    from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
    from ticketpulse.runtime import build_runtime

    fake = FakeZendesk()
    fake.latency = 10.0  # every API call hangs 10 s
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        for t in range(6):
            fake.add_ticket(str(100 + t))
        helpdesk = ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, HttpPolicy(attempts=1)))
        quick = config.model_copy(update={"worker": config.worker.model_copy(update={"poll_interval_seconds": 0.05})})
        runtime = build_runtime(quick, environment, engine=engine, scorer=ScriptedScorer({FURIOUS: (-0.9, 0.95, 0.9)}),
                                helpdesks={"zendesk": helpdesk})
        stop = threading.Event()
        threads = runtime.worker.start(stop)
        try:
            post_zendesk(client, comment_event("100", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
            time.sleep(0.5)  # its escalation is now stuck in the hung helpdesk
            started = time.monotonic()
            for t in range(1, 6):
                post_zendesk(client, comment_event(str(100 + t), "1", "Where is my parcel?", time="2025-03-05T10:00:00Z"))

            def scored():
                with sessions() as session:
                    return len(session.scalars(select(Score.id)).all()) == 6
            while not scored() and time.monotonic() - started < 12:
                time.sleep(0.05)
            waited = time.monotonic() - started
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
    # Far less than one hung call (10 s); a few seconds at most on a loaded machine.
    assert scored() and waited < 5.0, waited


import pytest  # noqa: E402


@pytest.fixture
def runtime_parts(config, environment, engine):
    from ticketpulse.runtime import build_runtime

    return build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({}), helpdesks={})


def test_a_restart_leaves_alone_the_leases_of_a_sibling_pod_whose_name_shares_its_first_24_characters(
        client, sessions, monkeypatch):
    from ticketpulse.escalation import queue

    post_zendesk(client, comment_event("7", "1", "hello", time="2025-03-05T10:00:00Z"))
    monkeypatch.setattr(queue.socket, "gethostname", lambda: "ticketpulse-worker-5f7b9c8d4-x2k9p")
    host, _pid, thread = queue.worker_name().split(":")
    # pod A's lease; its pid is not one pod B can see (another pid namespace)
    assert claim_ticket(sessions, 30, f"{host}:999999:{thread}") is not None

    monkeypatch.setattr(queue.socket, "gethostname", lambda: "ticketpulse-worker-5f7b9c8d4-q8r7t")
    assert reclaim_own(sessions) == 0  # pod B restarting frees nothing of pod A's
    with sessions() as session:
        assert session.scalars(select(Ticket.lease_owner)).one().startswith(f"{host}:999999:")
    assert len(queue.worker_name().split(":")[0]) <= 24


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the worker catches it."""


def test_the_escalation_row_keeps_what_a_killed_try_sent_and_counts_every_try(client, sessions, config, environment, engine, monkeypatch):
    from ticketpulse.escalation.pipeline import Pipeline  # noqa: F401
    from ticketpulse.integrations.http import HttpPolicy
    from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
    from ticketpulse.models import Escalation
    from ticketpulse.runtime import build_runtime

    fake = FakeZendesk()
    fake.add_ticket("300", tags=["vip"])
    real = ZendeskClient.update_ticket
    killed = []

    def update_then_die(self, external_id, body):
        result = real(self, external_id, body)
        if not killed:
            killed.append(1)
            raise WorkerKilled()  # the PUT reached Zendesk; the worker died before recording it
        return result

    monkeypatch.setattr(ZendeskClient, "update_ticket", update_then_die)
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        helpdesk = ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, HttpPolicy(attempts=1)))
        runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({FURIOUS: (-0.9, 0.95, 0.9)}),
                                helpdesks={"zendesk": helpdesk})
        post_zendesk(client, comment_event("300", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
        try:
            runtime.worker.drain()
        except WorkerKilled:
            pass
        runtime.worker.drain()

    with sessions() as session:
        escalation = session.scalars(select(Escalation)).one()
    assert escalation.status == "applied" and escalation.attempts == 2
    assert escalation.request["requests"] == []  # the second try found it done
    [earlier] = escalation.request["earlier_tries"]
    assert earlier["method"] == "PUT" and earlier["json"]["ticket"]["tags"] == [
        "vip", "sentiment_escalated", "sentiment_severity_critical"]
    assert len(fake.writes()) == 1


def test_an_escalation_whose_every_try_is_cut_short_by_a_crash_ends_failed_after_max_attempts(
        client, sessions, config, environment, engine, monkeypatch):
    from ticketpulse.integrations.http import HttpPolicy
    from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
    from ticketpulse.models import Escalation
    from ticketpulse.runtime import build_runtime

    config = config.model_copy(update={"worker": config.worker.model_copy(update={"max_attempts": 2})})
    fake = FakeZendesk()
    fake.add_ticket("301")
    sent = []

    def die_before_sending(self, external_id, body):
        sent.append(external_id)
        raise WorkerKilled()  # the process dies during every try (say, out of memory)

    monkeypatch.setattr(ZendeskClient, "update_ticket", die_before_sending)
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        helpdesk = ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, HttpPolicy(attempts=1)))
        runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({FURIOUS: (-0.9, 0.95, 0.9)}),
                                helpdesks={"zendesk": helpdesk})
        post_zendesk(client, comment_event("301", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
        for _restart in range(2):
            try:
                runtime.worker.drain()
            except WorkerKilled:
                pass
        runtime.worker.drain()  # the next start gives up instead of crashing again

    with sessions() as session:
        escalation = session.scalars(select(Escalation)).one()
        ticket = session.scalars(select(Ticket)).one()
    assert (escalation.status, escalation.attempts) == ("failed", 2)
    assert escalation.reason == "gave up: 2 tries did not finish (the worker stopped during each)"
    assert len(sent) == 2 and ticket.escalate_at is None


def test_a_put_that_reached_zendesk_but_whose_answer_was_lost_stays_on_the_escalation_row(
        client, sessions, config, environment, engine, monkeypatch):
    from ticketpulse.escalation.helpdesk import TransientError
    from ticketpulse.integrations.http import HttpPolicy
    from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
    from ticketpulse.models import Escalation
    from ticketpulse.runtime import build_runtime
    from tests.test_freshdesk_escalation import make_due

    fake = FakeZendesk()
    fake.add_ticket("302", tags=["vip"])
    real = ZendeskClient.update_ticket
    lost = []

    def applied_then_answer_lost(self, external_id, body):
        real(self, external_id, body)  # Zendesk applied it; the answer timed out (the worker's
        if not lost:  # policy sends a PUT once per try: the next try reads the ticket again)
            lost.append(body)
            raise TransientError("PUT: ReadTimeout")

    monkeypatch.setattr(ZendeskClient, "update_ticket", applied_then_answer_lost)
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        helpdesk = ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, HttpPolicy(attempts=1)))
        runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({FURIOUS: (-0.9, 0.95, 0.9)}),
                                helpdesks={"zendesk": helpdesk})
        post_zendesk(client, comment_event("302", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
        runtime.worker.drain()
        make_due(sessions)
        runtime.worker.drain()

    with sessions() as session:
        escalation = session.scalars(select(Escalation)).one()
    assert len(fake.writes()) == 1
    assert escalation.status == "applied" and escalation.attempts == 2
    assert escalation.request["requests"] == []  # the re-read found it done
    [sent] = escalation.request["earlier_tries"]  # and what did it is on the record
    assert sent["method"] == "PUT" and sent["json"]["ticket"]["tags"] == [
        "vip", "sentiment_escalated", "sentiment_severity_critical"]


def test_an_escalation_applied_at_the_first_try_records_its_put_once(client, sessions, config, environment, engine):
    from ticketpulse.integrations.http import HttpPolicy
    from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
    from ticketpulse.models import Escalation
    from ticketpulse.runtime import build_runtime

    fake = FakeZendesk()
    fake.add_ticket("303", tags=["vip"])
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        helpdesk = ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, HttpPolicy(attempts=1)))
        runtime = build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({FURIOUS: (-0.9, 0.95, 0.9)}),
                                helpdesks={"zendesk": helpdesk})
        post_zendesk(client, comment_event("303", "1", FURIOUS, time="2025-03-05T10:00:00Z"))
        runtime.worker.drain()

    with sessions() as session:
        escalation = session.scalars(select(Escalation)).one()
    assert list(escalation.request) == ["requests"]  # no earlier writes
    assert [r["method"] for r in escalation.request["requests"]] == ["PUT"]
