"""Every stored time is read back in UTC, whatever time zone the PostgreSQL session has.

Debian's initdb gives the server the host's zone, and psycopg then hands timestamptz values over
in it: the CLI's `tickets`, `show` and `jobs` printed those local times under "UTC".
"""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.dashboard_seed import furious, seed
from ticketpulse.models import Comment, Ticket, make_engine, make_session_factory, utcnow


@pytest.fixture
def new_york_database(postgres_url):
    """The database's own default zone set, as initdb does for a host outside UTC."""
    name = make_url(postgres_url).database
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"ALTER DATABASE {name} SET TimeZone = 'America/New_York'"))
    admin.dispose()
    return postgres_url


def test_times_are_read_back_in_utc_from_a_session_in_another_zone(new_york_database):
    engine = make_engine(new_york_database)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW TimeZone")).scalar() == "America/New_York"
    start = utcnow().replace(microsecond=0) - timedelta(hours=3)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        seed(session, furious("zendesk", "48213", start))
    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        first = session.scalars(select(Comment).order_by(Comment.commented_at)).first()
        for moment in (ticket.created_at, first.commented_at):
            assert moment.tzinfo == timezone.utc
        assert first.commented_at == start
    engine.dispose()


def test_the_tickets_command_prints_utc_from_a_session_in_another_zone(new_york_database, runner, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", new_york_database)
    start = (utcnow() - timedelta(hours=6)).replace(second=0, microsecond=0)
    engine = make_engine(new_york_database)
    with make_session_factory(engine).begin() as session:
        seed(session, furious("zendesk", "48213", start))
    with make_session_factory(engine)() as session:
        last = max(comment.commented_at for comment in session.scalars(select(Comment)))
    engine.dispose()

    result = runner("tickets")
    assert result.code == 0, result.err
    assert f"{last.astimezone(timezone.utc):%Y-%m-%d %H:%M}" in result.out.splitlines()[1]
