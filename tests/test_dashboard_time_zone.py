"""The dashboard prints times in UTC, as its columns say, whatever time zone the database session has."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine

from tests.dashboard_seed import furious, seed
from tests.test_dashboard import PASSWORD, basic
from ticketpulse.config import Environment
from ticketpulse.models import make_session_factory, utcnow


@pytest.fixture
def new_york_engine(postgres_url):
    """A PostgreSQL server whose TimeZone is not UTC (Debian's initdb takes the host's): psycopg
    then returns timestamptz values in that zone."""
    engine = create_engine(postgres_url, connect_args={"options": "-c TimeZone=America/New_York"})
    yield engine
    engine.dispose()


def test_times_are_shown_in_utc_when_the_database_session_is_in_another_zone(config, postgres_url, new_york_engine):
    from ticketpulse.webhooks import create_app

    start = (utcnow() - timedelta(hours=6)).replace(minute=7, second=0, microsecond=0)
    with make_session_factory(new_york_engine).begin() as session:
        ticket_id = seed(session, furious("zendesk", "48213", start)).id
    env = Environment(database_url=postgres_url, dashboard_password=PASSWORD)
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": new_york_engine})
    client = app.test_client()

    first, escalated = f"{start:%Y-%m-%d %H:%M}", f"{start + timedelta(minutes=120):%Y-%m-%d %H:%M}"
    page = client.get(f"/dashboard/tickets/{ticket_id}", headers=basic()).get_data(as_text=True)
    assert f"first seen {first} UTC" in page
    assert f"<td>{first}</td>" in page  # the first message
    assert f"message 1, {first}: score" in page  # the chart's point
    assert f"{escalated} UTC" in page  # the critical decision
    listed = client.get("/dashboard/escalations", headers=basic()).get_data(as_text=True)
    assert f"<td>{escalated}</td>" in listed
