"""The sign-in throttle: wrong dashboard passwords counted per client address in the database, a
429 with Retry-After past the limit (the password unread), for the form and HTTP Basic alike."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from tests.test_dashboard import PASSWORD, basic, dashboard, seeded  # noqa: F401  (fixtures)
from ticketpulse.models import utcnow
from ticketpulse.models.tables import SignInFailures
from ticketpulse.webhooks.dashboard import COOKIE, SIGN_IN_FAILURES, SIGN_IN_WINDOW

ROOT = Path(__file__).resolve().parents[1]
LEAD, ATTACKER = "198.51.100.20", "203.0.113.9"
PUBLIC_PEER = "93.184.215.14"  # the documentation ranges above are not routed: taken for proxies


def via_proxy(address: str) -> dict:
    """What the TLS proxy on loopback (the test client's peer) adds to a request from `address`."""
    return {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}


def sign_in(client, password: str, address: str = ATTACKER, **environ):
    return client.post("/dashboard/login", data={"password": password}, headers=via_proxy(address),
                       environ_overrides=environ)


def guess(client, times: int, address: str = ATTACKER, **environ) -> list[int]:
    return [sign_in(client, f"guess-{n}", address, **environ).status_code for n in range(times)]


def counts(sessions) -> dict[str, int]:
    with sessions() as session:
        return {client: failures for client, failures in session.execute(select(SignInFailures.client, SignInFailures.failures))}


def test_past_the_limit_even_the_right_password_is_refused_with_retry_after(dashboard, sessions):
    client = dashboard.test_client()
    assert guess(client, SIGN_IN_FAILURES) == [401] * SIGN_IN_FAILURES
    refused = sign_in(client, PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= SIGN_IN_WINDOW.total_seconds()
    page = refused.get_data(as_text=True)
    assert "Too many wrong passwords from your address: try again in 15 min" in page
    assert 'name="password"' in page  # the form, to try again later
    assert COOKIE not in refused.headers.get("Set-Cookie", "")
    assert counts(sessions) == {ATTACKER: SIGN_IN_FAILURES}  # refusals are not counted: the window still ends


def test_a_guesser_elsewhere_does_not_lock_the_lead_out(dashboard, seeded):
    client = dashboard.test_client()
    guess(client, SIGN_IN_FAILURES + 5)
    assert sign_in(client, PASSWORD, LEAD).status_code == 302
    assert client.get("/dashboard/", headers=via_proxy(LEAD)).status_code == 200


def test_a_client_reaching_the_app_directly_cannot_pick_its_address(dashboard, sessions):
    """X-Forwarded-For is believed only from the proxy (a loopback or private peer): from a public
    peer, a new made-up address per guess still counts against the peer."""
    client = dashboard.test_client()
    statuses = [sign_in(client, "guess", f"192.0.2.{n}", REMOTE_ADDR=PUBLIC_PEER).status_code
                for n in range(SIGN_IN_FAILURES + 1)]
    assert statuses == [401] * SIGN_IN_FAILURES + [429]
    assert counts(sessions) == {PUBLIC_PEER: SIGN_IN_FAILURES}


def test_behind_the_proxy_only_the_address_it_added_counts(dashboard):
    """A client can put anything before the proxy's entry in X-Forwarded-For, not after it."""
    client = dashboard.test_client()
    statuses = [sign_in(client, "guess", f"192.0.2.{n}, {ATTACKER}").status_code for n in range(SIGN_IN_FAILURES + 1)]
    assert statuses == [401] * SIGN_IN_FAILURES + [429]


def test_an_ipv6_client_counts_by_its_64(dashboard, sessions):
    client = dashboard.test_client()
    hosts = [f"2001:db8:1:2::{n:x}" for n in range(SIGN_IN_FAILURES + 1)]
    assert [sign_in(client, "guess", host).status_code for host in hosts] == [401] * SIGN_IN_FAILURES + [429]
    assert sign_in(client, PASSWORD, "2001:db8:1:3::1").status_code == 302  # the next /64 is someone else
    assert counts(sessions) == {"2001:db8:1:2::/64": SIGN_IN_FAILURES}


def test_http_basic_is_throttled_too_and_shares_the_count(dashboard, seeded):
    client = dashboard.test_client()
    for _ in range(SIGN_IN_FAILURES - 3):
        assert client.get("/dashboard/", headers={**via_proxy(ATTACKER), **basic("guess")}).status_code == 401
    assert guess(client, 3) == [401] * 3
    refused = client.get("/dashboard/escalations", headers={**via_proxy(ATTACKER), **basic()})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many wrong passwords" in refused.get_data(as_text=True)
    assert "zendesk:48213" not in refused.get_data(as_text=True)
    assert sign_in(client, PASSWORD).status_code == 429
    assert client.get("/dashboard/", headers={**via_proxy(LEAD), **basic()}).status_code == 200


def test_a_right_password_clears_the_count(dashboard, sessions):
    client = dashboard.test_client()
    guess(client, SIGN_IN_FAILURES - 1)
    assert sign_in(client, PASSWORD).status_code == 302
    assert counts(sessions) == {}
    assert guess(client, SIGN_IN_FAILURES + 1) == [401] * SIGN_IN_FAILURES + [429]


def test_once_the_window_is_over_the_client_may_try_again(dashboard, sessions):
    client = dashboard.test_client()
    guess(client, SIGN_IN_FAILURES + 1)
    with sessions.begin() as session:
        session.execute(update(SignInFailures).values(window_start=utcnow() - SIGN_IN_WINDOW - timedelta(seconds=1)))
    assert guess(client, 1) == [401]
    assert counts(sessions) == {ATTACKER: 1}  # a new window, counted from one
    assert sign_in(client, PASSWORD).status_code == 302


def test_old_counts_are_pruned_so_the_table_stays_small(dashboard, sessions):
    old = utcnow() - SIGN_IN_WINDOW - timedelta(minutes=1)
    with sessions.begin() as session:
        session.add_all(SignInFailures(client=f"192.0.2.{n}", failures=3, window_start=old) for n in range(50))
        session.add(SignInFailures(client=LEAD, failures=2, window_start=utcnow()))
    guess(dashboard.test_client(), 1)
    assert counts(sessions) == {ATTACKER: 1, LEAD: 2}


def test_refusals_and_wrong_passwords_are_logged_with_the_client_address(dashboard, caplog):
    caplog.set_level(logging.WARNING, logger="ticketpulse.dashboard")
    guess(dashboard.test_client(), SIGN_IN_FAILURES + 1)
    assert f"dashboard: wrong password (login form) from {ATTACKER}" in caplog.text
    assert f"dashboard: sign-in refused (login form) from {ATTACKER}: {SIGN_IN_FAILURES} wrong passwords" in caplog.text


def test_concurrent_guesses_get_no_more_than_the_limit_checked(dashboard):
    """Guesses sent at once each wait for the last to be counted: none slips past the check."""
    statuses: list[int] = []
    start = threading.Barrier(3 * SIGN_IN_FAILURES)

    def one() -> None:
        client = dashboard.test_client()
        start.wait()
        statuses.append(sign_in(client, "guess").status_code)

    threads = [threading.Thread(target=one) for _ in range(3 * SIGN_IN_FAILURES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * SIGN_IN_FAILURES + [429] * (2 * SIGN_IN_FAILURES)


def test_the_count_holds_across_processes(dashboard, database_url):
    """gunicorn's workers are processes: guesses spread over them are counted together."""
    other_worker = textwrap.dedent(f"""
        from ticketpulse.config import Config, Environment
        from ticketpulse.webhooks import create_app
        env = Environment(database_url={database_url!r}, dashboard_password={PASSWORD!r})
        client = create_app({{"TESTING": True, "TICKETPULSE": Config(), "ENVIRONMENT": env}}).test_client()
        for n in range({SIGN_IN_FAILURES - 1}):
            status = client.post("/dashboard/login", data={{"password": "guess"}},
                                 headers={{"X-Forwarded-For": {ATTACKER!r}}}).status_code
            assert status == 401, status
    """)
    subprocess.run([sys.executable, "-c", other_worker], cwd=ROOT, check=True, timeout=120)
    client = dashboard.test_client()
    assert guess(client, 2) == [401, 429]
