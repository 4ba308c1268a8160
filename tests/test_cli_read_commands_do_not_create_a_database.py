"""A command that only reads the stored work (`tickets`, `show`, `jobs`, `backtest`), run where
there is no database, created an empty `ticketpulse.db` there and then said it "has no tables:
run `ticketpulse db upgrade` first". It names the missing file and creates nothing; `serve`,
`worker` and `db upgrade` still create it."""

from __future__ import annotations

import pytest

READ_COMMANDS = [["tickets"], ["show", "zendesk:48213"], ["jobs"], ["jobs", "retry", "--all"], ["backtest"]]


@pytest.fixture
def empty_directory(tmp_path, monkeypatch):
    """The current directory, with no database and DATABASE_URL unset: the default ticketpulse.db."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TICKETPULSE_CONFIG", raising=False)
    return tmp_path


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_read_command_names_the_missing_database_and_creates_none(runner, empty_directory, command):
    result = runner(*command)

    assert result.code == 1
    assert result.err == (f"ticketpulse: error: no database exists at {empty_directory / 'ticketpulse.db'} "
                          "(DATABASE_URL sqlite:///ticketpulse.db): `ticketpulse serve` or `ticketpulse db upgrade` "
                          "creates it; or set DATABASE_URL to the database in use\n")
    assert list(empty_directory.iterdir()) == []


def test_a_read_command_names_a_database_url_that_points_nowhere(runner, empty_directory, monkeypatch):
    missing = empty_directory / "elsewhere" / "tp.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")

    result = runner("tickets")

    assert result.code == 1
    assert f"no database exists at {missing} (DATABASE_URL sqlite:///{missing})" in result.err
    assert list(empty_directory.iterdir()) == []


def test_db_upgrade_still_creates_the_database_the_read_commands_then_read(runner, empty_directory):
    assert runner("db", "upgrade").code == 0
    assert (empty_directory / "ticketpulse.db").is_file()

    result = runner("tickets")

    assert result.code == 0, result.err
    assert result.out.startswith("no tickets with customer messages")


def test_a_worker_still_creates_the_database(runner, empty_directory):
    result = runner("worker", "--once")

    assert (empty_directory / "ticketpulse.db").is_file()
    assert "no database exists" not in result.err
