"""The score every scorer returns, and the interface scorers implement."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol, Sequence

LABELS = ("negative", "neutral", "positive")

# Where the label flips; shared by every scorer so that label and score never disagree.
NEGATIVE_BELOW = -0.05
POSITIVE_ABOVE = 0.05


def label_for(score: float) -> str:
    if score <= NEGATIVE_BELOW:
        return "negative"
    if score >= POSITIVE_ABOVE:
        return "positive"
    return "neutral"


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass(frozen=True)
class SentimentScore:
    """One message's score.

    score: sentiment, -1 (very negative) .. 1 (very positive).
    frustration: 0..1, how fed up the customer is (anger, repetition, waiting, threats to leave).
    urgency: 0..1, time pressure and impact (outage, deadline, money lost, legal).
    cues: the few words or phrases that moved the score most, for the escalation note.
    scorer / scorer_version: which scorer produced it; fallback_reason says why a fallback
    scorer was used instead of the configured one.
    """

    score: float
    frustration: float
    urgency: float
    label: str = ""
    cues: tuple[str, ...] = ()
    scorer: str = ""
    scorer_version: str = ""
    fallback_reason: str | None = None
    # The language code when the scorer could not read the message (the numbers are then 0, and
    # the message stays out of the escalation rules).
    unsupported_language: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # clamp() written out: this runs for every message scored
        set_field = object.__setattr__
        score = round(max(-1.0, min(1.0, float(self.score))), 4)
        set_field(self, "score", score)
        set_field(self, "frustration", round(max(0.0, min(1.0, float(self.frustration))), 4))
        set_field(self, "urgency", round(max(0.0, min(1.0, float(self.urgency))), 4))
        set_field(self, "label", label_for(score))
        if type(self.cues) is not tuple:
            set_field(self, "cues", tuple(self.cues))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cues"] = list(self.cues)
        if not data["extra"]:
            del data["extra"]
        if data["fallback_reason"] is None:
            del data["fallback_reason"]
        if data["unsupported_language"] is None:
            del data["unsupported_language"]
        return data


class Scorer(Protocol):
    """Scores one cleaned customer message.

    context: the customer's earlier messages on the same ticket, oldest first (already
    cleaned). Scorers may ignore it; the LLM scorer uses it.
    """

    name: str
    version: str

    def score(self, text: str, context: Sequence[str] = ()) -> SentimentScore: ...
