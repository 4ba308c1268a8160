"""The offline scorer: a small linear model plus support-domain rules, in pure Python.

What the three numbers mean
---------------------------
score (-1..1)
    Sentiment. A logistic regression over words, word bigrams, 5-letter prefixes, character
    3-5-grams within words and lexicon features, trained on GoEmotions (negative group), gives
    the negativity logit; support-domain phrase valence ("on hold", "no refund", "not bad") is
    added to it; positive evidence (P(pos) of a second head and the lexicon compound) counts only
    for messages the model finds clearly not negative, and the lexicon's negative intensity only
    for those it finds clearly negative, so the ranking of ordinary text is kept. A strictly
    decreasing piecewise-linear map fitted to the VADER tweet ratings turns that into -1..1; a
    median neutral comment scores 0, clearly angry complaints fall below -0.6.

frustration (0..1)
    How fed up the customer is: anger and annoyance (the trained model, same features, target
    anger or annoyance), plus rules added in logit space for
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
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from sentiment._features import analyse, bigram_features, word_features
from sentiment.base import SentimentScore

MODEL_PATH = Path(__file__).resolve().parent / "data" / "local_model.json.gz"

_MAX_CUES = 5
_MIN_CUE_WEIGHT = 0.3
# Per-word weight sums are cached (a word's features never change); cleared when this full.
_WORD_CACHE_SIZE = 100_000
_ZERO = (0.0, 0.0, 0.0)


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
        if model.get("format") != 4:
            raise ValueError(f"local model format {model.get('format')!r}; this code reads format 4")
        self.version: str = str(model.get("version", "dev"))
        self._lexicon: dict[str, float] = model["lexicon"]
        self._vocab: dict[str, tuple[float, float, float]] = {k: tuple(v) for k, v in model["vocab"].items()}
        self._dense = tuple(zip(model["dense"]["neg"], model["dense"]["pos"], model["dense"]["frus"]))
        self._bias = (model["bias"]["neg"], model["bias"]["pos"], model["bias"]["frus"])
        sm = model["score_map"]
        self._gate_at: float = sm["gate_at"]
        self._gate_slope: float = sm["gate_slope"]
        self._pos_w: float = sm["pos"]
        self._comp_w: float = sm["compound"]
        self._rule_w: float = sm["rule"]
        self._neg_gate_at: float = sm["neg_gate_at"]
        self._neg_int: float = sm["neg_intensity"]
        self._knots_u: list[float] = sm["knots_u"]
        self._knots_s: list[float] = sm["knots_s"]
        self._tail: float = sm["tail"]
        fm = model["frustration_map"]
        self._frus_neg: float = fm["neg"]
        self._frus_rules: float = fm["rules"]
        self._frus_offset: float = fm["offset"]
        self._cache: dict[str, tuple[float, float, float]] = {}

    # --- pieces (also used by training) ----------------------------------------------------
    def _word(self, tok: str) -> tuple[float, float, float]:
        """Summed (neg, pos, frus) weights of one word's features: word, prefix, char n-grams."""
        w = self._cache.get(tok)
        if w is not None:
            return w
        vocab = self._vocab
        n = p = f = 0.0
        for feat in word_features(tok):
            v = vocab.get(feat)
            if v is not None:
                n += v[0]
                p += v[1]
                f += v[2]
        w = (n, p, f) if (n or p or f) else _ZERO
        if len(self._cache) >= _WORD_CACHE_SIZE:
            self._cache.clear()
        self._cache[tok] = w
        return w

    def _linear(self, text: str):
        a = analyse(text, self._lexicon)
        zn, zp, zf = self._bias
        contrib: list[tuple[str, float, float]] = []  # (feature, score direction, frustration)
        seen: set[str] = set()
        word = self._word
        for tok in a.tokens:
            if tok in seen:
                continue
            seen.add(tok)
            w = word(tok)
            if w is not _ZERO:
                zn += w[0]
                zp += w[1]
                zf += w[2]
                contrib.append((tok, -w[0], w[2]))
        vocab = self._vocab
        for bg in bigram_features(a.tokens):
            w = vocab.get(bg)
            if w is not None:
                zn += w[0]
                zp += w[1]
                zf += w[2]
                contrib.append((bg, -w[0], w[2]))
        for v, (dn, dp, df) in zip(a.dense, self._dense):
            if v:
                zn += dn * v
                zp += dp * v
                zf += df * v
        return a, zn, zp, zf, contrib

    def parts(self, text: str) -> dict:
        """The raw pieces the maps combine (for training and analysis)."""
        a, zn, zp, zf, _ = self._linear(text)
        return {"zn": zn, "zp": zp, "zf": zf, "compound": a.compound, "rule_val": a.rule_val,
                "sarcasm": a.sarcasm, "frus_rules": sum(w for _, w in a.frus_cues)}

    def negativity(self, a, zn: float, zp: float) -> float:
        """u: the negativity logit, plus support-domain phrase valence, minus positive evidence
        (P(pos) and the lexicon compound) gated to messages the model finds clearly not negative
        (so it reorders only those), plus the lexicon's negative intensity gated to messages it
        finds clearly negative. score = a decreasing map of u."""
        u = zn - self._rule_w * a.rule_val
        g = _sigmoid(self._gate_slope * (self._gate_at - zn))
        if g > 1e-4:
            pos = 0.0 if a.sarcasm else self._pos_w * _sigmoid(zp)
            u -= g * (pos + self._comp_w * a.compound)
        if a.compound < 0.0 and self._neg_int:
            # intensity among clearly negative messages: "a little disappointed" vs "absolutely
            # unacceptable, useless" (reorders only what the model already finds negative)
            u -= _sigmoid(self._gate_slope * (zn - self._neg_gate_at)) * self._neg_int * a.compound
        return u

    def score_of(self, u: float) -> float:
        """The monotone (decreasing) map from u to the -1..1 sentiment scale."""
        ku, ks = self._knots_u, self._knots_s
        if u <= ku[0]:
            return ks[0] + (0.99 - ks[0]) * math.tanh((ku[0] - u) * self._tail)
        if u >= ku[-1]:
            return ks[-1] - (0.99 + ks[-1]) * math.tanh((u - ku[-1]) * self._tail)
        i = bisect_right(ku, u) - 1
        t = (u - ku[i]) / (ku[i + 1] - ku[i])
        return ks[i] + t * (ks[i + 1] - ks[i])

    # --- the scorer ------------------------------------------------------------------------
    def score(self, text: str, context: Sequence[str] = ()) -> SentimentScore:
        a, zn, zp, zf, contrib = self._linear(text or "")
        score = self.score_of(self.negativity(a, zn, zp))
        z_frus = (zf + self._frus_rules * sum(w for _, w in a.frus_cues) + self._frus_neg * zn
                  + self._frus_offset)
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
