"""The command line as an admin meets it: --help with an example, -v anywhere, JSON logs, a port in use."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ticketpulse.cli import _subparsers, build_parser

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [name for name, _sub in _subparsers(build_parser())]


def test_the_commands_are_all_there():
    assert {"serve", "worker", "db upgrade", "check-config", "jobs retry", "backtest", "score", "eval"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_help_lists_its_options_and_an_example(runner, command):
    result = runner(*command.split(), "--help")

    assert result.code == 0
    assert "-v, --verbose" in result.out and "--log-format {text,json}" in result.out
    example = result.out.split("example:\n", 1)[1].strip().splitlines()[0]
    assert example.startswith(("ticketpulse ", "DATABASE_URL=")) and f" {command.split()[0]}" in example


def test_verbose_after_the_subcommand_shows_the_traceback(runner, monkeypatch):
    import ticketpulse.cli

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ticketpulse.cli, "load_config", broken)

    quiet = runner("check-config")
    verbose = runner("check-config", "-v")

    assert "Traceback" not in quiet.err
    assert verbose.code == 1 and "Traceback" in verbose.err
    assert runner("-v", "check-config").err == verbose.err  # before or after: the same


def test_config_after_the_subcommand(runner, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[thresholds]\nfrustration_treshold = 0.8\n")
    result = runner("check-config", "--config", str(path))
    assert result.code == 2 and "thresholds.frustration_treshold: unknown key" in result.err


def _ticketpulse(*args, env: dict | None = None, cwd=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "ticketpulse.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
        | (env or {}),
    )


def test_log_format_json_writes_one_object_per_line(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'json.db'}"}

    result = _ticketpulse("db", "upgrade", "--log-format", "json", "-v", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["logger"].startswith("alembic") for line in lines)


def test_log_format_from_the_environment_and_a_wrong_value_is_refused(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'json.db'}", "TICKETPULSE_LOG_FORMAT": "json"}
    result = _ticketpulse("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0 and all(json.loads(line) for line in result.stderr.strip().splitlines())

    wrong = _ticketpulse("check-config", env=env | {"TICKETPULSE_LOG_FORMAT": "yaml"}, cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "ticketpulse: error: TICKETPULSE_LOG_FORMAT: 'yaml' is not one of text, json"


def test_serve_on_a_port_in_use_names_the_port_and_exits_2_before_serving(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _ticketpulse("serve", "--port", str(port), env={"DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"},
                              cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == (f"ticketpulse: error: port {port} on 127.0.0.1 is already in use (another ticketpulse?); "
                    "stop it, or choose another port with --port or PORT")
    assert "serving on" not in result.stderr and "Traceback" not in result.stderr


def test_serve_on_an_address_it_cannot_have_says_so(tmp_path):
    result = _ticketpulse("serve", "--host", "192.0.2.1", "--port", "8123",
                          env={"DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "cannot listen on 192.0.2.1:8123" in result.stderr.strip().splitlines()[-1]


def test_serve_on_a_host_name_that_does_not_resolve_says_so(tmp_path):
    result = _ticketpulse("serve", "--host", "nosuchhost.invalid", "--port", "8123",
                          env={"DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("ticketpulse: error: cannot listen on nosuchhost.invalid:8123: ")
    assert line.endswith(" (--host must be an address or a name that resolves)")


def test_worker_metrics_port_in_use_names_the_port_and_exits_2_before_working(tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _ticketpulse("worker", "--metrics-port", str(port),
                              env={"DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"ticketpulse: error: port {port} on 0.0.0.0 is already in use (another ticketpulse?); "
        "stop it, or choose another port with --metrics-port")
    assert "worker started" not in result.stderr


def test_worker_once_refuses_a_metrics_port_nobody_could_scrape(runner):
    result = runner("worker", "--once", "--metrics-port", "9100")

    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.strip().splitlines()[-1].endswith("argument --metrics-port: not allowed with argument --once")
