"""ticketpulse_dashboard_sign_ins_total{door, outcome} at /metrics: every password check of the
form and of HTTP Basic, signed in, wrong or throttled; its labels a fixed set, never the client's
address or the user name."""

from __future__ import annotations

import re

from tests.test_dashboard import PASSWORD, basic, dashboard, seeded  # noqa: F401  (fixtures)
from tests.test_dashboard_sign_in_throttle import ATTACKER, LEAD, guess, sign_in, via_proxy
from ticketpulse.webhooks.dashboard import SIGN_IN_FAILURES

METRIC = "ticketpulse_dashboard_sign_ins_total"
DOORS, OUTCOMES = {"form", "basic"}, {"signed_in", "wrong_password", "throttled"}


def sign_ins(client) -> dict[tuple[str, str], float]:
    """The metric's samples as /metrics shows them, by (door, outcome)."""
    text = client.get("/metrics").get_data(as_text=True)
    samples = {}
    for labels, value in re.findall(rf"^{METRIC}{{(.*)}} (\S+)$", text, re.MULTILINE):
        found = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        assert set(found) == {"door", "outcome"}, labels
        samples[found["door"], found["outcome"]] = float(value)
    return samples


def more(before: dict, after: dict) -> dict[tuple[str, str], float]:
    return {key: value - before.get(key, 0.0) for key, value in after.items() if value != before.get(key, 0.0)}


def test_each_door_counts_its_sign_ins_wrong_passwords_and_throttled_attempts(dashboard, seeded):
    client = dashboard.test_client()
    before = sign_ins(client)

    assert sign_in(client, PASSWORD, LEAD).status_code == 302
    assert client.get("/dashboard/", headers={**via_proxy(LEAD), **basic()}).status_code == 200
    assert client.get("/dashboard/", headers={**via_proxy(ATTACKER), **basic("guess")}).status_code == 401
    assert guess(client, SIGN_IN_FAILURES - 1) == [401] * (SIGN_IN_FAILURES - 1)
    assert guess(client, 2) == [429, 429]  # the right password too, unread
    assert client.get("/dashboard/", headers={**via_proxy(ATTACKER), **basic()}).status_code == 429

    assert more(before, sign_ins(client)) == {
        ("form", "signed_in"): 1, ("basic", "signed_in"): 1,
        ("basic", "wrong_password"): 1, ("form", "wrong_password"): SIGN_IN_FAILURES - 1,
        ("form", "throttled"): 2, ("basic", "throttled"): 1,
    }


def test_the_labels_never_name_the_client_or_the_user(dashboard):
    client = dashboard.test_client()
    client.get("/dashboard/", headers={**via_proxy(ATTACKER), **basic("guess", user="mallory")})
    sign_in(client, "guess", "192.0.2.77")

    samples = sign_ins(client)
    exposed = client.get("/metrics").get_data(as_text=True)
    assert {door for door, _ in samples} <= DOORS and {outcome for _, outcome in samples} <= OUTCOMES
    assert ("basic", "wrong_password") in samples and ("form", "wrong_password") in samples
    for private in (ATTACKER, "192.0.2.77", "mallory", "guess"):
        assert private not in exposed


def test_pages_the_sign_in_lets_through_are_not_counted(dashboard, seeded):
    """A session's pages and the sign-in form itself check no password: only attempts count."""
    client = dashboard.test_client()
    assert sign_in(client, PASSWORD, LEAD).status_code == 302
    before = sign_ins(client)

    assert client.get("/dashboard/", headers=via_proxy(LEAD)).status_code == 200
    assert client.get("/dashboard/login").status_code == 200

    assert more(before, sign_ins(client)) == {}
