"""Every answer of the web app carries the security headers: no MIME sniffing, no framing by
another site, and a Content-Security-Policy the dashboard's pages work under (checked in Chromium)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import as_body, fixture_json
from tests.test_dashboard_browser import click_and_wait
from tests.test_dashboard import PASSWORD, basic, dashboard, seeded  # noqa: F401  (fixtures)
from tests.zendesk_helpers import signed_headers


def assert_secured(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy  # the dashboard runs no script: none may run


def test_every_dashboard_page_forbids_framing_sniffing_and_scripts(dashboard, seeded):
    client = dashboard.test_client()
    pages = ["/dashboard/", "/dashboard/escalations", "/dashboard/tuning", f"/dashboard/tickets/{seeded['furious']}",
             "/dashboard/tickets/999999", "/dashboard/static/dashboard.css"]
    for path in pages:
        response = client.get(path, headers=basic())
        assert response.status_code in (200, 404), path
        assert_secured(response)
    assert_secured(client.get("/dashboard/login"))
    assert_secured(client.get("/dashboard/escalations"))  # the redirect to the sign-in form
    assert_secured(client.get("/dashboard/", headers=basic("guess")))  # the 401


def test_json_answers_are_not_sniffed_or_framed(client):
    body = as_body(fixture_json("zendesk_comment_added.json"))
    accepted = client.post("/webhooks/zendesk", data=body, headers=signed_headers(body))
    assert accepted.status_code == 202
    assert_secured(accepted)
    refused = client.post("/webhooks/zendesk", data=body, headers={"Content-Type": "application/json"})
    assert refused.status_code == 401
    assert_secured(refused)
    for path in ("/nowhere", "/healthz", "/api/v1/openapi.json"):
        assert_secured(client.get(path))


def test_the_dashboard_renders_under_its_policy_in_chromium(dashboard_in_chromium):
    """The stylesheet loads and no CSP violation is reported on any page (no inline style or script)."""
    from selenium.webdriver.common.by import By

    browser, base, ids = dashboard_in_chromium
    browser.get(f"{base}/dashboard/login")
    browser.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(PASSWORD)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.login button"))
    for path in ("/dashboard/", "/dashboard/escalations", "/dashboard/tuning", f"/dashboard/tickets/{ids['furious']}"):
        browser.get(f"{base}{path}")
        assert browser.current_url == f"{base}{path}"  # signed in: the form's POST was allowed
        header = browser.find_element(By.CSS_SELECTOR, "header.top")
        assert header.value_of_css_property("display") == "flex", path  # the stylesheet applied
        violations = [entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]
        assert violations == [], path
    # Signing out, a form POST with the page's token, is allowed by the policy and ends the session.
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "header.top form button.link"))
    assert browser.current_url == f"{base}/dashboard/login"
    browser.get(f"{base}/dashboard/")
    assert "/dashboard/login" in browser.current_url


@pytest.fixture
def dashboard_in_chromium(tmp_path):
    """The seeded dashboard on loopback and a Chromium that keeps its console log."""
    from tests import test_dashboard_browser as pages
    from tests.dashboard_seed import furious, seed
    from tests.fakes.server import LiveServer
    from ticketpulse.config import Config, Environment
    from ticketpulse.migrations import upgrade
    from ticketpulse.models import make_engine, make_session_factory, utcnow
    from ticketpulse.webhooks import create_app

    if not (shutil.which(pages.CHROMIUM) and shutil.which(pages.CHROMEDRIVER)):
        pytest.skip(f"no Chromium at {pages.CHROMIUM} / {pages.CHROMEDRIVER}")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    url = f"sqlite:///{tmp_path / 'ticketpulse.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        ids = {"furious": seed(session, furious("zendesk", "48213", utcnow())).id}
    env = Environment(database_url=url, dashboard_password=PASSWORD, zendesk_subdomain="acme")
    app = create_app({"TESTING": True, "TICKETPULSE": Config(), "ENVIRONMENT": env, "ENGINE": engine})
    options = webdriver.ChromeOptions()
    options.binary_location = pages.CHROMIUM
    for flag in pages.CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(pages.CHROMEDRIVER), options=options)
    try:
        with LiveServer(app) as live:
            yield driver, live.url, ids
    finally:
        driver.quit()
        engine.dispose()



def test_a_header_an_answer_sets_itself_is_kept_and_the_others_are_added():
    from flask import Flask, Response

    from ticketpulse.webhooks.responses import SECURITY_HEADERS, with_security_headers

    with Flask(__name__).app_context():
        answer = with_security_headers(Response("x", headers={"x-frame-options": "SAMEORIGIN"}))
    assert answer.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    for name, value in SECURITY_HEADERS.items():
        if name != "X-Frame-Options":
            assert answer.headers.getlist(name) == [value]
