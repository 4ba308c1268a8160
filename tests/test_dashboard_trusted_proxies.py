"""Whose X-Forwarded-For the sign-in throttle believes: only TICKETPULSE_TRUSTED_PROXIES' (loopback
by default). A peer on a private network is not a proxy for that (a LAN client, Docker's bridge):
it could name a new address per guess, or name the lead's and lock them out."""

from __future__ import annotations

import pytest

from tests.test_dashboard import PASSWORD, seeded  # noqa: F401  (fixtures)
from tests.test_dashboard_sign_in_throttle import counts
from ticketpulse.config import ConfigError, Environment, load_environment
from ticketpulse.webhooks.dashboard import SIGN_IN_FAILURES

LAN_GUESSER, LAN_LEAD = "10.1.2.3", "10.1.2.4"


def app_behind(database_url, config, engine, proxies: str | None = None):
    from ticketpulse.webhooks import create_app

    extra = {} if proxies is None else {"ticketpulse_trusted_proxies": proxies}
    env = Environment(database_url=database_url, dashboard_password=PASSWORD, **extra)
    return create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine})


def sign_in(client, password: str, peer: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/dashboard/login", data={"password": password}, headers=headers,
                       environ_overrides={"REMOTE_ADDR": peer})


def test_a_private_peer_that_is_no_proxy_cannot_pick_its_address(database_url, config, engine, sessions):
    client = app_behind(database_url, config, engine).test_client()

    statuses = [sign_in(client, "guess", LAN_GUESSER, f"192.0.2.{n}").status_code for n in range(SIGN_IN_FAILURES + 1)]

    assert statuses == [401] * SIGN_IN_FAILURES + [429]
    assert counts(sessions) == {LAN_GUESSER: SIGN_IN_FAILURES}  # one row, however many names it made up


def test_a_guesser_on_the_lan_naming_the_lead_does_not_lock_the_lead_out(database_url, config, engine, seeded):
    client = app_behind(database_url, config, engine).test_client()
    for _ in range(SIGN_IN_FAILURES + 2):
        sign_in(client, "guess", LAN_GUESSER, LAN_LEAD)

    assert sign_in(client, PASSWORD, LAN_LEAD).status_code == 302


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_client(database_url, config, engine, sessions):
    # A load balancer (10.0.0.9) in front of nginx on loopback: each adds the address it saw.
    client = app_behind(database_url, config, engine, "127.0.0.1 10.0.0.0/24").test_client()

    for n in range(3):
        sign_in(client, "guess", "127.0.0.1", f"192.0.2.{n}, 203.0.113.9, 10.0.0.9")

    assert counts(sessions) == {"203.0.113.9": 3}  # not the balancer, not what the client wrote


def test_no_trusted_proxy_counts_every_peer_as_itself(database_url, config, engine, sessions):
    client = app_behind(database_url, config, engine, "").test_client()

    sign_in(client, "guess", "127.0.0.1", "203.0.113.9")

    assert counts(sessions) == {"127.0.0.1": 1}


def test_a_trusted_proxies_value_that_is_no_address_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("TICKETPULSE_TRUSTED_PROXIES", "10.0.0.0/8, nginx")

    with pytest.raises(ConfigError, match=r"TICKETPULSE_TRUSTED_PROXIES: 'nginx' is not an IP address or network"):
        load_environment()
