"""Text analysis shared by the local scorer and its training script.

Everything here is pure Python and runs once per message:

- ``analyse(text, lexicon)`` tokenises, runs a light VADER-style lexicon pass (negation,
  boosters, capitals, "but", exclamation marks, emoji) and the support-domain phrase rules, and
  returns an ``Analysis`` with the tokens the linear model looks up, a few dense features and the
  rule contributions (with their cue text) for negativity, frustration and urgency.

The word lists and phrase rules live in ``sentiment/rules.py``; they are this project's own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ticketpulse.sentiment import rules as R

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w])@\w+")
_HASHTAG = re.compile(r"(?<![\w])#\w+")
_APOS = re.compile(r"[\u2019\u2018`´]")
# A word with letters masked by asterisks ("F***", "sh*t", "f**king") reads as the profanity it
# spells: the same length and the same visible letters (R.MASKED_PROFANITY, mildest first).
# The tail is atomic: "[A-Za-z*]*" after "\*+" backtracked quadratically on a long run of
# asterisks followed by a digit or "_" (20 KB: 12 s); it can only end where the run ends anyway.
_MASKED = re.compile(r"(?<![\w*])[A-Za-z]+\*(?>[A-Za-z*]*)(?![\w*])")
# Redaction placeholders such as "[NAME]", "[EMAIL]", "[REDACTED]" are not shouting.
_PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]*)\]")
_TOKEN = re.compile(
    r"""
    (?<![\w])[:;=8][\-o'^]?[)(\]\[dpDP/\\|*3]+(?![\w])   # emoticons :) :-( ;D :/
    | <3
    | [A-Za-z0-9]+(?:'[A-Za-z]+)*                       # words, contractions
    | [\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2764]   # emoji (one code point)
    | !+ | \?+
    """,
    re.VERBOSE,
)
_NUMBER = re.compile(r"^\d+(?:st|nd|rd|th|s)?$")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
_TWO_CAPITALS = re.compile(r"[A-Z]{2}")
_DIGITS = frozenset("0123456789")  # a token can only be a number if it starts with one

DENSE_NAMES = ("lex_comp", "lex_pos", "lex_neg", "exclaim", "question", "caps", "length")


@dataclass
class Analysis:
    tokens: list[str]  # lowercased model tokens
    dense: list[float]  # values for DENSE_NAMES
    compound: float
    sarcasm: bool
    rule_val: float = 0.0  # valence of the support-domain phrase rules alone
    problem_report: bool = False  # describes a problem or failure (rubric level 1)
    # (cue text, weight) lists; weights are in each target's own units
    val_cues: list[tuple[str, float]] = field(default_factory=list)
    frus_cues: list[tuple[str, float]] = field(default_factory=list)
    urg_cues: list[tuple[str, float]] = field(default_factory=list)
    asks: bool = False  # a question to support: "?" with a question opening ("where can I") or "??"


def _unmask(match: re.Match) -> str:
    masked = match.group(0)
    low = masked.lower()
    for word in R.MASKED_PROFANITY:
        if len(word) == len(low) and all(c == "*" or c == w for c, w in zip(low, word)):
            return word.upper() if masked.isupper() and len(masked.replace("*", "")) > 1 else word
    return masked


def masked_spellings(text: str) -> dict[str, str]:
    """{word read: as the customer wrote it} for the masked words of ``text`` ("fuck": "f***"),
    so that a cue shows the customer's own spelling."""
    out = {}
    for m in _MASKED.finditer(text):
        word = _unmask(m)
        if word != m.group(0):
            out[word.lower()] = m.group(0).lower()
    return out


def normalise(text: str) -> str:
    # Each pass runs only when the characters it needs are there: most messages need none.
    if "*" in text:
        text = _MASKED.sub(_unmask, text)
    if "`" in text or not text.isascii():
        text = _APOS.sub("'", text)
    if "://" in text or "www." in text.lower():
        text = _URL.sub(" ", text)
    if "[" in text:
        text = _PLACEHOLDER.sub(lambda m: m.group(1).lower(), text)
    return _MENTION.sub(" ", text) if "@" in text else text


def model_tokens(raw_tokens: list[str]) -> list[str]:
    out = []
    append = out.append
    number = _NUMBER.match
    elongated = _ELONGATED.search
    for tok in raw_tokens:
        low = tok.lower()
        c = low[0]
        if c == "!":
            low = "!"
        elif c == "?":
            low = "?"
        elif c in _DIGITS and number(low):
            low = "<num>"
        elif len(low) > 3 and elongated(low):
            low = _ELONGATED.sub(r"\1\1", low)
        append(low)
    return out


CHAR_NGRAMS = (3, 4, 5)


def distinct(tokens: list[str]) -> list[str]:
    """The tokens without repeats, in order of first appearance."""
    seen: set[str] = set()
    out = []
    for t in tokens:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def word_features(tok: str) -> list[str]:
    """What one distinct word contributes to the linear model (format 4): the word itself, its
    5-letter prefix ("~annoy") when longer than 6, and its character 3- to 5-grams within the
    word, padded by a space on each side (" ann", "ing "), prefixed with "#"."""
    feats = [tok]
    if len(tok) > 6:
        feats.append("~" + tok[:5])
    p = " " + tok + " "
    n = len(p)
    for k in CHAR_NGRAMS:
        for i in range(n - k + 1):
            feats.append("#" + p[i:i + k])
    return feats


def bigram_features(tokens: list[str]) -> list[str]:
    """Word bigrams, each once."""
    return distinct([a + " " + b for a, b in zip(tokens, tokens[1:])])


def _is_negator(tok: str) -> bool:
    return tok in R.NEGATORS or tok.endswith("n't")


def analyse(text: str, lexicon: dict[str, float]) -> Analysis:
    norm = normalise(text)
    raw = _TOKEN.findall(norm)
    tokens = model_tokens(raw)
    phrase_words = [t for t in tokens if t != "!" and t != "?"]
    low_text = " " + " ".join(phrase_words) + " "

    n_excl = norm.count("!")
    has_question = "?" in norm
    # An all-capitals word of 2+ letters needs two capitals in a row somewhere in the text.
    if _TWO_CAPITALS.search(norm):
        letters_upper = [t for t in raw if len(t) > 1 and t.isalpha() and t.isupper()]
        words = [t for t in raw if t[0].isalpha()]
        mixed_case = 0 < len(letters_upper) < len(words)
        # a hashtag in capitals (#USC, #FIXIT) is a label, not shouting
        caps_run = _caps_run(_TOKEN.findall(_HASHTAG.sub(" ", norm)) if "#" in norm else raw)
        caps_many = caps_run and len({t for t in letters_upper if t not in R.CAPS_EXEMPT}) >= R.CAPS_MANY_WORDS
        shouted_demand = R.SHOUTED_DEMAND.search(norm) if caps_run else None  # "please FIX it" is emphasis
        emphasis = R.CAPS_EMPHASIS.search(norm)
    else:
        mixed_case = caps_run = caps_many = False
        shouted_demand = emphasis = None

    # --- lexicon pass (VADER-style) -------------------------------------------------------
    vals: list[float] = []
    val_cues: list[tuple[str, float]] = []
    frus_cues: list[tuple[str, float]] = []
    but_at = -1
    boosters = R.BOOSTERS
    domain_frus = R.DOMAIN_FRUSTRATION
    for i, tok in enumerate(tokens):
        if tok in ("but", "however") and but_at < 0:
            but_at = len(vals)
        v = lexicon.get(tok)
        fw = domain_frus.get(tok)
        if v is None and fw is None:
            continue
        if tok in boosters and i + 1 < len(tokens) and tokens[i + 1] in lexicon:
            continue  # "really" in "really bad" boosts; it is not a sentiment itself
        negated = False
        for j in range(max(0, i - 3), i):
            if _is_negator(tokens[j]):
                negated = True
                break
        if fw is not None and not negated:
            frus_cues.append((tok, fw))
        if v is None or v == 0.0:
            continue
        sign = 1.0 if v > 0 else -1.0
        if mixed_case and raw[i].isupper() and len(raw[i]) > 1:
            v += sign * 0.733
        for j, damp in ((1, 1.0), (2, 0.95), (3, 0.9)):
            if i - j >= 0:
                b = boosters.get(tokens[i - j])
                if b:
                    v += sign * b * damp
        if negated:
            v *= -0.74
        vals.append(v)
        val_cues.append((("not " + tok) if negated else tok, v))

    if but_at >= 0:
        vals = [v * 0.5 if k < but_at else v * 1.5 for k, v in enumerate(vals)]

    # --- phrase rules ----------------------------------------------------------------------
    sarcasm = False
    question_run = has_question and ("??" in norm or "?!" in norm or "!?" in norm)
    asks = question_run
    rule_val = 0.0
    urg_cues: list[tuple[str, float]] = []
    for m in R.phrase_matches(low_text, phrase_words):
        rule = R.PHRASE_RULES[int(m.lastgroup[1:])]
        cue = rule.cue or m.group(0).strip()
        if rule.sarcasm:
            sarcasm = True
        if rule.question and has_question:
            asks = True
        if rule.val:
            rule_val += rule.val
            vals.append(rule.val)
            val_cues.append((cue, rule.val))
        if rule.frus:
            frus_cues.append((cue, rule.frus))
        if rule.urg:
            urg_cues.append((cue, rule.urg))
    for emo in R.SARCASM_EMOJI:
        if emo in norm:
            sarcasm = True
    if sarcasm:
        # Praise words in a sarcastic message count against the speaker's mood.
        flipped = []
        for k, v in enumerate(vals):
            if v > 0:
                vals[k] = -0.5 * v
                flipped.append(k)
        for k in flipped:
            cue, v = val_cues[k] if k < len(val_cues) else ("", 0.0)
            if cue:
                val_cues[k] = (cue, -0.5 * v)
    if caps_run:
        frus_cues.append(("CAPITALS", R.CAPS_FRUSTRATION + (R.CAPS_MANY_FRUSTRATION if caps_many else 0.0)))
        urg_cues.append(("CAPITALS", R.CAPS_URGENCY))
    if shouted_demand is not None:
        frus_cues.append((shouted_demand.group(0), R.SHOUTED_DEMAND_FRUSTRATION))
    if emphasis is not None:
        frus_cues.append((emphasis.group(0), R.CAPS_EMPHASIS_FRUSTRATION))
    if "@" in text:
        regulator = R.REGULATOR_MENTION.search(text)
        if regulator is not None:
            frus_cues.append((regulator.group(0), R.REGULATOR_FRUSTRATION))
    if question_run:
        frus_cues.append(("??", R.QUESTION_RUN_FRUSTRATION))
    prof = R.PROFANITY.search(low_text)
    if prof is not None:
        frus_cues.append((prof.group(0), R.PROFANITY_FRUSTRATION))
    if n_excl >= 2:
        w = min(n_excl, 5) * R.EXCLAIM_FRUSTRATION
        frus_cues.append(("!" * min(n_excl, 3), w))
        urg_cues.append(("!" * min(n_excl, 3), R.EXCLAIM_URGENCY))

    s = sum(vals)
    pos = sum(v for v in vals if v > 0)
    neg = -sum(v for v in vals if v < 0)
    if s:
        s += math.copysign(min(n_excl, 4) * 0.292, s)
    compound = s / math.sqrt(s * s + 15.0)
    dense = [
        compound,
        min(pos, 8.0) / 4.0,
        min(neg, 8.0) / 4.0,
        min(n_excl, 4) / 4.0,
        1.0 if has_question else 0.0,
        1.0 if caps_run else 0.0,
        math.log1p(len(tokens)) / 4.0,
    ]
    return Analysis(tokens, dense, compound, sarcasm, rule_val, R.reports_a_problem(low_text, phrase_words),
                    val_cues, frus_cues, urg_cues, asks)


def _caps_run(raw: list[str]) -> bool:
    """Shouting: a word of 4+ capitals, or two capitalised words in a row (not "I", "OK")."""
    run = 0
    for tok in raw:
        if tok.isalpha() and tok.isupper() and len(tok) > 1 and tok not in R.CAPS_EXEMPT:
            if len(tok) >= 4:
                return True
            run += 1
            if run >= 2:
                return True
        elif tok[0] not in "!?":
            run = 0
    return False
