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

from ticketpulse.sentiment.features import CHAR_NGRAMS, analyse
from ticketpulse.sentiment.base import SentimentScore

MODEL_PATH = Path(__file__).resolve().parent / "data" / "local_model.json.gz"

_MAX_CUES = 5
_MIN_CUE_WEIGHT = 0.3
# Per-word weight sums are cached (a word's features never change); cleared when this full.
_WORD_CACHE_SIZE = 100_000
_ZERO = (0.0, 0.0, 0.0)


# The slices of a padded word of length n that are its character n-grams, in the order of
# ``word_features``: all 3-grams left to right, then all 4-grams, then all 5-grams.
_CUTS: dict[int, tuple[slice, ...]] = {}


def _cuts(n: int) -> tuple[slice, ...]:
    cuts = tuple(slice(i, i + k) for k in CHAR_NGRAMS for i in range(n - k + 1))
    _CUTS[n] = cuts
    return cuts


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class LocalScorer:
    """Offline sentiment / frustration / urgency scorer. Load once, call ``score`` many times."""

    name = "local"
    # Each message is scored on its own: callers need not read the earlier messages for it.
    uses_context = False

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
        # character n-grams ("#ing ") keyed without their "#", so a word's n-grams are plain slices
        self._chars = {k[1:]: v for k, v in self._vocab.items() if k[0] == "#"}
        self._cache: dict[str, tuple[float, float, float]] = {}

    # --- pieces (also used by training) ----------------------------------------------------
    def _word(self, tok: str) -> tuple[float, float, float]:
        """Summed (neg, pos, frus) weights of one word's features (``word_features``: the word,
        its prefix, its character n-grams; summed in that order)."""
        w = self._cache.get(tok)
        if w is not None:
            return w
        vocab = self._vocab
        found = []
        v = vocab.get(tok)
        if v is not None:
            found.append(v)
        if len(tok) > 6:
            v = vocab.get("~" + tok[:5])
            if v is not None:
                found.append(v)
        # character n-grams of the padded word, looked up in their own table (keys without "#")
        p = " " + tok + " "
        n = len(p)
        cuts = _CUTS.get(n) or _cuts(n)
        found += filter(None, map(self._chars.get, map(p.__getitem__, cuts)))
        if found:
            zn, zp, zf = map(sum, zip(*found))
            w = (zn, zp, zf) if (zn or zp or zf) else _ZERO
        else:
            w = _ZERO
        cache = self._cache
        if len(cache) >= _WORD_CACHE_SIZE:
            cache.clear()
        cache[tok] = w
        return w

    def _linear(self, text: str):
        a = analyse(text, self._lexicon)
        zn, zp, zf = self._bias
        contrib: list[tuple[str, float, float]] = []  # (feature, score direction, frustration)
        add = contrib.append
        word = self._word
        tokens = a.tokens
        for tok in dict.fromkeys(tokens):  # distinct, in order of first appearance
            w = word(tok)
            if w is not _ZERO:
                zn += w[0]
                zp += w[1]
                zf += w[2]
                add((tok, -w[0], w[2]))
        if len(tokens) > 1:
            get = self._vocab.get
            seen: set[str] | None = None
            for bg in [x + " " + y for x, y in zip(tokens, tokens[1:])]:
                w = get(bg)
                if w is not None:
                    if seen is None:
                        seen = {bg}
                    elif bg in seen:
                        continue
                    else:
                        seen.add(bg)
                    zn += w[0]
                    zp += w[1]
                    zf += w[2]
                    add((bg, -w[0], w[2]))
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
    def raw(self, text: str) -> tuple[float, float, float, tuple[str, ...]]:
        """(score, frustration, urgency, cues) before SentimentScore rounds them."""
        a, zn, zp, zf, contrib = self._linear(text or "")
        score = self.score_of(self.negativity(a, zn, zp))
        frus_cues = a.frus_cues
        z_frus = (zf + self._frus_rules * sum([w for _, w in frus_cues]) + self._frus_neg * zn
                  + self._frus_offset)
        frustration = _sigmoid(z_frus)
        urg_cues = a.urg_cues
        urgency = 1.0 - math.exp(-sum([w for _, w in urg_cues])) if urg_cues else 0.0
        cues = self._cues(a, contrib, score, frustration, urgency)
        return score, frustration, urgency, cues

    def score(self, text: str, context: Sequence[str] = ()) -> SentimentScore:
        score, frustration, urgency, cues = self.raw(text)
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
        get = weights.get
        lo = _MIN_CUE_WEIGHT
        # each cue keeps its largest weight (>= _MIN_CUE_WEIGHT) over everything that names it
        if frustration >= 0.5:
            for cue, w in a.frus_cues:
                if w >= lo and cue and w > get(cue, 0.0):
                    weights[cue] = w
            for f, _, w in contrib:
                if w >= lo and w > get(f, 0.0):
                    weights[f] = w
        if score <= -0.05 or score >= 0.05:
            if score < 0:
                for cue, v in a.val_cues:
                    w = -v / 2.0
                    if w >= lo and cue and w > get(cue, 0.0):
                        weights[cue] = w
                for f, d, _ in contrib:
                    if -d >= lo and -d > get(f, 0.0):
                        weights[f] = -d
            else:
                for cue, v in a.val_cues:
                    w = v / 2.0
                    if w >= lo and cue and w > get(cue, 0.0):
                        weights[cue] = w
                for f, d, _ in contrib:
                    if d >= lo and d > get(f, 0.0):
                        weights[f] = d
        if urgency >= 0.5:
            for cue, w in a.urg_cues:
                if w >= lo and cue and w > get(cue, 0.0):
                    weights[cue] = w
        if not weights:
            return ()
        chosen: list[str] = []
        lowered: list[str] = []
        for cue in sorted(weights, key=lambda c: (-weights[c], c)):
            low = cue.lower()
            if low[0] == "~" or any(low in c or c in low for c in lowered):
                continue
            chosen.append(cue)
            lowered.append(low)
            if len(chosen) == _MAX_CUES:
                break
        return tuple(chosen)


@lru_cache(maxsize=1)
def default_scorer() -> LocalScorer:
    """The shipped model, loaded once per process."""
    return LocalScorer()
