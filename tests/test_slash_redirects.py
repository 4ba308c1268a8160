"""Doubled and trailing slashes behind the TLS proxy: a redirect keeps the client's scheme and host,
and a trailing slash answers the page (or the API's JSON) it names without one."""

from __future__ import annotations

import pytest

from tests.test_dashboard import basic, dashboard, seeded  # noqa: F401  (fixtures)

PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def fetch(client, method: str, path: str, headers: dict | None = None, query: str = ""):
    """`path` as the server gets it: the test client would read `//dashboard` as a host name."""
    return client.open("/", method=method, headers={**PROXY, **(headers or {})}, base_url="http://tp.example.com",
                       environ_overrides={"PATH_INFO": path, "QUERY_STRING": query})


@pytest.mark.parametrize("method, path, query, target", [
    ("GET", "/dashboard//tuning", "period=day", "/dashboard/tuning?period=day"),
    ("GET", "/dashboard//escalations", "", "/dashboard/escalations"),
    ("POST", "/webhooks//zendesk", "", "/webhooks/zendesk"),
    ("GET", "/api//v1/openapi.json", "", "/api/v1/openapi.json"),
])
def test_a_merged_slash_redirect_names_no_scheme_or_host(dashboard, method, path, query, target):
    """Werkzeug's redirect named http://tp.example.com/..., the URL the app saw behind the proxy."""
    response = fetch(dashboard.test_client(), method, path, basic(), query)
    assert response.status_code == 308
    assert response.headers["Location"] == target
    assert response.is_json and response.get_json() == {"location": target}


@pytest.mark.parametrize("path", ["/dashboard/tuning/", "/dashboard/escalations/", "/dashboard/login/"])
def test_a_dashboard_page_with_a_trailing_slash_is_the_page(dashboard, seeded, path):
    client = dashboard.test_client()
    with_slash = fetch(client, "GET", path, basic())
    assert with_slash.status_code == 200 and with_slash.mimetype == "text/html"
    assert with_slash.get_data(as_text=True) == fetch(client, "GET", path.rstrip("/"), basic()).get_data(as_text=True)


def test_a_ticket_page_with_a_trailing_slash_is_the_page(dashboard, seeded):
    page = fetch(dashboard.test_client(), "GET", f"/dashboard/tickets/{seeded['furious']}/", basic())
    assert page.status_code == 200 and "zendesk:48213" in page.get_data(as_text=True)


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/openapi.json/"),
    ("GET", "/api/v1/conversations/chat-1/"),
    ("POST", "/api/v1/conversations/chat-1/messages/"),
    ("GET", "/healthz/"),
    ("POST", "/webhooks/zendesk/"),
])
def test_the_api_answers_the_same_json_with_a_trailing_slash(dashboard, method, path):
    client = dashboard.test_client()
    with_slash, without = fetch(client, method, path), fetch(client, method, path.rstrip("/"))
    assert with_slash.is_json and with_slash.status_code == without.status_code != 404
    assert with_slash.get_json().keys() == without.get_json().keys()
