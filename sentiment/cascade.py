"""The cascade: the local scorer first, the LLM only where its answer could change a decision.

Escalation turns on per-message numbers (config.thresholds): frustration against
frustration_threshold (0.75), critical_frustration_threshold (0.9) and
unanswered_frustration_threshold (0.6, read only on a message written again before an agent
reply: so not on the customer's first message, which has no context; the scorer cannot see the
replies, so any later one counts as unanswered), and the sentiment score against
negative_score_threshold (-0.6). A local result within `band` of any of them is sent to the LLM,
whose answer then decides, so near the thresholds the cascade reaches the decisions that
LLM-for-everything would. A local result far from every threshold is kept: a second opinion could
not plausibly move it across one.

When the LLM fails, the local result is returned with the LLM's failure as `fallback_reason`.
`llm_share()` says which fraction of messages went to the LLM.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Sequence

from ticketpulse.sentiment.base import Scorer, SentimentScore
from ticketpulse.sentiment.llm import LLMFailure, OpenAIScorer
from ticketpulse import metrics
from ticketpulse.config import Thresholds

log = logging.getLogger("ticketpulse.scoring")


class CascadeScorer:
    name = "cascade"

    def __init__(
        self,
        local: Scorer,
        llm: OpenAIScorer,
        thresholds: Thresholds = Thresholds(),
        band: float = 0.15,
    ) -> None:
        self.local = local
        self.llm = llm
        self.thresholds = thresholds
        self.band = band
        self.version = f"{getattr(local, 'version', '?')}+{llm.version}"
        self._lock = threading.Lock()
        self._seen = 0
        self._to_llm = 0

    def route(self, local: SentimentScore, context: Sequence[str] = ()) -> str | None:
        """Why `local` needs the LLM (a short phrase), or None when it can be kept. `context`, the
        customer's earlier messages: without one this is the first, which unanswered_frustration
        never reads (it needs unanswered_messages >= 2 in a row)."""
        if local.unsupported_language:
            return f"language {local.unsupported_language}: the local scorer reads English only"
        thresholds = self.thresholds
        distances = [
            (abs(local.frustration - thresholds.frustration_threshold), "frustration near frustration_threshold"),
            (
                abs(local.frustration - thresholds.critical_frustration_threshold),
                "frustration near critical_frustration_threshold",
            ),
            *([(
                abs(local.frustration - thresholds.unanswered_frustration_threshold),
                "frustration near unanswered_frustration_threshold",
            )] if context else []),
            (abs(local.score - thresholds.negative_score_threshold), "score near negative_score_threshold"),
        ]
        # Rounded: in floats 0.75 - 0.6 is 0.15000000000000002, which would put a result exactly
        # `band` from a threshold outside the band (scores are rounded to 4 places, so they hit it).
        near = [distance for distance in distances if round(distance[0], 9) <= self.band]
        return min(near)[1] if near else None  # the nearest threshold

    def score(self, text: str, context: Sequence[str] = ()) -> SentimentScore:
        local = self.local.score(text, context)
        why = self.route(local, context)
        with self._lock:
            self._seen += 1
            if why:
                self._to_llm += 1
        if why is None:
            metrics.CASCADE_MESSAGES.labels(route="local").inc()
            return local
        metrics.CASCADE_MESSAGES.labels(route="llm").inc()
        log.debug("cascade: asking the LLM (%s)", why)
        try:
            result = self.llm.score_llm(text, context)
        except LLMFailure as failure:
            metrics.SCORING_FALLBACKS.labels(reason=failure.kind).inc()
            log.warning("cascade kept the local score: %s", failure.reason)
            return replace(local, fallback_reason=failure.reason)
        return replace(result, extra={**result.extra, "cascade": why})

    # -- the LLM share ---------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"messages": self._seen, "llm": self._to_llm, "local": self._seen - self._to_llm}

    def llm_share(self) -> float:
        """Fraction of the messages scored so far (by this scorer) that were sent to the LLM."""
        with self._lock:
            return self._to_llm / self._seen if self._seen else 0.0
