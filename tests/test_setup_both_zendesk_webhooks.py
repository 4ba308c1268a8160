"""`setup zendesk` and `setup zendesk --trigger` on one account: both webhooks keep delivering.

Each Zendesk webhook signs with its own secret. Run after the event webhook was set up (its
secret in the environment), `--trigger` printed the trigger webhook's secret alone to put in
ZENDESK_WEBHOOK_SECRET, and an admin who did so had every event delivery refused with 401.
"""

from __future__ import annotations

import base64
import re
import secrets

import pytest

# The environment, the fake Zendesk and the endpoint as test_setup.py sets them up.
from tests.test_setup import clean_environment, printed_secret, ticketpulse_server, zendesk  # noqa: F401


@pytest.mark.parametrize("first, then", [((), ("--trigger",)), (("--trigger",), ())])
def test_the_second_kind_of_webhook_prints_both_secrets_and_both_round_trips_then_work(
        runner, zendesk, tmp_path, monkeypatch, first, then):
    with ticketpulse_server(tmp_path, None) as server:  # each server below has a new port: endpoints follow it
        set_up = runner("setup", "zendesk", "--url", server.url, *first)
    first_secret = printed_secret(set_up.out)
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", first_secret)

    with ticketpulse_server(tmp_path, first_secret) as server:
        for webhook in zendesk.webhooks.values():
            webhook["endpoint"] = f"{server.url}/webhooks/zendesk"
        second = runner("setup", "zendesk", "--url", server.url, *then)

    assert second.code == 1, second.out + second.err  # the server does not accept the new webhook yet
    [new_id] = [w for w, secret in zendesk.webhook_secrets.items() if secret != first_secret]
    both = printed_secret(second.out)
    assert both == f"{first_secret},{zendesk.webhook_secrets[new_id]}"  # the first webhook's is kept
    assert "which delivers here too" in second.out

    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", both)
    with ticketpulse_server(tmp_path, both) as server:
        for webhook in zendesk.webhooks.values():
            webhook["endpoint"] = f"{server.url}/webhooks/zendesk"
        again_first = runner("setup", "zendesk", "--url", server.url, *first)
        again_then = runner("setup", "zendesk", "--url", server.url, *then)

    for result in (again_first, again_then):
        assert result.code == 0, result.out + result.err
        assert "already this webhook's signing secret" in result.out
        assert "the signed round trip works" in result.out
    assert len(zendesk.webhooks) == 2


def test_a_secret_of_no_webhook_of_ours_is_replaced_as_before(runner, zendesk, tmp_path, monkeypatch):
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", "a-secret-from-another-account")
    with ticketpulse_server(tmp_path, None) as server:
        runner("setup", "zendesk", "--url", server.url)
        trigger = runner("setup", "zendesk", "--url", server.url, "--trigger")

    [trigger_id] = [w for w, hook in zendesk.webhooks.items() if hook["name"] == "ticketpulse (trigger)"]
    assert printed_secret(trigger.out) == zendesk.webhook_secrets[trigger_id]


def test_during_a_rotation_the_second_kind_prints_no_line_that_drops_one_of_its_secrets(
        runner, zendesk, tmp_path, monkeypatch):
    """README's rotation: a second event webhook with its own secret, `old,new` in the environment.
    `--trigger` then printed `old,<trigger's>`: the new event webhook's deliveries were refused."""
    with ticketpulse_server(tmp_path, None) as server:
        old = printed_secret(runner("setup", "zendesk", "--url", server.url).out)
    [old_id] = list(zendesk.webhooks)
    new_id = f"{old_id}-new"
    zendesk.webhooks[new_id] = dict(zendesk.webhooks[old_id], id=new_id, name="ticketpulse (rotated)")
    zendesk.webhook_secrets[new_id] = new = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", f"{old},{new}")

    with ticketpulse_server(tmp_path, f"{old},{new}") as server:
        for webhook in zendesk.webhooks.values():
            webhook["endpoint"] = f"{server.url}/webhooks/zendesk"
        trigger = runner("setup", "zendesk", "--url", server.url, "--trigger")

    assert trigger.code == 1, trigger.out + trigger.err
    assert not re.search(r"^ZENDESK_WEBHOOK_SECRET=", trigger.out, re.M)
    assert "a rotation is under way" in trigger.out and "Finish the rotation" in trigger.out
