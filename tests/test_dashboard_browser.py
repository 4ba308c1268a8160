"""The dashboard in a real headless Chromium (Debian's `chromium` and `chromium-driver` packages).

Nothing here downloads a browser: selenium is pointed at /usr/bin/chromium and
/usr/bin/chromedriver, with Selenium Manager offline. Screenshots of each page are saved under
test-output/screenshots/ for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.dashboard_seed import calm, furious, seed, souring
from tests.fakes.server import LiveServer
from ticketpulse.config import Environment
from ticketpulse.migrations import upgrade
from ticketpulse.models import make_engine, make_session_factory, utcnow

CHROMIUM = os.environ.get("TICKETPULSE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TICKETPULSE_CHROMEDRIVER", "/usr/bin/chromedriver")
PASSWORD = "lead-pw-4hT9qZ"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1280,1400",
)


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        message = f"no Chromium at {CHROMIUM} / {CHROMEDRIVER}: apt-get install chromium chromium-driver"
        if os.environ.get("TICKETPULSE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """ticketpulse on loopback over a seeded SQLite database (a week of traffic)."""
    from ticketpulse.config import Config
    from ticketpulse.webhooks import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'ticketpulse.db'}"
    upgrade(url)
    engine = make_engine(url)
    now = utcnow()
    ids = {}
    with make_session_factory(engine).begin() as session:
        for n in range(18):
            seed(session, calm("zendesk" if n % 3 else "freshdesk", str(1000 + n), now - timedelta(days=n % 6, hours=3)))
        ids["furious"] = seed(session, furious("zendesk", "48213", now - timedelta(days=1, hours=4))).id
        seed(session, souring("freshdesk", "11", now - timedelta(days=2), "false_alarm"))
        seed(session, souring("freshdesk", "12", now - timedelta(days=3)))
    env = Environment(database_url=url, dashboard_password=PASSWORD, zendesk_subdomain="acme")
    app = create_app({"TESTING": True, "TICKETPULSE": Config(), "ENVIRONMENT": env, "ENGINE": engine})
    with LiveServer(app) as live:
        yield live.url, ids
    engine.dispose()


@pytest.fixture(scope="module")
def screenshots(request) -> Path:
    folder = Path(request.config.rootpath) / "test-output" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def by_css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def click_and_wait(driver, element) -> None:
    """Click a link or submit button and wait for the next page to replace this one."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    def replaced(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            # Chromium, while it tears the old page down, answers this instead of "stale".
            if "does not belong to the document" in (exc.msg or ""):
                return True
            raise
        return False

    element.click()
    WebDriverWait(driver, 10).until(replaced)


def sign_in(driver, base: str, password: str = PASSWORD) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/dashboard/")
    by_css(driver, "input[name=password]")[0].send_keys(password)
    click_and_wait(driver, by_css(driver, "form.login button")[0])


def test_login_refuses_a_wrong_password(browser, site, screenshots):
    base, _ = site
    sign_in(browser, base, "not-the-password")
    assert "/dashboard/login" in browser.current_url
    assert by_css(browser, "p.error")[0].text == "Wrong password."
    assert not by_css(browser, "svg.rate-chart")
    browser.save_screenshot(str(screenshots / "login-refused.png"))


def test_overview_draws_the_rate_line_against_the_healthy_band(browser, site, screenshots):
    base, _ = site
    sign_in(browser, base)
    assert browser.current_url == f"{base}/dashboard/"
    assert by_css(browser, "#conversations")[0].text == "21"
    assert by_css(browser, "#rate")[0].text == "14.3%"
    band = by_css(browser, "svg.rate-chart rect.healthy-band")[0]
    line = by_css(browser, "svg.rate-chart polyline.rate-line")[0]
    assert band.size["height"] > 10 and band.size["width"] > 300  # laid out and visible, not just in the markup
    points = line.get_attribute("points").split()
    assert len(points) >= 6  # one per day with conversations
    assert line.value_of_css_property("stroke") != "none"
    rules = {row.text.split()[0]: row.text.split()[1:] for row in by_css(browser, "table.precision tr.rule")}
    assert rules["repeated_negative"] == ["2", "1", "0", "50.0%", "0.0%"]
    assert set(rules) == {"repeated_negative", "critical_frustration", "frustration"}
    browser.save_screenshot(str(screenshots / "overview.png"))


def test_period_selector_changes_the_buckets(browser, site):
    from selenium.webdriver.support.select import Select

    base, _ = site
    sign_in(browser, base)
    Select(by_css(browser, "select[name=period]")[0]).select_by_value("day")
    click_and_wait(browser, by_css(browser, "form.filters button")[0])
    assert "period=day" in browser.current_url
    labels = [text.text for text in by_css(browser, "svg.rate-chart text.axis-label")]
    assert any(re.fullmatch(r"\d\d-\d\d \d\d:00", label) for label in labels)  # hourly buckets


def test_escalations_filter_narrows_the_list(browser, site, screenshots):
    from selenium.webdriver.support.select import Select

    base, _ = site
    sign_in(browser, base)
    browser.get(f"{base}/dashboard/escalations")
    assert len(by_css(browser, "tr.escalation")) == 4
    browser.save_screenshot(str(screenshots / "escalations.png"))
    Select(by_css(browser, "select[name=severity]")[0]).select_by_value("low")
    click_and_wait(browser, by_css(browser, "form.filters button")[0])
    rows = by_css(browser, "tr.escalation")
    assert len(rows) == 2
    assert all("low" in row.text for row in rows)
    assert by_css(browser, "#escalation-count")[0].text == "2 escalations"
    assert "severity=low" in browser.current_url


def test_ticket_page_charts_each_message_and_records_a_false_alarm(browser, site, screenshots):
    base, ids = site
    sign_in(browser, base)
    browser.get(f"{base}/dashboard/escalations?severity=critical")
    click_and_wait(browser, by_css(browser, "tr.escalation td a")[0])
    assert browser.current_url == f"{base}/dashboard/tickets/{ids['furious']}"
    chart = by_css(browser, "svg.trajectory-chart")[0]
    assert chart.size["height"] > 150
    scores = by_css(browser, "svg.trajectory-chart circle.point.score")
    assert len(scores) == 3
    # Later messages sit lower: the score falls from -0.30 to -0.90.
    heights = [float(circle.get_attribute("cy")) for circle in scores]
    assert heights == sorted(heights)
    assert len(by_css(browser, "svg.trajectory-chart line.escalation-mark")) == 2
    assert len(by_css(browser, "svg.trajectory-chart line.threshold")) == 3
    assert "skipped" in by_css(browser, "tr.message.skipped")[0].text
    browser.save_screenshot(str(screenshots / "ticket.png"))

    click_and_wait(browser, by_css(browser, "button.false-alarm")[0])
    assert browser.current_url == f"{base}/dashboard/tickets/{ids['furious']}"
    assert [badge.text for badge in by_css(browser, ".decision .verdict")] == ["false alarm", "false alarm"]
    browser.get(f"{base}/dashboard/")
    assert by_css(browser, "#false-alarm-rate")[0].text == "75.0%"  # 3 of 4 escalations now
