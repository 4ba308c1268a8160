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
    to leave or complain publicly, said as threats ("or I cancel my account", "switching to",
    "BBB", "going to sue you", "review", "never flying with you again"; "please cancel my plan"
    is a calm request), and the rubric's extreme cues (profanity, masked too: "F***",
    insults, several shouted words, a demand shouted in capitals ("FIX THIS"), tagging a
    regulator (@bbb_us), "worst ... ever", demands for a manager, acute distress
    about lost money, photos or health), and the rubric's level-2 annoyance the model misses (a
    word stressed in capitals: "NOT", "WHY", "HELP"; "constantly", "every single"; "no solution",
    "not ... yet"; a broken promise: "you promised", "was supposed to"); each cue text counts once.
    Hashtags in capitals are labels, not shouting. Polite plain questions
    lower it; describing a problem ("not working", "can't log in", "keeps crashing") barely
    raises it (a calm report is lifted just above a plain question, up to a ceiling far below
    any threshold: rubric level 1 above level 0; "having trouble", "compromised", "nothing
    happens", "please help me recover it" count as describing a problem too). The logit is then calibrated on real
    support conversations (``calibrate``):
    0.75 is where a message becomes more likely frustrated (rubric level >= 2) than not, 0.9
    where extreme (level 3) messages make most of what reaches it. "Third time asking. This
    is unacceptable." is above 0.75, "WORST SERVICE EVER ... reporting you to the BBB" above
    0.9, "How do I reset my password?" and a polite "still waiting" far below 0.75. About 13 %
    of GoEmotions test comments reach 0.75 and under 1 % reach 0.9.

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

import ctypes
import gc
import gzip
import hashlib
import json
from array import array
import math
import sys
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ticketpulse.sentiment.features import CHAR_NGRAMS, analyse, masked_spellings
from ticketpulse.sentiment.rules import PROBLEM_REPORT_CEILING, PROBLEM_REPORT_LIFT
from ticketpulse.sentiment.base import SentimentScore, label_for
from ticketpulse.sentiment.language import detect_language

MODEL_PATH = Path(__file__).resolve().parent / "data" / "local_model.json.gz"

_MAX_CUES = 5
_MIN_CUE_WEIGHT = 0.3
# Per-word weight sums are cached (a word's features never change); cleared when this full.
_WORD_CACHE_SIZE = 100_000
_ZERO = (0.0, 0.0, 0.0)

# Calibration of frustration on support conversations (see ``calibrate``): fitted on the support
# dev split by bench/cv_calibration.py (cross-validated by conversation, 5 folds x 4 seeds).
CAL_T2 = 0.929  # raw logit z -> frustration 0.75: where level >= 2 becomes as likely as not,
#                 raised until at most 2.5 % of calm/mild conversations reach it
CAL_T3 = 6.47  # raw logit above which critical precision stays >= 0.75 -> frustration 0.9 (the
#                all-dev fit is 6.33 today; the higher cut is kept: critical precision 0.833 vs 0.786)
CAL_LOW_SLOPE = 1.0  # below CAL_T2 the raw logit keeps its own scale, shifted (calm stays calm)
# A plain question's positive score is multiplied by this (``asked_score``): below the positive
# label's 0.05 even at the scale's top, 0.99.
PLAIN_QUESTION_SHRINK = 0.05
_LOGIT_75 = math.log(3.0)
_LOGIT_90 = math.log(9.0)


# The slices of a padded word of length n that are its character n-grams, in the order of
# ``word_features``: all 3-grams left to right, then all 4-grams, then all 5-grams.
_CUTS: dict[int, tuple[slice, ...]] = {}


def _cuts(n: int) -> tuple[slice, ...]:
    cuts = tuple(slice(i, i + k) for k in CHAR_NGRAMS for i in range(n - k + 1))
    _CUTS[n] = cuts
    return cuts


def _evidence(cues) -> float:
    """Sum of the rule weights, each cue text counted once (its largest weight): "still ...
    still waiting" is one "still", not three."""
    if len(cues) < 2:
        return cues[0][1] if cues else 0.0
    best: dict[str, float] = {}
    for cue, w in cues:
        b = best.get(cue)
        if b is None or w > b:
            best[cue] = w
    return sum(best.values())


@lru_cache(maxsize=1)
def rules_digest() -> str:
    """Six hex digits over the scoring code besides the model file (the rules, the text
    analysis, this module with its calibration constants): a stored score names the code that
    made it, also when only a rule changed."""
    from ticketpulse.sentiment import features, rules

    digest = hashlib.sha256()
    for module in (rules, features, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:6]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Weights:
    """The model's (neg, pos, frus) weight per feature, held compactly: a dict from feature to row
    and one array of doubles (a dict of 87,000 tuples of three floats took about three times the
    memory). `get` answers the same tuple of the same floats the JSON held.
    """

    __slots__ = ("_rows", "_values")

    def __init__(self, weights: dict[str, Sequence[float]] | None = None, *, rows=None, values=None) -> None:
        if weights is not None:
            # Fresh copies of the keys: the parsed JSON's own strings sit among its freed lists and
            # floats, and would keep that memory from going back to the OS.
            rows = {_fresh(feature): row for row, feature in enumerate(weights)}
            values = array("d")
            for triple in weights.values():
                values.extend(triple)
        self._rows: dict[str, int] = rows
        self._values: array = values

    @property
    def row_of(self):
        """feature -> its row (or None): the dict's own lookup, for the scorer's hot loop."""
        return self._rows.get

    @property
    def values(self) -> array:
        """(neg, pos, frus) of row r at 3r, 3r + 1, 3r + 2."""
        return self._values

    def get(self, feature: str, default=None):
        row = self._rows.get(feature)
        if row is None:
            return default
        values, at = self._values, 3 * row
        return (values[at], values[at + 1], values[at + 2])

    def prefixed(self, prefix: str) -> "Weights":
        """The features that start with `prefix`, keyed without it (sharing this one's array)."""
        cut = len(prefix)
        rows = {feature[cut:]: row for feature, row in self._rows.items() if feature.startswith(prefix)}
        return Weights(rows=rows, values=self._values)

    def __contains__(self, feature: str) -> bool:
        return feature in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def items(self):
        return ((feature, self.get(feature)) for feature in self._rows)


def _fresh(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


def release_freed_memory() -> None:
    """Hand the memory freed after loading the model (the parsed JSON) back to the OS: glibc keeps
    freed heap pages otherwise, and the process's RSS stays at the load's peak."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


class LocalScorer:
    """Offline sentiment / frustration / urgency scorer. Load once, call ``score`` many times."""

    name = "local"
    # Each message is scored on its own: callers need not read the earlier messages for it.
    uses_context = False

    def __init__(self, model_path: str | Path | None = None, model: dict | None = None):
        loaded = model is None
        if loaded:
            path = Path(model_path) if model_path else MODEL_PATH
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                model = json.load(fh)
        if model.get("format") != 4:
            raise ValueError(f"local model format {model.get('format')!r}; this code reads format 4")
        # The model file's version plus a digest of the scoring code (``rules_digest``), so stored
        # scores say which scoring made them also when only a rule changed.
        self.version: str = f"{model.get('version', 'dev')}.{rules_digest()}"
        self._lexicon: dict[str, float] = model["lexicon"]
        self._vocab = Weights(model["vocab"])
        self._dense = tuple(zip(model["dense"]["neg"], model["dense"]["pos"], model["dense"]["frus"]))
        self._bias = (model["bias"]["neg"], model["bias"]["pos"], model["bias"]["frus"])
        score_map = model["score_map"]
        self._gate_at: float = score_map["gate_at"]
        self._gate_slope: float = score_map["gate_slope"]
        self._pos_w: float = score_map["pos"]
        self._comp_w: float = score_map["compound"]
        self._rule_w: float = score_map["rule"]
        self._neg_gate_at: float = score_map["neg_gate_at"]
        self._neg_int: float = score_map["neg_intensity"]
        self._knots_u: list[float] = score_map["knots_u"]
        self._knots_s: list[float] = score_map["knots_s"]
        self._tail: float = score_map["tail"]
        frustration_map = model["frustration_map"]
        self._frus_neg: float = frustration_map["neg"]
        self._frus_rules: float = frustration_map["rules"]
        self._frus_offset: float = frustration_map["offset"]
        # character n-grams ("#ing ") keyed without their "#", so a word's n-grams are plain slices
        self._chars = self._vocab.prefixed("#")
        self._cache: dict[str, tuple[float, float, float]] = {}
        if loaded:
            del model
            release_freed_memory()

    # --- pieces (also used by training) ----------------------------------------------------
    def _word(self, tok: str) -> tuple[float, float, float]:
        """Summed (neg, pos, frus) weights of one word's features (``word_features``: the word,
        its prefix, its character n-grams; summed in that order)."""
        w = self._cache.get(tok)
        if w is not None:
            return w
        row_of = self._vocab.row_of
        found = []  # rows of the word's features, in the order they are summed
        row = row_of(tok)
        if row is not None:
            found.append(row)
        if len(tok) > 6:
            row = row_of("~" + tok[:5])
            if row is not None:
                found.append(row)
        # character n-grams of the padded word, looked up in their own table (keys without "#")
        padded = " " + tok + " "
        n = len(padded)
        cuts = _CUTS.get(n) or _cuts(n)
        found += [row for row in map(self._chars.row_of, map(padded.__getitem__, cuts)) if row is not None]
        if found:
            values = self._vocab.values
            neg_logit = pos_logit = frus_logit = 0.0
            for row in found:
                at = 3 * row
                neg_logit += values[at]
                pos_logit += values[at + 1]
                frus_logit += values[at + 2]
            w = (neg_logit, pos_logit, frus_logit) if (neg_logit or pos_logit or frus_logit) else _ZERO
        else:
            w = _ZERO
        cache = self._cache
        if len(cache) >= _WORD_CACHE_SIZE:
            cache.clear()
        cache[tok] = w
        return w

    def _linear(self, text: str):
        analysis = analyse(text, self._lexicon)
        neg_logit, pos_logit, frus_logit = self._bias
        contributions: list[tuple[str, float, float]] = []  # (feature, score direction, frustration)
        add = contributions.append
        word = self._word
        cached = self._cache.get  # most words are known: skip the call into _word for them
        tokens = analysis.tokens
        for tok in dict.fromkeys(tokens):  # distinct, in order of first appearance
            w = cached(tok) or word(tok)
            if w is not _ZERO:
                neg_logit += w[0]
                pos_logit += w[1]
                frus_logit += w[2]
                add((tok, -w[0], w[2]))
        if len(tokens) > 1:
            # most bigrams are not in the vocabulary: look up rows, read values only for hits
            row_of = self._vocab.row_of
            values = self._vocab.values
            seen: set[str] | None = None
            for bigram in [x + " " + y for x, y in zip(tokens, tokens[1:])]:
                row = row_of(bigram)
                if row is not None:
                    if seen is None:
                        seen = {bigram}
                    elif bigram in seen:
                        continue
                    else:
                        seen.add(bigram)
                    at = 3 * row
                    neg_logit += values[at]
                    pos_logit += values[at + 1]
                    frus_logit += values[at + 2]
                    add((bigram, -values[at], values[at + 2]))
        for v, (dn, dp, df) in zip(analysis.dense, self._dense):
            if v:
                neg_logit += dn * v
                pos_logit += dp * v
                frus_logit += df * v
        return analysis, neg_logit, pos_logit, frus_logit, contributions

    def parts(self, text: str) -> dict:
        """The raw pieces the maps combine (for training and analysis)."""
        analysis, neg_logit, pos_logit, frus_logit, _ = self._linear(text)
        return {"zn": neg_logit, "zp": pos_logit, "zf": frus_logit, "compound": analysis.compound, "rule_val": analysis.rule_val,
                "sarcasm": analysis.sarcasm, "frus_rules": sum(w for _, w in analysis.frus_cues)}

    def negativity(self, analysis, neg_logit: float, pos_logit: float) -> float:
        """u: the negativity logit, plus support-domain phrase valence, minus positive evidence
        (P(pos) and the lexicon compound) gated to messages the model finds clearly not negative
        (so it reorders only those), plus the lexicon's negative intensity gated to messages it
        finds clearly negative. score = a decreasing map of u."""
        negativity_logit = neg_logit - self._rule_w * analysis.rule_val
        gate = _sigmoid(self._gate_slope * (self._gate_at - neg_logit))
        if gate > 1e-4:
            pos = 0.0 if analysis.sarcasm else self._pos_w * _sigmoid(pos_logit)
            negativity_logit -= gate * (pos + self._comp_w * analysis.compound)
        if analysis.compound < 0.0 and self._neg_int:
            # intensity among clearly negative messages: "a little disappointed" vs "absolutely
            # unacceptable, useless" (reorders only what the model already finds negative)
            negativity_logit -= _sigmoid(self._gate_slope * (neg_logit - self._neg_gate_at)) * self._neg_int * analysis.compound
        return negativity_logit

    def score_of(self, negativity_logit: float) -> float:
        """The monotone (decreasing) map from u to the -1..1 sentiment scale."""
        knots_u, knots_s = self._knots_u, self._knots_s
        if negativity_logit <= knots_u[0]:
            return knots_s[0] + (0.99 - knots_s[0]) * math.tanh((knots_u[0] - negativity_logit) * self._tail)
        if negativity_logit >= knots_u[-1]:
            return knots_s[-1] - (0.99 + knots_s[-1]) * math.tanh((negativity_logit - knots_u[-1]) * self._tail)
        i = bisect_right(knots_u, negativity_logit) - 1
        t = (negativity_logit - knots_u[i]) / (knots_u[i + 1] - knots_u[i])
        return knots_s[i] + t * (knots_s[i + 1] - knots_s[i])

    # --- the scorer ------------------------------------------------------------------------
    def frustration_inputs(self, text: str) -> tuple[float, float]:
        """(raw frustration logit, negativity logit) before calibration (for fitting)."""
        analysis, neg_logit, pos_logit, frus_logit, _ = self._linear(text or "")
        return self._frustration_logit(analysis, neg_logit, frus_logit), self.negativity(analysis, neg_logit, pos_logit)

    def _frustration_logit(self, analysis, neg_logit: float, frus_logit: float) -> float:
        """The raw (uncalibrated) frustration logit: the model's head, the rules' evidence, a
        share of the negativity; a calm problem report lifted above a plain question, up to a
        ceiling well below any threshold."""
        frus_total = (frus_logit + self._frus_rules * _evidence(analysis.frus_cues)
                      + self._frus_neg * neg_logit + self._frus_offset)
        if analysis.problem_report and frus_total < PROBLEM_REPORT_CEILING:
            frus_total = min(frus_total + PROBLEM_REPORT_LIFT, PROBLEM_REPORT_CEILING)
        return frus_total

    @staticmethod
    def calibrate(frus_total: float) -> float:
        """The calibrated frustration logit from the model + rules logit: a monotone,
        piecewise-linear map in logit space fitted on support conversations (so the ranking,
        and every AUC, is unchanged). An ordinal logistic regression of the customer-message
        level (0-3 by RUBRIC.md) on the raw logit gives the cut-point where level >= 2
        becomes as likely as not; CAL_T2 is that cut, raised until at most 2.5 % of the calm or
        mild conversations reach it (a calm problem report is not escalated), and maps to 0.75 (the default frustration threshold) and
        below it the raw logit keeps its scale, only shifted (a plain question lands near
        0.1-0.3, a calm problem report or a polite "still waiting" near 0.4-0.6). Above CAL_T2
        the line rises to 0.9 (the critical threshold) at CAL_T3, the lowest raw logit above
        which extreme (level 3) conversations make at least 75 % of those reaching it."""
        if frus_total <= CAL_T2:
            return _LOGIT_75 + CAL_LOW_SLOPE * (frus_total - CAL_T2)
        return _LOGIT_75 + (frus_total - CAL_T2) * ((_LOGIT_90 - _LOGIT_75) / (CAL_T3 - CAL_T2))

    @staticmethod
    def asked_score(analysis, pos_logit: float, score: float) -> float:
        """A question to support ("Where can I download the invoice?", "where is my refund???")
        with no positive word, that the model does not find positive either, asks: it is
        neutral, not praise. Its positive score is shrunk into the neutral band, keeping the
        order among such questions (a cap at 0 tied them: GoEmotions AUC 0.8810 -> 0.8795)."""
        if score > 0.0 and analysis.asks and not analysis.dense[1] and pos_logit < 0.0:
            return PLAIN_QUESTION_SHRINK * score
        return score

    def raw(self, text: str) -> tuple[float, float, float, tuple[str, ...]]:
        """(score, frustration, urgency, cues) before SentimentScore rounds them."""
        analysis, neg_logit, pos_logit, frus_logit, contributions = self._linear(text or "")
        score = self.asked_score(analysis, pos_logit, self.score_of(self.negativity(analysis, neg_logit, pos_logit)))
        frustration = _sigmoid(self.calibrate(self._frustration_logit(analysis, neg_logit, frus_logit)))
        urg_cues = analysis.urg_cues
        urgency = 1.0 - math.exp(-sum([w for _, w in urg_cues])) if urg_cues else 0.0
        cues = self._cues(analysis, contributions, score, frustration, urgency)
        return score, frustration, urgency, cues

    def score(self, text: str, context: Sequence[str] = ()) -> SentimentScore:
        language = detect_language(text)  # cheap unless the text looks non-English
        if language is not None:
            return SentimentScore(score=0.0, frustration=0.0, urgency=0.0, scorer=self.name,
                                  scorer_version=self.version, unsupported_language=language)
        score, frustration, urgency, cues = self.raw(text)
        if cues and "*" in text:  # a masked word is shown as written ("f***"), not as read
            spelt = masked_spellings(text)
            cues = tuple(" ".join(spelt.get(w, w) for w in cue.split(" ")) for cue in cues)
        return SentimentScore(
            score=score,
            frustration=frustration,
            urgency=max(0.0, urgency),
            cues=cues,
            scorer=self.name,
            scorer_version=self.version,
        )

    @staticmethod
    def _cues(analysis, contributions, score: float, frustration: float, urgency: float) -> tuple[str, ...]:
        weights: dict[str, float] = {}
        get = weights.get
        min_weight = _MIN_CUE_WEIGHT
        # each cue keeps its largest weight (>= _MIN_CUE_WEIGHT) over everything that names it
        if frustration >= 0.5:
            for cue, w in analysis.frus_cues:
                if w >= min_weight and cue and w > get(cue, 0.0):
                    weights[cue] = w
            for f, _, w in contributions:
                if w >= min_weight and w > get(f, 0.0):
                    weights[f] = w
        if label_for(score) != "neutral":
            if score < 0:
                for cue, v in analysis.val_cues:
                    w = -v / 2.0
                    if w >= min_weight and cue and w > get(cue, 0.0):
                        weights[cue] = w
                for f, d, _ in contributions:
                    if -d >= min_weight and -d > get(f, 0.0):
                        weights[f] = -d
            else:
                for cue, v in analysis.val_cues:
                    w = v / 2.0
                    if w >= min_weight and cue and w > get(cue, 0.0):
                        weights[cue] = w
                for f, d, _ in contributions:
                    if d >= min_weight and d > get(f, 0.0):
                        weights[f] = d
        if urgency >= 0.5:
            for cue, w in analysis.urg_cues:
                if w >= min_weight and cue and w > get(cue, 0.0):
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
