"""`ticketpulse score` with the openai and cascade backends: a config file, OPENAI_* from the
environment, the real openai client against a FakeOpenAI on loopback."""

from __future__ import annotations

import json

import pytest

from ticketpulse.sentiment.base import SentimentScore
from ticketpulse.sentiment.factory import DUMMY_API_KEY
from ticketpulse.sentiment.llm import PROMPT_VERSION
from tests.fakes.openai_server import context_of, message_of

MODEL = "fake-gpt"
ANGRY = {"sarcasm": True, "cues": ["third time", "cancel"], "score": -0.8, "frustration": 0.92,
         "urgency": 0.6, "label": "negative"}


@pytest.fixture
def model_env(monkeypatch, openai_live):
    monkeypatch.setenv("OPENAI_BASE_URL", openai_live[1].url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test")


@pytest.fixture
def config_file(tmp_path):
    def write(backend: str, **openai) -> str:
        settings = {"model": MODEL, "timeout_seconds": 1.0, "max_retries": 1, "max_retry_wait_seconds": 0.05, **openai}
        lines = ["[scoring]", f'backend = "{backend}"', "", "[scoring.openai]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
        path = tmp_path / f"{backend}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    return write


def printed(result) -> list[dict]:
    """stdout must be JSON lines only (logs go to stderr)."""
    return [json.loads(line) for line in result.out.splitlines()]


# -- backend = "openai" ---------------------------------------------------------------------------


def test_score_prints_the_models_score(runner, config_file, model_env, fake_openai):
    fake_openai.script(fake_openai.answer(ANGRY))
    result = runner("--config", config_file("openai"), "score", "Third time asking.", "Fix it or we cancel.")

    assert result.code == 0, result.err
    [score] = printed(result)
    assert score["scorer"] == "openai"
    assert score["scorer_version"] == f"{MODEL}/prompt-v{PROMPT_VERSION}"
    assert (score["score"], score["frustration"], score["urgency"], score["label"]) == (-0.8, 0.92, 0.6, "negative")
    assert score["cues"] == ["third time", "cancel"]
    assert score["extra"] == {"sarcasm": True}
    assert "fallback_reason" not in score

    [request] = fake_openai.requests
    assert message_of(request["json"]) == "Third time asking. Fix it or we cancel."
    assert context_of(request["json"]) == []
    assert request["json"]["model"] == MODEL
    assert request["json"]["max_tokens"] == 120  # a self-hosted base URL: max_tokens
    assert request["headers"]["Authorization"] == "Bearer test"


def test_score_reads_stdin_one_model_call_per_line_in_order(runner, config_file, model_env, fake_openai):
    def respond(body):
        n = int(message_of(body).split(":")[0].removeprefix("message "))
        return fake_openai.answer({**ANGRY, "score": -n / 10, "frustration": n / 10})

    fake_openai.default = respond
    lines = [f"message {n}: where is my order?" for n in range(1, 5)]
    result = runner("--config", config_file("openai"), "score", stdin="\n".join(lines) + "\n")

    assert result.code == 0, result.err
    scores = printed(result)
    assert [(s["scorer"], s["score"], s["frustration"]) for s in scores] == [
        ("openai", -n / 10, n / 10) for n in range(1, 5)
    ]
    assert [message_of(b) for b in fake_openai.bodies] == lines


@pytest.mark.parametrize(
    "behaviours, reason",
    [
        ("500", "openai: HTTP 500, gave up after 1 retries"),
        ("timeout", "openai: timeout after 1s"),
        ("invalid", "openai: invalid JSON in answer"),
        ("401", "openai: HTTP 401 (check OPENAI_API_KEY): Incorrect API key provided"),
    ],
)
def test_a_failing_model_prints_the_local_score_with_the_reason(
    runner, config_file, model_env, fake_openai, caplog, behaviours, reason
):
    fake_openai.script(*{
        "500": [fake_openai.error(500), fake_openai.error(500)],
        "timeout": [fake_openai.slow(1.6, fake_openai.answer(ANGRY))],
        "invalid": [fake_openai.answer("The customer is angry.")],
        "401": [fake_openai.error(401, "Incorrect API key provided")],
    }[behaviours])
    text = "Third time asking. Fix it or we cancel."
    result = runner("--config", config_file("openai"), "score", text)

    assert result.code == 0, result.err
    [score] = printed(result)
    assert score["scorer"] == "local"
    assert score["fallback_reason"] == reason
    from ticketpulse.sentiment.local import LocalScorer

    local = LocalScorer().score(text)
    assert (score["score"], score["frustration"], score["scorer_version"]) == (
        local.score, local.frustration, local.scorer_version
    )
    # Logged as a warning (on stderr outside pytest, whose handler takes the records here).
    assert any(
        r.levelname == "WARNING" and r.getMessage() == f"scoring fell back to local: {reason}" for r in caplog.records
    )


def test_an_unreachable_model_prints_the_local_score(runner, config_file, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # the discard port: nothing listens
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    result = runner("--config", config_file("openai", max_retries=0), "score", "Where is my refund?")

    assert result.code == 0, result.err
    [score] = printed(result)
    assert score["scorer"] == "local"
    assert score["fallback_reason"].startswith("openai: connection error")


# -- the API key ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["openai", "cascade"])
@pytest.mark.parametrize("base_url", [None, "https://api.openai.com/v1"])
def test_missing_key_for_api_openai_com_exits_2_naming_the_variable(
    runner, config_file, monkeypatch, backend, base_url
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    if base_url is None:
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    result = runner("--config", config_file(backend), "score", "hello")

    assert result.code == 2
    assert result.out == ""
    [line] = result.err.strip().splitlines()
    assert line.startswith("ticketpulse: error: OPENAI_API_KEY: not set")
    assert f'backend = "{backend}"' in line


def test_a_self_hosted_server_needs_no_key(runner, config_file, monkeypatch, openai_live, fake_openai):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_live[1].url + "/v1")
    fake_openai.script(fake_openai.answer(ANGRY))
    result = runner("--config", config_file("openai"), "score", "hello")

    assert result.code == 0, result.err
    assert printed(result)[0]["scorer"] == "openai"
    assert fake_openai.requests[0]["headers"]["Authorization"] == f"Bearer {DUMMY_API_KEY}"


# -- backend = "cascade" --------------------------------------------------------------------------


class TableLocal:
    name = "stub-local"
    version = "t1"

    def __init__(self, table):
        self.table = table

    def score(self, text, context=()):
        score, frustration = self.table[text]
        return SentimentScore(score, frustration, 0.1, scorer=self.name, scorer_version=self.version)


CALM = "Thanks, that fixed it!"
NEAR = "Second time I ask about the refund."


@pytest.fixture
def table_local(monkeypatch):
    local = TableLocal({CALM: (0.8, 0.0), NEAR: (-0.3, 0.7)})
    monkeypatch.setattr("ticketpulse.sentiment.factory._local_scorer", lambda: local)
    return local


def test_cascade_asks_the_model_only_near_a_threshold(runner, config_file, model_env, table_local, fake_openai):
    fake_openai.default = lambda body: fake_openai.answer(ANGRY)
    result = runner("--config", config_file("cascade"), "score", stdin=f"{CALM}\n{NEAR}\n")

    assert result.code == 0, result.err
    calm, near = printed(result)
    assert (calm["scorer"], calm["score"], calm["frustration"]) == ("stub-local", 0.8, 0.0)
    assert (near["scorer"], near["score"], near["frustration"]) == ("openai", -0.8, 0.92)
    assert near["extra"]["cascade"] == "frustration near frustration_threshold"
    assert [message_of(b) for b in fake_openai.bodies] == [NEAR]  # the calm line never reached the model


def test_cascade_with_the_model_down_prints_the_local_score_with_the_reason(
    runner, config_file, model_env, table_local, fake_openai
):
    fake_openai.script(fake_openai.error(503), fake_openai.error(503))
    result = runner("--config", config_file("cascade"), "score", NEAR)

    assert result.code == 0, result.err
    [score] = printed(result)
    assert (score["scorer"], score["frustration"]) == ("stub-local", 0.7)
    assert score["fallback_reason"] == "openai: HTTP 503, gave up after 1 retries"


def test_cascade_with_the_real_local_scorer_keeps_a_calm_message_local(runner, config_file, model_env, fake_openai):
    result = runner("--config", config_file("cascade"), "score", "Thanks a lot, that fixed it. Have a great day!")

    assert result.code == 0, result.err
    [score] = printed(result)
    assert score["scorer"] == "local" and "fallback_reason" not in score
    assert fake_openai.requests == []


# -- the real command, in its own process ---------------------------------------------------------


def test_the_command_prints_json_on_stdout_and_the_fallback_warning_on_stderr(config_file, openai_live, fake_openai, tmp_path):
    import os
    import subprocess
    import sys

    fake_openai.script(fake_openai.answer(ANGRY), fake_openai.error(500), fake_openai.error(500))
    env = os.environ | {"OPENAI_BASE_URL": openai_live[1].url + "/v1", "OPENAI_API_KEY": "test"}
    env.pop("TICKETPULSE_CONFIG", None)
    process = subprocess.run(
        [sys.executable, "-m", "ticketpulse.cli", "--config", config_file("openai"), "score"],
        input="Third time asking.\nStill nothing.\n", capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=60, check=False,
    )
    assert process.returncode == 0, process.stderr
    first, second = (json.loads(line) for line in process.stdout.splitlines())
    assert (first["scorer"], first["frustration"]) == ("openai", 0.92)
    assert (second["scorer"], second["fallback_reason"]) == ("local", "openai: HTTP 500, gave up after 1 retries")
    assert "WARNING ticketpulse.scoring: scoring fell back to local: openai: HTTP 500" in process.stderr
