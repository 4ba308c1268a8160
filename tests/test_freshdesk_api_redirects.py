"""The helpdesk API answering a redirect (an http:// base URL, a moved account): never followed.

requests would follow it with a PUT turned into a GET (302) or sent without its body (301), and
the escalation would look applied while the ticket was never changed."""

from __future__ import annotations

import pytest
from flask import Flask, redirect, request

from ticketpulse.escalation.helpdesk import EscalationPlan, PermanentError
from ticketpulse.config import Tags
from ticketpulse.integrations.freshdesk import FreshdeskClient, FreshdeskHelpdesk
from ticketpulse.integrations.http import HttpPolicy
from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer


def front_that_moves_to(target: str, status: int, methods: set[str]) -> Flask:
    """The old address of the account: answers `methods` with a redirect to the same path on `target`."""
    front = Flask("moved-account")

    @front.route("/<path:path>", methods=["GET", "PUT", "POST"])
    def moved(path):
        if request.method not in methods:
            return {"error": "the test expected no such request"}, 500
        return redirect(f"{target}/{path}", code=status)

    return front


@pytest.fixture
def fake():
    fake = FakeFreshdesk()
    fake.add_ticket("4521", tags=["refund", "vip"])
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


def plan() -> EscalationPlan:
    return EscalationPlan(external_id="4521", severity="high", group_id=43000777000, priority=4,
                          note="[ticketpulse] Escalated: severity HIGH.", tags=Tags())


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_ticket_update_is_a_permanent_error_naming_the_new_address_and_is_not_followed(fake, status):
    with LiveServer(front_that_moves_to(fake.url, status, {"PUT"})) as front:
        client = FreshdeskClient(front.url, fake.api_key, HttpPolicy(attempts=1))
        with pytest.raises(PermanentError) as raised:
            client.update_ticket("4521", {"priority": 4})

    assert f"-> {status}: redirected to {fake.url}/api/v2/tickets/4521" in str(raised.value)
    assert raised.value.status == status
    assert fake.requests == []  # neither a GET in its place nor a PUT without its body
    assert fake.tickets["4521"]["priority"] == 2


def test_an_escalation_on_a_moved_account_fails_and_is_never_recorded_as_applied(fake):
    # Only the ticket update is redirected (the reads answer on the old address, as a partly
    # moved proxy would): the PUT must not come back as a successful GET of the ticket.
    reads = FakeFreshdesk(tickets=fake.tickets, conversations=fake.conversations).app()
    moves = front_that_moves_to(fake.url, 302, {"PUT", "POST"})
    mixed = Flask("partly-moved")

    @mixed.route("/<path:path>", methods=["GET", "PUT", "POST"])
    def route(path):
        with (reads if request.method == "GET" else moves).test_client() as inner:
            answer = inner.open(f"/{path}", method=request.method, headers=dict(request.headers),
                                data=request.get_data(), query_string=request.query_string.decode())
            return answer.get_data(), answer.status_code, dict(answer.headers)

    with LiveServer(mixed) as server:
        helpdesk = FreshdeskHelpdesk(FreshdeskClient(server.url, fake.api_key, HttpPolicy(attempts=1)))
        with pytest.raises(PermanentError, match="PUT .* -> 302: redirected to"):
            helpdesk.apply(plan())

    assert fake.writes() == [] and fake.tickets["4521"]["tags"] == ["refund", "vip"]
