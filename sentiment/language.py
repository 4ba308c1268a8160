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

# Frequent English words: a real English message of MIN_WORDS+ words nearly always has one.
_ENGLISH = frozenset("""a about after again all also am an and any are as at be been but by can
cant could did do does dont for from get got had has have he hello help her hey hi his how i if
im in is it its ive just me my no not now of on one or our out please so still that the their them
there they this thanks thank to too up us very was we were what when where which who why will with
would yes yet you your""".split())
_NOISE = re.compile(r"@\w+|#\w+|https?://\S+|www\.\S+")
_WORD = re.compile(r"[^\W\d_]+")
_identifier = None
_lock = threading.Lock()


def _suspicion(text: str) -> str | None:
    """"script" (mostly non-ASCII letters), "words" (almost no English function words), or None."""
    cleaned = _NOISE.sub(" ", text).lower()
    words = _WORD.findall(cleaned)
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
