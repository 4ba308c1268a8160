"""The `ticketpulse` command as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, inspect

from tests.zendesk_helpers import as_body, comment_event, signed_headers
from tests.conftest import ZENDESK_SECRET

ROOT = Path(__file__).resolve().parents[1]


def test_score_prints_one_json_object(runner):
    result = runner("score", "Third time asking, still no refund for order 4411.")

    assert result.code == 0
    score = json.loads(result.out)
    assert set(score) >= {"score", "label", "frustration", "urgency", "cues", "scorer"}
    assert -1 <= score["score"] <= 1 and 0 <= score["frustration"] <= 1 and 0 <= score["urgency"] <= 1
    assert score["label"] in {"negative", "neutral", "positive"}


def test_score_reads_stdin_one_line_per_message_in_order(runner):
    messages = ["Thanks so much, that fixed it!", "Still broken. Third time asking!!!", "", "<p>Where is my <b>refund</b>?</p>"]
    result = runner("score", stdin="\n".join(messages) + "\n")

    assert result.code == 0
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert len(lines) == 4
    assert lines[0]["score"] > lines[1]["score"]
    assert lines[1]["frustration"] > lines[0]["frustration"]
    assert lines[2]["label"] == "neutral"


def test_check_config_names_each_wrong_key_and_exits_2(runner, tmp_path):
    path = tmp_path / "ticketpulse.toml"
    path.write_text('[thresholds]\nfrustration_treshold = 0.8\ntrend_window = "three"\n[zendesk.priority]\nhigh = "asap"\n')

    result = runner("--config", str(path), "check-config")

    assert result.code == 2
    assert "thresholds.frustration_treshold: unknown key" in result.err
    assert "thresholds.trend_window" in result.err
    assert "zendesk.priority.high" in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_check_config_accepts_the_example_file(runner):
    result = runner("--config", str(ROOT / "ticketpulse.example.toml"), "check-config")
    assert result.code == 0, result.err
    assert "config OK" in result.out


def test_config_file_from_environment_variable(runner, tmp_path, monkeypatch):
    path = tmp_path / "custom.toml"
    path.write_text("[thresholds]\ncritical_frustration_threshold = 0.5\n")
    monkeypatch.setenv("TICKETPULSE_CONFIG", str(path))

    result = runner("check-config")

    assert result.code == 2
    assert "critical_frustration_threshold must be >= frustration_threshold" in result.err


def test_unknown_command_exits_2(runner):
    assert runner("frobnicate").code == 2


def test_db_upgrade_creates_the_schema(runner, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DATABASE_URL", url)

    result = runner("db", "upgrade")

    assert result.code == 0, result.err
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"tickets", "comments", "scores", "escalations", "alembic_version"} <= tables


def test_serve_runs_web_and_worker_in_one_process(tmp_path):
    """The README's first command: a webhook in, a dry-run escalation out, no other process."""
    port = 18000 + os.getpid() % 1000
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "PORT": str(port),
        "TICKETPULSE_CONFIG": str(ROOT / "ticketpulse.example.toml"),
    }
    for key in ("ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_SUBDOMAIN", "ZENDESK_BASE_URL"):
        env.pop(key, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ticketpulse.cli", "serve"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # still starting
                time.sleep(0.1)
        body = as_body(comment_event("5158", "1", "This is the THIRD time I ask. Still broken, I want a refund NOW!!! "
                                     "Absolutely unacceptable, I'm cancelling.", time="2025-03-05T10:00:00Z"))
        response = requests.post(f"{base}/webhooks/zendesk", data=body, headers=signed_headers(body), timeout=5)
        assert response.status_code == 202
        for _ in range(100):
            health = requests.get(f"{base}/healthz", timeout=1).json()
            if health["pending_comments"] == 0 and health["pending_escalations"] == 0:
                break
            time.sleep(0.1)
        assert health["pending_comments"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert "DRY RUN (no Zendesk credentials): PUT https://{subdomain}.zendesk.com/api/v2/tickets/5158" in output
    assert '"sentiment_severity_' in output
    assert "stopped" in output  # SIGTERM let the worker finish


def test_gunicorn_serves_the_app_factory(tmp_path):
    """Scale-out: `gunicorn "webhooks:create_app()"` on a migrated database."""
    from migrations import upgrade

    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    port = 19000 + os.getpid() % 1000
    env = os.environ | {"DATABASE_URL": url, "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "2", "webhooks:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:  # still booting
                time.sleep(0.1)
        body = as_body(comment_event("77", "1", "Where is my order?", time="2025-03-05T10:00:00Z"))
        accepted = requests.post(f"{base}/webhooks/zendesk", data=body, headers=signed_headers(body), timeout=5)
        health = requests.get(f"{base}/healthz", timeout=5).json()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert accepted.status_code == 202, output
    assert health["pending_comments"] == 1  # the web app only stores; workers score
    assert "zendesk.event accepted ticket=77" in output  # app logs reach gunicorn's stderr
