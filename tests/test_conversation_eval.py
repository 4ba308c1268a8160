"""`ticketpulse eval --conversations`: labelled conversations replayed through scorer, tracker and rules."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from scipy.stats import spearmanr

from ticketpulse.config import Thresholds
from ticketpulse.escalation.conversation_eval import (
    AGENT, CUSTOMER, Conversation, Turn, measures, replay,
)
from ticketpulse.escalation.notes import escalation_note
from ticketpulse.escalation.rules import decide
from ticketpulse.escalation.signals import unanswered_counts
from ticketpulse.escalation.tracker import ScorePoint, track
from tests.scripted_scorer import ScriptedScorer

FIXTURES = Path(__file__).parent / "fixtures"
CONVERSATIONS = FIXTURES / "support_conversations.json"  # six real conversations of the dev split
LABELS = FIXTURES / "support_conversations.labels.jsonl"
T0 = datetime(2020, 4, 1, 12, 0, tzinfo=timezone.utc)


def _table_value(out: str, measure: str) -> float:
    line = next(line for line in out.splitlines() if line.startswith(f"| {measure}"))
    return float(line.split("|")[2])


def test_eval_conversations_prints_the_targets_the_matrix_and_the_message_measures(runner):
    result = runner("eval", "--conversations", str(CONVERSATIONS), "--labels", str(LABELS))

    assert result.code == 0, result.err
    out = result.out
    assert "conversations: 6   customer messages scored: 11" in out
    assert _table_value(out, "recall of extreme") == 1.0
    assert _table_value(out, "critical precision") == 1.0
    assert _table_value(out, "false alarms") == 0.0
    assert _table_value(out, "recall of frustrated") == 1.0
    assert _table_value(out, "message Spearman") > 0.65
    assert "escalation rate: 0.667" in out
    assert "message AUC of frustration: level >= 2" in out
    matrix = out.split("severity by peak level (conversations):")[1].splitlines()
    assert matrix[2].split() == ["0", "1", "0", "0", "0", "0", "1"]  # the calm one: not escalated
    assert matrix[5].split() == ["3", "0", "0", "0", "0", "1", "1"]  # the extreme one: critical


def test_eval_conversations_uses_the_configured_thresholds(runner, tmp_path):
    config = tmp_path / "ticketpulse.toml"
    # without the unanswered rule, "heeeelp!!!!!!" written again before any reply is not escalated
    config.write_text("[thresholds]\nunanswered_frustration_threshold = 1.0\n")

    result = runner("--config", str(config), "eval", "--conversations", str(CONVERSATIONS), "--labels", str(LABELS))

    assert result.code == 0, result.err
    assert _table_value(result.out, "recall of frustrated") == 0.75


def test_eval_conversations_uses_a_config_that_can_be_read_only_once(runner):
    import os

    read_end, write_end = os.pipe()  # --config <(git show main:ticketpulse.toml)
    os.write(write_end, b"[thresholds]\nunanswered_frustration_threshold = 1.0\n")
    os.close(write_end)
    try:
        result = runner("--config", f"/dev/fd/{read_end}", "eval", "--conversations", str(CONVERSATIONS),
                        "--labels", str(LABELS))
    finally:
        os.close(read_end)

    assert result.code == 0, result.err
    assert _table_value(result.out, "recall of frustrated") == 0.75  # the defaults give 1.0


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ('{"conv": 0, "msg": 0, "level": 3}\n', "conversation 1 message 0 (a customer turn) has no label"),
        ('{"conv": 0, "msg": 0, "level": 4}\n', "labels.jsonl:1: conversation 0 message 0: level 4 is not 0, 1, 2 or 3"),
        ('{"conv": 0, "msg": 0}\n', "'level' must be a whole number"),
        ("not json\n", ":1: not JSON"),
        ('{"conv": 0, "msg": 0, "level": 3}\n{"conv": 0, "msg": 0, "level": 3}\n', "labelled twice"),
    ],
)
def test_eval_conversations_names_what_is_wrong_with_the_labels(runner, tmp_path, labels, message):
    path = tmp_path / "labels.jsonl"
    path.write_text(labels)

    result = runner("eval", "--conversations", str(CONVERSATIONS), "--labels", str(path))

    assert result.code == 2
    assert result.err.startswith("ticketpulse: error: ") and result.err.count("\n") == 1
    assert message in result.err


def test_eval_conversations_rejects_a_label_on_an_agent_turn(runner, tmp_path):
    conversations = tmp_path / "c.json"
    conversations.write_text(json.dumps([{"dialogContent": [
        {"client": "ann", "datetime": "2020-04-01T10:00:00Z", "message": "hi"},
        {"agent": "acme", "datetime": "2020-04-01T10:05:00Z", "message": "hello"},
    ]}]))
    labels = tmp_path / "l.jsonl"
    labels.write_text('{"conv": 0, "msg": 0, "level": 0}\n{"conv": 0, "msg": 1, "level": 0}\n')

    result = runner("eval", "--conversations", str(conversations), "--labels", str(labels))

    assert result.code == 2
    assert "conversation 0 message 1 is a label on a non-customer turn" in result.err


def test_eval_conversations_needs_labels_and_existing_files(runner, tmp_path):
    assert "--conversations needs --labels" in runner("eval", "--conversations", str(CONVERSATIONS)).err
    missing = runner("eval", "--conversations", str(tmp_path / "nope.json"), "--labels", str(LABELS))
    assert missing.code == 2 and "no such file" in missing.err


def test_unanswered_counts_start_again_at_every_agent_reply():
    points = [ScorePoint(T0 + timedelta(minutes=m), 0.0, 0.1, 0.0) for m in (0, 5, 20, 30, 40)]
    replies = [T0 + timedelta(minutes=10)]

    counted = unanswered_counts(points, replies)

    assert [p.unanswered for p in counted] == [1, 2, 1, 2, 3]


def test_a_customer_writing_again_before_any_reply_escalates_and_the_note_says_why():
    conversation = Conversation(0, (
        Turn(0, CUSTOMER, T0, "My card was declined.", level=1),
        Turn(1, CUSTOMER, T0 + timedelta(hours=2), "Hello?? Anyone there??", level=2),
    ))
    scorer = ScriptedScorer({"My card was declined.": (-0.3, 0.4, 0.2), "Hello?? Anyone there??": (-0.4, 0.7, 0.3)})

    replayed = replay(conversation, scorer, Thresholds())

    assert replayed.severity == "medium" and replayed.rules == ["unanswered_frustration"]
    trajectory = track([p for _, p in replayed.points], window=3, delta=0.3, negative_threshold=-0.6)
    note = escalation_note(decide(trajectory, Thresholds()), trajectory)
    assert "Signals: the customer wrote again before any agent reply (2 customer messages unanswered)." in note


def test_the_same_follow_up_after_an_agent_reply_is_not_escalated():
    conversation = Conversation(0, (
        Turn(0, CUSTOMER, T0, "My card was declined.", level=1),
        Turn(1, AGENT, T0 + timedelta(hours=1), "Sorry to hear that, which card?"),
        Turn(2, CUSTOMER, T0 + timedelta(hours=2), "Hello?? Anyone there??", level=2),
    ))
    scorer = ScriptedScorer({"My card was declined.": (-0.3, 0.4, 0.2), "Hello?? Anyone there??": (-0.4, 0.7, 0.3)})

    replayed = replay(conversation, scorer, Thresholds())

    assert replayed.severity is None
    assert [p.unanswered for _, p in replayed.points] == [1, 1]


def test_measures_count_conversations_by_peak_and_messages_by_level():
    def replayed(levels_and_frustration, severity):
        turns = tuple(Turn(i, CUSTOMER, T0 + timedelta(minutes=i), f"m{i}", level=lv)
                      for i, (lv, _) in enumerate(levels_and_frustration))
        r = replay(Conversation(0, turns), ScriptedScorer({f"m{i}": (0.0, f, 0.0)
                                                          for i, (_, f) in enumerate(levels_and_frustration)}),
                   Thresholds(frustration_threshold=0.99, critical_frustration_threshold=0.99,
                              unanswered_frustration_threshold=1.0))
        r.severity = severity
        return r

    m = measures([
        replayed([(3, 0.95)], "critical"),
        replayed([(2, 0.8)], "critical"),
        replayed([(1, 0.3), (2, 0.5)], None),
        replayed([(0, 0.1)], "medium"),
        replayed([(1, 0.2)], None),
    ])

    assert m["recall_extreme"] == 1.0
    assert m["critical_precision"] == 0.5
    assert m["false_alarms"] == 0.5
    assert m["recall_frustrated"] == pytest.approx(2 / 3)
    assert m["escalation_rate"] == pytest.approx(3 / 5)
    assert m["spearman"] == pytest.approx(spearmanr([3, 2, 1, 2, 0, 1], [0.95, 0.8, 0.3, 0.5, 0.1, 0.2])[0])
    assert m["matrix"][2]["critical"] == 1 and m["matrix"][2][None] == 1


ONE_CONVERSATION = json.dumps([{"dialogContent": [
    {"client": "ann", "datetime": "2020-04-01T10:00:00Z", "message": "My order has not arrived."},
]}])


@pytest.mark.parametrize(
    ("conversations", "labels", "message"),
    [
        (ONE_CONVERSATION.encode(), b'{"conv": 0, "msg": 0, "level": 1' + b"0" * 5000 + b"}\n",
         "labels.jsonl:1: not JSON (a number too long to read)"),
        (b"[" * 100_000 + b"]" * 100_000, b'{"conv": 0, "msg": 0, "level": 0}\n',
         "conversations.json: not JSON (nested too deeply)"),
        (ONE_CONVERSATION.replace("arrived", "arriv\\u00e9").encode().replace(b"\\u00e9", b"\xe9"),
         b'{"conv": 0, "msg": 0, "level": 0}\n', "conversations.json: not UTF-8 text (byte 0xe9 at offset"),
        (ONE_CONVERSATION.encode(), b'{"conv": 0, "msg": 0, "level": 0}\n\xff\n', "labels.jsonl: not UTF-8 text"),
    ],
)
def test_eval_conversations_names_the_file_of_json_it_cannot_read(runner, tmp_path, conversations, labels, message):
    (tmp_path / "conversations.json").write_bytes(conversations)
    (tmp_path / "labels.jsonl").write_bytes(labels)

    result = runner("eval", "--conversations", str(tmp_path / "conversations.json"),
                    "--labels", str(tmp_path / "labels.jsonl"))

    assert result.code == 2, result.err
    assert result.err.startswith("ticketpulse: error: ") and result.err.count("\n") == 1
    assert message in result.err


def test_eval_conversations_reads_files_saved_with_a_byte_order_mark(runner, tmp_path):
    conversations, labels = tmp_path / "conversations.json", tmp_path / "labels.jsonl"
    conversations.write_text("\ufeff" + ONE_CONVERSATION, encoding="utf-8")
    labels.write_text('\ufeff{"conv": 0, "msg": 0, "level": 1}\n', encoding="utf-8")

    result = runner("eval", "--conversations", str(conversations), "--labels", str(labels))

    assert result.code == 0, result.err
    assert "conversations: 1   customer messages scored: 1" in result.out


@pytest.mark.parametrize("other", [["comments.csv"], ["--goemotions", "../shared/data"]], ids=["file", "goemotions"])
def test_eval_conversations_refuses_a_second_input_it_would_not_read(runner, other):
    result = runner("eval", *other, "--conversations", str(CONVERSATIONS), "--labels", str(LABELS))

    assert result.code == 2
    assert result.err.startswith("ticketpulse: error: --conversations replays conversations only; measure ")
    assert other[-1] in result.err and result.out == ""
