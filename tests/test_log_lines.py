"""A log line is one line: nothing a caller sends (a URL path, a header) can start a forged line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORGED = "2026-12-04 21:00:00,000 INFO ticketpulse.escalation: ticket zendesk:acme:7 escalated"
# An unsigned request anyone can send: its path is logged with the refusal (a 404 below the webhook).
FORGING_PATH = "/webhooks/zendesk/%0A" + FORGED.replace(" ", "%20") + "%0D%E2%80%A8x"

APP = textwrap.dedent(f"""
    from ticketpulse.config import Config, Environment
    from ticketpulse.webhooks import create_app

    app = create_app({{"TICKETPULSE": Config(), "ENVIRONMENT": Environment(database_url="sqlite:///t.db",
                      zendesk_webhook_secret="s", freshdesk_webhook_secret="s")}})
    print(app.test_client().post({FORGING_PATH!r}, data=b"{{}}").status_code)
""")


def run_app(tmp_path: Path, log_format: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
    env["TICKETPULSE_LOG_FORMAT"] = log_format
    return subprocess.run([sys.executable, "-c", APP], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)


def test_a_line_break_in_a_refused_path_cannot_forge_a_text_log_line(tmp_path):
    result = run_app(tmp_path, "text")

    assert result.stdout.strip() == "404", result.stderr
    [line] = result.stderr.strip().splitlines()  # str.splitlines also breaks at \r and U+2028
    assert line.startswith(tuple("0123456789")) and " WARNING ticketpulse.webhooks: refused POST " in line
    assert "/webhooks/zendesk/\\n" + FORGED + "\\r\\u2028x from " in line


@pytest.mark.parametrize("log_format", ["json"])
def test_a_line_break_in_a_refused_path_stays_inside_its_json_log_line(tmp_path, log_format):
    result = run_app(tmp_path, log_format)

    [line] = result.stderr.strip().split("\n")
    assert "/webhooks/zendesk/\n" + FORGED in json.loads(line)["message"]


def test_text_log_times_are_utc_and_say_so_on_a_host_in_another_zone(tmp_path):
    from datetime import datetime, timezone

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
    env["TZ"] = "America/New_York"  # as the JSON format, the dashboard and the CLI: UTC
    script = "from ticketpulse.logs import configure_logging; import logging; configure_logging(); " \
             "logging.getLogger('ticketpulse.worker').warning('a line')"
    before = datetime.now(timezone.utc)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)

    stamp, rest = result.stderr.strip().split(" ", 1)
    assert rest == "WARNING ticketpulse.worker: a line"
    logged = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((logged - before).total_seconds()) < 30
