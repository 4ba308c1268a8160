"""`ticketpulse setup zendesk|freshdesk` against fakes that implement the real endpoints."""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk, sign
from ticketpulse.integrations.setup import EVENTS, FRESHDESK_BODY, FRESHDESK_FIRST_MESSAGE_BODY, TRIGGER_BODY, TRIGGER_TITLE

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("ZENDESK_SUBDOMAIN", "ZENDESK_BASE_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_WEBHOOK_SECRET",
                 "FRESHDESK_DOMAIN", "FRESHDESK_BASE_URL", "FRESHDESK_API_KEY", "FRESHDESK_WEBHOOK_SECRET",
                 "TICKETPULSE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@contextmanager
def ticketpulse_server(tmp_path, zendesk_secret: str | None):
    """ticketpulse's web app on loopback, as the endpoint the helpdesk calls."""
    from ticketpulse.config import Config, Environment
    from ticketpulse.migrations import upgrade
    from ticketpulse.webhooks import create_app

    url = f"sqlite:///{tmp_path / 'setup.db'}"
    upgrade(url)
    app = create_app({"TESTING": True, "TICKETPULSE": Config(),
                      "ENVIRONMENT": Environment(database_url=url, zendesk_webhook_secret=zendesk_secret)})
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def zendesk(monkeypatch):
    fake = FakeZendesk()
    with LiveServer(fake.app()) as live:
        monkeypatch.setenv("ZENDESK_BASE_URL", live.url)
        monkeypatch.setenv("ZENDESK_EMAIL", fake.email)
        monkeypatch.setenv("ZENDESK_API_TOKEN", fake.token)
        yield fake


def printed_secret(out: str) -> str:
    [secret] = re.findall(r"^ZENDESK_WEBHOOK_SECRET=(\S+)$", out, re.M)
    return secret


def test_setup_zendesk_creates_the_webhook_prints_its_secret_and_verifies_the_round_trip(
        runner, zendesk, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    with ticketpulse_server(tmp_path, zendesk_secret=None) as server:
        first = runner("setup", "zendesk", "--url", server.url)

    assert first.code == 1  # the server does not have the secret yet
    [webhook] = zendesk.webhooks.values()
    assert webhook["name"] == "ticketpulse" and webhook["endpoint"] == f"{server.url}/webhooks/zendesk"
    assert webhook["subscriptions"] == EVENTS and webhook["status"] == "active"
    assert webhook["http_method"] == "POST" and webhook["request_format"] == "json"
    secret = printed_secret(first.out)
    assert secret == zendesk.webhook_secrets[webhook["id"]]
    assert f"created webhook 'ticketpulse' ({webhook['id']})" in first.out
    assert "401 (ZENDESK_WEBHOOK_SECRET is not set on the server" in first.out
    assert "run this command again to verify" in first.out
    assert secret not in first.err and secret not in caplog.text  # printed, never logged

    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", secret)
    with ticketpulse_server(tmp_path, zendesk_secret=secret) as server_with_secret:
        zendesk.webhooks[webhook["id"]]["endpoint"] = f"{server_with_secret.url}/webhooks/zendesk"  # same host, new port
        second = runner("setup", "zendesk", "--url", server_with_secret.url)

    assert second.code == 0, second.out + second.err
    assert len(zendesk.webhooks) == 1  # found and kept, never duplicated
    assert f"webhook 'ticketpulse' ({webhook['id']}) is already set up" in second.out
    assert "ZENDESK_WEBHOOK_SECRET in this environment is already this webhook's signing secret." in second.out
    assert "ZENDESK_WEBHOOK_SECRET=" not in second.out
    assert re.search(r"test event: Zendesk -> .*/webhooks/zendesk: 200 ignored; the signed round trip works", second.out)
    headers, body = zendesk.test_sends[-1]
    assert headers["X-Zendesk-Webhook-Signature"] == sign(secret, headers["X-Zendesk-Webhook-Signature-Timestamp"], body)


def test_setup_zendesk_updates_a_webhook_found_by_name_instead_of_duplicating_it(runner, zendesk, tmp_path):
    old = {"name": "ticketpulse", "status": "inactive", "endpoint": "https://old-host.example.com/webhooks/zendesk",
           "http_method": "POST", "request_format": "json", "subscriptions": ["zen:event-type:ticket.comment_added"]}
    zendesk.webhooks["01OLD"] = {**old, "id": "01OLD"}
    zendesk.webhook_secrets["01OLD"] = "old-secret"
    other = {**old, "id": "01OTHER", "name": "ticketpulse-staging", "endpoint": "https://staging.example.com/webhooks/zendesk"}
    zendesk.webhooks["01OTHER"] = other

    with ticketpulse_server(tmp_path, zendesk_secret="old-secret") as server:
        result = runner("setup", "zendesk", "--url", server.url + "/")

    assert result.code == 0, result.out + result.err
    assert len(zendesk.webhooks) == 2
    updated = zendesk.webhooks["01OLD"]
    assert updated["endpoint"] == f"{server.url}/webhooks/zendesk" and updated["status"] == "active"
    assert updated["subscriptions"] == EVENTS
    assert "updated webhook 'ticketpulse' (01OLD): description, status, endpoint, subscriptions" in result.out
    assert zendesk.webhooks["01OTHER"] == other  # someone else's webhook is left alone
    puts = [r for r in zendesk.requests if r.method == "PUT"]
    assert [r.path for r in puts] == ["/api/v2/webhooks/01OLD"]


def test_setup_zendesk_trigger_creates_the_trigger_with_the_readme_body(runner, zendesk, tmp_path):
    with ticketpulse_server(tmp_path, zendesk_secret=None) as server:
        first = runner("setup", "zendesk", "--url", server.url, "--trigger")
        second = runner("setup", "zendesk", "--url", server.url, "--trigger")

    [webhook] = zendesk.webhooks.values()
    assert webhook["subscriptions"] == ["conditional_ticket_events"] and webhook["name"] == "ticketpulse (trigger)"
    [trigger] = zendesk.triggers.values()
    assert trigger["title"] == TRIGGER_TITLE and trigger["active"] is True
    assert trigger["actions"] == [{"field": "notification_webhook", "value": [webhook["id"], TRIGGER_BODY]}]
    conditions = {(c["field"], c["operator"], c["value"]) for c in trigger["conditions"]["all"]}
    assert ("comment_is_public", "is", "true") in conditions and not any(c[0] == "role" for c in conditions)
    assert not any(c[0] == "current_tags" for c in conditions)  # severity must be able to rise
    assert f"created trigger '{TRIGGER_TITLE}'" in first.out
    assert f"trigger '{TRIGGER_TITLE}' ({trigger['id']}) is already set up" in second.out
    assert TRIGGER_BODY in README  # what setup creates is what README tells to paste


def test_setup_zendesk_with_an_agent_token_says_why_in_one_line(runner, zendesk, tmp_path):
    zendesk.user["role"] = "agent"
    result = runner("setup", "zendesk", "--url", "https://ticketpulse.example.com")
    assert result.code == 1
    [line] = result.err.strip().splitlines()
    assert line == ("ticketpulse: error: setup zendesk: webhooks and triggers are managed by admins; bot@example.com "
                    "is an agent: use an admin's API token for setup (escalations need only an agent's)")
    assert zendesk.webhooks == {}


def test_setup_zendesk_with_a_wrong_token_exits_1(runner, zendesk, monkeypatch):
    monkeypatch.setenv("ZENDESK_API_TOKEN", "wrong")
    result = runner("setup", "zendesk", "--url", "https://ticketpulse.example.com")
    assert result.code == 1 and "-> 401: Couldn't authenticate you" in result.err
    assert zendesk.webhooks == {}


def test_setup_zendesk_refuses_an_endpoint_zendesk_refuses(runner, zendesk, monkeypatch):
    result = runner("setup", "zendesk", "--url", "ftp://ticketpulse.example.com")
    assert result.code == 2 and "is not a URL like https://ticketpulse.example.com" in result.err


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@pytest.mark.parametrize("url, why", [("http://[::1", "Invalid IPv6 URL"), ("http://tp.example.com:99999", "Port out of range")])
def test_setup_with_a_url_that_does_not_parse_names_the_option_and_why(runner, helpdesk, url, why):
    result = runner("setup", helpdesk, "--url", url)

    assert result.code == 2 and "Traceback" not in result.err
    last = result.err.strip().splitlines()[-1]
    assert last.startswith(f"ticketpulse setup {helpdesk}: error: argument --url: {url!r} is not a URL like https://")
    assert why in last and "_public_url" not in last


def test_setup_zendesk_without_credentials_names_them(runner):
    result = runner("setup", "zendesk", "--url", "https://ticketpulse.example.com")
    assert result.code == 2
    assert "set ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN" in result.err


def test_the_webhook_list_is_read_across_pages(zendesk):
    from ticketpulse.integrations.zendesk import ZendeskClient

    zendesk.webhooks_page_size = 2  # the server's pages are smaller than asked for: follow the cursor
    for n in range(5):
        zendesk.webhooks[f"01W{n}"] = {"id": f"01W{n}", "name": f"ticketpulse {n}", "endpoint": "https://x", "status": "active",
                                       "http_method": "POST", "request_format": "json", "subscriptions": []}
    zendesk.webhooks["01X"] = {**zendesk.webhooks["01W0"], "id": "01X", "name": "someone else's"}
    with LiveServer(zendesk.app()) as live:
        names = [w["name"] for w in ZendeskClient(live.url, zendesk.email, zendesk.token).list_webhooks("ticketpulse")]
    assert names == [f"ticketpulse {n}" for n in range(5)]
    assert [r.path for r in zendesk.requests].count("/api/v2/webhooks") == 3


# -- Freshdesk --------------------------------------------------------------------------------------


@pytest.fixture
def freshdesk(monkeypatch):
    fake = FakeFreshdesk()
    fake.groups |= {43000200000 + n for n in range(120)}  # more than one page of groups
    with LiveServer(fake.app()) as live:
        fake.link_base = live.url
        monkeypatch.setenv("FRESHDESK_BASE_URL", live.url)
        monkeypatch.setenv("FRESHDESK_API_KEY", fake.api_key)
        yield fake


def test_setup_freshdesk_lists_every_group_and_prints_the_rule(runner, freshdesk, tmp_path, monkeypatch):
    config = tmp_path / "ticketpulse.toml"
    config.write_text("[freshdesk]\nsenior_group_id = 43000777000\n")
    monkeypatch.setenv("FRESHDESK_WEBHOOK_SECRET", "fd-whk-7Qm2vX9rLp4sT8")

    result = runner("--config", str(config), "setup", "freshdesk", "--url", "https://tp.example.com")

    assert result.code == 0, result.out + result.err
    assert "API key of Ticketpulse Bot <bot@example.com>" in result.out
    assert "     43000777000  Senior support   <- senior_group_id" in result.out
    assert "     43000123456  Billing" in result.out
    assert len(re.findall(r"^ +\d{11}  ", result.out, re.M)) == 122  # both pages
    assert "Callback URL:                     https://tp.example.com/webhooks/freshdesk" in result.out
    assert "      X-Webhook-Token: fd-whk-7Qm2vX9rLp4sT8" in result.out
    for line in FRESHDESK_BODY.splitlines():
        assert f"      {line}" in result.out
    assert "FRESHDESK_WEBHOOK_SECRET=" not in result.out  # already set
    assert FRESHDESK_BODY in README
    # The second rule: a ticket's first message comes with the ticket, not as a reply.
    first = result.out[result.out.index("2. The rule for a ticket's first message"):]
    assert "Automations > Ticket Creation > New rule" in first.splitlines()[0]
    assert "      X-Webhook-Token: fd-whk-7Qm2vX9rLp4sT8" in first
    for line in FRESHDESK_FIRST_MESSAGE_BODY.splitlines():
        assert f"      {line}" in first
    assert '"comment_text":"{{ticket.description_text}}"' in FRESHDESK_FIRST_MESSAGE_BODY
    assert FRESHDESK_FIRST_MESSAGE_BODY in README
    assert [r.path for r in freshdesk.requests] == ["/api/v2/agents/me", "/api/v2/groups", "/api/v2/groups"]


def test_setup_freshdesk_makes_a_secret_and_flags_a_group_that_is_not_one(runner, freshdesk, tmp_path):
    config = tmp_path / "ticketpulse.toml"
    config.write_text("[freshdesk]\nsenior_group_id = 12345\n")

    result = runner("--config", str(config), "setup", "freshdesk", "--url", "https://tp.example.com")

    assert result.code == 1
    assert "senior_group_id = 12345 is not a group of this account" in result.out
    [secret] = re.findall(r"^FRESHDESK_WEBHOOK_SECRET=([0-9a-f]{48})$", result.out, re.M)
    assert f"X-Webhook-Token: {secret}" in result.out


def test_setup_freshdesk_with_a_wrong_key_exits_1(runner, freshdesk, monkeypatch):
    monkeypatch.setenv("FRESHDESK_API_KEY", "wrong")
    result = runner("setup", "freshdesk", "--url", "https://tp.example.com")
    assert result.code == 1
    assert "setup freshdesk: GET " in result.err and "/api/v2/agents/me -> 401" in result.err


def test_setup_zendesk_updates_a_webhook_at_its_endpoint_under_another_name_instead_of_duplicating_it(
        runner, zendesk, tmp_path):
    with ticketpulse_server(tmp_path, zendesk_secret="renamed-secret") as server:
        endpoint = f"{server.url}/webhooks/zendesk"
        zendesk.webhooks["01RENAMED"] = {
            "id": "01RENAMED", "name": "Sentiment scoring", "status": "active", "endpoint": endpoint,
            "http_method": "POST", "request_format": "json", "subscriptions": EVENTS}
        zendesk.webhook_secrets["01RENAMED"] = "renamed-secret"
        result = runner("setup", "zendesk", "--url", server.url)

    assert result.code == 0, result.out + result.err
    assert list(zendesk.webhooks) == ["01RENAMED"]  # found by its endpoint, never a second one
    assert "updated webhook 'ticketpulse' (01RENAMED): name, description" in result.out
    assert [r.method for r in zendesk.requests if r.path == "/api/v2/webhooks"] == ["GET"]


def test_setup_zendesk_during_a_rotation_recognises_the_new_secret_written_with_a_space(
        runner, zendesk, tmp_path, monkeypatch):
    pair = "zd-old-secret, zd-new-secret"  # README: old,new; the server reads spaces around each
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", pair)
    with ticketpulse_server(tmp_path, zendesk_secret=pair) as server:
        zendesk.webhooks["01NEW"] = {
            "id": "01NEW", "name": "ticketpulse", "status": "active", "endpoint": f"{server.url}/webhooks/zendesk",
            "http_method": "POST", "request_format": "json", "subscriptions": EVENTS,
            "description": "ticketpulse: scores customer comments and escalates frustrated customers"}
        zendesk.webhook_secrets["01NEW"] = "zd-new-secret"
        result = runner("setup", "zendesk", "--url", server.url)

    assert result.code == 0, result.out + result.err
    assert "ZENDESK_WEBHOOK_SECRET in this environment is already this webhook's signing secret." in result.out
    assert "ZENDESK_WEBHOOK_SECRET=" not in result.out


def test_setup_freshdesk_during_a_rotation_prints_the_rule_with_the_new_secret(runner, freshdesk, monkeypatch):
    monkeypatch.setenv("FRESHDESK_WEBHOOK_SECRET", "fd-old-7Qm2vX9rLp4sT8,fd-new-Zk3pW8nQ1cR5yH")

    result = runner("setup", "freshdesk", "--url", "https://tp.example.com")

    assert result.code == 0, result.out + result.err
    assert "      X-Webhook-Token: fd-new-Zk3pW8nQ1cR5yH" in result.out  # the rule moves to the new value
    assert "fd-old-7Qm2vX9rLp4sT8" not in result.out


def test_setup_zendesk_does_not_call_a_200_from_another_server_a_working_round_trip(runner, zendesk):
    from flask import Flask

    other = Flask("not-ticketpulse")
    other.add_url_rule("/<path:anything>", "page", lambda anything: "<html><body>Welcome to nginx!</body></html>",
                       methods=["POST"])
    with LiveServer(other) as server:
        result = runner("setup", "zendesk", "--url", server.url)

    assert result.code == 1
    assert "the signed round trip works" not in result.out
    assert re.search(r"test event: Zendesk -> .*/webhooks/zendesk: 200, but not ticketpulse's answer "
                     r"\(<html><body>Welcome to nginx!</body></html>\): is --url ticketpulse's public address\?", result.out)


def test_setup_zendesk_answered_as_the_anonymous_user_says_the_credentials_were_not_accepted(runner, zendesk):
    zendesk.user = {"id": None, "url": None, "name": "Anonymous user", "email": "invalid@example.com",
                    "role": "end-user", "active": True, "verified": False}
    result = runner("setup", "zendesk", "--url", "https://ticketpulse.example.com")

    assert result.code == 1
    assert "authenticated as" not in result.out
    [line] = result.err.strip().splitlines()
    assert line == ("ticketpulse: error: setup zendesk: the API answered as an anonymous user: the credentials were "
                    "not accepted (check ZENDESK_EMAIL, ZENDESK_API_TOKEN and that token access is enabled)")
    assert zendesk.webhooks == {}


def test_setup_zendesk_with_the_secret_here_but_not_on_the_server_does_not_point_at_a_line_it_did_not_print(
        runner, zendesk, tmp_path, monkeypatch):
    with ticketpulse_server(tmp_path, zendesk_secret="the-servers-stale-secret") as server:
        zendesk.webhooks["01W"] = {
            "id": "01W", "name": "ticketpulse", "status": "active", "endpoint": f"{server.url}/webhooks/zendesk",
            "http_method": "POST", "request_format": "json", "subscriptions": EVENTS}
        zendesk.webhook_secrets["01W"] = "zd-current-secret"
        monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", "zd-current-secret")
        result = runner("setup", "zendesk", "--url", server.url)

    assert result.code == 1
    assert "ZENDESK_WEBHOOK_SECRET=" not in result.out
    assert "line above" not in result.out
    assert ("Set ZENDESK_WEBHOOK_SECRET on the server to the value this environment has, restart it, "
            "and run this command again to verify") in result.out


def test_setup_freshdesk_refuses_a_secret_with_a_space_instead_of_printing_a_rule_freshdesk_stops(
        runner, freshdesk, monkeypatch):
    monkeypatch.setenv("FRESHDESK_WEBHOOK_SECRET", "our shared secret")

    result = runner("setup", "freshdesk", "--url", "https://tp.example.com")

    assert result.code == 1
    assert "FRESHDESK_WEBHOOK_SECRET has a space, and Freshdesk stops a rule whose header value has one." in result.out
    assert "X-Webhook-Token:" not in result.out


def test_setup_freshdesk_names_a_per_severity_group_that_is_not_one_of_the_accounts(runner, freshdesk, tmp_path):
    config = tmp_path / "ticketpulse.toml"
    config.write_text("[freshdesk]\nsenior_group_id = 43000777000\n[freshdesk.groups]\nhigh = 999\ncritical = 43000123456\n")

    result = runner("--config", str(config), "setup", "freshdesk", "--url", "https://tp.example.com")

    assert result.code == 1
    assert "[freshdesk.groups] high = 999 is not a group of this account: choose one above." in result.out
    assert "     43000123456  Billing   <- groups.critical" in result.out
    assert "     43000777000  Senior support   <- senior_group_id" in result.out
    assert "senior_group_id = 43000777000 is not" not in result.out and "critical = 43000123456 is not" not in result.out


def _zendesk_webhook_with_secret(zendesk, endpoint: str, secret: str) -> None:
    zendesk.webhooks["01GROUPS"] = {
        "id": "01GROUPS", "name": "ticketpulse", "status": "active", "endpoint": endpoint,
        "http_method": "POST", "request_format": "json", "subscriptions": EVENTS}
    zendesk.webhook_secrets["01GROUPS"] = secret


def test_setup_zendesk_names_a_configured_group_that_is_not_one_of_the_accounts(runner, zendesk, tmp_path):
    config = tmp_path / "ticketpulse.toml"
    config.write_text("[zendesk]\nsenior_group_id = 360001234567\n[zendesk.groups]\ncritical = 555\n")
    with ticketpulse_server(tmp_path, zendesk_secret="zd-groups-secret") as server:
        _zendesk_webhook_with_secret(zendesk, f"{server.url}/webhooks/zendesk", "zd-groups-secret")
        result = runner("--config", str(config), "setup", "zendesk", "--url", server.url)

    assert result.code == 1  # the round trip works; the group does not
    assert "the signed round trip works" in result.out
    assert "[zendesk.groups] critical = 555 is not a group of this account: choose one above." in result.out
    assert "    360001234567  Senior support   <- senior_group_id" in result.out


def test_setup_zendesk_checks_the_configured_groups_across_pages_and_only_when_some_are_set(runner, zendesk, tmp_path):
    zendesk.groups_page_size = 1
    config = tmp_path / "ticketpulse.toml"
    config.write_text("[zendesk]\nsenior_group_id = 320\n[zendesk.groups]\ncritical = 360001234567\n")
    with ticketpulse_server(tmp_path, zendesk_secret="zd-groups-secret") as server:
        _zendesk_webhook_with_secret(zendesk, f"{server.url}/webhooks/zendesk", "zd-groups-secret")
        configured = runner("--config", str(config), "setup", "zendesk", "--url", server.url)
        group_reads = len([r for r in zendesk.requests if r.path.startswith("/api/v2/groups")])
        empty = tmp_path / "no-groups.toml"
        empty.write_text("")
        unconfigured = runner("--config", str(empty), "setup", "zendesk", "--url", server.url)

    assert configured.code == 0, configured.out + configured.err
    assert ("groups: [zendesk] senior_group_id = 320 (Support), "
            "[zendesk.groups] critical = 360001234567 (Senior support)") in configured.out
    assert group_reads == 2  # the second group is on the second page
    assert unconfigured.code == 0, unconfigured.out + unconfigured.err
    assert len([r for r in zendesk.requests if r.path.startswith("/api/v2/groups")]) == 2 and "groups:" not in unconfigured.out


def test_setup_zendesk_trigger_says_when_zendesk_account_id_is_not_set(runner, zendesk, tmp_path, monkeypatch):
    monkeypatch.delenv("ZENDESK_ACCOUNT_ID", raising=False)
    with ticketpulse_server(tmp_path, zendesk_secret=None) as server:
        unset = runner("setup", "zendesk", "--url", server.url, "--trigger")
        events = runner("setup", "zendesk", "--url", server.url)  # event bodies carry their account
        monkeypatch.setenv("ZENDESK_ACCOUNT_ID", "9876543")
        configured = runner("setup", "zendesk", "--url", server.url, "--trigger")

    assert "ZENDESK_ACCOUNT_ID is not set: the trigger's bodies carry no account" in unset.out
    assert "becomes a second ticket. Set ZENDESK_ACCOUNT_ID to the account's number" in unset.out
    assert "ZENDESK_ACCOUNT_ID" not in events.out
    assert "ZENDESK_ACCOUNT_ID is not set" not in configured.out
    assert "ZENDESK_ACCOUNT_ID=9876543: the trigger's comments are filed under this account." in configured.out
