"""Non-English messages: detected offline, scored by the LLM when one is configured, otherwise
stored as "unsupported language" and kept out of the rules."""

from __future__ import annotations

import concurrent.futures
import logging
import time

import numpy
import pytest

from ticketpulse.models import Escalation, Score
from ticketpulse.sentiment import language
from ticketpulse.sentiment.base import SentimentScore
from ticketpulse.sentiment.language import detect_language, looks_non_english
from ticketpulse.sentiment.local import default_scorer
from tests.test_cascade import TableLocal, cascade, llm  # noqa: F401  (llm: fixture)
from tests.test_pipeline import fake_zendesk, rows, runtime, say, scorer  # noqa: F401  (fixtures)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ich warte seit drei Wochen auf eine Antwort! Das ist eine Frechheit.", "de"),
        ("Mi pedido no ha llegado, estoy harto de esperar", "es"),
        ("Bonjour, mon compte est bloqué depuis hier et personne ne répond", "fr"),
        ("Заказ не пришёл уже неделю", "ru"),
        ("注文した商品がまだ届きません", "ja"),
    ],
)
def test_non_english_messages_are_detected(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hola, mi pedido no ha llegado. Es la tercera vez que escribo. Me pueden ayudar? No me gusta esto.", "es"),
        ("Ya no sé qué hacer, me cobraron dos veces y nadie me responde a los correos.", "es"),
        ("O pedido não chegou. Eu paguei e ninguém me responde, é a terceira vez.", "pt"),
        ("Il mio ordine non è arrivato, è la terza volta che scrivo e nessuno mi risponde.", "it"),
        ("Mijn bestelling is nog steeds niet aangekomen, wat is er aan de hand?", "nl"),
    ],
)
def test_words_english_shares_with_other_languages_do_not_make_a_message_english(text, language):
    # "no", "me", "a", "is", "was", ...: once counted as English words, they let these through
    # to the English scorer unread by the detector.
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "Third time!! Your app shows: Fehler beim Speichern der Datei. Bitte versuchen Sie es später erneut.",
        "Useless. Your support replied: Nous avons bien reçu votre demande et nous vous répondrons dans les "
        "plus brefs délais. Merci de votre patience.",
        "Your app crashes every time: 应用程序错误，请稍后再试。请联系客服。",
    ],
)
def test_a_customers_english_around_a_pasted_foreign_text_is_scored(text):
    assert detect_language(text) is None
    result = default_scorer().score(text)
    assert result.unsupported_language is None and result.frustration > 0.3


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Thanks. Merci beaucoup pour votre aide, tout fonctionne maintenant.", "fr"),
        ("OK. Ich habe das Problem gefunden. Danke für die schnelle Hilfe!", "de"),
        ("Hi team, Je voudrais annuler ma commande numéro 12345 s'il vous plaît.", "fr"),
    ],
)
def test_a_stray_english_word_does_not_make_a_foreign_message_english(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "WORST SERVICE EVER!!! I WANT MY MONEY BACK",
        "How do I reset my password?",
        "@AdobeCare Mac OS Mojave version 10.14.5. Graphics: AMD Radeon R9 M295X 4GB",
        "PS4",
        "hola",  # too short to tell: stays English
        "Café au lait is my favourite, thanks!",
    ],
)
def test_english_and_too_short_messages_stay_english(text):
    assert detect_language(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Still failing!!! request ids: 3f2a9c1e-8b7d-4e21-9f3a-0c1d2e3f4a5b 7a8b9c0d-1e2f-3a4b-5c6d-7e8f9a0b1c2d "
        "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e",
        "0x7fff5fbff8c0 0x7fff5fbff8d0 0x00007f8e4a0b1c2d SIGSEGV segfault again wtf",
        "E11000 duplicate key error collection: prod.orders index: _id_ dup key: { _id: ObjectId('5f1d7f9b2c3e4a5b6c7d8e9f') }",
    ],
)
def test_an_english_message_quoting_ids_or_a_log_is_not_an_unsupported_language(text):
    # py3langid calls such text "zxx" (no linguistic content): not a language the scorer cannot read.
    assert detect_language(text) is None
    assert default_scorer().score(text).unsupported_language is None


