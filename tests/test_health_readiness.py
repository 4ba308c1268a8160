"""GET /healthz says 503 while the database cannot take the service's work: not ready until migrated."""

from __future__ import annotations

from alembic import command

from ticketpulse.migrations import alembic_config, head_revisions
from tests.zendesk_helpers import comment_event, post_zendesk


def test_healthz_is_503_naming_the_revision_while_the_database_is_behind_the_migrations(client, database_url):
    command.downgrade(alembic_config(database_url), "0002")  # a release deployed, `db upgrade` not yet run

    webhook = post_zendesk(client, comment_event("1", "1", "hello", time="2025-03-05T10:00:00Z"))
    health = client.get("/healthz")

    assert webhook.status_code == 503  # the webhooks cannot store anything: not ready
    assert health.status_code == 503
    assert health.json["status"] == "error"
    assert health.json["database"] == "not_migrated"
    assert health.json["revision"] == "0002"
    assert health.json["expected_revision"] == max(head_revisions())
    assert "ticketpulse db upgrade" in health.json["error"]


def test_healthz_of_a_database_never_migrated_says_so_not_unreachable(client, database_url):
    command.downgrade(alembic_config(database_url), "base")
    with client.application.extensions["ticketpulse.sessions"]() as session:  # alembic_version gone too
        session.connection().exec_driver_sql("DROP TABLE alembic_version")
        session.commit()

    health = client.get("/healthz")

    assert health.status_code == 503
    assert health.json["database"] == "not_migrated"
    assert health.json["revision"] is None


def test_healthz_at_head_is_ok(client):
    health = client.get("/healthz")

    assert health.status_code == 200
    assert health.json["status"] == "ok" and health.json["database"] == "ok"


def test_healthz_of_a_database_migrated_by_a_newer_release_says_so(client):
    with client.application.extensions["ticketpulse.sessions"]() as session:  # a release rolled back
        session.connection().exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
        session.commit()

    health = client.get("/healthz")

    assert health.status_code == 503
    assert health.json["revision"] == "0099"
    assert "newer ticketpulse" in health.json["error"]


def test_healthz_is_503_unwritable_while_postgresql_takes_no_writes(postgres_url):
    """DATABASE_URL on a standby after a failover, or a database set read-only: every webhook is a 503."""
    from sqlalchemy import create_engine, make_url

    from ticketpulse.config import Config, Environment
    from ticketpulse.webhooks import create_app
    from tests.conftest import ZENDESK_SECRET

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"ALTER DATABASE {make_url(postgres_url).database} SET default_transaction_read_only = on")
    admin.dispose()
    app = create_app({"TESTING": True, "TICKETPULSE": Config(),
                      "ENVIRONMENT": Environment(database_url=postgres_url, zendesk_webhook_secret=ZENDESK_SECRET)})
    client = app.test_client()

    webhook = post_zendesk(client, comment_event("1", "1", "hello", time="2025-03-05T10:00:00Z"))
    health = client.get("/healthz")

    assert webhook.status_code == 503
    assert health.status_code == 503
    assert health.json["database"] == "unwritable"
    assert "read-only transaction" in health.json["error"]
