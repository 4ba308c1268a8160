"""Which messages are not English: the offline scorer's model and rules read English only.

A cheap test first (``looks_non_english``: almost no English function words, or mostly
non-ASCII words), so ordinary English messages never pay for detection; only those go to
py3langid (langid.py's model of 97 languages, shipped inside its wheel: nothing is downloaded).
A message is called non-English only when py3langid is confident; short or mixed messages
stay English: a customer's own English sentences next to a pasted foreign error or reply make
the message English (the scorer reads its English words).

The model is 70 MB unpacked. Read from the wheel's compressed file it costs every process that
meets a suspect message 0.6 s and 78 MB of private memory; so it is unpacked once per user into
a cache directory and memory-mapped from there (``mapped_identifier``): 10 ms, and one copy in the
page cache that all processes share (clean pages, which the kernel can drop under pressure).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from ticketpulse.sentiment.clean import plain_letters

SUPPORTED = frozenset({"en"})  # what the local scorer reads
# py3langid's label for text with no language in it (ids, hex, hashes, a pasted log): an English
# message quoting one ("Still failing!!! request ids: 3f2a…") is not a message the scorer cannot read.
NO_LANGUAGE = "zxx"
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
# English words that are also among the commonest words of Spanish, Portuguese, Italian, French,
# German or Dutch ("no", "me", "a": es/pt/it; "on": fr; "was", "will", "also": de; "is", "we": nl),
# or greetings every language borrows: they count only next to an English word of no other
# language, so a Spanish "no me ha llegado" still goes to the detector.
_SHARED = frozenset("""a am an also at bad come do for hello her hey hi i in is me most no of ok okay on
once over see so was we will""".split())
_NOISE = re.compile(r"@\w+|#\w+|https?://\S+|www\.\S+")
_WORD = re.compile(r"[^\W\d_]+")
# Where a message's sentences and lines end, in Latin and CJK punctuation.
_SEGMENT_END = re.compile(r"(?<=[.!?:;。！？])\s*|\n+")
_identifier = None
_lock = threading.Lock()
log = logging.getLogger("ticketpulse.sentiment")


def _suspicion(text: str) -> str | None:
    """"script" (mostly non-ASCII letters), "words" (almost no English function words), or None."""
    lowered = text.lower()
    if lowered.isascii():  # the common case, in C: plain ASCII with English words in it
        tokens = lowered.split()
        if len(tokens) < MIN_WORDS or _english_enough(list(_ENGLISH.intersection(tokens)), len(tokens)):
            return None
    words = _WORD.findall(_NOISE.sub(" ", lowered))
    letters = sum(len(word) for word in words)
    if letters >= 6 and sum(1 for ch in "".join(words) if not ch.isascii()) * 2 >= letters:
        return "script"  # Cyrillic, CJK, Arabic, ...: no English model reads it
    if len(words) < MIN_WORDS:
        return None
    if not _english_enough([word for word in words if word in _ENGLISH], len(words)):
        return "words"
    return None


def _english_enough(english: list[str], words: int) -> bool:
    """A fifth of the words are English ones, and not all of them words other languages share."""
    return len(english) * 5 >= words and not _SHARED.issuperset(english)


def looks_non_english(text: str) -> bool:
    """True when a message may not be English (then ``detect_language`` decides)."""
    return _suspicion(plain_letters(text)) is not None


def _detector():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            try:
                from py3langid.langid import MODEL_DIR

                _identifier = mapped_identifier(MODEL_DIR / MODEL_FILE, cache_root())
            except Exception as exc:  # no writable cache, or a py3langid we do not know
                log.warning("language model not memory-mapped (%s): loaded into this process", exc)
                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


_ARRAYS = ("ptc", "pc", "nextmove", "nextmove_row", "out_feat")


def cache_root() -> Path:
    """Where the unpacked model is kept: $XDG_CACHE_HOME/ticketpulse, else ~/.cache/ticketpulse."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ticketpulse"


_CACHED_MODEL = "py3langid-"


def mapped_identifier(model_file: Path, root: Path):
    """py3langid's identifier on the model's arrays memory-mapped from `root` (unpacked there on first use).

    The copy is named after the model's content (6 ms to hash): every virtualenv and reinstall of
    the same py3langid shares one, and unpacking a new model removes the copies of older ones."""
    key = hashlib.sha256(model_file.read_bytes()).hexdigest()[:16]
    directory = root / f"{_CACHED_MODEL}{key}"
    if directory.exists():
        try:
            return _identifier_from(directory)
        except Exception as exc:
            # Set aside, not rewritten in place: other processes may have its files mapped.
            log.warning("language model in %s is damaged (%s): unpacking it again", directory, exc)
            aside = Path(tempfile.mkdtemp(prefix=".damaged-", dir=root))
            try:
                directory.rename(aside / "model")
            except FileNotFoundError:  # another process set it aside first
                pass
            shutil.rmtree(aside, ignore_errors=True)
    if not directory.exists():
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _exclusive(root):  # processes starting together unpack 70 MB once, not once each
            if not directory.exists():
                _unpack(model_file, directory)
                _remove_other_models(root, keep=directory)
    return _identifier_from(directory)