@pytest.mark.parametrize(
    "text",
    [
        "Ｗｈｙ ｉｓ ｍｙ ｒｅｆｕｎｄ ｓｔｉｌｌ ｎｏｔ ｈｅｒｅ？",  # fullwidth: read as Cantonese
        "𝐒𝐓𝐈𝐋𝐋 𝐁𝐑𝐎𝐊𝐄𝐍 𝐀𝐆𝐀𝐈𝐍, 𝐟𝐢𝐱 𝐢𝐭 𝐧𝐨𝐰 𝐨𝐫 𝐈 𝐜𝐚𝐧𝐜𝐞𝐥",  # mathematical bold, from a "fancy text" generator
        "𝘛𝘩𝘢𝘯𝘬𝘴 𝘧𝘰𝘳 𝘯𝘰𝘵𝘩𝘪𝘯𝘨, 𝘵𝘩𝘪𝘳𝘥 𝘵𝘪𝘮𝘦 𝘢𝘴𝘬𝘪𝘯𝘨",
    ],
)
def test_english_in_fullwidth_or_fancy_letters_is_not_an_unsupported_language(text):
    assert detect_language(text) is None
    assert default_scorer().score(text).unsupported_language is None


@pytest.mark.parametrize(
    ("text", "language"),
    [("注文した商品がまだ届きません！ ３回目の問い合わせです。", "ja"), ("Ｚａｋａｚ: Заказ не пришёл уже неделю！", "ru")],
)
def test_fullwidth_characters_do_not_hide_a_non_english_message(text, language):
    assert detect_language(text) == language


def test_ordinary_english_never_reaches_the_detector():
    assert not looks_non_english("My order has not arrived yet and nobody answers my emails.")


def test_the_local_scorer_stores_a_german_message_as_unsupported_not_as_calm():
    result = default_scorer().score("Ich warte seit drei Wochen auf eine Antwort! Das ist eine Frechheit.")

    assert result.unsupported_language == "de"
    assert (result.frustration, result.cues) == (0.0, ())
    assert result.to_dict()["unsupported_language"] == "de"
    assert "unsupported_language" not in default_scorer().score("Thanks, that worked!").to_dict()


def test_the_cascade_sends_a_message_the_local_scorer_cannot_read_to_the_llm(fake_openai, llm):
    fake_openai.script(fake_openai.answer({"sarcasm": False, "cues": ["Frechheit"], "score": -0.8,
                                           "frustration": 0.85, "urgency": 0.3, "label": "negative"}))
    local = TableLocal()
    local.score = lambda text, context=(): SentimentScore(0, 0, 0, scorer="stub-local", unsupported_language="de")

    result = cascade(local, llm).score("Das ist eine Frechheit, seit drei Wochen keine Antwort!")

    assert len(fake_openai.requests) == 1
    assert (result.scorer, result.frustration, result.unsupported_language) == ("openai", 0.85, None)
    assert result.extra["cascade"] == "language de: the local scorer reads English only"


def test_when_the_llm_fails_the_message_stays_unsupported(fake_openai, llm):
    fake_openai.script(fake_openai.error(500), fake_openai.error(500))
    local = TableLocal()
    local.score = lambda text, context=(): SentimentScore(0, 0, 0, scorer="stub-local", unsupported_language="de")

    result = cascade(local, llm).score("Das ist eine Frechheit!")

    assert result.unsupported_language == "de" and result.fallback_reason


def test_an_unsupported_message_is_stored_kept_out_of_the_rules_and_named_in_the_note(client, sessions, runtime, scorer, caplog):  # noqa: F811
    german = "Das ist eine Frechheit, seit drei Wochen keine Antwort!"
    real_score = scorer.score

    def score(text, context=()):
        if text == german:
            return SentimentScore(0, 0, 0, scorer="local", scorer_version="1", unsupported_language="de")
        return real_score(text, context)

    scorer.score = score
    scorer.answers["This is the worst service ever, I'm calling my lawyer!"] = (-0.95, 0.96, 0.9)
    caplog.set_level(logging.INFO, logger="ticketpulse.pipeline")

    say(client, german, 0)
    runtime.worker.drain()
    assert rows(sessions, Escalation) == []
    (stored,) = rows(sessions, Score)
    assert (stored.unsupported_language, stored.frustration) == ("de", 0.0)
    assert "is in de, a language the local scorer cannot read: stored as unsupported language, kept out of the rules" in caplog.text

    say(client, "This is the worst service ever, I'm calling my lawyer!", 1)
    runtime.worker.drain()
    (escalation,) = rows(sessions, Escalation)
    assert escalation.severity == "critical"
    assert "Not scored: 1 customer message(s) in a language the scorer cannot read (de)" in escalation.note
    assert "1 customer message(s) scored" in escalation.note  # the German one is not in the history


# The model, memory-mapped from the cache directory it is unpacked into once per user.

