"""A scorer whose answers the test decides, so pipeline tests don't depend on model quality."""

from __future__ import annotations

from typing import Sequence

from ticketpulse.sentiment import SentimentScore


class ScriptedScorer:
    name = "scripted"
    version = "1"

    def __init__(self, answers: dict[str, tuple[float, float, float]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def score(self, text: str, context: Sequence[str] = ()) -> SentimentScore:
        self.calls.append((text, tuple(context)))
        score, frustration, urgency = self.answers.get(text, (0.0, 0.1, 0.1))
        return SentimentScore(score=score, frustration=frustration, urgency=urgency, cues=("scripted",),
                              scorer=self.name, scorer_version=self.version)
