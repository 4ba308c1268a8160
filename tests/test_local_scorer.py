"""Fixed examples for the offline scorer (sentiment.local.LocalScorer)."""

from __future__ import annotations

import pytest

from sentiment.base import SentimentScore
from sentiment.local import LocalScorer, default_scorer

FRUSTRATION_THRESHOLD = 0.75
CRITICAL = 0.9


@pytest.fixture(scope="module")
def scorer() -> LocalScorer:
    return default_scorer()


def test_returns_sentiment_score_with_identity(scorer):
    result = scorer.score("Thanks, that fixed it!")
    assert isinstance(result, SentimentScore)
    assert result.scorer == "local" == scorer.name
    assert result.scorer_version == scorer.version and scorer.version
    assert result.label == "positive"
    assert -1 <= result.score <= 1 and 0 <= result.frustration <= 1 and 0 <= result.urgency <= 1


def test_default_scorer_is_cached():
    assert default_scorer() is default_scorer()


@pytest.mark.parametrize(
    "text",
    [
        "Third time asking. This is unacceptable.",
        "still no refund after 3 weeks, I want to cancel",
        "third time asking, still no refund for order 4411",
        "I've been on hold for 2 hours and nobody has got back to me. Taking my business elsewhere.",
        "WHERE IS MY ORDER?? I have emailed you five times!!!",
    ],
)
def test_flat_complaints_reach_escalation(scorer, text):
    result = scorer.score(text)
    assert result.frustration >= FRUSTRATION_THRESHOLD, result
    assert result.label == "negative", result
    assert result.cues, result


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "Can I change the delivery address on my order?",
        "Hi, what are your opening hours on Saturday?",
        "Could you send me a copy of my invoice please?",
    ],
)
def test_neutral_questions_are_calm(scorer, text):
    result = scorer.score(text)
    assert result.frustration < 0.3, result
    assert -0.3 < result.score < 0.3, result
    assert result.urgency < 0.5, result


@pytest.mark.parametrize(
    "text",
    [
        "Thank you so much, the agent was wonderful and fixed everything!",
        "Love the new app, great job!",
        "Quick response and friendly staff, really appreciate it.",
    ],
)
def test_praise_is_positive(scorer, text):
    result = scorer.score(text)
    assert result.score > 0.3, result
    assert result.label == "positive"
    assert result.frustration < 0.3, result


def test_complaint_ranks_above_question(scorer):
    complaint = scorer.score("third time asking, still no refund for order 4411")
    question = scorer.score("When will my refund for order 4411 arrive?")
    assert complaint.frustration > question.frustration + 0.4
    assert complaint.score < question.score


def test_sarcasm_is_negative(scorer):
    result = scorer.score("Great, another outage. Just what I needed.")
    assert result.label == "negative", result
    assert result.score < -0.2, result
    plain = scorer.score("Great, thanks!")
    assert plain.label == "positive"


def test_negation(scorer):
    assert scorer.score("not bad at all").label != "negative"
    assert scorer.score("not bad at all").score > scorer.score("bad").score + 0.3
    not_happy = scorer.score("I am not happy with this")
    assert not_happy.label == "negative"
    assert not_happy.score < scorer.score("I am happy with this").score - 0.3


def test_intensifiers_and_shouting_raise_intensity(scorer):
    calm = scorer.score("the service was bad")
    strong = scorer.score("the service was EXTREMELY bad!!!")
    assert strong.score < calm.score
    assert strong.frustration > calm.frustration


def test_emoji(scorer):
    angry = scorer.score("😡")
    smile = scorer.score("🙂")
    assert angry.label == "negative"
    assert smile.label == "positive"
    assert angry.frustration > 0.75 > smile.frustration
    assert "😡" in angry.cues


def test_cues_explain_frustration(scorer):
    result = scorer.score("Third time asking. This is unacceptable.")
    assert 1 <= len(result.cues) <= 5
    assert "third time" in result.cues
    assert "unacceptable" in result.cues
    many = scorer.score(
        "Still waiting, third time asking, on hold for 3 hours, no response, unacceptable, "
        "I will cancel my account and leave a review!!!"
    )
    assert len(many.cues) == 5
    assert many.frustration >= CRITICAL


@pytest.mark.parametrize(
    "text",
    [
        "Our site is down and customers can't check out, we are losing money. Fix ASAP!",
        "URGENT: I was charged twice and my rent is due tomorrow",
        "The system has been offline all morning and we can't work. Deadline today.",
    ],
)
def test_urgency_rules(scorer, text):
    result = scorer.score(text)
    assert result.urgency >= 0.7, result


def test_threats_to_leave_raise_frustration(scorer):
    base = scorer.score("My order has not arrived yet.")
    threat = scorer.score("My order has not arrived yet. I am reporting you to the BBB and switching to Amazon.")
    assert threat.frustration > base.frustration + 0.2
    assert any(c in threat.cues for c in ("bbb", "switching to"))


def test_empty_and_odd_input(scorer):
    for text in ("", "   ", "????", "http://example.com", "@united"):
        result = scorer.score(text)
        assert result.label == "neutral" or abs(result.score) < 0.3
        assert result.frustration < 0.75


def test_context_is_accepted(scorer):
    result = scorer.score("still broken", context=("my router is broken", "any news?"))
    assert result.scorer == "local"
