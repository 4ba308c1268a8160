"""The customer's own lawyer named in an ordinary sentence is no legal threat: 2c1857c's
"my lawyer will|is|has ..." read any verb after it as one, at critical strength."""
import pytest

from ticketpulse.sentiment.local import LocalScorer

_SCORER = LocalScorer()


@pytest.mark.parametrize("text", [
    "My lawyer will review the contract next week, no rush.",
    "Our attorney has the signed copy.",
])
def test_my_lawyer_in_an_ordinary_sentence_is_not_a_critical_threat(text):
    assert _SCORER.score(text).frustration < 0.75


@pytest.mark.parametrize("text", [
    "My lawyer will be in touch.",
    "My lawyer is on it.",
    "Our solicitors have been instructed.",
])
def test_my_lawyer_acting_against_the_company_is_still_a_legal_threat(text):
    assert _SCORER.score(text).frustration >= 0.85
