"""The offline scorer: a small linear model plus support-domain rules, in pure Python.

What the three numbers mean
---------------------------
score (-1..1)
    Sentiment. Three logistic regressions over word uni/bigrams and lexicon features, trained on
    GoEmotions (negative group, positive group), give P(neg) and P(pos); a VADER-style lexicon
    pass (negation, boosters, capitals, "but", exclamation marks, emoji, sarcasm markers, plus
    this project's support-domain words and phrases such as "delayed", "on hold", "no refund")
    gives a compound. A least-squares stack fitted to the VADER human ratings maps the three to
    the -1..1 scale. "not bad at all" comes out positive-ish, "not happy" negative, a sarcastic
    "Great, another outage. Just what I needed." negative.

frustration (0..1)
    How fed up the customer is: anger and annoyance (the trained model; target anger or
    annoyance, with disgust / disappointment / disapproval as half), plus rules for
    repetition ("again", "third time", "still no", "as I said"), waiting ("3 weeks",
    "no response", "on hold", "nobody got back"), shouting (runs of capitals, "!!"), and threats
    to leave or complain publicly ("cancel my account", "switching to", "BBB", "lawyer",
    "review", "never flying with you again"). Polite plain questions lower it. The offset is set
    so that about 10 % of GoEmotions dev comments reach 0.75 (the default escalation
    threshold); "Third time asking. This is unacceptable." is above 0.9, "How do I reset my
    password?" is far below 0.75.

urgency (0..1)
    Time pressure and impact, rules only (no labelled data): outage / down / offline, "can't
    work / log in / pay", deadlines and "today / tonight / in 2 hours", business or money
    lost, charged twice, fraud / hacked, legal, safety, "urgent / ASAP / immediately", and a
    little for shouting. urgency = 1 - exp(-evidence).

cues
    Up to five words or phrases that moved the result most (frustration first, then the
    sentiment direction), e.g. ("third time", "unacceptable", "still").
"""

from __future__ import annotations

import gzip
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from sentiment._features import analyse, features_for_model
from sentiment.base import SentimentScore

MODEL_PATH = Path(__file__).resolve().parent / "data" / "local_model.json.gz"

# Support-domain phrase rules ("on hold", "no refund", "not bad", sarcasm) also move the score
# directly: this much per unit of VADER-scale valence (a design choice, not fitted).
RULE_SCORE_WEIGHT = 0.06
_MAX_CUES = 5
_MIN_CUE_WEIGHT = 0.3


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class LocalScorer:
    """Offline sentiment / frustration / urgency scorer. Load once, call ``score`` many times."""

    name = "local"

    def __init__(self, model_path: str | Path | None = None, model: dict | None = None):
        if model is None:
            path = Path(model_path) if model_path else MODEL_PATH
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                model = json.load(fh)
        self.version: str = str(model.get("version", "dev"))
        self._lexicon: dict[str, float] = model["lexicon"]
        self._vocab: dict[str, list[float]] = model["vocab"]
        self._dense = (model["dense"]["neg"], model["dense"]["pos"], model["dense"]["frus"])
        self._bias = (model["bias"]["neg"], model["bias"]["pos"], model["bias"]["frus"])
        self._stack: list[float] = model["stack"]
        self._frus_offset: float = model["frustration_offset"]
        self._frus_neg: float = model.get("frustration_neg", 0.0)

    # --- pieces (also used by training) ----------------------------------------------------
    def _linear(self, text: str):
        a = analyse(text, self._lexicon)
        zn, zp, zf = self._bias
        contrib: list[tuple[str, float, float]] = []  # (feature, score direction, frustration)
        vocab = self._vocab
        seen = set()
        for f in features_for_model(a.tokens):
            if f in seen:
                continue
            seen.add(f)
            w = vocab.get(f)
            if w is not None:
                zn += w[0]
                zp += w[1]
                zf += w[2]
                contrib.append((f, w[1] - w[0], w[2]))
        dn, dp, df = self._dense
        for k, v in enumerate(a.dense):
            if v:
                zn += dn[k] * v
                zp += dp[k] * v
                zf += df[k] * v
        return a, zn, zp, zf, contrib

    def stack_inputs(self, text: str) -> list[float]:
        a, zn, zp, _, _ = self._linear(text)
        return self._stack_inputs(a, zn, zp)

    @staticmethod
    def _stack_inputs(a, zn: float, zp: float) -> list[float]:
        """[P(pos), P(neg), compound], the positive evidence gated by 1 - P(neg)."""
        p_pos = _sigmoid(zp)
        if a.sarcasm:
            p_pos *= 0.3
        p_neg = _sigmoid(zn)
        return [p_pos * (1.0 - p_neg), p_neg, a.compound * (1.0 - p_neg)]

    def frustration_parts(self, text: str) -> tuple[float, float]:
        """(frustration logit + rules, negativity logit) before mixing and offset."""
        a, zn, _, zf, _ = self._linear(text)
        return zf + sum(w for _, w in a.frus_cues), zn

    # --- the scorer ------------------------------------------------------------------------
    def score(self, text: str, context: Sequence[str] = ()) -> SentimentScore:
        a, zn, zp, zf, contrib = self._linear(text or "")
        st = self._stack
        x = self._stack_inputs(a, zn, zp)
        score = st[0] + st[1] * x[0] + st[2] * x[1] + st[3] * x[2] + RULE_SCORE_WEIGHT * a.rule_val
        z_frus = zf + sum(w for _, w in a.frus_cues) + self._frus_neg * zn + self._frus_offset
        frustration = _sigmoid(z_frus)
        urgency = 1.0 - math.exp(-sum(w for _, w in a.urg_cues)) if a.urg_cues else 0.0
        cues = self._cues(a, contrib, score, frustration, urgency)
        return SentimentScore(
            score=score,
            frustration=frustration,
            urgency=max(0.0, urgency),
            cues=cues,
            scorer=self.name,
            scorer_version=self.version,
        )

    @staticmethod
    def _cues(a, contrib, score: float, frustration: float, urgency: float) -> tuple[str, ...]:
        weights: dict[str, float] = {}

        def add(cue: str, w: float) -> None:
            if cue and w >= _MIN_CUE_WEIGHT and w > weights.get(cue, 0.0):
                weights[cue] = w

        if frustration >= 0.5:
            for cue, w in a.frus_cues:
                add(cue, w)
            for f, _, w in contrib:
                add(f, w)
        direction = -1.0 if score < 0 else 1.0
        if abs(score) >= 0.05:
            for cue, v in a.val_cues:
                add(cue, direction * v / 2.0)
            for f, d, _ in contrib:
                add(f, direction * d)
        if urgency >= 0.5:
            for cue, w in a.urg_cues:
                add(cue, w)
        chosen: list[str] = []
        for cue in sorted(weights, key=lambda c: (-weights[c], c)):
            low = cue.lower()
            if low[0] == "~" or any(low in c.lower() or c.lower() in low for c in chosen):
                continue
            chosen.append(cue)
            if len(chosen) == _MAX_CUES:
                break
        return tuple(chosen)


@lru_cache(maxsize=1)
def default_scorer() -> LocalScorer:
    """The shipped model, loaded once per process."""
    return LocalScorer()
