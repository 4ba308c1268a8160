"""The cascade: local first, the LLM (a fake_openai server, the real openai client) only near thresholds."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client import REGISTRY

from ticketpulse.sentiment.base import SentimentScore
from ticketpulse.sentiment.cascade import CascadeScorer
from ticketpulse.sentiment.factory import build_scorer
from ticketpulse.sentiment.llm import LLMSettings, OpenAIScorer, make_client
from tests.fakes.openai_server import FakeOpenAI
from ticketpulse.config import Environment, Thresholds, parse_config


class TableLocal:
    """A deterministic local scorer: the score for each text is looked up in a table."""

    name = "stub-local"
    version = "0"

    def __init__(self, table: dict[str, tuple[float, float]] | None = None, extra: dict | None = None):
        self.table = table or {}
        self.extra = extra or {}
        self.calls = 0

    def score(self, text, context=()):
        self.calls += 1
        score, frustration = self.table.get(text, (0.5, 0.05))
        return SentimentScore(
            score, frustration, 0.1, scorer=self.name, scorer_version=self.version, extra=dict(self.extra)
        )


def message_of(body: dict) -> str:
    return re.search(r"<message>\n(.*)\n</message>", body["messages"][-1]["content"], re.S).group(1)


def llm_table(fake_openai: FakeOpenAI, table: dict[str, tuple[float, float]]):
    """The fake_openai LLM answers each message from `table` (score, frustration)."""

    def respond(body):
        score, frustration = table[message_of(body)]
        return fake_openai.answer({"sarcasm": False, "cues": [], "score": score, "frustration": frustration, "urgency": 0.2, "label": "neutral"})

    fake_openai.default = respond


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def llm(openai_live):
    settings = LLMSettings(timeout_seconds=0.5, max_retries=1, max_retry_wait_seconds=0.05)
    return OpenAIScorer(make_client("k", openai_live[1].url + "/v1", 0.5), settings)


def cascade(local, llm, band=0.15, **kwargs) -> CascadeScorer:
    return CascadeScorer(local, llm, thresholds=Thresholds(), band=band, **kwargs)


def test_confident_local_result_far_from_every_threshold_makes_no_llm_call(fake_openai, llm):
    before = metric("ticketpulse_cascade_messages_total", route="local")
    local = TableLocal({"Thanks, that worked!": (0.8, 0.0), "The app crashes on login.": (-0.25, 0.3)})
    scorer = cascade(local, llm)
    first = scorer.score("Thanks, that worked!")
    second = scorer.score("The app crashes on login.")
    assert fake_openai.requests == []
    assert (first.scorer, first.score, second.score) == ("stub-local", 0.8, -0.25)
    assert first.fallback_reason is None
    assert scorer.llm_share() == 0.0
    assert metric("ticketpulse_cascade_messages_total", route="local") == before + 2


@pytest.mark.parametrize(
    "local_score, local_frustration, why",
    [
        (-0.3, 0.70, "frustration near frustration_threshold"),
        (-0.3, 0.80, "frustration near frustration_threshold"),
        (-0.3, 0.95, "frustration near critical_frustration_threshold"),
        (-0.55, 0.20, "score near negative_score_threshold"),
        (-0.70, 0.20, "score near negative_score_threshold"),
    ],
)
def test_near_a_threshold_the_llm_decides(fake_openai, llm, local_score, local_frustration, why):
    before = metric("ticketpulse_cascade_messages_total", route="llm")
    fake_openai.script(fake_openai.answer({"sarcasm": False, "cues": ["x"], "score": -0.9, "frustration": 0.5, "urgency": 0.4, "label": "negative"}))
    scorer = cascade(TableLocal({"m": (local_score, local_frustration)}), llm)
    result = scorer.score("m", ["earlier one"])
    assert len(fake_openai.requests) == 1
    assert "earlier one" in fake_openai.bodies[0]["messages"][-1]["content"]  # context reaches the LLM
    assert (result.scorer, result.score, result.frustration) == ("openai", -0.9, 0.5)
    assert result.extra["cascade"] == why
    assert scorer.llm_share() == 1.0
    assert metric("ticketpulse_cascade_messages_total", route="llm") == before + 1


@pytest.mark.parametrize(
    "frustration, asks_llm", [(0.44, False), (0.61, True), (1.0, True)]
)
def test_the_band_is_measured_from_the_thresholds(fake_openai, llm, frustration, asks_llm):
    scorer = cascade(TableLocal({"m": (0.0, frustration)}), llm, band=0.15)
    scorer.score("m")
    assert (len(fake_openai.requests) == 1) is asks_llm


@pytest.mark.parametrize("score, frustration", [(0.0, 0.6), (0.0, 0.9), (0.0, 1.0), (-0.45, 0.0), (-0.75, 0.0)])
def test_a_result_exactly_band_from_a_threshold_is_in_the_band(fake_openai, llm, score, frustration):
    scorer = cascade(TableLocal({"m": (score, frustration)}), llm, band=0.15)
    assert scorer.route(scorer.local.score("m")) is not None
    scorer.score("m")
    assert len(fake_openai.requests) == 1


def test_a_narrower_band_sends_less(fake_openai, llm):
    scorer = cascade(TableLocal({"m": (0.0, 0.66)}), llm, band=0.05)
    assert scorer.score("m").scorer == "stub-local"
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    "behaviour, reason",
    [
        (FakeOpenAI.error(500), "openai: HTTP 500, gave up after 1 retries"),
        (FakeOpenAI.slow(1.2, FakeOpenAI.answer({"score": 0, "frustration": 0, "urgency": 0})), "openai: timeout after 0.5s"),
        (FakeOpenAI.answer("not json"), "openai: invalid JSON in answer"),
    ],
)
def test_llm_failure_keeps_the_local_result_with_the_reason(fake_openai, llm, behaviour, reason):
    local = TableLocal({"m": (-0.3, 0.8)})
    fake_openai.default = lambda body: behaviour
    result = cascade(local, llm).score("m")
    assert (result.scorer, result.score, result.frustration) == ("stub-local", -0.3, 0.8)
    assert result.fallback_reason == reason
    assert local.calls == 1  # the local result is reused, not recomputed


def decision(s: SentimentScore, t: Thresholds = Thresholds()) -> str:
    """The per-message escalation rules the thresholds feed."""
    if s.frustration >= t.critical_frustration_threshold:
        return "critical"
    if s.frustration >= t.frustration_threshold:
        return "high"
    if s.score <= t.negative_score_threshold:
        return "negative"
    return "none"


def test_same_decisions_as_llm_for_everything_near_the_thresholds(fake_openai, llm):
    # (local score, local frustration) and the LLM's (score, frustration) per message. Near a
    # threshold the two disagree across it in both directions; far from all of them they agree
    # on the decision (but not on the numbers).
    local_table = {
        "near-high-up": (-0.4, 0.70), "near-high-down": (-0.4, 0.78),
        "near-critical-up": (-0.7, 0.86), "near-critical-down": (-0.7, 0.93),
        "near-negative-up": (-0.55, 0.2), "near-negative-down": (-0.65, 0.2),
        "far-calm": (0.6, 0.05), "far-bug-report": (-0.2, 0.25), "far-mild": (0.1, 0.4),
    }
    llm_answers = {
        "near-high-up": (-0.5, 0.8), "near-high-down": (-0.3, 0.6),
        "near-critical-up": (-0.8, 0.95), "near-critical-down": (-0.7, 0.85),
        "near-negative-up": (-0.7, 0.3), "near-negative-down": (-0.4, 0.3),
        "far-calm": (0.7, 0.0), "far-bug-report": (-0.1, 0.2), "far-mild": (0.2, 0.35),
    }
    llm_table(fake_openai, llm_answers)
    local = TableLocal(local_table)
    scorer = cascade(local, llm)

    for text in local_table:
        everything = llm.score_llm(text)
        assert decision(scorer.score(text)) == decision(everything), text
        if text.startswith("near"):
            assert decision(local.score(text)) != decision(everything), text  # the case matters
    assert scorer.stats() == {"messages": 9, "llm": 6, "local": 3}
    assert scorer.llm_share() == pytest.approx(6 / 9)


def test_share_is_counted_exactly_under_threads(fake_openai, llm):
    texts = [f"msg {i}" for i in range(200)]
    local = TableLocal({t: ((-0.6, 0.2) if i % 5 == 0 else (0.5, 0.0)) for i, t in enumerate(texts)})
    scorer = cascade(local, llm)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(scorer.score, texts))
    assert scorer.stats() == {"messages": 200, "llm": 40, "local": 160}
    assert scorer.llm_share() == 0.2
    assert len(fake_openai.requests) == 40


def test_factory_builds_the_cascade_from_config(fake_openai, openai_live):
    fake_openai.script(fake_openai.answer({"score": -0.9, "frustration": 0.95, "urgency": 0.5}))
    config = parse_config(
        {
            "scoring": {"backend": "cascade", "cascade": {"band": 0.1}},
            "thresholds": {"frustration_threshold": 0.6, "critical_frustration_threshold": 0.8},
        }
    )
    env = Environment(openai_api_key=None, openai_base_url=openai_live[1].url + "/v1")
    local = TableLocal({"near": (0.0, 0.55), "far": (0.0, 0.3)})
    scorer = build_scorer(config, env, local=local)
    assert isinstance(scorer, CascadeScorer)
    assert scorer.band == 0.1 and scorer.thresholds.frustration_threshold == 0.6
    assert scorer.score("far").scorer == "stub-local"
    assert scorer.score("near").scorer == "openai"
    assert len(fake_openai.requests) == 1
