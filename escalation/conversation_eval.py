"""``ticketpulse eval --conversations FILE --labels FILE``: how well the service decides.

Replays labelled support conversations through the real scorer, tracker and rules (no web server,
no database) and compares each conversation's highest severity with the customer's peak
frustration level (0 calm, 1 mild: reports a problem calmly, 2 frustrated, 3 extreme).

Conversations (JSON, the format of shared/data/support_conversations/dev.json): a list of
``{"dialogContent": [turn, ...]}``; a turn is ``{"client": NAME | "agent": NAME, "datetime":
ISO-8601, "message": TEXT}``. ``client`` turns are the customer's messages and are scored,
``agent`` turns are public agent replies (they are never scored, but they answer the customer);
turns with any other role key (``client1``: a second person joining in) are neither.

Labels (JSON lines): one line per customer turn, ``{"conv": N, "msg": J, "level": L}`` with N the
conversation's index in the list, J the turn's index in its ``dialogContent`` and L in 0..3;
optionally ``"other": true`` (not addressed to support; still replayed, the service cannot tell)
and ``"lang": CODE`` (not English; kept as information, the service detects languages itself).

What a replay does for each conversation, exactly as the worker does for a ticket: every
customer message is cleaned (``clean_text``), scored with the customer's earlier messages as
context, added to the trajectory (unless the scorer cannot read its language) with the number of
customer messages since the last agent reply, and the rules decide; a ticket escalates once and again only
when the severity rises. Its outcome is the highest severity reached.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ticketpulse.config import SEVERITIES, Thresholds
from ticketpulse.escalation.rules import decide, should_escalate
from ticketpulse.escalation.signals import unanswered_counts
from ticketpulse.escalation.tracker import ScorePoint, track
from ticketpulse.sentiment.clean import clean_text
from ticketpulse.sentiment.evaluate import InputError, configured_thresholds, roc_auc

CUSTOMER, AGENT, OTHER = "customer", "agent", "other"
LEVELS = (0, 1, 2, 3)

# The targets: (key, what it measures, direction, goal).
TARGETS = (
    ("recall_extreme", "recall of extreme (peak 3): escalated at any severity", ">=", 0.90),
    ("critical_precision", "critical precision: critical escalations whose peak is 3", ">=", 0.70),
    ("false_alarms", "false alarms: share of calm/mild (peak <= 1) escalated", "<=", 0.03),
    ("recall_frustrated", "recall of frustrated (peak >= 2): escalated at any severity", ">=", 0.75),
    ("spearman", "message Spearman(frustration, level)", ">=", 0.65),
)


@dataclass(frozen=True)
class Turn:
    index: int
    role: str
    at: datetime
    text: str
    level: int | None = None
    other: bool = False
    lang: str | None = None


@dataclass(frozen=True)
class Conversation:
    index: int
    turns: tuple[Turn, ...]

    @property
    def customer_turns(self) -> tuple[Turn, ...]:
        return tuple(turn for turn in self.turns if turn.role == CUSTOMER)


@dataclass
class Replayed:
    conversation: Conversation
    severity: str | None = None
    rules: list[str] = field(default_factory=list)
    points: list[tuple[Turn, ScorePoint]] = field(default_factory=list)  # scored customer messages
    unsupported: list[tuple[Turn, str]] = field(default_factory=list)  # not read: (turn, language)

    @property
    def peak(self) -> int:
        return max(turn.level for turn in self.conversation.customer_turns)


# --- input ------------------------------------------------------------------------------------
def _parse_time(value, where: str) -> datetime:
    if not isinstance(value, str):
        raise InputError(f"{where}: datetime must be an ISO-8601 string")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}: datetime {value!r} is not ISO-8601") from None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _role(turn: dict) -> str:
    if "client" in turn:
        return CUSTOMER
    if "agent" in turn:
        return AGENT
    return OTHER


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    try:
        return path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors, Excel) is not data
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None


def _parse_json(text: str, where: str):
    """The JSON value, or an InputError naming `where` (json's ValueErrors are not all JSONDecodeError)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line = f", line {exc.lineno}" if "\n" in text else ""  # a labels line is named by `where`
        raise InputError(f"{where}: not JSON ({exc.msg}{line})") from None
    except ValueError:  # an integer of thousands of digits
        raise InputError(f"{where}: not JSON (a number too long to read)") from None
    except RecursionError:
        raise InputError(f"{where}: not JSON (nested too deeply)") from None


def read_labels(path: Path) -> dict[tuple[int, int], dict]:
    labels: dict[tuple[int, int], dict] = {}
    for n, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        row = _parse_json(line, where)
        if not isinstance(row, dict):
            raise InputError(f"{where}: each line must be a JSON object")
        for key in ("conv", "msg", "level"):
            if not isinstance(row.get(key), int) or isinstance(row.get(key), bool):
                raise InputError(f"{where}: {key!r} must be a whole number")
        if row["level"] not in LEVELS:
            raise InputError(f"{where}: conversation {row['conv']} message {row['msg']}: "
                             f"level {row['level']} is not 0, 1, 2 or 3")
        key = (row["conv"], row["msg"])
        if key in labels:
            raise InputError(f"{where}: conversation {key[0]} message {key[1]} is labelled twice")
        labels[key] = row
    if not labels:
        raise InputError(f"no labels in {path}")
    return labels


def read_conversations(conversations_path: Path, labels_path: Path) -> list[Conversation]:
    """The labelled conversations; every customer turn of a conversation must carry a label."""
    data = _parse_json(_read_text(conversations_path), str(conversations_path))
    if not isinstance(data, list):
        raise InputError(f"{conversations_path}: must be a JSON list of conversations")
    labels = read_labels(labels_path)
    conversations = []
    for ci, raw in enumerate(data):
        where = f"{conversations_path}: conversation {ci}"
        content = raw.get("dialogContent") if isinstance(raw, dict) else None
        if not isinstance(content, list):
            raise InputError(f"{where}: needs a list 'dialogContent'")
        turns = []
        for mi, t in enumerate(content):
            if not isinstance(t, dict) or not isinstance(t.get("message"), str):
                raise InputError(f"{where} turn {mi}: needs a string 'message'")
            role = _role(t)
            at = _parse_time(t.get("datetime"), f"{where} turn {mi}")
            label = labels.pop((ci, mi), None)
            if role == CUSTOMER and label is None:
                raise InputError(f"{labels_path}: conversation {ci} message {mi} (a customer turn) has no label")
            if label is not None and role != CUSTOMER:
                raise InputError(f"{labels_path}: conversation {ci} message {mi} is a label on a non-customer turn")
            turns.append(Turn(mi, role, at, t["message"], label and label["level"],
                              bool(label and label.get("other")), label and label.get("lang")))
        if any(turn.role == CUSTOMER for turn in turns):
            conversations.append(Conversation(ci, tuple(turns)))
    if labels:
        ci, mi = next(iter(labels))
        raise InputError(f"{labels_path}: conversation {ci} message {mi} is not in {conversations_path}")
    if not conversations:
        raise InputError(f"{conversations_path}: no conversation has a customer message")
    return conversations


# --- replay -----------------------------------------------------------------------------------
def replay(conversation: Conversation, scorer, thresholds: Thresholds,
           decide_fn: Callable = decide) -> Replayed:
    result = Replayed(conversation)
    context: list[str] = []
    points: list[ScorePoint] = []
    agent_times = [turn.at for turn in conversation.turns if turn.role == AGENT]
    unread: list[datetime] = []  # written, so counted as unanswered (as the worker does), never scored
    for turn in sorted(conversation.turns, key=lambda t: (t.at, t.index)):
        if turn.role != CUSTOMER:
            continue
        text = clean_text(turn.text)
        if not text.strip():
            continue
        s = scorer.score(text, tuple(context))
        context.append(text)
        if s.unsupported_language:  # stored unscored by the service, kept out of the rules
            result.unsupported.append((turn, s.unsupported_language))
            unread.append(turn.at)
            continue
        points.append(ScorePoint(turn.at, s.score, s.frustration, s.urgency, s.label, tuple(s.cues)))
        # The data set holds every agent turn: its replies are known (signals.replies_arrive's
        # Zendesk event webhook case), so the count is.
        points = unanswered_counts(points, agent_times, unread, replies_known=True)
        result.points.append((turn, points[-1]))
        trajectory = track(points, window=thresholds.trend_window, delta=thresholds.trend_delta,
                           negative_threshold=thresholds.negative_score_threshold)
        decision = decide_fn(trajectory, thresholds)
        if should_escalate(decision, result.severity):
            result.severity = decision.severity
            result.rules.append(decision.rule)
    return result


def replay_all(conversations: Sequence[Conversation], scorer, thresholds: Thresholds) -> list[Replayed]:
    return [replay(c, scorer, thresholds) for c in conversations]


# --- measures ---------------------------------------------------------------------------------
def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def spearman(x, y) -> float:
    def ranks(v):
        v = np.asarray(v, dtype=float)
        order = np.argsort(v, kind="mergesort")
        r = np.empty(len(v))
        sv = v[order]
        start = 0
        for end in range(1, len(v) + 1):
            if end == len(v) or sv[end] != sv[start]:
                r[order[start:end]] = (start + end - 1) / 2.0
                start = end
        return r

    if len(x) < 2:
        return float("nan")
    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def measures(replayed: Sequence[Replayed]) -> dict:
    used = list(replayed)  # a conversation the scorer could not read counts too: its peak is known
    peaks = [r.peak for r in used]
    sev = [r.severity for r in used]
    levels = [turn.level for r in used for turn, _ in r.points]
    frustration = [p.frustration for r in used for _, p in r.points]
    extreme = [s for s, p in zip(sev, peaks) if p == 3]
    frustrated = [s for s, p in zip(sev, peaks) if p >= 2]
    calm = [s for s, p in zip(sev, peaks) if p <= 1]
    critical = [p for s, p in zip(sev, peaks) if s == "critical"]
    return {
        "conversations": len(used),
        "messages": len(levels),
        "unsupported": sum(len(r.unsupported) for r in used),
        "recall_extreme": _ratio(sum(1 for s in extreme if s), len(extreme)),
        "critical_precision": _ratio(sum(1 for p in critical if p == 3), len(critical)),
        "false_alarms": _ratio(sum(1 for s in calm if s), len(calm)),
        "recall_frustrated": _ratio(sum(1 for s in frustrated if s), len(frustrated)),
        "escalation_rate": _ratio(sum(1 for s in sev if s), len(sev)),
        "spearman": spearman(frustration, levels),
        "auc_frustrated": roc_auc([lv >= 2 for lv in levels], frustration),
        "auc_extreme": roc_auc([lv >= 3 for lv in levels], frustration),
        "n_extreme": len(extreme), "n_frustrated": len(frustrated), "n_calm": len(calm),
        "n_critical": len(critical),
        "matrix": {p: {s: sum(1 for ss, pp in zip(sev, peaks) if pp == p and ss == s)
                       for s in (None, *SEVERITIES)} for p in LEVELS},
    }


def _met(value: float, op: str, goal: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "met" if (value >= goal if op == ">=" else value <= goal) else "NOT met"


def format_report(m: dict) -> str:
    lines = [
        f"conversations: {m['conversations']}   customer messages scored: {m['messages']}   "
        f"peak 3: {m['n_extreme']}   peak >= 2: {m['n_frustrated']}   peak <= 1: {m['n_calm']}",
        f"not scored (a language the scorer cannot read, kept out of the rules): {m['unsupported']} message(s)",
        "",
        f"| {'measure':<62} | value | target  | status  |",
        f"|{'-' * 64}|-------|---------|---------|",
    ]
    for key, name, op, goal in TARGETS:
        lines.append(f"| {name:<62} | {m[key]:.3f} | {op} {goal:.2f} | {_met(m[key], op, goal):<7} |")
    lines += [
        "",
        f"escalation rate: {m['escalation_rate']:.3f} of conversations (healthy: 0.05-0.15)",
        f"message AUC of frustration: level >= 2 {m['auc_frustrated']:.3f}, level 3 {m['auc_extreme']:.3f}",
        "",
        "severity by peak level (conversations):",
        f"{'peak':>6} {'none':>6} " + " ".join(f"{s:>8}" for s in SEVERITIES) + f" {'total':>6}",
    ]
    for p in LEVELS:
        row = m["matrix"][p]
        lines.append(f"{p:>6} {row[None]:>6} " + " ".join(f"{row[s]:>8}" for s in SEVERITIES)
                     + f" {sum(row.values()):>6}")
    return "\n".join(lines)


# --- command ----------------------------------------------------------------------------------
def run(args: argparse.Namespace, scorer=None, out=None) -> int:
    out = out or sys.stdout
    try:
        if args.labels is None:
            raise InputError("--conversations needs --labels FILE")
        other = getattr(args, "file", None) or getattr(args, "goemotions", None)
        if other is not None:  # one measure a run: the other input would be silently left unread
            raise InputError(f"--conversations replays conversations only; measure {other} in a run of its own")
        thresholds = configured_thresholds(args)
        conversations = read_conversations(args.conversations, args.labels)
        if scorer is None:
            from ticketpulse.sentiment.local import default_scorer

            scorer = default_scorer()
        print(format_report(measures(replay_all(conversations, scorer, thresholds))), file=out)
        return 0
    except (InputError, OSError, UnicodeError) as exc:
        print(f"ticketpulse: error: {exc}", file=sys.stderr)
        return 2
