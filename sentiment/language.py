"""Which messages are not English: the offline scorer's model and rules read English only.

A cheap test first (``looks_non_english``: almost no English function words, or mostly
non-ASCII words), so ordinary English messages never pay for detection; only those go to
py3langid (langid.py's model of 97 languages, shipped inside its wheel: nothing is downloaded).
A message is called non-English only when py3langid is confident; short or mixed messages
stay English.
"""

from __future__ import annotations

import re
import threading

SUPPORTED = frozenset({"en"})  # what the local scorer reads
MIN_WORDS = 3  # shorter messages ("hola", "PS4 pls") are too short to tell
MIN_CONFIDENCE = 0.9  # py3langid's normalised probability for the language it names
MIN_SCRIPT_CONFIDENCE = 0.5  # the same for text mostly in a non-Latin script

# Frequent English words: a real English message of MIN_WORDS+ words nearly always has several.
_ENGLISH = frozenset("""a about after again all also always am an and any anyone are as ask asked at
away back bad be because been before being best better but buy by call can cant check could day days
did didnt do does doesnt done dont down each even ever every few fix for from get gets getting give go
going good got great had has have having he hello help her here hey hi him his how i if im in into is
isnt it its ive just keep know last like long look love made make many me minutes more most much my
need never new next no not nothing now of off ok okay old on once one only or order other our out
over paid please problem really received right said same say says see sent service should since so
some someone still such sure take than thank thanks that the their them then there these they thing
think this those through time to today too took tried try trying two up us use used very want was
wasnt way we week well were what when where which while who why will with without wont work working
would wrong year yes yet you your""".split())
_NOISE = re.compile(r"@\w+|#\w+|https?://\S+|www\.\S+")
_WORD = re.compile(r"[^\W\d_]+")
_identifier = None
_lock = threading.Lock()


def _suspicion(text: str) -> str | None:
    """"script" (mostly non-ASCII letters), "words" (almost no English function words), or None."""
    lowered = text.lower()
    if lowered.isascii():  # the common case, in C: plain ASCII with English words in it
        tokens = lowered.split()
        if len(tokens) < MIN_WORDS or len(_ENGLISH.intersection(tokens)) * 5 >= len(tokens):
            return None
    words = _WORD.findall(_NOISE.sub(" ", lowered))
    letters = sum(len(word) for word in words)
    if letters >= 6 and sum(1 for ch in "".join(words) if not ch.isascii()) * 2 >= letters:
        return "script"  # Cyrillic, CJK, Arabic, ...: no English model reads it
    if len(words) < MIN_WORDS:
        return None
    if sum(1 for word in words if word in _ENGLISH) * 5 < len(words):
        return "words"
    return None


def looks_non_english(text: str) -> bool:
    """True when a message may not be English (then ``detect_language`` decides)."""
    return _suspicion(text) is not None


def _detector():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def detect_language(text: str) -> str | None:
    """The language code of a message the local scorer cannot read, or None (English, or unsure)."""
    suspicion = _suspicion(text)
    if suspicion is None:
        return None
    language, confidence = _detector().classify(_NOISE.sub(" ", text))
    # In a non-Latin script the text is not English whatever the model's runner-up says.
    needed = MIN_SCRIPT_CONFIDENCE if suspicion == "script" else MIN_CONFIDENCE
    if language in SUPPORTED or confidence < needed:
        return None
    return language


def preload() -> None:
    """Load the detector's model now (about a second of CPU) instead of at the first suspect message."""
    _detector()
