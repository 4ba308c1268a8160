"""The conversation API under gunicorn: a reloaded config's scoring settings are used from the next
message on, as the worker's are (each gunicorn worker process reloads the file on its own)."""

from __future__ import annotations

from ticketpulse.config import Environment, load_config
from ticketpulse.reload import LiveConfig
from ticketpulse.webhooks import create_app

KEY = "tp-live-7f3c9a1e5b2d4086"
AUTH = {"Authorization": f"Bearer {KEY}"}


def test_a_reloaded_scoring_backend_scores_the_next_api_message(tmp_path, database_url, engine, openai_live, fake_openai):
    config_file = tmp_path / "ticketpulse.toml"
    config_file.write_text('[scoring]\nbackend = "local"\n')
    live = LiveConfig(load_config(config_file), config_file)
    env = Environment(database_url=database_url, ticketpulse_api_keys=KEY,
                      openai_api_key=None, openai_base_url=openai_live[1].url + "/v1")
    # As gunicorn's worker builds it: no scorer given, the app follows the live config.
    app = create_app({"TESTING": True, "TICKETPULSE": live.current, "LIVE_CONFIG": live, "ENVIRONMENT": env,
                      "ENGINE": engine})
    client = app.test_client()
    url = "/api/v1/conversations/chat-5/messages"
    first = client.post(url, json={"text": "Where is my parcel?", "message_id": "m1"}, headers=AUTH)
    assert first.status_code == 201 and first.json["score"]["scorer"] == "local"

    config_file.write_text('[scoring]\nbackend = "openai"\n\n[scoring.openai]\nmodel = "gpt-4o-mini"\n')
    assert live.reload("test")
    second = client.post(url, json={"text": "Still no parcel, what is going on?", "message_id": "m2"}, headers=AUTH)
    assert second.status_code == 201
    assert second.json["score"]["scorer"] == "openai"
    assert len(fake_openai.requests) == 1
