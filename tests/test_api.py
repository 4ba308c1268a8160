"""The conversation API through the real HTTP path: auth, escalate-or-respond, idempotency, tone,
bad input, and every answer checked against the OpenAPI description the app serves."""

from __future__ import annotations

import threading

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import func, select

from ticketpulse.config import Config, ConfigError, Environment, load_environment
from ticketpulse.escalation.conversations import NAMESPACE
from ticketpulse.integrations.zendesk import DryRunZendesk
from ticketpulse.models import Comment, Escalation, Score, Ticket
from ticketpulse.runtime import build_runtime
from ticketpulse.webhooks import create_app
from ticketpulse.webhooks.openapi import SPEC
from tests.conftest import ZENDESK_SECRET
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

KEY = "tp-live-7f3c9a1e5b2d4086"
OLD_KEY = "tp-live-0b8e2f6a9c1d3e57"
AUTH = {"Authorization": f"Bearer {KEY}"}

SCRIPT = {
    "Hi, how do I export my invoices?": (0.0, 0.1, 0.1),
    "Thanks, that worked great!": (0.7, 0.0, 0.0),
    "The export still fails for me.": (-0.3, 0.4, 0.3),
    "Still broken. I have asked twice now and nobody helps.": (-0.5, 0.8, 0.4),
    "Again nothing works, this is a waste of my time.": (-0.55, 0.8, 0.4),
    "I am done. Cancel my account, I'm telling my bank to block you!!!": (-0.95, 0.97, 0.9),
    "It got a bit worse, honestly.": (-0.35, 0.3, 0.2),
    "Thanks for the quick reply, but it still does not work.": (0.3, 0.5, 0.2),
}


class FailingScorer(ScriptedScorer):
    def score(self, text, context=()):
        raise RuntimeError("model file corrupt")


@pytest.fixture
def scorer():
    return ScriptedScorer(SCRIPT)


@pytest.fixture
def api_environment(database_url) -> Environment:
    return Environment(
        database_url=database_url,
        zendesk_webhook_secret=ZENDESK_SECRET,
        ticketpulse_api_keys=f"{KEY}, {OLD_KEY}",
    )


@pytest.fixture
def api(config, api_environment, engine, scorer):
    app = create_app(
        {"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": api_environment, "ENGINE": engine, "SCORER": scorer}
    )
    return app.test_client()


# -- the OpenAPI description, checked against the real answers ---------------------------------------


def operation_for(method: str, path: str) -> dict:
    parts = path.removeprefix("/api/v1").split("?")[0].strip("/").split("/")
    for template, item in SPEC["paths"].items():
        names = template.strip("/").split("/")
        if len(names) == len(parts) and all(n.startswith("{") or n == p for n, p in zip(names, parts)):
            if method in item:
                return item[method]
    raise AssertionError(f"{method.upper()} {path} is not in the OpenAPI description")


def path_values(path: str) -> dict[str, str]:
    parts = path.removeprefix("/api/v1").split("?")[0].strip("/").split("/")
    for template in SPEC["paths"]:
        names = template.strip("/").split("/")
        if len(names) == len(parts) and all(n.startswith("{") or n == p for n, p in zip(names, parts)):
            return {n.strip("{}"): p for n, p in zip(names, parts) if n.startswith("{")}
    return {}


