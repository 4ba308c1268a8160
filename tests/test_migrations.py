from alembic import command
from sqlalchemy import inspect

from ticketpulse.migrations import alembic_config


def test_migrations_match_the_models(database_url):
    # database_url is already migrated to head; autogenerate must find nothing left to do.
    command.check(alembic_config(database_url))


def test_migrations_downgrade_and_upgrade_again(database_url, engine):
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert {"tickets", "comments", "scores", "escalations"} <= set(inspect(engine).get_table_names())