def _remove_other_models(root: Path, keep: Path) -> None:
    """Older models' copies (67 MB each). A process still mapping one keeps its pages; one that
    loads it later finds it gone and unpacks its model again."""
    for stale in root.glob(f"{_CACHED_MODEL}*"):
        if stale != keep and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
            log.info("language model copy %s removed: %s is the current model", stale.name, keep.name)


@contextmanager
def _exclusive(directory: Path):
    """An exclusive flock on the directory itself (no lock file to leave behind); the kernel
    releases it if the process dies."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _identifier_from(directory: Path):
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    ptc, pc, nextmove, rows, outputs = (np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                                        for name in _ARRAYS)
    classes = json.loads((directory / "classes.json").read_text(encoding="utf-8"))
    rows = rows.tolist()
    if not (nextmove.ndim == 1 and nextmove.size % 256 == 0 and max(rows) < nextmove.size // 256
            and outputs.shape == (len(rows),) and ptc.ndim == 2 and ptc.shape[1] == len(pc) == len(classes)):
        raise ValueError(f"the arrays in {directory} do not fit together")
    # The DFA walk indexes one byte at a time: a memoryview answers with plain ints, as fast as
    # the array py3langid builds, without copying the 39 MB table.
    return LanguageIdentifier(ptc, np.asarray(pc), classes, memoryview(nextmove), memoryview(outputs),
                              norm_probs=True, tk_row=rows)


def _unpack(model_file: Path, directory: Path) -> None:
    """Write the model's arrays as .npy files, on disk before a rename makes them visible: a crash
    leaves no directory (and a process that skipped the lock and raced would simply lose the rename)."""
    import lzma

    import numpy as np

    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=directory.parent))
    try:
        # Unpacked to a file first: a zip is read from its end, and seeking in an LZMA stream
        # decompresses it again from the start.
        with lzma.open(model_file) as packed, open(staging / "model.npz", "w+b") as unpacked:
            shutil.copyfileobj(packed, unpacked, length=1 << 20)
        with np.load(staging / "model.npz", allow_pickle=False) as data:
            missing = set(_ARRAYS).union({"classes"}).difference(data.files)
            if missing:
                raise ValueError(f"{model_file}: no {sorted(missing)} in the model")
            for name in _ARRAYS:
                array = data[name].reshape(-1) if name == "nextmove" else data[name]
                _write_durably(staging / f"{name}.npy", lambda file: np.save(file, np.ascontiguousarray(array)))
            classes = json.dumps(data["classes"].tolist()).encode()
            _write_durably(staging / "classes.json", lambda file: file.write(classes))
        (staging / "model.npz").unlink()
        _fsync_directory(staging)
        try:
            staging.rename(directory)
            _fsync_directory(directory.parent)
            log.info("language model unpacked to %s", directory)
        except OSError:
            if not directory.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_durably(path: Path, write) -> None:
    with open(path, "wb") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def detect_language(text: str) -> str | None:
    """The language code of a message the local scorer cannot read, or None (English, or unsure)."""
    text = plain_letters(text)  # py3langid reads fullwidth ＳＴＩＬＬ as another script (Cantonese)
    suspicion = _suspicion(text)
    if suspicion is None:
        return None
    language, confidence = _detector().classify(_NOISE.sub(" ", text))
    # In a non-Latin script the text is not English whatever the model's runner-up says.
    needed = MIN_SCRIPT_CONFIDENCE if suspicion == "script" else MIN_CONFIDENCE
    if language in SUPPORTED or language == NO_LANGUAGE or confidence < needed:
        return None
    if _writes_english_too(text, language):
        return None
    return language


def _writes_english_too(text: str, language: str) -> bool:
    """Whether the sentences py3langid does not give to `language` are English ones of at least
    MIN_WORDS words: "Third time!! Your app shows: <a German error message>" is the customer's
    English around a quote; a German message's stray "OK." or "Thanks." is not."""
    detector = _detector()
    others = []
    for segment in _SEGMENT_END.split(_NOISE.sub(" ", text)):
        if _WORD.search(segment) and detector.classify(segment)[0] != language:
            others.append(segment)
    rest = " ".join(others)
    return len(_WORD.findall(rest)) >= MIN_WORDS and detector.classify(rest)[0] in SUPPORTED


def preload() -> None:
    """Load the detector's model now (about a second of CPU) instead of at the first suspect message."""
    _detector()