GERMAN = "Ich warte seit drei Wochen auf eine Antwort! Das ist eine Frechheit."
SAMPLES = [GERMAN, "Mi pedido no ha llegado, estoy harto de esperar", "Заказ не пришёл уже неделю",
           "注文した商品がまだ届きません", "Bonjour, mon compte est bloqué depuis hier", "How do I reset my password?"]


@pytest.fixture(scope="module")
def model_file():
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return MODEL_DIR / MODEL_FILE


@pytest.fixture(scope="module")
def unpacked(model_file, tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    return root, language.mapped_identifier(model_file, root)


def test_the_mapped_model_classifies_exactly_as_py3langid_loads_it(model_file, unpacked):
    from py3langid.langid import LanguageIdentifier

    _, mapped = unpacked
    own = LanguageIdentifier.from_model_file(model_file, norm_probs=True)

    assert [mapped.classify(text) for text in SAMPLES] == [own.classify(text) for text in SAMPLES]
    assert isinstance(mapped.nb_ptc, numpy.memmap) and isinstance(mapped.tk_nextmove.obj, numpy.memmap)


def test_a_second_load_maps_the_unpacked_model_without_unpacking_it_again(model_file, unpacked, monkeypatch):
    root, _ = unpacked
    monkeypatch.setattr(language, "_unpack", lambda *args: pytest.fail("unpacked a second time"))

    assert language.mapped_identifier(model_file, root).classify(GERMAN)[0] == "de"
    assert [path.name.startswith("py3langid-") for path in root.iterdir()] == [True]


def test_processes_loading_together_unpack_the_model_once(model_file, tmp_path, monkeypatch):
    unpack, calls = language._unpack, []

    def slow_unpack(*args):
        calls.append(args)
        time.sleep(0.5)  # long enough for the other loader to reach the lock
        unpack(*args)

    monkeypatch.setattr(language, "_unpack", slow_unpack)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # each opens its own lock, as processes do
        loaded = list(pool.map(lambda _: language.mapped_identifier(model_file, tmp_path), range(2)))

    assert len(calls) == 1
    assert [identifier.classify(GERMAN)[0] for identifier in loaded] == ["de", "de"]
    assert [path.name.startswith("py3langid-") for path in tmp_path.iterdir()] == [True]


def test_a_failed_unpack_leaves_nothing_that_a_later_load_would_trust(model_file, tmp_path, monkeypatch):
    def disk_full(path, *args, **kwargs):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(numpy, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        language.mapped_identifier(model_file, tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_a_damaged_cache_is_set_aside_and_unpacked_again(model_file, tmp_path, caplog):
    language.mapped_identifier(model_file, tmp_path)
    (cached,) = tmp_path.iterdir()
    (cached / "pc.npy").write_bytes(b"")  # what a crash before the data reached the disk can leave
    caplog.set_level(logging.WARNING, logger="ticketpulse.sentiment")

    assert language.mapped_identifier(model_file, tmp_path).classify(GERMAN)[0] == "de"
    assert "is damaged" in caplog.text
    assert [path.name for path in tmp_path.iterdir()] == [cached.name]


def test_without_a_writable_cache_the_model_is_loaded_into_the_process(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(language, "_identifier", None)
    caplog.set_level(logging.WARNING, logger="ticketpulse.sentiment")

    assert detect_language(GERMAN) == "de"
    assert "language model not memory-mapped" in caplog.text


def test_every_install_of_the_same_model_shares_one_unpacked_copy(model_file, tmp_path):
    # Another virtualenv, or a reinstall: the same model file at another path, with another mtime.
    root, other_venv = tmp_path / "cache", tmp_path / "venv2" / model_file.name
    other_venv.parent.mkdir()
    other_venv.write_bytes(model_file.read_bytes())
    language.mapped_identifier(model_file, root)
    language.mapped_identifier(other_venv, root)
    assert len(list(root.glob("py3langid-*"))) == 1


def test_unpacking_a_new_model_removes_the_copies_of_older_ones(model_file, tmp_path):
    stale = tmp_path / "py3langid-0123456789abcdef"
    stale.mkdir()
    (stale / "ptc.npy").write_bytes(b"an older model's array")
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()

    assert language.mapped_identifier(model_file, tmp_path).classify(GERMAN)[0] == "de"
    assert sorted(path.name for path in tmp_path.iterdir() if not path.name.startswith("py3langid-")) == ["something-else"]
    assert len(list(tmp_path.glob("py3langid-*"))) == 1 and not stale.exists()
