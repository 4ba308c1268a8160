import io
import sys

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


def test_alembic_writes_to_the_stdout_of_now_not_of_its_first_import(database_url, monkeypatch):
    import alembic.config  # noqa: F401 (imported before stdout is replaced, as in a long-lived process)

    now = io.StringIO()
    monkeypatch.setattr(sys, "stdout", now)
    alembic_config(database_url).print_stdout("revision 0010")
    assert now.getvalue() == "revision 0010\n"
