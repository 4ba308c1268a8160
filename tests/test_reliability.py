"""Nothing lost, nothing twice: worker processes on PostgreSQL, crashes, outages, a database down."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ticketpulse.models import Comment, Escalation, Score, Ticket, make_engine, make_session_factory
from tests.conftest import FRESHDESK_SECRET, ZENDESK_SECRET
from tests.fakes.freshdesk import FakeFreshdesk
from tests.freshdesk_helpers import post_freshdesk, reply
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.config import Config, Environment
from ticketpulse.escalation.queue import LANES

# A spread of customer messages: calm, annoyed, furious; the real local scorer decides.
MESSAGES = [
    "Hi, could you tell me when my order will ship?",
    "Thanks, that worked perfectly!",
    "It has been a week and I still have not heard back.",
    "Third time asking. Still no refund. This is unacceptable.",
    "This is a joke. Nobody answers, I have been waiting for 3 weeks!!!",
    "I am DONE. Cancel my account, I'm reporting you to the BBB and my lawyer!!!",
    "Any update on this?",
    "Still broken. I can't work and I'm losing money every day.",
    "Ok, thank you for the quick reply.",
    "WHY IS THIS STILL NOT FIXED?! Worst service ever.",
]


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def backlog_empty(sessions) -> bool:
    with sessions() as session:
        pending_comments = session.scalar(select(func.count()).where(Comment.status == "pending"))
        pending_escalations = session.scalar(select(func.count()).where(Escalation.status == "pending"))
    return pending_comments == 0 and pending_escalations == 0


def write_config(tmp_path: Path, requests_per_minute: int = 100, **worker) -> Path:
    settings = {"poll_interval_seconds": 0.05, "lease_seconds": 5, "backoff_base_seconds": 0.2,
                "backoff_max_seconds": 1.0, "concurrency": 2} | worker
    path = tmp_path / "ticketpulse.toml"
    path.write_text(f"[zendesk]\nsenior_group_id = 360001234567\nrequests_per_minute = {requests_per_minute}\n"
                    f"[freshdesk]\nrequests_per_minute = {requests_per_minute}\n[worker]\n"
                    + "".join(f"{key} = {value}\n" for key, value in settings.items()))
    return path


def start_workers(n: int, database_url: str, fake: FakeZendesk, config_path: Path,
                  freshdesk: FakeFreshdesk | None = None) -> list[subprocess.Popen]:
    """`ticketpulse worker` processes; their logs go to worker-N.log beside the config."""
    env = os.environ | {
        "DATABASE_URL": database_url,
        "ZENDESK_BASE_URL": fake.url,
        "ZENDESK_EMAIL": fake.email,
        "ZENDESK_API_TOKEN": fake.token,
        "TICKETPULSE_CONFIG": str(config_path),
    }
    if freshdesk is not None:
        env |= {"FRESHDESK_BASE_URL": freshdesk.url, "FRESHDESK_API_KEY": freshdesk.api_key}
    return [
        subprocess.Popen([sys.executable, "-m", "ticketpulse.cli", "worker"], env=env,
                         stdout=subprocess.DEVNULL, stderr=(config_path.parent / f"worker-{i}.log").open("w"))
        for i in range(n)
    ]


def stop_workers(workers: list[subprocess.Popen]) -> list[int]:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    return [worker.wait(timeout=60) for worker in workers]


def deliveries(tickets: int, per_ticket: int, duplicate_share: float, seed: int = 7) -> list[dict]:
    """Comments interleaved across tickets, with a share of them delivered a second time."""
    rng = random.Random(seed)
    unique = [
        comment_event(str(10_000 + t), str(n), rng.choice(MESSAGES), time=f"2025-03-05T{10 + n // 60:02d}:{n % 60:02d}:00Z")
        for n in range(per_ticket) for t in range(tickets)
    ]
    duplicates = [rng.choice(unique[: i + 1]) for i in rng.sample(range(len(unique)), int(len(unique) * duplicate_share / (1 - duplicate_share)))]
    stream = unique + duplicates
    rng.shuffle(stream)
    return stream


def assert_each_escalation_step_applied_once(sessions, fake: FakeZendesk) -> None:
    """One PUT per applied escalation; per ticket, severities only rise; tags show the highest."""
    puts = Counter()
    for request in fake.writes():
        ticket_id = request.path.rsplit("/", 1)[-1]
        [severity_tag] = [tag for tag in request.json["ticket"]["tags"] if tag.startswith("sentiment_severity_")]
        puts[(ticket_id, severity_tag)] += 1
    assert all(count == 1 for count in puts.values()), [key for key, count in puts.items() if count > 1]
    with sessions() as session:
        applied = session.execute(
            select(Escalation.severity, Escalation.reason, Escalation.ticket_id)
            .join(Ticket, Ticket.id == Escalation.ticket_id)
            .where(Escalation.status == "applied", Ticket.helpdesk == "zendesk")
        ).all()
        assert session.scalar(select(func.count()).where(Escalation.status.in_(["pending", "failed"]))) == 0
    assert len(puts) == len(applied)


def assert_each_freshdesk_escalation_applied_once(sessions, fake: FakeFreshdesk) -> None:
    """One PUT per ticket and severity, and exactly one note per applied escalation."""
    puts = Counter()
    for request in fake.writes():
        if request.method == "PUT":
            [severity_tag] = [tag for tag in request.json["tags"] if tag.startswith("sentiment_severity_")]
            puts[(request.path, severity_tag)] += 1
    assert all(count == 1 for count in puts.values()), puts
    with sessions() as session:
        applied = Counter(session.scalars(
            select(Ticket.external_id).join(Escalation, Escalation.ticket_id == Ticket.id)
            .where(Ticket.helpdesk == "freshdesk", Escalation.status == "applied")
        ))
    notes = Counter({ticket_id: len(fake.notes(ticket_id)) for ticket_id in fake.tickets})
    assert +notes == applied
    for ticket_id in fake.tickets:
        first_lines = [note["body_text"].splitlines()[0] for note in fake.notes(ticket_id)]
        assert len(first_lines) == len(set(first_lines))


@pytest.fixture
def fake_freshdesk():
    fake = FakeFreshdesk()
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fake_zendesk():
    fake = FakeZendesk()
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


def test_four_worker_processes_score_every_comment_once_and_escalate_each_step_once(postgres_url, fake_zendesk, tmp_path):
    from ticketpulse.webhooks import create_app

    for t in range(200):
        fake_zendesk.add_ticket(str(10_000 + t), tags=["customer_tag"])
    engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    app = create_app({"TICKETPULSE": Config(), "ENGINE": engine,
                      "ENVIRONMENT": Environment(database_url=postgres_url, zendesk_webhook_secret=ZENDESK_SECRET)})
    client = app.test_client()
    stream = deliveries(tickets=200, per_ticket=8, duplicate_share=0.2)
    assert len(stream) == 2000

    # The account budget raised: this test is about each step happening once, and the default
    # 100 requests a minute would only make it wait minutes (the budget has its own tests).
    workers = start_workers(4, postgres_url, fake_zendesk, write_config(tmp_path, requests_per_minute=100_000))
    try:
        answers = Counter(post_zendesk(client, event).status_code for event in stream)
        assert wait_until(lambda: backlog_empty(sessions), timeout=240)
    finally:
        codes = stop_workers(workers)

    assert answers == {202: 1600, 200: 400}
    assert codes == [0, 0, 0, 0]  # SIGTERM: finish the current ticket, then exit cleanly
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 1600
        assert session.scalar(select(func.count()).where(Comment.status == "done")) == 1600
        assert session.scalar(select(func.count(func.distinct(Score.comment_id)))) == 1600
        assert session.scalar(select(func.count()).select_from(Score)) == 1600
    assert_each_escalation_step_applied_once(sessions, fake_zendesk)
    assert len(fake_zendesk.writes()) > 20  # the conversation mix does escalate
    for ticket in fake_zendesk.tickets.values():
        assert "customer_tag" in ticket["tags"]
    engine.dispose()


def test_a_worker_killed_mid_run_loses_nothing_and_doubles_nothing(postgres_url, fake_zendesk, fake_freshdesk, tmp_path):
    from ticketpulse.webhooks import create_app

    fake_zendesk.latency = fake_freshdesk.latency = 0.05  # keep escalations in flight when the kill comes
    for t in range(60):
        fake_zendesk.add_ticket(str(10_000 + t))
    for t in range(30):
        fake_freshdesk.add_ticket(str(20_000 + t), tags=["refund"])
    engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    app = create_app({"TICKETPULSE": Config(), "ENGINE": engine,
                      "ENVIRONMENT": Environment(database_url=postgres_url, zendesk_webhook_secret=ZENDESK_SECRET,
                                                 freshdesk_webhook_secret=FRESHDESK_SECRET)})
    client = app.test_client()
    stream = deliveries(tickets=60, per_ticket=6, duplicate_share=0.0, seed=11)
    for event in stream:
        assert post_zendesk(client, event).status_code == 202
    rng = random.Random(12)
    for n in range(6):  # Freshdesk gives no comment time: post each ticket's replies in order
        for t in range(30):
            text = f"{rng.choice(MESSAGES)} (reply {n})"  # Freshdesk keys a reply by its text
            assert post_freshdesk(client, reply(str(20_000 + t), text)).status_code == 202
    total = len(stream) + 6 * 30

    config_path = write_config(tmp_path, lease_seconds=5, concurrency=1)
    workers = start_workers(3, postgres_url, fake_zendesk, config_path, fake_freshdesk)
    try:
        def some_work_done():
            with sessions() as session:
                return session.scalar(select(func.count()).select_from(Score)) >= 60
        victims = []
        def a_worker_holds_a_lease():
            """Whichever worker is caught holding a lease, scoring or escalating, is the victim: a
            worker picked in advance may hold none in the moment scoring takes (it is over in a
            second or two; escalations wait for the API budget)."""
            with sessions() as session:
                held = [token for lane in LANES.values()
                        for token in session.scalars(select(lane.owner).where(lane.owner.is_not(None)))]
            victims[:] = [w for w in workers if any(f":{w.pid}:" in token for token in held)][:1]
            return bool(victims)
        assert wait_until(some_work_done, timeout=60, interval=0.05)
        assert wait_until(a_worker_holds_a_lease, timeout=30, interval=0.01)
        victim = victims[0]
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=10) == -signal.SIGKILL
        assert wait_until(lambda: backlog_empty(sessions), timeout=120)
    finally:
        stop_workers(workers)

    with sessions() as session:
        assert session.scalar(select(func.count()).where(Comment.status == "done")) == total
        assert session.scalar(select(func.count()).select_from(Score)) == total
    assert_each_escalation_step_applied_once(sessions, fake_zendesk)
    assert_each_freshdesk_escalation_applied_once(sessions, fake_freshdesk)
    assert fake_freshdesk.writes()  # Freshdesk tickets did escalate
    engine.dispose()


def test_helpdesk_outage_delays_escalations_then_applies_each_once(database_url, fake_zendesk, client, sessions, config, environment, engine):
    from ticketpulse.integrations.http import HttpPolicy
    from ticketpulse.integrations.zendesk import ZendeskHelpdesk
    from ticketpulse.integrations.zendesk import ZendeskClient
    from tests.scripted_scorer import ScriptedScorer
    from ticketpulse.runtime import build_runtime

    fast_retries = config.model_copy(update={"worker": config.worker.model_copy(
        update={"backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2, "max_attempts": 50})})
    furious = "I am DONE. Cancel my account!!!"
    helpdesk = ZendeskHelpdesk(ZendeskClient(fake_zendesk.url, fake_zendesk.email, fake_zendesk.token,
                                             HttpPolicy(attempts=2, max_wait=0.1, backoff=0.01)))
    runtime = build_runtime(fast_retries, environment, engine=engine,
                            scorer=ScriptedScorer({furious: (-0.9, 0.95, 0.8)}), helpdesks={"zendesk": helpdesk})
    for t in range(10):
        fake_zendesk.add_ticket(str(500 + t), tags=["keep_me"])
        post_zendesk(client, comment_event(str(500 + t), "1", furious, time="2025-03-05T10:00:00Z"))
    fake_zendesk.failures = [(503, "0"), (429, "0"), (503, None), (500, None)] * 10

    def drained():
        runtime.worker.drain()
        return backlog_empty(sessions)

    assert wait_until(drained, timeout=60, interval=0.05)
    assert fake_zendesk.failures == []  # the outage really happened and was waited out
    assert_each_escalation_step_applied_once(sessions, fake_zendesk)
    assert len(fake_zendesk.writes()) == 10
    assert all(t["tags"] == ["keep_me", "sentiment_escalated", "sentiment_severity_critical"]
               for t in fake_zendesk.tickets.values())


def test_database_down_answers_503_with_retry_after(tmp_path):
    from ticketpulse.webhooks import create_app

    down = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"
    app = create_app({"TICKETPULSE": Config(), "ENVIRONMENT": Environment(database_url=down, zendesk_webhook_secret=ZENDESK_SECRET)})
    client = app.test_client()

    response = post_zendesk(client, comment_event("1", "1", "hello", time="2025-03-05T10:00:00Z"))
    health = client.get("/healthz")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert "database unavailable" in response.json["error"]
    assert health.status_code == 503 and health.json["database"] == "unreachable"


def test_healthz_reports_the_oldest_pending_work(client, sessions):
    assert client.get("/healthz").json == {
        "status": "ok", "database": "ok", "pending_comments": 0, "failed_comments": 0,
        "pending_escalations": 0, "failed_escalations": 0, "oldest_pending_age_seconds": None,
    }
    post_zendesk(client, comment_event("1", "1", "hello", time="2025-03-05T10:00:00Z"))
    time.sleep(0.3)
    health = client.get("/healthz").json
    assert health["pending_comments"] == 1
    assert health["oldest_pending_age_seconds"] >= 0.2


def test_jobs_lists_failed_work_with_its_reason_and_retry_requeues_it(client, sessions, runner, database_url, monkeypatch):
    post_zendesk(client, comment_event("42", "1", "hello", time="2025-03-05T10:00:00Z"))
    with sessions.begin() as session:
        comment = session.scalars(select(Comment)).one()
        comment.status, comment.reason, comment.attempts = "failed", "scoring failed: boom", 8
    monkeypatch.setenv("DATABASE_URL", database_url)

    listed = runner("jobs")
    retried = runner("jobs", "retry", "--all")

    assert listed.code == 0
    assert "comment" in listed.out and "zendesk:42" in listed.out and "scoring failed: boom" in listed.out
    assert retried.code == 0 and "queued 1 failed job(s) again" in retried.out
    with sessions() as session:
        comment = session.scalars(select(Comment)).one()
        assert (comment.status, comment.attempts) == ("pending", 0)
