"""The LLM scorer through the whole pipeline: signed Zendesk webhooks → inbox → worker → Score rows.

The runtime is built the way `ticketpulse serve` / `worker` build it (build_runtime from config and
environment: scoring.backend "openai" or "cascade", OPENAI_BASE_URL pointing at a FakeOpenAI on
loopback, spoken to by the real openai client). Escalations go to a dry-run Zendesk.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from ticketpulse.integrations.zendesk import DryRunZendesk
from ticketpulse.models import Comment, Escalation, Score, Ticket
from ticketpulse.sentiment.base import SentimentScore
from ticketpulse.sentiment.llm import PROMPT_VERSION
from tests.conftest import ZENDESK_SECRET
from tests.fakes.openai_server import FakeOpenAI, context_of, message_of
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.config import Config, Environment
from ticketpulse.runtime import build_runtime

MODEL = "fake-gpt"


def answer(score: float, frustration: float, urgency: float = 0.2, cues=("cue",)) -> dict:
    return {"sarcasm": False, "cues": list(cues), "score": score, "frustration": frustration,
            "urgency": urgency, "label": "neutral"}


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_local():
    """The real local scorer, loaded once per module (it takes a second to load)."""
    from ticketpulse.sentiment.local import LocalScorer

    return LocalScorer()


@pytest.fixture
def shared_local(monkeypatch, real_local):
    """build_scorer gets the module's LocalScorer instead of loading a new one."""
    monkeypatch.setattr("ticketpulse.sentiment.factory._local_scorer", lambda: real_local)
    return real_local


def llm_config(backend: str = "openai", *, worker: dict | None = None, **openai) -> Config:
    return Config.model_validate({
        "zendesk": {"senior_group_id": 360001234567},
        "scoring": {
            "backend": backend,
            "openai": {"model": MODEL, "timeout_seconds": 1.0, "max_retries": 1,
                       "max_retry_wait_seconds": 0.05, **openai},
        },
        "worker": {"poll_interval_seconds": 0.05, **(worker or {})},
    })


def llm_environment(database_url: str, base_url: str, api_key: str | None = "test") -> Environment:
    return Environment(database_url=database_url, zendesk_webhook_secret=ZENDESK_SECRET,
                       openai_base_url=base_url, openai_api_key=api_key)


@pytest.fixture
def make_runtime(database_url, engine, openai_live):
    def build(config: Config | None = None, base_url: str | None = None):
        env = llm_environment(database_url, base_url or openai_live[1].url + "/v1")
        return build_runtime(config or llm_config(), env, engine=engine, helpdesks={"zendesk": DryRunZendesk(None)})

    return build


def say(client, text: str, n: int, *, ticket: str = "48213", staff: bool = False) -> None:
    """Comment number n on the ticket, written at 10:00 + n minutes."""
    event = comment_event(ticket, f"{ticket}{n:03d}", text, time=f"2025-03-05T10:{n:02d}:00Z", staff=staff)
    response = post_zendesk(client, event)
    assert response.status_code in (200, 202), response.json


def rows(sessions, model, *order, where=None):
    with sessions() as session:
        query = select(model).order_by(*(order or (model.id,)))
        if where is not None:
            query = query.where(where)
        return list(session.scalars(query))


def from_table(fake_openai: FakeOpenAI, table: dict[str, dict]):
    """The fake_openai model answers each message (the text being rated) from `table`."""
    fake_openai.default = lambda body: fake_openai.answer(table[message_of(body)])


# -- the model's scores, with the customer's earlier messages as context --------------------------

CONVERSATION = {
    "Hi, my order 4411 has not arrived yet. Can you check?": answer(-0.1, 0.2, 0.3, ["not arrived"]),
    "It has been a week. Any update?": answer(-0.4, 0.5, 0.4, ["a week"]),
    "Third time asking. Still nothing.": answer(-0.5, 0.6, 0.5, ["Third time asking"]),
}


