"""A retried message (same message_id) after a config reload gets the answer it got the first time:
the decision, its reason, the trend and the tone were given under the settings of then, and a
retry is answered, not decided again (nothing is done twice)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.scripted_scorer import ScriptedScorer
from ticketpulse.config import Environment, load_config
from ticketpulse.models import Escalation
from ticketpulse.reload import LiveConfig
from ticketpulse.webhooks import create_app

KEY = "tp-live-3b8e1f0c6a2d4975"
AUTH = {"Authorization": f"Bearer {KEY}"}
CALM = "Where is my parcel?"
UPSET = "Still nothing, this is really annoying."  # frustration 0.7: below 0.75, above 0.65
ANGRY = "Third time I write, this is unacceptable."  # frustration 0.8: at 0.75, below 0.85
MID = "Any update on it?"
SCRIPT = {CALM: (0.1, 0.1, 0.1), MID: (0.0, 0.2, 0.1), UPSET: (-0.5, 0.7, 0.3), ANGRY: (-0.7, 0.8, 0.5)}
ANSWER_FIELDS = ("action", "severity", "rule", "reason", "note", "trend", "trend_delta", "consecutive_negative",
                 "escalated_severity", "scored_messages", "history", "tone", "score", "peak_frustration")


@pytest.fixture
def live_api(tmp_path, database_url, engine):
    config_file = tmp_path / "ticketpulse.toml"
    config_file.write_text("")
    live = LiveConfig(load_config(config_file), config_file)
    env = Environment(database_url=database_url, ticketpulse_api_keys=KEY)
    app = create_app({"TESTING": True, "TICKETPULSE": live.current, "LIVE_CONFIG": live, "ENVIRONMENT": env,
                      "ENGINE": engine, "SCORER": ScriptedScorer(SCRIPT)})

    def reload(toml: str):
        config_file.write_text(toml)
        assert live.reload("test")

    return app.test_client(), reload


def say(client, conversation, text, minute, message_id, author="customer"):
    return client.post(f"/api/v1/conversations/{conversation}/messages", headers=AUTH, json={
        "text": text, "time": f"2026-12-01T10:{minute:02d}:00Z", "message_id": message_id, "author": author,
    })


def test_a_retry_after_a_lower_threshold_is_still_the_first_answer_respond(live_api):
    client, reload = live_api
    say(client, "chat-rl1", CALM, 0, "m-1")
    say(client, "chat-rl1", "It left our depot yesterday.", 1, "a-1", author="agent")
    say(client, "chat-rl1", MID, 2, "m-2")
    say(client, "chat-rl1", "It is on its way.", 3, "a-2", author="agent")
    first = say(client, "chat-rl1", UPSET, 5, "m-3")
    assert first.status_code == 201 and (first.json["action"], first.json["rule"]) == ("respond", None)
    assert first.json["trend"] == "declining"  # -0.5 - 0.1 over 3 messages, past trend_delta 0.3

    reload('[thresholds]\nfrustration_threshold = 0.65\ntrend_delta = 0.7\n\n'
           '[tone]\ndeescalate = "Calm them down."\nnegative = "Be kind."\n')
    retry = say(client, "chat-rl1", UPSET, 5, "m-3")

    assert retry.status_code == 200 and retry.json["duplicate"] is True
    assert {key: retry.json[key] for key in ANSWER_FIELDS} == {key: first.json[key] for key in ANSWER_FIELDS}


def test_a_retry_of_a_handover_after_a_higher_threshold_keeps_its_reason(live_api, sessions):
    client, reload = live_api
    first = say(client, "chat-rl2", ANGRY, 0, "m-1")
    assert (first.json["action"], first.json["rule"]) == ("escalate", "frustration")
    assert first.json["reason"] == "frustration 0.80 >= 0.75"

    reload("[thresholds]\nfrustration_threshold = 0.85\n")
    retry = say(client, "chat-rl2", ANGRY, 0, "m-1")

    assert retry.json["duplicate"] is True
    assert {key: retry.json[key] for key in ANSWER_FIELDS} == {key: first.json[key] for key in ANSWER_FIELDS}
    with sessions() as session:
        assert session.scalar(select(func.count(Escalation.id))) == 1  # handed over once


def test_a_new_message_after_the_reload_is_decided_under_the_new_thresholds(live_api):
    client, reload = live_api
    say(client, "chat-rl3", CALM, 0, "m-1")
    say(client, "chat-rl3", "It left our depot yesterday.", 2, "a-1", author="agent")
    reload("[thresholds]\nfrustration_threshold = 0.65\n")

    answer = say(client, "chat-rl3", UPSET, 5, "m-2").json

    assert (answer["action"], answer["rule"], answer["reason"]) == ("escalate", "frustration", "frustration 0.70 >= 0.65")