def check_path_parameters(operation: dict, path: str) -> None:
    """A path the server answers with a 2xx is one the description allows."""
    values = path_values(path)
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = SPEC["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        if parameter["in"] == "path":
            jsonschema.validate(values[parameter["name"]], parameter["schema"], cls=jsonschema.Draft202012Validator)


def checked(response, method: str, path: str):
    """The response, after checking its status and body against the OpenAPI description."""
    responses = operation_for(method, path)["responses"]
    if 200 <= response.status_code < 300:
        check_path_parameters(operation_for(method, path), path)
    assert str(response.status_code) in responses, f"{response.status_code} not documented for {path}"
    assert response.is_json, response.data[:200]
    schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
    jsonschema.validate(
        response.get_json(),
        {**schema, "components": SPEC["components"]},
        cls=jsonschema.Draft202012Validator,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    return response


def post(api, conversation, body, headers=AUTH):
    path = f"/api/v1/conversations/{conversation}/messages"
    return checked(api.post(path, json=body, headers=headers), "post", path)


def get(api, path, headers=AUTH):
    return checked(api.get(path, headers=headers), "get", path)


def say(api, conversation, text, minute, **fields):
    response = post(api, conversation, {"text": text, "time": f"2026-12-01T10:{minute:02d}:00Z", **fields})
    assert response.status_code == 201, response.json
    return response.json


def test_the_served_description_is_valid_openapi_and_needs_no_key(api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json == SPEC
    validate_spec(response.json)


# -- escalate or respond ----------------------------------------------------------------------------


def test_a_conversation_escalates_once_per_severity_with_reason_note_and_history(api, sessions):
    calm = say(api, "chat-881", "Hi, how do I export my invoices?", 0, message_id="m1")
    assert calm["action"] == "respond" and calm["severity"] is None
    assert calm["reason"] == "no escalation rule holds for the latest customer message"
    assert calm["score"] == {"score": 0.0, "label": "neutral", "frustration": 0.1, "urgency": 0.1, "scorer": "scripted"}
    assert calm["tone"]["label"] == "professional"

    say(api, "chat-881", "The export still fails for me.", 1, message_id="m2")
    medium = say(api, "chat-881", "Still broken. I have asked twice now and nobody helps.", 2, message_id="m3")
    assert (medium["action"], medium["severity"], medium["rule"]) == ("escalate", "medium", "frustration")
    assert medium["reason"] == "frustration 0.80 >= 0.75"
    assert medium["note"].startswith("[ticketpulse] Escalated: severity MEDIUM.")
    assert "3 customer message(s) scored" in medium["note"]
    assert [point["score"] for point in medium["history"]] == [0.0, -0.3, -0.5]
    assert medium["trend"] == "declining" and medium["trend_delta"] == -0.5
    assert medium["peak_frustration"] == 0.8 and medium["signals"] == ["scripted"]

    again = say(api, "chat-881", "Again nothing works, this is a waste of my time.", 3, message_id="m4")
    assert again["action"] == "respond" and again["severity"] is None
    assert again["rule"] == "frustration" and again["reason"].startswith("already escalated at medium")
    assert again["escalated_severity"] == "medium"

    critical = say(api, "chat-881", "I am done. Cancel my account, I'm telling my bank to block you!!!", 4,
                   message_id="m5")
    assert (critical["action"], critical["severity"]) == ("escalate", "critical")
    assert critical["tone"]["label"] == "deescalate"

    with sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.helpdesk, ticket.external_id, ticket.escalated_severity) == (NAMESPACE, "chat-881", "critical")
        escalations = session.scalars(select(Escalation).order_by(Escalation.id)).all()
        assert [(e.severity, e.status) for e in escalations] == [("medium", "applied"), ("critical", "applied")]
        assert session.scalar(select(func.count(Score.id))) == 5


def test_the_worker_finds_nothing_to_do_after_the_api_decided(api, config, api_environment, engine, scorer):
    say(api, "chat-2", "Still broken. I have asked twice now and nobody helps.", 0)
    runtime = build_runtime(config, api_environment, engine=engine, scorer=scorer, helpdesks={})
    assert runtime.worker.drain() == 0
    state = get(api, "/api/v1/conversations/chat-2").json
    assert state["last_escalation"]["status"] == "applied"


def test_agent_messages_are_stored_but_not_scored(api, sessions, scorer):
    reply = say(api, "chat-3", "Sorry to hear that! Could you send a screenshot?", 0, author="agent")
    assert reply["scored"] is False and reply["action"] == "respond" and reply["score"] is None
    assert reply["reason"] == "not scored: agent comment"
    assert scorer.calls == []
    say(api, "chat-3", "The export still fails for me.", 1)
    state = get(api, "/api/v1/conversations/chat-3").json
    assert (state["messages"], state["scored_messages"]) == (2, 1)


def test_the_same_message_id_again_returns_the_first_answer_and_changes_nothing(api, sessions, scorer):
    say(api, "chat-4", "The export still fails for me.", 0, message_id="a")
    first = say(api, "chat-4", "Still broken. I have asked twice now and nobody helps.", 1, message_id=42)
    assert first["action"] == "escalate"
    retry = post(api, "chat-4", {"text": "Still broken. I have asked twice now and nobody helps.", "message_id": 42})
    assert retry.status_code == 200
    assert retry.json["duplicate"] is True and retry.json["message_id"] == "42"
    for field in ("action", "severity", "rule", "reason", "note", "score", "history", "tone"):
        assert retry.json[field] == first[field], field
    assert len(scorer.calls) == 2  # not scored again
    with sessions() as session:
        assert session.scalar(select(func.count(Comment.id))) == 2
        assert session.scalar(select(func.count(Escalation.id))) == 1


def test_without_a_message_id_every_post_is_a_new_message(api, sessions):
    for minute in range(2):
        say(api, "chat-5", "The export still fails for me.", minute)
    with sessions() as session:
        assert session.scalar(select(func.count(Score.id))) == 2


def test_history_is_ordered_by_message_time_not_arrival(api):
    say(api, "chat-6", "The export still fails for me.", 5)
    answer = say(api, "chat-6", "Hi, how do I export my invoices?", 1)
    assert [point["time"] for point in answer["history"]] == ["2026-12-01T10:01:00Z", "2026-12-01T10:05:00Z"]
    assert answer["score"]["score"] == 0.0  # this message's score, though it is not the latest
    assert get(api, "/api/v1/conversations/chat-6").json["score"]["score"] == -0.3


def test_concurrent_messages_to_one_conversation_are_decided_one_at_a_time(api, sessions):
    texts = ["Still broken. I have asked twice now and nobody helps."] * 6
    answers, errors = [], []

    def send(n):
        try:
            response = api.post("/api/v1/conversations/chat-7/messages", json={"text": texts[n]}, headers=AUTH)
            answers.append((response.status_code, response.json["action"]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(answers) == [(201, "escalate")] + [(201, "respond")] * 5
    with sessions() as session:
        assert session.scalar(select(func.count(Escalation.id))) == 1


# -- tone ---------------------------------------------------------------------------------------------


def test_tone_follows_the_label_and_turns_stronger_when_the_trend_declines(api):
    assert say(api, "chat-8", "Thanks, that worked great!", 0)["tone"]["label"] == "friendly"
    assert say(api, "chat-8", "Hi, how do I export my invoices?", 1)["tone"]["label"] == "professional"
    worse = say(api, "chat-8", "It got a bit worse, honestly.", 2)  # 0.7 → -0.35 over three messages
    assert worse["trend"] == "declining" and worse["tone"]["label"] == "deescalate"
    assert "frustration" in worse["tone"]["instruction"]
    other = say(api, "chat-9", "It got a bit worse, honestly.", 0)
    assert other["tone"] == {"label": "empathetic", "instruction": Config().tone.negative}
    polite = say(api, "chat-9b", "Thanks for the quick reply, but it still does not work.", 0)
    assert polite["score"]["label"] == "positive" and polite["tone"]["label"] == "empathetic"


def test_tone_instructions_come_from_the_config_file(config, api_environment, engine, scorer):
    custom = config.model_copy(update={"tone": config.tone.model_copy(update={"positive": "Be upbeat, use their name."})})
    app = create_app({"TESTING": True, "TICKETPULSE": custom, "ENVIRONMENT": api_environment, "ENGINE": engine,
                      "SCORER": scorer})
    answer = say(app.test_client(), "chat-10", "Thanks, that worked great!", 0)
    assert answer["tone"] == {"label": "friendly", "instruction": "Be upbeat, use their name."}


def test_an_unknown_tone_key_is_a_config_error_naming_it():
    from ticketpulse.config import parse_config

    with pytest.raises(ConfigError, match="tone.angry: unknown key"):
        parse_config({"tone": {"angry": "calm down"}})


# -- helpdesk tickets ------------------------------------------------------------------------------


def test_conversations_never_mix_with_helpdesk_tickets_of_the_same_number(
    api, config, api_environment, engine, scorer, sessions
):
    event = comment_event("48213", "501", "Still broken. I have asked twice now and nobody helps.",
                          time="2026-12-01T09:00:00Z")
    assert post_zendesk(api, event).status_code == 202
    build_runtime(config, api_environment, engine=engine, scorer=scorer,
                  helpdesks={"zendesk": DryRunZendesk(None)}).worker.drain()
    say(api, "48213", "Thanks, that worked great!", 0)

    ticket = get(api, "/api/v1/tickets/zendesk/48213").json
    assert ticket["helpdesk"] == "zendesk" and ticket["ticket"] == "48213"
    assert [point["score"] for point in ticket["history"]] == [-0.5]
    assert ticket["last_escalation"]["severity"] == "medium" and ticket["last_escalation"]["status"] == "applied"
    assert ticket["last_escalation"]["note"].startswith("[ticketpulse] Escalated to the senior group")
    assert ticket["decision"] == {"severity": "medium", "rule": "frustration", "reason": "frustration 0.80 >= 0.75"}
    assert ticket["tone"]["label"] == "deescalate"  # frustration 0.80 >= 0.7

    conversation = get(api, "/api/v1/conversations/48213").json
    assert [point["score"] for point in conversation["history"]] == [0.7]
    assert conversation["last_escalation"] is None and conversation["tone"]["label"] == "friendly"
    with sessions() as session:
        assert sorted(session.scalars(select(Ticket.helpdesk))) == ["api", "zendesk"]


# -- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, error",
    [
        ({}, "text: missing"),
        ({"text": 5}, "text: Input should be a valid string"),
        ({"text": ["hi"]}, "text: Input should be a valid string"),
        ({"text": "   "}, "text: empty"),
        ({"text": "<p> </p>"}, "text: empty once cleaned"),
        ({"text": "hi", "author": "bot"}, "author: Input should be 'customer' or 'agent'"),
        ({"text": "hi", "author": 1}, "author: Input should be 'customer' or 'agent'"),
        ({"text": "hi", "time": 1733046000}, "time: expected an ISO 8601 time as a string"),
        ({"text": "hi", "time": "yesterday"}, "time: not an ISO 8601 time: 'yesterday'"),
        ({"text": "hi", "time": "0001-01-01T00:00:00+01:00"}, "time: out of range"),
        ({"text": "hi", "message_id": True}, "message_id: "),
        ({"text": "hi", "message_id": "has space"}, "message_id: not a valid id"),
        ({"text": "hi", "message_id": {"id": 1}}, "message_id: "),
        ({"text": "hi", "message_id": "\ud800"}, "message_id: not a valid id (no NUL or lone surrogate"),
        ({"text": "hi", "message_id": "a\u0000b"}, "message_id: not a valid id (no NUL or lone surrogate"),
        ({"text": "hi", "txt": "hi"}, "txt: unknown field (expected text, author, time, message_id)"),
        (["hi"], "body: expected a JSON object"),
    ],
)
def test_bad_messages_are_refused_naming_the_field(api, sessions, body, error):
    response = post(api, "chat-bad", body)
    assert response.status_code == 400
    assert response.json["error"].startswith(error), response.json
    with sessions() as session:
        assert session.scalar(select(func.count(Comment.id))) == 0


@pytest.mark.parametrize(
    "data, error",
    [(b"", "body: not valid JSON"), (b"{text: 1}", "body: not valid JSON"), (b"\xff\xfe", "body: not UTF-8"),
     (b"[" * 100_000, "body: nested too deeply")],
)
def test_unparsable_bodies_are_refused(api, data, error):
    path = "/api/v1/conversations/chat-bad/messages"
    response = checked(api.post(path, data=data, headers={**AUTH, "Content-Type": "application/json"}), "post", path)
    assert response.status_code == 400 and response.json["error"].startswith(error)


def test_a_bad_conversation_id_is_refused(api):
    response = post(api, "has%20space", {"text": "hi"})
    assert response.status_code == 400 and response.json["error"].startswith("conversation_id:")
    assert post(api, "x" * 65, {"text": "hi"}).status_code == 400


def test_a_conversation_id_ending_in_a_newline_is_refused(api, sessions):
    for response in (post(api, "chat-1%0A", {"text": "hi"}), get(api, "/api/v1/conversations/chat-1%0A")):
        assert response.status_code == 400 and response.json["error"].startswith("conversation_id:")
    with sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 0


def test_a_time_more_than_the_allowed_clock_difference_ahead_is_refused(api, sessions):
    """A future time would sort after every later message and hide them from the rules."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    ahead = post(api, "fut-1", {"text": "Thanks, that worked great!", "time": (now + timedelta(minutes=6)).isoformat()})
    assert ahead.status_code == 400
    assert ahead.json["error"].startswith("time: ") and "in the future" in ahead.json["error"]
    far = post(api, "fut-1", {"text": "Thanks, that worked great!", "time": "2099-01-01T00:00:00Z"})
    assert far.status_code == 400 and far.json["error"].startswith("time: ")
    with sessions() as session:
        assert session.scalar(select(func.count(Comment.id))) == 0
    furious = post(api, "fut-1", {"text": "I am done. Cancel my account, I'm telling my bank to block you!!!"})
    assert furious.status_code == 201 and furious.json["severity"] == "critical"
    # A client clock a little ahead is not refused.
    near = post(api, "fut-2", {"text": "Thanks, that worked great!", "time": (now + timedelta(minutes=1)).isoformat()})
    assert near.status_code == 201


def test_an_account_with_a_nul_is_refused_naming_it(api):
    response = get(api, "/api/v1/tickets/freshdesk/4521?account=%00")
    assert response.status_code == 400 and response.json["error"].startswith("account: ")


def test_a_query_string_that_is_not_utf8_is_a_400_naming_it(api):
    """werkzeug decodes the query strictly when ?account= is read: a raw byte that is not UTF-8 was a 500."""
    response = api.get("/api/v1/tickets/zendesk/48213", headers=AUTH, environ_overrides={"QUERY_STRING": "account=\xff"})
    checked(response, "get", "/api/v1/tickets/zendesk/48213")
    assert response.status_code == 400 and response.json["error"].startswith("query string: not UTF-8")


def test_a_ticket_is_found_by_its_number_as_webhooks_read_it(api):
    long_number = "9" * 30  # webhooks take ticket numbers of up to 64 digits
    for number in ("48213", long_number):
        assert post_zendesk(api, comment_event(number, "501", "Where is my refund?", time="2026-12-01T09:00:00Z")).status_code == 202

    assert get(api, "/api/v1/tickets/zendesk/0048213").json["ticket"] == "48213"  # "0048213" is ticket 48213
    assert get(api, f"/api/v1/tickets/zendesk/{long_number}").json["ticket"] == long_number
    assert get(api, "/api/v1/tickets/zendesk/000").json["error"].startswith("number: not a ticket number")


def test_unknown_conversations_and_tickets_are_404_naming_them(api):
    response = get(api, "/api/v1/conversations/never-seen")
    assert response.status_code == 404 and response.json["error"].startswith("conversation_id: no conversation")
    response = get(api, "/api/v1/tickets/zendesk/999")
    assert response.status_code == 404 and response.json["error"] == "number: no zendesk ticket 999 has reached ticketpulse"
    assert get(api, "/api/v1/tickets/jira/1").json["error"].startswith("helpdesk: expected one of zendesk, freshdesk")
    assert get(api, "/api/v1/tickets/zendesk/abc").json["error"].startswith("number: not a ticket number")


def test_a_scorer_failure_is_a_503_and_stores_nothing(config, api_environment, engine, sessions):
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": api_environment, "ENGINE": engine,
                      "SCORER": FailingScorer({})})
    response = post(app.test_client(), "chat-11", {"text": "Where is my parcel?"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json["error"] == "scoring failed: RuntimeError; nothing was stored, retry later"
    with sessions() as session:
        assert session.scalar(select(func.count(Comment.id))) == 0


def test_a_scorer_that_cannot_be_built_is_a_503_with_retry_after(api_environment, engine):
    """README: 503 with Retry-After when the scorer fails; the OPENAI_API_KEY case had no Retry-After."""
    openai = Config.model_validate({"scoring": {"backend": "openai"}})
    env = api_environment.model_copy(update={"openai_api_key": None, "openai_base_url": None})
    app = create_app({"TESTING": True, "TICKETPULSE": openai, "ENVIRONMENT": env, "ENGINE": engine})
    response = post(app.test_client(), "chat-12", {"text": "Where is my parcel?"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json["error"].startswith("scoring unavailable: OPENAI_API_KEY: not set")


def test_reading_while_the_database_is_down_is_a_described_503(config, api_environment, tmp_path, scorer):
    """README: 503 with Retry-After when the database fails, on reads too (the description listed no 503 for them)."""
    from ticketpulse.models import make_engine

    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: every query fails
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": api_environment, "ENGINE": unmigrated,
                      "SCORER": scorer})
    client = app.test_client()
    for path in ("/api/v1/conversations/chat-1", "/api/v1/tickets/zendesk/48213"):
        response = get(client, path)
        assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    unmigrated.dispose()


# -- auth -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, error",
    [
        ({}, "Authorization: missing"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Authorization: missing"),
        ({"Authorization": "Bearer "}, "Authorization: missing"),
        ({"Authorization": f"Bearer {KEY}x"}, "Authorization: unknown API key"),
        ({"Authorization": f"Bearer {KEY[:-1]}"}, "Authorization: unknown API key"),
        ({"Authorization": "Bearer ключ"}, "Authorization: unknown API key"),
    ],
)
def test_requests_without_a_valid_key_are_refused(api, headers, error):
    for response in (get(api, "/api/v1/conversations/chat-1", headers=headers),
                     post(api, "chat-1", {"text": "hi"}, headers=headers)):
        assert response.status_code == 401
        assert response.json["error"].startswith(error)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_configured_key_works_for_rotation(api):
    say(api, "chat-12", "Hi, how do I export my invoices?", 0)
    response = get(api, "/api/v1/conversations/chat-12", headers={"Authorization": f"bearer {OLD_KEY}"})
    assert response.status_code == 200


def test_the_api_is_refused_while_no_key_is_set(client):
    response = checked(client.get("/api/v1/conversations/chat-1"), "get", "/api/v1/conversations/chat-1")
    assert response.status_code == 403
    assert "TICKETPULSE_API_KEYS" in response.json["error"]


def test_short_api_keys_are_a_config_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv("TICKETPULSE_API_KEYS", "long-enough-key-0123456789,short")
    with pytest.raises(ConfigError, match="TICKETPULSE_API_KEYS: a key is 5 characters; use at least 16"):
        load_environment()
    monkeypatch.setenv("TICKETPULSE_API_KEYS", "long-enough-key-0123456789  other-long-key-abcdefgh")
    assert load_environment().api_keys == ("long-enough-key-0123456789", "other-long-key-abcdefgh")


# -- with the real offline scorer -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_scorer():
    from ticketpulse.sentiment.local import LocalScorer

    return LocalScorer()


def test_the_readme_conversation_with_the_offline_scorer(config, api_environment, engine, local_scorer):
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": api_environment, "ENGINE": engine,
                      "SCORER": local_scorer})
    api = app.test_client()
    calm = say(api, "order-4411", "Hi, can you tell me when the new version ships?", 0)
    assert calm["action"] == "respond" and calm["tone"]["label"] == "professional"
    thanks = say(api, "order-4411", "Thanks so much, that fixed it!", 1)
    assert thanks["action"] == "respond" and thanks["tone"]["label"] == "friendly"
    angry = say(api, "order-4411", "This is the third time I'm asking. Nobody answers and I want a refund NOW!", 2)
    assert angry["action"] == "escalate" and angry["severity"] in ("medium", "critical")
    assert angry["signals"] and angry["score"]["scorer"] == "local"


def test_a_message_the_offline_scorer_cannot_read_is_stored_and_kept_out_of_the_rules(
    config, api_environment, engine, local_scorer, sessions
):
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": api_environment, "ENGINE": engine,
                      "SCORER": local_scorer})
    api = app.test_client()
    german = "Das ist eine Frechheit, ich warte seit drei Wochen auf mein Geld und niemand antwortet mir!"
    first = say(api, "order-77", german, 0)
    again = say(api, "order-77", german, 1, message_id="m-2")
    repeated = post(api, "order-77", {"text": german, "time": "2026-12-01T10:01:00Z", "message_id": "m-2"})
    assert repeated.status_code == 200 and repeated.json["duplicate"]  # the first answer again
    repeated = repeated.json

    for answer in (first, again, repeated):
        assert answer["action"] == "respond"
        assert answer["score"]["unsupported_language"] == "de"
        assert answer["reason"].startswith("not read: the message is in de")
    # nothing the rules read: no trajectory built from the placeholders
    state = get(api, "/api/v1/conversations/order-77").json
    assert state["escalated_severity"] is None
    with sessions() as session:
        assert session.scalars(select(Score.unsupported_language)).all() == ["de", "de"]
    english = say(api, "order-77", "Hello? Is anyone there?", 2)
    assert english["action"] == "respond" and "unsupported_language" not in english["score"]


def test_the_example_config_shows_the_tone_defaults():
    import tomllib
    from pathlib import Path

    from ticketpulse.config import parse_config

    example = Path(__file__).resolve().parents[1] / "ticketpulse.example.toml"
    assert parse_config(tomllib.loads(example.read_text(encoding="utf-8"))).tone == Config().tone


class ContextFreeScorer(ScriptedScorer):
    """Like the local scorer: needs no earlier messages, so a message takes one transaction."""

    uses_context = False


def test_with_a_context_free_scorer_a_repeated_message_id_still_gets_the_first_answer(
    config, api_environment, engine, sessions
):
    scorer = ContextFreeScorer(SCRIPT)
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": api_environment, "ENGINE": engine,
                      "SCORER": scorer})
    api = app.test_client()
    say(api, "chat-13", "The export still fails for me.", 0, message_id="a")
    first = say(api, "chat-13", "Still broken. I have asked twice now and nobody helps.", 1, message_id="b")
    retry = post(api, "chat-13", {"text": "Still broken. I have asked twice now and nobody helps.", "message_id": "b"})
    assert retry.status_code == 200 and retry.json["duplicate"] is True
    assert (retry.json["action"], retry.json["note"]) == ("escalate", first["note"])
    assert all(context == () for _text, context in scorer.calls)
    with sessions() as session:
        assert session.scalar(select(func.count(Comment.id))) == 2
        assert session.scalar(select(func.count(Escalation.id))) == 1


def test_check_config_says_whether_the_api_is_on(runner, monkeypatch):
    monkeypatch.delenv("TICKETPULSE_API_KEYS", raising=False)
    assert "conversation API: off (set TICKETPULSE_API_KEYS)" in runner("check-config").out
    monkeypatch.setenv("TICKETPULSE_API_KEYS", f"{KEY},{OLD_KEY}")
    assert "conversation API: 2 key(s)" in runner("check-config").out
