"""The inbox's own connections: kept per thread, replaced when broken, never left holding a lock."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.models import Comment

TIME = "2026-12-02T09:00:00Z"


def stored_bodies(sessions) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Comment.body).order_by(Comment.id)))


def test_a_webhook_after_the_server_dropped_the_connection_is_stored_on_a_new_one(app, client, sessions, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: a server restart breaks the kept connection")
    assert post_zendesk(client, comment_event("7101", "1", "Where is my parcel?", time=TIME)).status_code == 202
    inbox = app.extensions["ticketpulse.inbox"]
    with engine.connect() as observer:
        # What a server restart does to the inbox's connection (the test's own is spared).
        observer.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

    answer = post_zendesk(client, comment_event("7101", "2", "Still waiting.", time=TIME))

    assert answer.status_code == 202
    assert stored_bodies(sessions) == ["Where is my parcel?", "Still waiting."]
    assert inbox._threads.connection.info.backend_pid  # a new connection, kept for the next webhook


def test_a_failed_store_is_a_503_and_the_next_webhook_is_stored(app, client, sessions, engine):
    assert post_zendesk(client, comment_event("7102", "1", "Hello", time=TIME)).status_code == 202
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE comments RENAME TO comments_away"))
    try:
        refused = post_zendesk(client, comment_event("7102", "2", "Anyone there?", time=TIME))
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE comments_away RENAME TO comments"))

    # The failed store left nothing locked: the next webhook (and this thread's next transaction)
    # goes through at once.
    stored = post_zendesk(client, comment_event("7102", "2", "Anyone there?", time=TIME))

    assert refused.status_code == 503 and refused.json["error"].endswith("; retry later")
    assert refused.headers["Retry-After"]
    assert stored.status_code == 202
    assert stored_bodies(sessions) == ["Hello", "Anyone there?"]


def test_webhook_threads_store_concurrently_each_once(app, sessions):
    answers: list[tuple[int, int, int | None, int | None]] = []

    def send(thread: int) -> None:
        client = app.test_client()
        for n in range(10):
            event = comment_event(str(7200 + n % 3), str(100 * thread + n), f"message {thread}-{n}", time=TIME)
            first, again = post_zendesk(client, event), post_zendesk(client, event)
            answers.append((first.status_code, again.status_code, first.json.get("comment_id"), again.json.get("comment_id")))

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 40
    assert all(first == 202 and again == 200 and first_id == again_id for first, again, first_id, again_id in answers)
    assert sorted(stored_bodies(sessions)) == sorted(f"message {t}-{n}" for t in range(4) for n in range(10))
