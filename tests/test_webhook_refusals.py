"""Every refused webhook is logged once with its reason (never the body or the secret) and counted."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import FRESHDESK_SECRET, ZENDESK_SECRET
from tests.freshdesk_helpers import post_freshdesk, reply, token_headers
from tests.zendesk_helpers import as_body, comment_event, signed_headers
from ticketpulse import metrics

CUSTOMER_TEXT = "My card number is 4111 1111 1111 1111 and I am furious"


def refusals(helpdesk: str, reason: str) -> float:
    return metrics.WEBHOOK_REFUSALS.labels(helpdesk=helpdesk, reason=reason)._value.get()


def refusal_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused ")]


@pytest.fixture
def zendesk_body() -> bytes:
    return as_body(comment_event("5158", "1", CUSTOMER_TEXT, time="2025-03-05T10:00:00Z"))


def test_a_wrong_zendesk_signature_is_logged_once_and_counted(client, zendesk_body, caplog):
    before = refusals("zendesk", "authentication_failed")
    caplog.set_level(logging.WARNING, "ticketpulse.webhooks")

    response = client.post("/webhooks/zendesk", data=zendesk_body,
                           headers=signed_headers(zendesk_body, secret="a-mistyped-secret"))

    assert response.status_code == 401
    assert refusals("zendesk", "authentication_failed") == before + 1
    [line] = refusal_lines(caplog)
    assert line.startswith("refused POST /webhooks/zendesk from 127.0.0.1: 401 authentication_failed: ")
    assert "webhook signature does not match" in line
    assert CUSTOMER_TEXT not in line and ZENDESK_SECRET not in line and "a-mistyped-secret" not in line


def test_a_wrong_freshdesk_token_is_counted_by_helpdesk(client, caplog):
    before = refusals("freshdesk", "authentication_failed")
    caplog.set_level(logging.WARNING, "ticketpulse.webhooks")

    response = post_freshdesk(client, reply("4521", CUSTOMER_TEXT), headers=token_headers("fd-wrong"))

    assert response.status_code == 401
    assert refusals("freshdesk", "authentication_failed") == before + 1
    [line] = refusal_lines(caplog)
    assert "X-Webhook-Token does not match" in line
    assert "fd-wrong" not in line and FRESHDESK_SECRET not in line and CUSTOMER_TEXT not in line


def test_a_server_without_the_secret_counts_secret_not_set(config, database_url, engine, zendesk_body):
    from ticketpulse.config import Environment
    from ticketpulse.webhooks import create_app

    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENGINE": engine,
                      "ENVIRONMENT": Environment(database_url=database_url)})
    before = refusals("zendesk", "secret_not_set")

    response = app.test_client().post("/webhooks/zendesk", data=zendesk_body, headers=signed_headers(zendesk_body))

    assert response.status_code == 401
    assert refusals("zendesk", "secret_not_set") == before + 1


def test_a_body_that_is_not_json_is_counted_as_invalid_payload(client, caplog):
    before = refusals("zendesk", "invalid_payload")
    caplog.set_level(logging.WARNING, "ticketpulse.webhooks")
    body = b"not json, but " + CUSTOMER_TEXT.encode()

    response = client.post("/webhooks/zendesk", data=body, headers=signed_headers(body))

    assert response.status_code == 400
    assert refusals("zendesk", "invalid_payload") == before + 1
    [line] = refusal_lines(caplog)
    assert ": 400 invalid_payload: body: not valid JSON" in line and CUSTOMER_TEXT not in line


def test_a_body_too_large_is_counted_as_too_large(client, app, caplog):
    before = refusals("freshdesk", "too_large")
    caplog.set_level(logging.WARNING, "ticketpulse.webhooks")
    body = b'{"x": "' + b"a" * app.config["MAX_CONTENT_LENGTH"] + b'"}'

    response = client.post("/webhooks/freshdesk", data=body, headers=token_headers())

    assert response.status_code == 413
    assert refusals("freshdesk", "too_large") == before + 1
    assert len(refusal_lines(caplog)) == 1


def test_refusals_appear_in_metrics_and_accepted_webhooks_are_not_refusals(client, zendesk_body):
    before = refusals("zendesk", "authentication_failed")
    assert client.post("/webhooks/zendesk", data=zendesk_body, headers=signed_headers(zendesk_body)).status_code == 202
    client.post("/webhooks/zendesk", data=zendesk_body, headers={"Content-Type": "application/json"})

    exposed = client.get("/metrics").get_data(as_text=True)

    assert refusals("zendesk", "authentication_failed") == before + 1
    assert f'ticketpulse_webhook_refusals_total{{helpdesk="zendesk",reason="authentication_failed"}} {before + 1}' in exposed


def test_other_paths_are_not_webhook_refusals(client, caplog):
    caplog.set_level(logging.WARNING, "ticketpulse.webhooks")
    assert client.get("/nowhere").status_code == 404
    assert refusal_lines(caplog) == []