def test_scores_come_from_the_model_and_the_third_request_carries_the_first_two(
    client, sessions, make_runtime, shared_local, fake_openai
):
    from_table(fake_openai, CONVERSATION)
    runtime = make_runtime()
    first, second, third = CONVERSATION
    say(client, first, 1)
    say(client, "Our warehouse team will call you today.", 2, staff=True)  # an agent reply: not scored, not context
    say(client, second, 3)
    runtime.worker.drain()
    say(client, third, 4)
    runtime.worker.drain()

    scores = rows(sessions, Score, Score.commented_at)
    assert [s.text for s in scores] == [first, second, third]
    for row in scores:
        expected = CONVERSATION[row.text]
        assert (row.score, row.frustration, row.urgency) == (
            expected["score"], expected["frustration"], expected["urgency"]
        )
        assert row.cues == expected["cues"]
        assert row.scorer == "openai"
        assert row.scorer_version == f"{MODEL}/prompt-v{PROMPT_VERSION}"
        assert row.fallback_reason is None
    assert [c.status for c in rows(sessions, Comment, Comment.commented_at)] == ["done", "skipped", "done", "done"]

    assert [message_of(b) for b in fake_openai.bodies] == [first, second, third]
    assert [context_of(b) for b in fake_openai.bodies] == [[], [first], [first, second]]
    prompt = fake_openai.bodies[2]["messages"][-1]["content"]
    assert prompt.index(first) < prompt.index(second) < prompt.index(third)
    assert "message number 3" in prompt
    assert not any("warehouse team" in fake_openai.prompt_of(i) for i in range(3))
    assert all(b["model"] == MODEL for b in fake_openai.bodies)
    assert fake_openai.requests[0]["headers"]["Authorization"] == "Bearer test"


def test_context_is_the_last_context_messages_by_comment_time_not_arrival(
    client, sessions, make_runtime, shared_local, fake_openai
):
    texts = [f"Message {n} about my missing refund." for n in range(1, 6)]
    runtime = make_runtime(llm_config(context_messages=2))
    for n in (5, 3, 1, 4, 2):  # arrival order is not comment order
        say(client, texts[n - 1], n)
    runtime.worker.drain()

    assert [message_of(b) for b in fake_openai.bodies] == texts
    assert [context_of(b) for b in fake_openai.bodies] == [
        [], texts[:1], texts[:2], texts[1:3], texts[2:4]
    ]


def test_the_model_is_told_how_many_messages_the_customer_sent_before(
    client, sessions, make_runtime, shared_local, fake_openai
):
    runtime = make_runtime(llm_config(context_messages=2))
    for n in range(1, 6):
        say(client, f"Message {n} about my missing refund.", n)
    runtime.worker.drain()

    prompt = fake_openai.bodies[4]["messages"][-1]["content"]
    assert context_of(fake_openai.bodies[4]) == ["Message 3 about my missing refund.", "Message 4 about my missing refund."]
    assert "2 most recent of 4" in prompt
    assert "message number 5" in prompt


# -- nothing lost when the model fails ------------------------------------------------------------

