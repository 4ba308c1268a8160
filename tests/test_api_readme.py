"""The README's conversation API examples, run as written against a live server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ticketpulse.config import Environment
from ticketpulse.webhooks import create_app
from tests.fakes.server import LiveServer

README = Path(__file__).resolve().parents[1] / "README.md"
KEY = "readme-example-key-2f9d41c7"


def api_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Conversation API")
    return text[start:text.index("\n## ", start + 1)]


def code_block(language: str, containing: str = "") -> str:
    blocks = [block for block in re.findall(rf"```{language}\n(.*?)```", api_section(), re.S) if containing in block]
    assert blocks, f"no {language} block with {containing!r} in the README's Conversation API section"
    return blocks[0]


@pytest.fixture(scope="module")
def local_scorer():
    from ticketpulse.sentiment.local import LocalScorer

    return LocalScorer()


@pytest.fixture
def live_api(config, database_url, engine, local_scorer):
    env = Environment(database_url=database_url, ticketpulse_api_keys=KEY)
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine,
                      "SCORER": local_scorer})
    with LiveServer(app) as server:
        yield server.url


def test_the_readme_python_client_replies_then_hands_over(live_api):
    result = subprocess.run(
        [sys.executable, "-c", code_block("python")],
        env={**os.environ, "TICKETPULSE_API_KEY": KEY, "TICKETPULSE_URL": live_api},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    expected = [line.split("...")[0] for line in re.search(r"prints\n\n```\n(.*?)```", api_section(), re.S)
                .group(1).splitlines()]
    assert len(printed) == len(expected)
    for line, start in zip(printed, expected):
        assert line.startswith(start), (line, start)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_example_answers(live_api):
    command = code_block("sh", containing="curl ").replace("http://127.0.0.1:8000", live_api)
    result = subprocess.run(
        ["bash", "-c", command], env={**os.environ, "TICKETPULSE_API_KEY": KEY},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert '"action":"escalate"' in result.stdout.replace(" ", "")
