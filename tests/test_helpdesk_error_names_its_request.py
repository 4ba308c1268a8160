"""A helpdesk's error answer carries the request it answers (`method`, `url`), set where the client
raises it; the escalation row uses them, not the error's wording, to tell which write it answers."""

from __future__ import annotations

import pytest

from ticketpulse.escalation.helpdesk import PermanentError, TransientError
from ticketpulse.escalation.pipeline import settled_writes
from ticketpulse.integrations.http import answering
from tests.test_zendesk_client import fake_zendesk, plan, zendesk_helpdesk  # noqa: F401 (fixture)

PUT = {"method": "PUT", "path": "/api/v2/tickets/48213", "json": {"ticket": {}}, "try": 1, "sent_at": "t"}


def test_a_404_on_the_read_names_the_get_and_the_tickets_url(fake_zendesk):
    with pytest.raises(PermanentError) as raised:
        zendesk_helpdesk(fake_zendesk).apply(plan(external_id="777"))

    assert raised.value.method == "GET" and raised.value.url == f"{fake_zendesk.url}/api/v2/tickets/777"
    assert "Zendesk has no ticket 777" in str(raised.value)  # the admin's explanation kept the request


def test_a_refused_update_names_the_put_and_is_recorded_as_the_puts_refusal(fake_zendesk):
    fake_zendesk.tickets["48213"]["status"] = "closed"
    with pytest.raises(PermanentError) as raised:
        zendesk_helpdesk(fake_zendesk).apply(plan())

    assert raised.value.method == "PUT" and raised.value.url.endswith("/api/v2/tickets/48213")
    [refused] = settled_writes({"sending": [PUT]}, error=raised.value)["refused"]
    assert (refused["status"], refused["reason"]) == (422, str(raised.value))


def test_an_error_is_matched_to_a_write_by_its_request_not_its_wording():
    other = answering(TransientError("Zendesk is down for maintenance", status=503), "GET",
                      "https://acme.zendesk.com/api/v2/tickets/48213")
    unnamed = TransientError("PUT https://acme.zendesk.com/api/v2/tickets/1 -> 503: a text naming another")

    [after] = settled_writes({"sending": [PUT]}, error=other)["earlier_tries"]
    [same] = settled_writes({"sending": [PUT]}, error=unnamed)["earlier_tries"]

    assert after["answer"].startswith("unknown: the try failed on another request after it")
    assert same["answer"] == f"unknown: {unnamed}"  # no request on it: taken as the last write's answer