FAILURES = {
    "server_error": (
        lambda fake_openai: fake_openai.script(fake_openai.error(500), fake_openai.error(500)),
        "openai: HTTP 500, gave up after 1 retries",
        2,
    ),
    "timeout": (
        lambda fake_openai: fake_openai.script(fake_openai.slow(1.6, fake_openai.answer(answer(-0.9, 0.99)))),
        "openai: timeout after 1s",
        1,
    ),
    "invalid_json": (
        lambda fake_openai: fake_openai.script(fake_openai.answer("The customer sounds mildly annoyed.")),
        "openai: invalid JSON in answer",
        1,
    ),
    "rate_limited_too_long": (
        lambda fake_openai: fake_openai.script(fake_openai.error(429, headers={"Retry-After": "60"})),
        "openai: HTTP 429, Retry-After 60s exceeds max_retry_wait_seconds (0.05s)",
        1,
    ),
    # The server's words go into the stored reason: a NUL there is a text PostgreSQL cannot store.
    "refusal_with_control_characters": (
        lambda fake_openai: fake_openai.script(fake_openai.refusal("I can't\x00 help\r\nwith\x1b that.")),
        "openai: refused: I can't help with that.",
        1,
    ),
    "rejected_with_control_characters": (
        lambda fake_openai: fake_openai.script(fake_openai.error(400, "bad\x00 request:\n\tmodel\x07")),
        "openai: HTTP 400: bad request: model",
        1,
    ),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failing_model_falls_back_to_local_and_the_row_says_why(
    client, sessions, make_runtime, shared_local, fake_openai, failure
):
    make_failure, reason, requests = FAILURES[failure]
    make_failure(fake_openai)
    fake_openai.default = lambda body: fake_openai.answer(answer(-0.3, 0.4))
    runtime = make_runtime()
    text = "Hi, my order 4411 has not arrived yet. Can you check?"
    say(client, text, 1)
    runtime.worker.drain()

    [comment] = rows(sessions, Comment)
    assert (comment.status, comment.attempts, comment.reason) == ("done", 0, None)
    [row] = rows(sessions, Score)
    assert row.scorer == "local"
    assert row.scorer_version == shared_local.version
    assert row.fallback_reason == reason
    local = shared_local.score(text)
    assert (row.score, row.frustration, row.urgency) == (local.score, local.frustration, local.urgency)
    assert len(fake_openai.requests) == requests

    # The model is back: the next message is the model's again, with the fallen-back one as context.
    say(client, "Any news?", 2)
    runtime.worker.drain()
    second = rows(sessions, Score, Score.commented_at)[1]
    assert (second.scorer, second.fallback_reason, second.frustration) == ("openai", None, 0.4)
    assert context_of(fake_openai.bodies[-1]) == [text]


def test_cues_with_nul_and_control_characters_are_stored_as_plain_one_line_phrases(
    client, sessions, make_runtime, shared_local, fake_openai
):
    # Cues are stored, shown on the dashboard and quoted in the escalation note.
    cues = ["third\x00 time", "still\nnot\tfixed\x1b", "\x07\x00", "\ud800refund"]
    fake_openai.script(fake_openai.answer(answer(-0.5, 0.5, cues=cues)))
    runtime = make_runtime()
    say(client, "Third time asking, still not fixed.", 1)
    runtime.worker.drain()

    [row] = rows(sessions, Score)
    assert (row.scorer, row.fallback_reason) == ("openai", None)
    assert row.cues == ["third time", "still not fixed", "refund"]
    assert rows(sessions, Comment)[0].status == "done"


def test_an_unreachable_model_server_falls_back_with_a_connection_error(
    client, sessions, make_runtime, shared_local
):
    runtime = make_runtime(base_url="http://127.0.0.1:9/v1")  # the discard port: nothing listens
    say(client, "Where is my refund?", 1)
    runtime.worker.drain()

    [row] = rows(sessions, Score)
    assert row.scorer == "local"
    assert row.fallback_reason.startswith("openai: connection error")
    assert rows(sessions, Comment)[0].status == "done"


# -- escalation decided by the model's scores -----------------------------------------------------


def test_the_models_frustration_escalates_to_critical(client, sessions, make_runtime, fake_openai):
    text = "Could you tell me when my order ships?"
    fake_openai.default = lambda body: fake_openai.answer(answer(-0.8, 0.95, 0.7, ["when my order ships"]))
    runtime = make_runtime()  # the real factory path: build_scorer loads the LocalScorer
    # A calm question the local scorer would not escalate: only the model's 0.95 can.
    assert runtime.scorer.fallback.score(text).frustration < 0.75
    say(client, text, 1)
    say(client, text + " Please answer.", 2)
    runtime.worker.drain()

    scores = rows(sessions, Score, Score.commented_at)
    assert [(s.scorer, s.frustration) for s in scores] == [("openai", 0.95), ("openai", 0.95)]
    [escalation] = rows(sessions, Escalation)  # once: the second message is no higher
    assert (escalation.severity, escalation.rule, escalation.status) == ("critical", "critical_frustration", "applied")
    assert escalation.comment_id == scores[0].comment_id
    assert "frustration 0.95 >= 0.90" in escalation.note
    assert '"when my order ships"' in escalation.note
    assert escalation.dry_run
    [request] = escalation.request["requests"]
    assert request["json"]["ticket"]["tags"][-1] == "sentiment_severity_critical"
    assert request["json"]["ticket"]["priority"] == "urgent"
    [ticket] = rows(sessions, Ticket)
    assert ticket.escalated_severity == "critical"


# -- the cascade through the pipeline -------------------------------------------------------------


class TableLocal:
    """A deterministic local scorer: (score, frustration) per text."""

    name = "stub-local"
    version = "t1"

    def __init__(self, table: dict[str, tuple[float, float]]) -> None:
        self.table = table

    def score(self, text, context=()):
        score, frustration = self.table[text]
        return SentimentScore(score, frustration, 0.1, cues=("local",), scorer=self.name, scorer_version=self.version)


CALM = "Thanks, that fixed it!"
NEAR = "This is the second time I ask about the refund."


@pytest.fixture
def table_local(monkeypatch):
    local = TableLocal({CALM: (0.8, 0.0), NEAR: (-0.3, 0.7)})
    monkeypatch.setattr("ticketpulse.sentiment.factory._local_scorer", lambda: local)
    return local


def test_with_backend_openai_the_model_not_the_local_scorer_decides(
    client, sessions, make_runtime, table_local, fake_openai
):
    angry = "Cancel everything, I am reporting you to my bank!!!"
    table_local.table[angry] = (-0.9, 0.95)  # the local scorer would escalate to critical
    fake_openai.default = lambda body: fake_openai.answer(answer(0.1, 0.1, 0.1))
    runtime = make_runtime()
    say(client, angry, 1)
    say(client, angry + " Again!!!", 2)
    runtime.worker.drain()

    assert [(s.scorer, s.frustration) for s in rows(sessions, Score)] == [("openai", 0.1), ("openai", 0.1)]
    assert rows(sessions, Escalation) == []


def test_cascade_asks_the_model_only_near_a_threshold(client, sessions, make_runtime, table_local, fake_openai):
    fake_openai.default = lambda body: fake_openai.answer(answer(-0.5, 0.8, 0.4, ["second time"]))
    runtime = make_runtime(llm_config("cascade"))
    say(client, CALM, 1)
    runtime.worker.drain()
    assert fake_openai.requests == []  # a calm message never reaches the model

    say(client, NEAR, 2)
    runtime.worker.drain()
    assert [message_of(b) for b in fake_openai.bodies] == [NEAR]
    assert context_of(fake_openai.bodies[0]) == [CALM]

    calm, near = rows(sessions, Score, Score.commented_at)
    assert (calm.scorer, calm.scorer_version, calm.score, calm.fallback_reason) == ("stub-local", "t1", 0.8, None)
    assert (near.scorer, near.frustration, near.score, near.fallback_reason) == ("openai", 0.8, -0.5, None)
    # Local said 0.7 (no escalation); the model's 0.8 crosses frustration_threshold 0.75.
    [escalation] = rows(sessions, Escalation)
    assert (escalation.severity, escalation.rule) == ("medium", "frustration")


def test_cascade_keeps_the_local_score_when_the_model_fails(client, sessions, make_runtime, table_local, fake_openai):
    fake_openai.script(fake_openai.error(503), fake_openai.error(503))
    runtime = make_runtime(llm_config("cascade"))
    say(client, NEAR, 1)
    runtime.worker.drain()

    [row] = rows(sessions, Score)
    assert (row.scorer, row.frustration) == ("stub-local", 0.7)
    assert row.fallback_reason == "openai: HTTP 503, gave up after 1 retries"
    assert len(fake_openai.requests) == 2
    assert rows(sessions, Comment)[0].status == "done"
    assert rows(sessions, Escalation) == []


def test_cascade_with_the_real_local_scorer_keeps_a_calm_message_local(
    client, sessions, make_runtime, shared_local, fake_openai
):
    runtime = make_runtime(llm_config("cascade"))
    say(client, "Thanks a lot, that fixed it. Have a great day!", 1)
    runtime.worker.drain()

    assert fake_openai.requests == []
    [row] = rows(sessions, Score)
    assert (row.scorer, row.fallback_reason) == ("local", None)


# -- several LLM calls in flight, each ticket in order ---------------------------------------------

TICKETS = [str(50100 + t) for t in range(6)]
PER_TICKET = 5


def text_for(ticket: str, n: int) -> str:
    return f"Ticket {ticket}, message {n}: still waiting for my refund."


def value_for(ticket: str, n: int) -> tuple[float, float]:
    return -round(int(ticket[-1]) / 10, 2), round(n / 10, 2)  # (score, frustration) per message


def run_threads(runtime, sessions, timeout: float = 60.0) -> None:
    """Run the worker's threads until no comment is pending."""
    stop = threading.Event()
    threads = runtime.worker.start(stop)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with sessions() as session:
                pending = session.scalar(select(func.count()).select_from(Comment).where(Comment.status == "pending"))
            if pending == 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"{pending} comments still pending after {timeout}s")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)


