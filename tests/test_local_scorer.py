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


# --- support-domain sanity list (written for this project, not taken from any data set) --------
FLAT_COMPLAINTS = [
    "third time asking, still no refund for order 4411",
    "my flight was cancelled and no one will help",
    "been on hold for 2 hours",
    "I've emailed you four times and nobody has replied",
    "still waiting for my replacement card after 3 weeks",
    "cancelled my flight again, no explanation, no compensation",
    "I have been waiting 45 minutes for someone to pick up",
    "why has nobody called me back? this is ridiculous",
]
ANGRY = [
    "This is the worst service ever, I'm furious",
    "Absolutely unacceptable, you people are useless",
    "You are a joke of a company. I hate you.",
    "I am so angry right now, this is a disgrace",
]
MILD = [
    "The delivery was a bit late.",
    "I'm a little disappointed with the packaging.",
    "My order hasn't arrived yet, any update?",
    "The wifi on the plane was spotty.",
]
NEGATIVE_SCORE = -0.6  # the default negative_score_threshold of the escalation rules


@pytest.mark.parametrize("text", FLAT_COMPLAINTS)
def test_flat_support_complaints_are_frustrated_and_negative(scorer, text):
    result = scorer.score(text)
    assert result.frustration >= FRUSTRATION_THRESHOLD, result
    assert result.score <= -0.2, result


@pytest.mark.parametrize("text", ANGRY)
def test_clearly_angry_messages_pass_the_negative_score_threshold(scorer, text):
    result = scorer.score(text)
    assert result.score < NEGATIVE_SCORE, result
    assert result.frustration >= CRITICAL, result


@pytest.mark.parametrize("text", MILD)
def test_mild_complaints_stay_above_the_negative_score_threshold(scorer, text):
    result = scorer.score(text)
    assert NEGATIVE_SCORE < result.score < 0.05, result


def test_angry_below_mild_below_flat_questions(scorer):
    worst_mild = min(scorer.score(t).score for t in MILD)
    assert max(scorer.score(t).score for t in ANGRY) < worst_mild


def test_redaction_placeholders_are_not_shouting(scorer):
    assert "CAPITALS" not in scorer.score("[NAME] said it would be done by now, still nothing").cues
    assert "CAPITALS" in scorer.score("WHERE IS MY REFUND").cues


def test_word_cache_does_not_change_results():
    fresh = LocalScorer()
    texts = FLAT_COMPLAINTS + ANGRY + MILD
    first = [fresh.score(t) for t in texts]
    assert fresh._cache  # filled
    again = [fresh.score(t) for t in texts]
    cold = [LocalScorer().score(t) for t in texts]
    assert first == again == cold


def test_score_map_is_strictly_monotone(scorer):
    us = [x / 10.0 for x in range(-120, 121)]
    scores = [scorer.score_of(u) for u in us]
    assert all(a > b for a, b in zip(scores, scores[1:]))
    assert -1.0 < scores[-1] and scores[0] < 1.0
