"""The dashboard and `ticketpulse jobs` name a number in two accounts with its account, as
`ticketpulse tickets` does (ad0c4b5): `zendesk:<account>:<number>`, the ref `show` and the
dashboard's search take. A number in one account stays `zendesk:<number>`.

A trigger webhook without ZENDESK_ACCOUNT_ID files its comments under `default` and the event
webhook under the signed account_id: one number, two tickets. Both read `zendesk:48213` in the
escalations list, on the ticket pages and in the jobs list, and a lead could not tell them apart.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.dashboard_seed import furious, seed
from ticketpulse.config import Environment
from ticketpulse.models import Comment, Escalation, utcnow

PASSWORD = "lead-pw-4hT9qZ"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"lead:{PASSWORD}".encode()).decode()}


@pytest.fixture
def dashboard(config, database_url, engine):
    from ticketpulse.webhooks import create_app

    env = Environment(database_url=database_url, dashboard_password=PASSWORD, zendesk_subdomain="acme")
    return create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine})


@pytest.fixture
def tickets(sessions) -> dict[str, int]:
    """Ticket id by the ref each should be shown as: 48213 in two Zendesk accounts, 5158 in one,
    and 48213 in Freshdesk (another helpdesk: its number is not shared with Zendesk's)."""
    now = utcnow()
    with sessions.begin() as session:
        specs = {
            "zendesk:9876543:48213": furious("zendesk", "48213", now - timedelta(hours=5)),
            "zendesk:default:48213": replace(furious("zendesk", "48213", now - timedelta(hours=4)), account="default"),
            "zendesk:5158": furious("zendesk", "5158", now - timedelta(hours=3)),
            "freshdesk:48213": furious("freshdesk", "48213", now - timedelta(hours=2)),
        }
        return {ref: seed(session, spec).id for ref, spec in specs.items()}


def test_the_escalations_list_names_a_shared_number_with_its_account(dashboard, tickets):
    page = dashboard.test_client().get("/dashboard/escalations", headers=BASIC)

    assert page.status_code == 200
    links = re.findall(r'<a href="/dashboard/tickets/(\d+)">([^<]*)</a>', page.get_data(as_text=True))
    shown = {int(ticket_id): text for ticket_id, text in links}
    assert shown == {ticket_id: ref for ref, ticket_id in tickets.items()}
    assert len(links) == 2 * len(tickets)  # each ticket's two escalations, each row named alike


def test_the_ticket_page_title_and_heading_name_a_shared_number_with_its_account(dashboard, tickets):
    client = dashboard.test_client()
    for ref, ticket_id in tickets.items():
        page = client.get(f"/dashboard/tickets/{ticket_id}", headers=BASIC)

        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert re.search(r"<title>(.*?) · ticketpulse</title>", html)[1] == ref
        assert re.search(r"<h1>\s*(\S+)", html)[1] == ref


def test_the_search_box_opens_each_ref_the_pages_show(dashboard, tickets):
    client = dashboard.test_client()
    for ref, ticket_id in tickets.items():
        found = client.get("/dashboard/ticket", query_string={"ref": ref}, headers=BASIC)

        assert found.status_code == 302, ref
        assert found.headers["Location"].endswith(f"/dashboard/tickets/{ticket_id}")


def test_jobs_names_a_shared_number_with_its_account(runner, sessions, database_url, monkeypatch, tickets):
    with sessions.begin() as session:
        for ticket_id in tickets.values():  # each ticket's critical escalation failed, its last comment pending
            critical = session.query(Escalation).filter_by(ticket_id=ticket_id, severity="critical").one()
            critical.status, critical.attempts, critical.reason = "failed", 3, "gave up"
            session.query(Comment).filter_by(ticket_id=ticket_id, comment_key="id:2").one().status = "pending"
    monkeypatch.setenv("DATABASE_URL", database_url)

    result = runner("jobs")

    assert result.code == 0, result.err
    rows = [line.split() for line in result.out.splitlines()[2:]]
    listed = {(kind, ref) for kind, _id, ref, *_ in rows}
    assert listed == {(kind, ref) for kind in ("comment", "escalation") for ref in tickets}
    header = result.out.splitlines()[1]
    for line in result.out.splitlines()[2:]:  # the columns stay aligned under their headings
        assert line[header.index("STATUS"):].split()[0] in ("failed", "pending")


def test_jobs_keeps_its_columns_under_a_shared_freshdesk_number_with_its_domain(runner, sessions, database_url,
                                                                                   monkeypatch):
    now = utcnow()
    with sessions.begin() as session:
        for account in ("acme.freshdesk.com", "acme-eu.freshdesk.com"):  # `freshdesk:acme-eu.freshdesk.com:11`: 32 wide
            ticket = seed(session, replace(furious("freshdesk", "11", now - timedelta(hours=2)), account=account))
            critical = session.query(Escalation).filter_by(ticket_id=ticket.id, severity="critical").one()
            critical.status, critical.attempts, critical.reason = "failed", 3, "gave up"
    monkeypatch.setenv("DATABASE_URL", database_url)

    result = runner("jobs")

    assert result.code == 0, result.err
    header, *rows = result.out.splitlines()[1:]
    assert {row.split()[2] for row in rows} == {"freshdesk:acme.freshdesk.com:11", "freshdesk:acme-eu.freshdesk.com:11"}
    for row in rows:
        assert row[header.index("STATUS"):].startswith("failed ")
        assert row[header.index("TRIES"):].split()[0] == "3"