def test_concurrent_worker_keeps_each_tickets_order_and_context(client, sessions, make_runtime, shared_local, fake_openai):
    def respond(body):
        ticket, n = message_of(body).split(", message ")
        score, frustration = value_for(ticket.removeprefix("Ticket "), int(n.split(":")[0]))
        return fake_openai.slow(0.1, fake_openai.answer(answer(score, frustration)))

    fake_openai.default = respond
    runtime = make_runtime(llm_config(worker={"concurrency": 4}))
    assert runtime.worker.settings.concurrency == 4
    for n in reversed(range(1, PER_TICKET + 1)):  # newest first, tickets interleaved
        for ticket in TICKETS:
            say(client, text_for(ticket, n), n, ticket=ticket)

    run_threads(runtime, sessions)

    assert 2 <= fake_openai.max_in_flight <= 4  # several calls in flight, never more than the threads
    assert len(fake_openai.requests) == len(TICKETS) * PER_TICKET  # each message scored once
    with sessions() as session:
        tickets = dict(session.execute(select(Ticket.external_id, Ticket.id)).all())
    for ticket in TICKETS:
        expected = [text_for(ticket, n) for n in range(1, PER_TICKET + 1)]
        scores = rows(sessions, Score, Score.commented_at, where=Score.ticket_id == tickets[ticket])
        assert [s.text for s in scores] == expected
        assert all(s.scorer == "openai" and s.fallback_reason is None for s in scores)
        assert [(s.score, s.frustration) for s in scores] == [value_for(ticket, n) for n in range(1, PER_TICKET + 1)]
        # The model saw this ticket's messages in comment order, each with only this ticket's
        # earlier messages (the last 3) as context.
        seen = [b for b in fake_openai.bodies if message_of(b).startswith(f"Ticket {ticket},")]
        assert [message_of(b) for b in seen] == expected
        assert [context_of(b) for b in seen] == [expected[max(0, k - 3):k] for k in range(PER_TICKET)]
    comments = rows(sessions, Comment)
    assert {c.status for c in comments} == {"done"} and len(comments) == len(TICKETS) * PER_TICKET
