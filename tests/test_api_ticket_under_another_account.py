"""GET /api/v1/tickets/<helpdesk>/<number>?account= for a ticket that reached ticketpulse under
other accounts says where it is, rather than that it never arrived."""

from __future__ import annotations

from tests.test_api import api, api_environment, get, scorer  # noqa: F401  (fixtures; get checks the OpenAPI description)
from tests.zendesk_helpers import as_body, comment_event, signed_headers


def deliver(api, number: str, account: int) -> None:
    event = comment_event(number, f"{account}1", "Where is my refund?", time="2026-12-01T09:00:00Z")
    event["account_id"] = account
    body = as_body(event)
    headers = {**signed_headers(body), "X-Zendesk-Account-Id": str(account)}  # each account's webhook says its own
    assert api.post("/webhooks/zendesk", data=body, headers=headers).status_code == 202


def test_a_ticket_under_another_account_is_a_404_naming_the_account_it_is_under(api):
    """It answered "no zendesk ticket 5160 has reached ticketpulse", though it had, under 9876543."""
    deliver(api, "5160", 9876543)
    response = get(api, "/api/v1/tickets/zendesk/5160?account=other")
    assert response.status_code == 404
    assert response.json["error"] == (
        "account: zendesk ticket 5160 is not under account 'other'; it is under account '9876543': "
        "give ?account=9876543, or leave it out")
    assert get(api, "/api/v1/tickets/zendesk/5160?account=9876543").status_code == 200


def test_a_ticket_under_several_other_accounts_names_each(api):
    deliver(api, "5161", 9876543)
    deliver(api, "5161", 1234567)
    response = get(api, "/api/v1/tickets/zendesk/5161?account=other")
    assert response.status_code == 404
    assert response.json["error"] == (
        "account: zendesk ticket 5161 is not under account 'other'; it is under accounts '1234567', '9876543': "
        "give one of them as ?account=")


def test_a_ticket_that_never_arrived_under_any_account_still_says_so(api):
    response = get(api, "/api/v1/tickets/zendesk/5162?account=other")
    assert response.status_code == 404
    assert response.json["error"] == "number: no zendesk ticket 5162 has reached ticketpulse"
