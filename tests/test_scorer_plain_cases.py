"""The offline scorer on plain cases a support lead would check by hand.

The rubric (shared/data/support_conversations/RUBRIC.md): a plain request to cancel is calm, a
THREAT to cancel, sue or report is extreme, and so are heavy profanity (also when masked with
asterisks), insults and acute distress. A message on its own goes through the real scorer,
tracker and rules with the default thresholds.
"""

from datetime import datetime, timezone

import pytest

from ticketpulse.config import Thresholds
from ticketpulse.escalation.rules import decide
from ticketpulse.escalation.tracker import ScorePoint, track
from ticketpulse.sentiment.local import default_scorer

DEFAULTS = Thresholds()
T0 = datetime(2026, 12, 8, 9, tzinfo=timezone.utc)


def score(text):
    return default_scorer().score(text)


def decision_for(text):
    """What the rules decide on a ticket whose one customer message is `text`."""
    s = score(text)
    point = ScorePoint(T0, s.score, s.frustration, s.urgency, unanswered=1)
    trajectory = track([point], window=DEFAULTS.trend_window, delta=DEFAULTS.trend_delta,
                       negative_threshold=DEFAULTS.negative_score_threshold)
    return decide(trajectory, DEFAULTS)


CALM_REQUESTS = [
    "How do I cancel my account?",
    "Please cancel my subscription.",
    "I'm moving to another country, please cancel my plan.",
    "Is there a lawyer-approved template for the contract?",
    "Could you close my account please?",
    "I'd like to end my membership at the end of the month.",
]


@pytest.mark.parametrize("text", CALM_REQUESTS)
def test_a_plain_request_to_cancel_or_a_lawyer_named_in_passing_is_calm_and_escalates_nothing(text):
    assert score(text).frustration < DEFAULTS.frustration_threshold
    assert decision_for(text) is None


@pytest.mark.parametrize("text", [
    "Please cancel my subscription.",
    "I'm moving to another country, please cancel my plan.",
])
def test_a_cue_is_the_customers_words_never_a_label_they_did_not_write(text):
    assert "cancel my account" not in score(text).cues


EXTREME = [
    "F*** this. I want to speak to a manager right now.",
    "I'm going to sue you.",
    "You're a bunch of incompetent idiots.",
    "This is a scam. I'm reporting you to my bank and the FTC.",
    "I can't take this anymore, I'm in tears, my business is ruined",
]


@pytest.mark.parametrize("text", EXTREME)
def test_a_plain_level_3_message_is_critical(text):
    assert score(text).frustration >= DEFAULTS.critical_frustration_threshold
    assert decision_for(text).severity == "critical"


@pytest.mark.parametrize("text", [
    "Fix it or I cancel my account",
    "Fix this today or we'll cancel our subscription.",
    "I'm cancelling my plan.",
    "I'm going to close my account if nobody answers.",
])
def test_a_threat_to_cancel_still_escalates(text):
    assert score(text).frustration >= DEFAULTS.frustration_threshold
    assert decision_for(text) is not None


def test_a_threat_to_cancel_shows_the_customers_words_as_its_cue():
    assert "or i cancel my account" in score("Fix it or I cancel my account").cues
    assert "cancelling my plan" in " ".join(score("I'm cancelling my plan.").cues)


def test_a_masked_swear_word_counts_as_the_word_and_is_shown_as_written():
    masked, plain = score("F*** this. I want to speak to a manager right now."), score(
        "fuck this. I want to speak to a manager right now.")
    assert masked.frustration == pytest.approx(plain.frustration)
    assert "f***" in masked.cues and "fuck" not in masked.cues


@pytest.mark.parametrize("text", ["5* rating, great app", "**Note** the invoice is attached", "1 m*king time"])
def test_an_asterisk_that_hides_no_swear_word_changes_nothing(text):
    from ticketpulse.sentiment.features import normalise

    assert normalise(text) == text


def test_a_lawyer_named_without_a_threat_is_no_threat_but_a_direct_legal_threat_is():
    assert score("My lawyer says the template is fine, where do I sign?").frustration < 0.75
    assert score("You will hear from my lawyer. I'm going to sue you.").frustration >= 0.9


@pytest.mark.parametrize("text", ["where is my refund???", "Where can I download the invoice?",
                                  "How do I export my invoices?"])
def test_a_question_with_no_positive_word_is_not_labelled_positive(text):
    assert score(text).label != "positive"


def test_an_annoyed_question_keeps_its_frustration():
    # the label follows the score; the "??" and "where is my" still read as annoyance
    assert score("where is my refund???").frustration >= 0.75


def test_a_question_with_thanks_is_still_positive():
    assert score("Thanks so much! Where can I download the invoice?").label == "positive"
