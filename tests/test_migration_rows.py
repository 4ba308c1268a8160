"""Every migration, up and down, on a database that already holds work: no step fails, no row is lost."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from ticketpulse.migrations import alembic_config

REVISIONS = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"]
TABLES = ("tickets", "comments", "scores", "escalations")


def seed_revision_0001(connection) -> None:
    """What a running 0001 service held: a ticket on lease, scored and pending comments, an
    escalation waiting for a retry."""
    connection.execute(text(
        "INSERT INTO tickets (id, helpdesk, account, external_id, escalated_severity, lease_owner, lease_expires_at,"
        " created_at) VALUES (1, 'zendesk', 'acme', '7', 'high', 'web-1:4242:ab12', '2026-11-28 10:00:00',"
        " '2026-11-28 09:00:00')"))
    for n, status in ((1, "done"), (2, "done"), (3, "pending")):
        connection.execute(text(
            "INSERT INTO comments (id, ticket_id, comment_key, fingerprint, source, delivery_id, author_id, author_name,"
            " author_role, is_public, body, commented_at, received_at, ticket_snapshot, status, reason, attempts,"
            " run_after, finished_at) VALUES (:n, 1, :key, :fingerprint, 'zendesk_comment', :delivery, '9001',"
            " 'Ann Customer', 'end-user', true, :body, :at, :at, :snapshot, :status, NULL, 0, :at, NULL)"),
            {"n": n, "key": f"3{n}00", "fingerprint": f"{n:064x}", "delivery": f"01HZ{n}", "status": status,
             "body": f"Still broken after {n} days, this is unacceptable", "at": f"2026-11-28 09:0{n}:00",
             "snapshot": '{"subject": "Order 1234 never arrived", "status": "open"}'})
    for n in (1, 2):
        connection.execute(text(
            "INSERT INTO scores (ticket_id, comment_id, author_id, commented_at, text, score, label, frustration,"
            " urgency, cues, scorer, scorer_version, fallback_reason, created_at) VALUES (1, :n, '9001', :at,"
            " 'Still broken, this is unacceptable', -0.8, 'negative', 0.82, 0.3, '[\"unacceptable\"]', 'local',"
            " 'local-1', NULL, :at)"), {"n": n, "at": f"2026-11-28 09:0{n}:05"})
    connection.execute(text(
        "INSERT INTO escalations (ticket_id, comment_id, severity, rule, note, created_at, status, reason, attempts,"
        " run_after, finished_at, dry_run, request) VALUES (1, 2, 'high', 'frustration', 'Escalated: frustration 0.82',"
        " '2026-11-28 09:02:06', 'pending', 'HTTP 503 from Zendesk', 1, '2026-11-28 09:03:00', NULL, false, NULL)"))


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in TABLES}


def test_every_migration_up_and_down_keeps_the_rows_already_stored(database_url, engine):
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "0001")
    with engine.begin() as connection:
        seed_revision_0001(connection)
    stored = row_counts(engine)

    for revision in REVISIONS[1:]:
        command.upgrade(config, revision)
        assert row_counts(engine) == stored, f"upgrade to {revision}"
    for revision in reversed(REVISIONS[:-1]):
        command.downgrade(config, revision)
        assert row_counts(engine) == stored, f"downgrade to {revision}"
    command.upgrade(config, "head")
    assert row_counts(engine) == stored


# A cascade's scorer_version names the model: over the 64 characters revisions before 0007 held.
LONG_SCORER_VERSION = "cascade:local-3+accounts/fireworks/models/llama-v3p1-405b-instruct-long+prompt-4"


def test_a_downgrade_below_0007_keeps_a_long_scorer_version_cut_to_64_characters(database_url, engine):
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "0001")
    with engine.begin() as connection:
        seed_revision_0001(connection)
    command.upgrade(config, "head")
    with engine.begin() as connection:
        connection.execute(text("UPDATE scores SET scorer_version = :version WHERE comment_id = 2"),
                           {"version": LONG_SCORER_VERSION})

    command.downgrade(config, "0006")

    with engine.connect() as connection:
        versions = connection.execute(text("SELECT scorer_version FROM scores ORDER BY comment_id")).scalars().all()
    assert versions == ["local-1", LONG_SCORER_VERSION[:64]]


def test_a_row_left_pointing_at_a_deleted_ticket_does_not_stop_a_migration(database_url, engine, caplog):
    """A ticket deleted by hand in the sqlite3 shell (which enforces no foreign keys) leaves its
    comments behind: the next upgrade still runs, and says what it found."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL enforces the references always: no such rows")
    import sqlite3

    from sqlalchemy import make_url

    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    with engine.begin() as connection:
        seed_revision_0001(connection)
    engine.dispose()
    shell = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    shell.execute("DELETE FROM escalations")
    shell.execute("DELETE FROM tickets")
    shell.close()

    command.upgrade(config, "head")

    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == REVISIONS[-1]
    assert "points at no tickets row" in caplog.text
