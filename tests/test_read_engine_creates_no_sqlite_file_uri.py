"""make_engine(create_database=False) let a SQLite file: URI (`?uri=true`) through unchecked, as if
its mode refused a missing file; without `mode=ro` or `mode=rw` (SQLite's default is rwc) the first
connection created the file empty, so `ticketpulse tickets` left one behind."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ticketpulse.models import make_engine
from ticketpulse.models.db import NoDatabaseError


def files_in(directory) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.mark.parametrize("url", [
    "sqlite:///file:tp.db?uri=true",
    "sqlite:///file:tp.db?uri=1&mode=rwc",
    "sqlite:///file:{dir}/tp.db?uri=true",
    "sqlite:///file://{dir}/tp.db?uri=true",
    "sqlite:///file:{dir}/t%70.db?uri=true",
])
def test_a_file_uri_that_may_create_its_file_names_the_missing_database(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)

    with pytest.raises(NoDatabaseError) as raised:
        make_engine(url.format(dir=tmp_path), create_database=False)

    assert raised.value.path == str(tmp_path / "tp.db")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("url", ["sqlite:///file:tp.db?uri=true&mode=ro", "sqlite:///file:tp.db?uri=true&mode=rw"])
def test_a_file_uri_whose_mode_refuses_a_missing_file_is_left_to_sqlite(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    engine = make_engine(url, create_database=False)

    with pytest.raises(Exception, match="unable to open database file"), engine.connect():
        pass
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("url", ["sqlite:///file:tp.db?uri=true", "sqlite:///tp.db", "sqlite:///file::memory:?uri=true"])
def test_an_existing_file_or_memory_opens(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tp.db").touch()

    with make_engine(url, create_database=False).connect() as connection:
        assert connection.execute(text("select 1")).scalar() == 1


def test_tickets_with_a_file_uri_database_url_creates_nothing(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TICKETPULSE_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///file:tp.db?uri=true")

    result = runner("tickets")

    assert result.code == 1
    assert result.err.startswith(f"ticketpulse: error: no database exists at {tmp_path / 'tp.db'} ")
    assert files_in(tmp_path) == []
