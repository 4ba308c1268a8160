"""A comment of nothing but zero-width or other invisible characters (which `str.strip` keeps) has
no words: it is an empty comment, skipped, not scored like a calm message."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ticketpulse.escalation.comments import AuthorRole, skip_reason
from ticketpulse.models import Comment, Score
from ticketpulse.runtime import build_runtime
from ticketpulse.sentiment.clean import clean_text
from tests.scripted_scorer import ScriptedScorer
from tests.zendesk_helpers import comment_event, post_zendesk

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c\u200d",  # zero-width non-joiner, joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte order mark / zero-width no-break space
    "\u200b \n\t\u200b\u00a0",  # with whitespace around
    "\u00ad\u200e\u202e\u2066\ufe0f\u3164",  # soft hyphen, bidi marks, a variation selector, Hangul filler
    "\U000e0041\U000e007f",  # tag characters
    "\x00\x1b",  # control characters
    "<p>&#8203;</p><div>&zwnj;&NoBreak;</div>",  # HTML that renders them
]


@pytest.mark.parametrize("body", INVISIBLE)
def test_a_comment_of_only_invisible_characters_cleans_to_nothing(body):
    assert clean_text(body) == ""


@pytest.mark.parametrize("body", INVISIBLE)
def test_a_comment_of_only_invisible_characters_is_skipped_as_empty(body):
    reason = skip_reason(is_public=True, author_role=AuthorRole.CUSTOMER, text=clean_text(body))

    assert reason == "empty comment"


@pytest.mark.parametrize("body", [
    "\u200bStill broken\u200b",
    "\U0001f469\u200d\U0001f4bb down again",  # an emoji sequence held together by a joiner
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: the non-joiner is part of the word
    "\U0001f620",  # an angry face alone says something
])
def test_words_among_invisible_characters_are_kept_as_they_are(body):
    assert clean_text(body) == body
    assert skip_reason(is_public=True, author_role=AuthorRole.CUSTOMER, text=clean_text(body)) is None


def test_a_zero_width_comment_through_the_webhook_is_skipped_by_the_worker_unscored(
        client, sessions, config, environment, engine):
    scorer = ScriptedScorer({})
    runtime = build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks={})
    event = comment_event("48213", "700", "\u200b\u200b\ufeff", time="2025-03-05T10:00:00Z")

    assert post_zendesk(client, event).status_code == 202
    runtime.worker.drain()

    with sessions() as session:
        [comment] = session.scalars(select(Comment)).all()
        assert (comment.status, comment.reason) == ("skipped", "empty comment")
        assert session.scalars(select(Score)).all() == []
    assert scorer.calls == []
