"""Regenerate the README's dashboard screenshots (docs/dashboard-*.png) in headless Chromium.

    .venv/bin/python docs/make_screenshots.py

Seeds a temporary SQLite database with a month of synthetic traffic (bench/dashboard.py's seeder)
plus one hand-written ticket, serves the app on loopback and photographs the overview and that
ticket's page with Debian's chromium + chromium-driver (nothing is downloaded).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

import dashboard as bench  # noqa: E402
from tests.dashboard_seed import Esc, Msg, SeedTicket, Skip, seed  # noqa: E402
from tests.fakes.server import LiveServer  # noqa: E402
from tests.test_dashboard_browser import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from ticketpulse.config import Config, Environment  # noqa: E402
from ticketpulse.migrations import upgrade  # noqa: E402
from ticketpulse.models import make_engine, make_session_factory, utcnow  # noqa: E402
from ticketpulse.webhooks import create_app  # noqa: E402

PASSWORD = "screenshot-pw-1"  # DASHBOARD_PASSWORD takes 12 characters or more


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.db"
        upgrade(url)
        engine = make_engine(url)
        bench.seed(engine, 2000, 40, random.Random(7))  # older than the 30-day window: no partial first day
        with make_session_factory(engine).begin() as session:
            ticket = seed(session, SeedTicket("zendesk", "48213", utcnow() - timedelta(hours=20), messages=[
                Msg(0, -0.2, 0.35, cues=("still waiting",)),
                Msg(95, -0.45, 0.62, cues=("second time", "no update")),
                Msg(260, -0.68, 0.81, cues=("third time", "refund")),
                Msg(400, -0.91, 0.95, cues=("unacceptable", "cancel", "!!!")),
                Msg(720, -0.3, 0.4, cues=("thanks",), label="negative"),
            ], skipped=[Skip(40, "not a customer comment (agent)"), Skip(300, "private note")],
                escalations=[Esc(2, "medium", "frustration"), Esc(3, "critical", "critical_frustration", "confirmed")]))
            ticket_id = ticket.id
        env = Environment(database_url=url, dashboard_password=PASSWORD, zendesk_subdomain="acme")
        app = create_app({"TICKETPULSE": Config(), "ENVIRONMENT": env, "ENGINE": engine})
        os.environ["SE_OFFLINE"] = "true"
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        with LiveServer(app) as live:
            driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
            try:
                driver.get(f"{live.url}/dashboard/")
                driver.find_element(By.NAME, "password").send_keys(PASSWORD)
                driver.find_element(By.CSS_SELECTOR, "form.login button").click()
                driver.get(f"{live.url}/dashboard/?period=30d")
                driver.set_window_size(1280, 1850)
                driver.save_screenshot(str(ROOT / "docs" / "dashboard-overview.png"))
                driver.set_window_size(1280, 1250)
                driver.get(f"{live.url}/dashboard/tickets/{ticket_id}")
                driver.save_screenshot(str(ROOT / "docs" / "dashboard-ticket.png"))
            finally:
                driver.quit()
        engine.dispose()
    print("wrote docs/dashboard-overview.png and docs/dashboard-ticket.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
