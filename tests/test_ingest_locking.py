"""Webhooks and the worker lock the same rows in the same order: no PostgreSQL deadlock.

A webhook's store locks the ticket row (its upsert) and then inserts the comment; a redelivered
comment's insert waits, on the unique index, for the transaction that is updating that comment.
If the worker updated the comment before locking the ticket row, the two would wait on each
other (40P01). These tests stop the worker right after it wrote the comment and deliver the same
comment again at that moment.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, func, select, text

from tests.conftest import ZENDESK_SECRET
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.config import Config, Environment
from ticketpulse.models import Comment, Score, make_engine, make_session_factory

TIME = "2026-11-30T09:00:00Z"


def _record_errors(engine, errors: list) -> None:
    @event.listens_for(engine, "handle_error")
    def _seen(context) -> None:
        errors.append(getattr(context.original_exception, "sqlstate", None) or repr(context.original_exception))


def _someone_waits_on_a_lock(observer) -> bool:
    with observer.connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar() > 0


def test_a_redelivery_while_the_worker_records_the_comment_does_not_deadlock(postgres_url):
    from ticketpulse.runtime import build_runtime
    from ticketpulse.webhooks import create_app

    web_engine, worker_engine, observer = make_engine(postgres_url), make_engine(postgres_url), make_engine(postgres_url)
    errors: list = []
    _record_errors(web_engine, errors)
    _record_errors(worker_engine, errors)
    env = Environment(database_url=postgres_url, zendesk_webhook_secret=ZENDESK_SECRET)
    app = create_app({"TESTING": True, "TICKETPULSE": Config(), "ENGINE": web_engine, "ENVIRONMENT": env})
    delivery = comment_event("7001", "501", "Still no refund. This is unacceptable.", time=TIME)
    assert post_zendesk(app.test_client(), delivery).status_code == 202

    redelivered: dict = {}

    def redeliver() -> None:
        redelivered["answer"] = post_zendesk(app.test_client(), delivery)

    webhook = threading.Thread(target=redeliver)

    @event.listens_for(worker_engine, "after_cursor_execute")
    def _redeliver_now(_conn, _cursor, statement, *_args) -> None:
        # The worker has just written the comment, its transaction still open: the helpdesk
        # delivers the same comment again now, and the worker goes on once the webhook waits.
        if webhook.ident is None and statement.lstrip().upper().startswith("UPDATE COMMENTS"):
            webhook.start()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and webhook.is_alive() and not _someone_waits_on_a_lock(observer):
                time.sleep(0.02)

    runtime = build_runtime(Config(), env, engine=worker_engine, scorer=ScriptedScorer({}), helpdesks={})
    try:
        assert runtime.worker.drain() >= 1
        webhook.join(timeout=30)
        assert webhook.ident is not None, "the worker never updated the comment"
        assert not webhook.is_alive()
        assert errors == []  # no 40P01, on either side
        answer = redelivered["answer"]
        assert answer.status_code == 200 and answer.get_json()["status"] == "duplicate"
        with make_session_factory(observer)() as session:
            assert session.scalar(select(func.count()).select_from(Comment)) == 1
            assert session.scalar(select(Comment.status)) == "done"
            assert session.scalar(select(func.count()).select_from(Score)) == 1
    finally:
        for engine in (web_engine, worker_engine, observer):
            engine.dispose()


def test_many_concurrent_webhooks_on_one_ticket_while_workers_claim_it(postgres_url):
    """Sixteen threads deliver 30 comments on one ticket, each three times, while two worker
    threads claim the ticket over and over: every delivery is answered at once, none with 503."""
    from ticketpulse.runtime import build_runtime
    from ticketpulse.webhooks import create_app

    web_engine, worker_engine = make_engine(postgres_url), make_engine(postgres_url)
    errors: list = []
    _record_errors(web_engine, errors)
    _record_errors(worker_engine, errors)
    env = Environment(database_url=postgres_url, zendesk_webhook_secret=ZENDESK_SECRET)
    app = create_app({"TESTING": True, "TICKETPULSE": Config(), "ENGINE": web_engine, "ENVIRONMENT": env})
    deliveries = [comment_event("7002", str(600 + n), f"Where is my order? (#{n})", time=TIME)
                  for n in range(30)] * 3
    answers: list[int] = []
    runtime = build_runtime(Config(), env, engine=worker_engine, scorer=ScriptedScorer({}), helpdesks={})
    stop = threading.Event()

    def work() -> None:
        worker = runtime.worker
        while not stop.is_set():
            if not worker.run_once():
                time.sleep(0.001)

    def deliver(share: list[dict]) -> None:
        client = app.test_client()
        for payload in share:
            answers.append(post_zendesk(client, payload).status_code)

    workers = [threading.Thread(target=work) for _ in range(2)]
    senders = [threading.Thread(target=deliver, args=(deliveries[i::16],)) for i in range(16)]
    try:
        for thread in workers + senders:
            thread.start()
        for thread in senders:
            thread.join(timeout=120)
        deadline = time.monotonic() + 60
        with make_session_factory(web_engine)() as session:
            while time.monotonic() < deadline and session.scalar(
                select(func.count()).where(Comment.status == "pending")
            ):
                session.rollback()
                time.sleep(0.05)
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=30)
    try:
        assert errors == []
        assert sorted(set(answers)) == [200, 202] and answers.count(202) == 30 and len(answers) == 90
        with make_session_factory(web_engine)() as session:
            assert session.scalar(select(func.count()).where(Comment.status == "done")) == 30
            assert session.scalar(select(func.count()).select_from(Score)) == 30
    finally:
        web_engine.dispose()
        worker_engine.dispose()
