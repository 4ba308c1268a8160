"""A ticket named without its account (`show zendesk:48213`, the list's numbers shared by two
accounts) is found through an index on (helpdesk, number): the unique key leads with the account,
so without it every such lookup read all of the helpdesk's tickets (~100 ms at 1M tickets)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import event

from tests.dashboard_seed import calm, furious, seed
from ticketpulse.escalation.reports import find_ticket, recent_tickets
from ticketpulse.models import utcnow


def _ticket_selects(engine, run) -> list[tuple[str, object]]:
    """The statements on tickets that `run` sends, with their parameters."""
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM tickets" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def _plan(engine, statement: str, parameters) -> str:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection.cursor()
        if engine.dialect.name == "postgresql":
            raw.execute("SET enable_seqscan = off")  # a test-sized table: ask which index it would take
            raw.execute("EXPLAIN " + statement, parameters)
        else:
            raw.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(" ".join(str(column) for column in row) for row in raw.fetchall())


def test_show_and_the_shared_number_check_find_tickets_through_the_number_index(engine, sessions):
    now = utcnow()
    with sessions.begin() as session:
        seed(session, furious("zendesk", "48213", now - timedelta(hours=3)))
        seed(session, replace(calm("zendesk", "48213", now - timedelta(hours=1)), account="default"))
        seed(session, calm("zendesk", "5158", now - timedelta(hours=2)))

    def show():
        with sessions() as session:
            find_ticket(session, "zendesk:5158")

    def listing():
        with sessions() as session:
            assert {row.ref for row in recent_tickets(session, now - timedelta(days=1))} == {
                "zendesk:default:48213", "zendesk:9876543:48213", "zendesk:5158"}

    for run in (show, listing):
        lookups = [(s, p) for s, p in _ticket_selects(engine, run) if "external_id" in s.split("WHERE", 1)[-1]]
        assert lookups, run.__name__
        for statement, parameters in lookups:
            assert "ix_tickets_number" in _plan(engine, statement, parameters), (run.__name__, statement)
