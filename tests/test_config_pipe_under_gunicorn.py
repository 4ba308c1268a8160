"""A config that can be read only once (a pipe) is refused wherever the running config follows
the file: serve and worker (tests/test_first_hour.py) and gunicorn's web workers."""

from __future__ import annotations

import os

import pytest
from flask import Flask

from ticketpulse.config import Config, ConfigError
from ticketpulse.reload import LiveConfig


@pytest.fixture
def config_pipe():
    read_end, write_end = os.pipe()
    os.write(write_end, b"[thresholds]\nfrustration_threshold = 0.8\n")
    os.close(write_end)
    yield f"/dev/fd/{read_end}"
    os.close(read_end)


def test_a_followed_config_that_is_a_pipe_is_refused(config_pipe):
    with pytest.raises(ConfigError, match="not a regular file"):
        LiveConfig(Config(), config_pipe)


def test_a_gunicorn_worker_refuses_a_config_pipe_instead_of_reverting_to_the_defaults(config_pipe, monkeypatch):
    from ticketpulse.webhooks import _watch_config

    monkeypatch.setenv("TICKETPULSE_CONFIG", config_pipe)
    with pytest.raises(ConfigError, match="not a regular file"):
        _watch_config(Flask(__name__), Config())
