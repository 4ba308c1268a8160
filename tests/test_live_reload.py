"""Live reload: SIGHUP and a changed file reload the config of serve, worker and every gunicorn
worker; a valid edit is used for the next message and logged with what changed; an invalid edit
keeps the running config and logs each wrong key; SIGHUP never stops the process."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ZENDESK_SECRET
from tests.zendesk_helpers import as_body, comment_event, signed_headers
from ticketpulse.config import Config
from ticketpulse.reload import LiveConfig

ROOT = Path(__file__).resolve().parents[1]
ANGRY = "This is the THIRD time I ask. Still broken, I want a refund NOW!!! Absolutely unacceptable, I'm cancelling."


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- LiveConfig itself ------------------------------------------------------------------------------


@pytest.fixture
def config_file(tmp_path) -> Path:
    path = tmp_path / "ticketpulse.toml"
    path.write_text("[thresholds]\nfrustration_threshold = 0.75\n")
    return path


def messages(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "ticketpulse.config"]


def test_a_valid_edit_replaces_the_config_and_logs_what_changed(config_file, caplog):
    caplog.set_level(logging.INFO, "ticketpulse.config")
    live = LiveConfig(Config(), config_file)
    seen = []
    live.subscribe(lambda old, new: seen.append((old.thresholds.frustration_threshold, new.thresholds.frustration_threshold)))
    config_file.write_text('[thresholds]\nfrustration_threshold = 0.8\n[tags]\nescalated = "vip_rescue"\n')

    assert live.check_file() is True

    assert live.current.thresholds.frustration_threshold == 0.8
    assert seen == [(0.75, 0.8)]
    assert messages(caplog) == [
        f"config reloaded from {config_file} (file changed): tags.escalated: 'sentiment_escalated' -> 'vip_rescue'; "
        "thresholds.frustration_threshold: 0.75 -> 0.8"
    ]
    assert live.check_file() is False  # unchanged since


def test_an_edit_saved_between_reading_the_config_and_watching_it_is_taken(config_file, caplog):
    """`serve` reads the config, then migrates and builds its scorer before it watches the file:
    an edit saved in that window is not lost until the next edit."""
    caplog.set_level(logging.INFO, "ticketpulse.config")
    read_at_start = Config()
    config_file.write_text("[thresholds]\nfrustration_threshold = 0.8\n")

    live = LiveConfig(read_at_start, config_file)

    assert live.check_file() is True
    assert live.current.thresholds.frustration_threshold == 0.8
    assert live.check_file() is False


def test_an_invalid_edit_saved_while_starting_is_reported_at_the_first_check(config_file, caplog):
    caplog.set_level(logging.INFO, "ticketpulse.config")
    config_file.write_text("[thresholds]\nfrustration_threshold = 2\n")

    live = LiveConfig(Config(), config_file)

    assert live.check_file() is False
    assert live.current == Config()
    assert "config reload (file changed) refused, keeping the running config" in messages(caplog)[0]


def test_a_config_that_matches_its_file_is_not_reread(config_file, caplog):
    caplog.set_level(logging.INFO, "ticketpulse.config")
    live = LiveConfig(Config(), config_file)  # the file holds the default threshold
    assert live.check_file() is False
    assert messages(caplog) == []


def test_an_invalid_edit_keeps_the_running_config_and_logs_each_wrong_key(config_file, caplog):
    caplog.set_level(logging.INFO, "ticketpulse.config")
    live = LiveConfig(Config(), config_file)
    config_file.write_text('[thresholds]\nfrustration_treshold = 0.8\ntrend_window = "three"\n[zendesk.priority]\nhigh = "asap"\n')

    assert live.reload("SIGHUP") is False

    assert live.current == Config()
    logged = messages(caplog)
    assert len(logged) == 3
    assert all(line.startswith(f"config reload (SIGHUP) refused, keeping the running config: {config_file}: ")
               for line in logged)
    assert any("thresholds.frustration_treshold: unknown key" in line for line in logged)
    assert any("thresholds.trend_window: " in line for line in logged)
    assert any("zendesk.priority.high: " in line for line in logged)


def test_a_file_that_is_not_toml_or_is_gone_keeps_the_running_config(config_file, caplog):
    caplog.set_level(logging.INFO, "ticketpulse.config")
    live = LiveConfig(Config(), config_file)
    config_file.write_text("[thresholds\n")
    assert live.check_file() is False
    config_file.unlink()
    assert live.check_file() is False
    assert live.current == Config()
    first, second = messages(caplog)
    assert "not valid TOML" in first and "does not exist; keeping the running config" in second


def test_what_serve_would_refuse_is_refused_on_reload(config_file, caplog, tmp_path):
    from ticketpulse.check import refuse_what_serve_refuses
    from ticketpulse.config import Environment

    caplog.set_level(logging.INFO, "ticketpulse.config")
    env = Environment(database_url=f"sqlite:///{tmp_path / 'reload.db'}", openai_api_key=None, openai_base_url=None)
    live = LiveConfig(Config(), config_file, validate=lambda config: refuse_what_serve_refuses(config, env))
    config_file.write_text('[scoring]\nbackend = "openai"\n')

    assert live.reload("SIGHUP") is False
    assert live.current.scoring.backend == "local"
    assert "OPENAI_API_KEY: not set" in messages(caplog)[0]


def test_a_restart_only_key_is_taken_and_flagged(config_file, caplog):
    caplog.set_level(logging.INFO, "ticketpulse.config")
    live = LiveConfig(Config(), config_file)
    config_file.write_text("[worker]\nconcurrency = 4\n")
    assert live.reload("SIGHUP") is True
    assert messages(caplog)[-1] == "config: worker.concurrency takes effect at the next restart"


def test_a_restart_only_key_set_back_to_its_running_value_is_not_flagged(config_file, caplog):
    caplog.set_level(logging.INFO, "ticketpulse.config")
    live = LiveConfig(Config(), config_file)
    config_file.write_text("[worker]\nconcurrency = 4\n")
    assert live.reload("SIGHUP") is True
    config_file.write_text("[worker]\nconcurrency = 1\n")
    assert live.reload("SIGHUP") is True
    assert messages(caplog)[-1] == "config: worker.concurrency is back to the value it runs with"
    assert "takes effect at the next restart" not in " ".join(messages(caplog)[-2:])


# -- serve, worker and gunicorn as an admin runs them -----------------------------------------------


class Process:
    """A ticketpulse or gunicorn process with its log in a file, read while it runs."""

    def __init__(self, args: list[str], cwd: Path, env: dict, log_dir: Path | None = None) -> None:
        log_dir = log_dir or cwd
        self.log_path = log_dir / f"process-{len(list(log_dir.glob('process-*')))}.log"
        self._log = self.log_path.open("w")
        self.popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT, text=True)

    @property
    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, text: str, count: int = 1, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.output
            if output.count(text) >= count:
                return output
            assert self.popen.poll() is None, f"exited {self.popen.returncode}:\n{output}"
            time.sleep(0.1)
        raise AssertionError(f"{text!r} ×{count} not logged within {timeout} s:\n{self.output}")

    def stop(self) -> str:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            self.popen.wait(timeout=30)
        self._log.close()
        return self.output


def environment(tmp_path: Path, config: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
    return env | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "TICKETPULSE_CONFIG": str(config),
        **extra,
    }


def post_comment(base: str, ticket: str) -> None:
    body = as_body(comment_event(ticket, "1", ANGRY, time="2025-03-05T10:00:00Z"))
    response = requests.post(f"{base}/webhooks/zendesk", data=body, headers=signed_headers(body, invocation=ticket), timeout=10)
    assert response.status_code == 202, response.text


def test_serve_reloads_on_sighup_and_on_file_change_and_never_stops(tmp_path):
    config = tmp_path / "ticketpulse.toml"
    config.write_text("")
    port = free_port()
    serve = Process([sys.executable, "-m", "ticketpulse.cli", "serve", "--port", str(port)], tmp_path,
                    environment(tmp_path, config))
    base = f"http://127.0.0.1:{port}"
    try:
        serve.wait_for("ticketpulse serving on")
        assert "FRESHDESK_WEBHOOK_SECRET is not set: every POST /webhooks/freshdesk is refused with 401" in serve.output

        serve.popen.send_signal(signal.SIGHUP)
        serve.wait_for(f"config reread from {config} (SIGHUP): no change")

        post_comment(base, "101")
        assert '"sentiment_escalated"' in serve.wait_for("PUT https://{subdomain}.zendesk.com/api/v2/tickets/101")

        config.write_text('[tags]\nescalated = "rescue_me"\n')
        serve.popen.send_signal(signal.SIGHUP)
        serve.wait_for("tags.escalated: 'sentiment_escalated' -> 'rescue_me'")
        post_comment(base, "102")  # the next message is decided under the new config
        output = serve.wait_for("PUT https://{subdomain}.zendesk.com/api/v2/tickets/102")
        [put] = [line for line in output.splitlines() if "api/v2/tickets/102" in line and "DRY RUN" in line]
        assert '"rescue_me"' in put and '"sentiment_escalated"' not in put

        config.write_text('[thresholds]\nfrustration_treshold = 0.8\ntrend_window = "three"\n')  # no signal: the file changed
        output = serve.wait_for("refused, keeping the running config", count=2)
        assert f"config reload (file changed) refused, keeping the running config: {config}: thresholds.frustration_treshold: unknown key" in output
        assert f"config reload (file changed) refused, keeping the running config: {config}: thresholds.trend_window: " in output

        serve.popen.send_signal(signal.SIGHUP)
        serve.wait_for("config reload (SIGHUP) refused", count=2)
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200  # still serving
    finally:
        output = serve.stop()
    assert "config reloaded from" in output and "Traceback" not in output
    assert "stopped" in output


def test_worker_reloads_on_sighup_and_keeps_running(tmp_path):
    from ticketpulse.migrations import upgrade

    config = tmp_path / "ticketpulse.toml"
    config.write_text("[worker]\npoll_interval_seconds = 1.0\n")
    env = environment(tmp_path, config)
    upgrade(env["DATABASE_URL"])
    worker = Process([sys.executable, "-m", "ticketpulse.cli", "worker"], tmp_path, env)
    try:
        worker.wait_for("worker started")
        config.write_text("[worker]\npoll_interval_seconds = 0.5\n")
        worker.popen.send_signal(signal.SIGHUP)
        worker.wait_for("worker.poll_interval_seconds: 1.0 -> 0.5")
        worker.popen.send_signal(signal.SIGHUP)
        worker.wait_for("(SIGHUP): no change")
        assert worker.popen.poll() is None
    finally:
        output = worker.stop()
    assert "worker stopped" in output


def test_every_gunicorn_worker_reloads_a_changed_file(tmp_path):
    """`gunicorn -w 3`: each worker process takes the edit on its own, whichever gets a request."""
    from ticketpulse.migrations import upgrade

    config = tmp_path / "ticketpulse.toml"
    config.write_text("")
    env = environment(tmp_path, config, TICKETPULSE_LOG_FORMAT="json")
    upgrade(env["DATABASE_URL"])
    port = free_port()
    gunicorn = Process([str(Path(sys.executable).parent / "gunicorn"), "-w", "3", "-b", f"127.0.0.1:{port}",
                        "ticketpulse.webhooks:create_app()"], ROOT, env, log_dir=tmp_path)
    base = f"http://127.0.0.1:{port}"
    big = as_body(comment_event("7", "1", "x" * 4000, time="2025-03-05T10:00:00Z"))
    try:
        gunicorn.wait_for("FRESHDESK_WEBHOOK_SECRET is not set", count=3)  # every worker booted
        config.write_text("[webhooks]\nmax_body_bytes = 2048\n")
        gunicorn.wait_for("webhooks.max_body_bytes: 262144 -> 2048", count=3)
        statuses = {requests.post(f"{base}/webhooks/zendesk", data=big, headers=signed_headers(big), timeout=10).status_code
                    for _ in range(12)}
    finally:
        output = gunicorn.stop()
    assert statuses == {413}
    reloads = [json.loads(line) for line in output.splitlines()
               if line.startswith("{") and "webhooks.max_body_bytes: 262144 -> 2048" in line]
    assert len({line["pid"] for line in reloads}) == 3  # three processes, each reloaded once


def test_serve_takes_a_raised_body_limit_without_a_restart(tmp_path):
    """waitress refuses oversized bodies itself; a reload that raises the limit reaches it too."""
    config = tmp_path / "ticketpulse.toml"
    config.write_text("")
    port = free_port()
    serve = Process([sys.executable, "-m", "ticketpulse.cli", "serve", "--port", str(port)], tmp_path,
                    environment(tmp_path, config))
    big = as_body(comment_event("301", "1", "x" * 300_000, time="2025-03-05T10:00:00Z"))
    url = f"http://127.0.0.1:{port}/webhooks/zendesk"
    try:
        serve.wait_for("ticketpulse serving on")
        assert requests.post(url, data=big, headers=signed_headers(big), timeout=10).status_code == 413
        config.write_text("[webhooks]\nmax_body_bytes = 1048576\n")
        serve.wait_for("webhooks.max_body_bytes: 262144 -> 1048576")
        answer = requests.post(url, data=big, headers=signed_headers(big), timeout=10)
    finally:
        serve.stop()
    assert answer.status_code == 202, answer.text


def test_serve_conversation_api_scores_with_the_reloaded_backend(tmp_path, fake_openai, openai_live):
    """A reload that changes [scoring] reaches the conversation API too, not only the worker."""
    config = tmp_path / "ticketpulse.toml"
    config.write_text("")
    port = free_port()
    key = "k" * 32
    serve = Process([sys.executable, "-m", "ticketpulse.cli", "serve", "--port", str(port)], tmp_path,
                    environment(tmp_path, config, TICKETPULSE_API_KEYS=key, OPENAI_BASE_URL=f"{openai_live[1].url}/v1"))
    url = f"http://127.0.0.1:{port}/api/v1/conversations/chat-1/messages"

    def scorer_of(message_id: str) -> str:
        answer = requests.post(url, json={"text": "where is my order?", "message_id": message_id},
                               headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()["score"]["scorer"]

    try:
        serve.wait_for("ticketpulse serving on")
        assert scorer_of("m-1") == "local"
        config.write_text('[scoring]\nbackend = "openai"\n')
        serve.wait_for("scoring.backend: 'local' -> 'openai'")
        assert scorer_of("m-2") == "openai"
    finally:
        serve.stop()
    assert fake_openai.requests, "the model was never asked"
