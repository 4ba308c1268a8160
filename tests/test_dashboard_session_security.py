"""The dashboard's session: signing out needs the page's form token, and the cookie's flags."""

from __future__ import annotations

import re

from tests.test_dashboard import PASSWORD, basic, dashboard, seeded  # noqa: F401  (fixtures)


def signed_in(app):
    client = app.test_client()
    assert client.post("/dashboard/login", data={"password": PASSWORD}).status_code == 302
    return client


def sign_out_token(client) -> str:
    page = client.get("/dashboard/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/dashboard/logout">(.*?)</form>', page, re.S).group(1)
    return re.search(r'name="csrf" value="([^"]+)"', form).group(1)


def test_another_sites_sign_out_form_does_not_end_the_session(dashboard, seeded):
    client = signed_in(dashboard)
    forged = client.post("/dashboard/logout", data={"csrf": "guess"})
    assert forged.status_code == 403
    assert "Set-Cookie" not in forged.headers
    missing = client.post("/dashboard/logout")
    assert missing.status_code == 403
    assert client.get("/dashboard/").status_code == 200  # still signed in


def test_a_sign_out_without_the_session_cookie_deletes_nothing(dashboard):
    """What a browser sends with another site's POST: no Lax cookie. Answering it with a cookie
    deletion would sign the lead out all the same."""
    response = dashboard.test_client().post("/dashboard/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/login"
    assert "Set-Cookie" not in response.headers


def test_the_sign_out_button_ends_the_session(dashboard, seeded):
    client = signed_in(dashboard)
    response = client.post("/dashboard/logout", data={"csrf": sign_out_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/login"
    assert "ticketpulse_dashboard=;" in response.headers["Set-Cookie"]
    assert client.get("/dashboard/").status_code == 302


def session_cookie(app, headers: dict | None = None, base_url: str = "http://localhost") -> str:
    response = app.test_client().post("/dashboard/login", data={"password": PASSWORD}, headers=headers or {},
                                      base_url=base_url)
    assert response.status_code == 302
    return response.headers["Set-Cookie"]


def test_the_session_cookie_is_secure_behind_a_tls_proxy(dashboard):
    """ticketpulse speaks plain HTTP to the proxy that holds the TLS; the browser's page is HTTPS."""
    for proxy in ({"X-Forwarded-Proto": "https"}, {"X-Forwarded-Proto": "https, http"},
                  {"Forwarded": 'for=203.0.113.9;proto=https;host="tp.example.com"'}, {"Forwarded": "Proto=HTTPS"}):
        cookie = session_cookie(dashboard, proxy)
        assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, proxy
    assert "; Secure" in session_cookie(dashboard, base_url="https://localhost")


def test_over_plain_http_the_session_cookie_is_not_secure(dashboard):
    """README's sign-in at http://127.0.0.1:8000/dashboard/ keeps working: a browser drops a Secure
    cookie set over plain HTTP."""
    for headers in ({}, {"X-Forwarded-Proto": "http"}, {"Forwarded": "for=203.0.113.9;proto=http"}):
        assert "Secure" not in session_cookie(dashboard, headers), headers


def test_no_dashboard_page_is_kept_in_a_cache(dashboard, seeded):
    """Back after signing out must not show a ticket's messages from the browser's cache."""
    client = signed_in(dashboard)
    for path in ("/dashboard/", "/dashboard/escalations", "/dashboard/tuning", f"/dashboard/tickets/{seeded['furious']}",
                 "/dashboard/tickets/999999", "/dashboard/login"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
    verdict = client.post(f"/dashboard/tickets/{seeded['furious']}/verdict", data={"verdict": "confirmed", "csrf": "x"})
    assert verdict.status_code == 403 and verdict.headers["Cache-Control"] == "no-store"
    assert dashboard.test_client().get("/dashboard/").headers["Cache-Control"] == "no-store"  # the redirect
    assert "no-store" not in dashboard.test_client().get("/dashboard/static/dashboard.css").headers.get("Cache-Control", "")


def test_the_dashboard_without_its_slash_is_not_sent_to_plain_http(dashboard, seeded):
    """README's `/dashboard` behind the TLS proxy: Werkzeug's slash redirect named the URL it saw,
    http://host/dashboard/, taking the lead off HTTPS (or to a port nothing listens on)."""
    client = dashboard.test_client()
    page = client.get("/dashboard", headers=basic(), base_url="http://tp.example.com")
    assert page.status_code == 200 and 'id="conversations"' in page.get_data(as_text=True)
    unsigned = client.get("/dashboard", base_url="http://tp.example.com")
    assert unsigned.status_code == 302 and unsigned.headers["Location"] == "/dashboard/login?next=/dashboard"
