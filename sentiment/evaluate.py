"""``ticketpulse eval FILE``: measure the local scorer on a labelled CSV or TSV.

    ticketpulse eval complaints.tsv --text-column text --label-column label --positive complaint
    ticketpulse eval tweets.csv --text-column 1 --label-column 0 --positive negative --target negativity

Each text is cleaned (``clean_text``) and scored; the report gives ROC-AUC, the threshold with
the best F1, and precision / recall at the configured thresholds (``[thresholds]`` of the config
file given by the global ``--config``, else $TICKETPULSE_CONFIG / ./ticketpulse.toml, else the
defaults: frustration 0.75, critical 0.9, score -0.6). Targets: ``frustration`` and ``urgency`` rank by the value,
``negativity`` ranks by -score, ``score`` treats positives as score >= 0.05 (AUC by score).

``--goemotions DIR`` instead reports on GoEmotions (DIR = shared/data or its goemotions/ folder)
and the calibration share at frustration >= 0.75: its own labels and targets, so FILE, --target,
--positive and --ratings are refused with it.
"""

from __future__ import annotations

import argparse
import math
import csv
import io
import sys
from pathlib import Path

from ticketpulse.sentiment._lazy import lazy_module

np = lazy_module("numpy")  # imported on first use: `ticketpulse serve` (which imports this module for the CLI) never needs it

from ticketpulse.config import ConfigError, Thresholds, load_config
from ticketpulse.sentiment.base import NEGATIVE_BELOW, POSITIVE_ABOVE


DEFAULT_TARGET = "frustration"


class InputError(Exception):
    pass


def configured_thresholds(args: argparse.Namespace | None = None) -> Thresholds:
    """The escalation thresholds of the config file (``--config`` as the CLI read it, else the
    usual search): read once, so a config that can be read only once (a pipe) is not taken for
    the defaults the second time."""
    loaded = getattr(args, "loaded_config", None)
    if loaded is not None:
        return loaded.thresholds
    try:
        return load_config(getattr(args, "config", None)).thresholds
    except ConfigError as exc:
        raise InputError(str(exc)) from None


# --- metrics ------------------------------------------------------------------------------------
def roc_auc(y, s) -> float:
    """ROC-AUC (Mann-Whitney, ties counted half). NaN when a class is missing."""
    y = np.asarray(y, dtype=bool)
    s = np.asarray(s, dtype=float)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # average ranks over ties
    start = 0
    for end in range(1, len(s) + 1):
        if end == len(s) or sorted_s[end] != sorted_s[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0
            start = end
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def precision_recall_at(y, s, threshold: float) -> tuple[float, float, int]:
    y = np.asarray(y, dtype=bool)
    pred = np.asarray(s, dtype=float) >= threshold
    tp = int((pred & y).sum())
    n_pred = int(pred.sum())
    precision = tp / n_pred if n_pred else float("nan")
    recall = tp / int(y.sum()) if y.any() else float("nan")
    return precision, recall, n_pred


def best_f1(y, s) -> tuple[float, float]:
    """(threshold, F1) maximising F1 for predictions s >= threshold."""
    y = np.asarray(y, dtype=bool)
    s = np.asarray(s, dtype=float)
    if not y.any():
        return float("nan"), 0.0
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    n_pred = np.arange(1, len(s) + 1)
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    f1 = 2 * tp / (n_pred + y.sum())
    f1 = np.where(last_of_tie, f1, -1.0)
    k = int(np.argmax(f1))
    return float(s_sorted[k]), float(f1[k])


def pearson(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


# --- input --------------------------------------------------------------------------------------
def _column(header: list[str] | None, spec: str, n_cols: int, what: str) -> int:
    if header is not None and spec in header:
        return header.index(spec)
    if spec.lstrip("-").isdigit():
        idx = int(spec)
        if -n_cols <= idx < n_cols:
            return idx % n_cols
    raise InputError(f"{what} column {spec!r} not found (columns: {', '.join(header) if header else n_cols})")


_NAMED_DELIMITERS = {"tab": "\t", "\\t": "\t", "comma": ","}


def read_labelled(path: Path, text_column: str, label_column: str, delimiter: str = "auto",
                  header: str = "auto") -> tuple[list[str], list[str]]:
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    raw = path.read_text(encoding="utf-8", errors="replace")
    if not raw.strip():
        raise InputError(f"empty file: {path}")
    if delimiter == "auto":
        delim = "\t" if path.suffix.lower() in (".tsv", ".tab") or "\t" in raw.split("\n", 1)[0] else ","
    else:
        delim = _NAMED_DELIMITERS.get(delimiter, delimiter)
    rows = [r for r in csv.reader(io.StringIO(raw), delimiter=delim) if r]
    first = rows[0]
    if header == "yes":
        has_header = True
    elif header == "no":
        has_header = False
    else:  # a header row names at least one of the chosen columns
        has_header = text_column in first or label_column in first
    head = [c.strip() for c in first] if has_header else None
    body = rows[1:] if has_header else rows
    t = _column(head, text_column, len(first), "text")
    lab = _column(head, label_column, len(first), "label")
    texts, labels = [], []
    for n, row in enumerate(body, start=2 if has_header else 1):
        if len(row) <= max(t, lab):
            raise InputError(f"{path}:{n}: row has {len(row)} columns, need {max(t, lab) + 1}")
        texts.append(row[t])
        labels.append(row[lab].strip())
    if not texts:
        raise InputError(f"no rows in {path}")
    return texts, labels


def score_texts(texts: list[str], scorer=None, progress: bool = True):
    from tqdm import tqdm

    from ticketpulse.sentiment.clean import clean_text
    from ticketpulse.sentiment.local import default_scorer

    scorer = scorer or default_scorer()
    out = []
    for text in tqdm(texts, desc="scoring", unit="msg", file=sys.stderr,
                     disable=not progress or len(texts) < 500, leave=False):
        out.append(scorer.score(clean_text(text)))
    return out


# --- report -------------------------------------------------------------------------------------
def shown(value: float, undefined: str) -> str:
    """A ratio as printed: a 0/0 (NaN) says why there is none instead of `nan`."""
    return f"- ({undefined})" if value != value else f"{value:.4f}"


def report(y, values, target: str, out=None, thresholds: Thresholds | None = None) -> dict:
    out = out or sys.stdout
    th = thresholds or Thresholds()
    y = np.asarray(y, dtype=bool)
    values = np.asarray(values, dtype=float)
    rank = -values if target == "negativity" else values
    auc = roc_auc(y, rank)
    thr, f1 = best_f1(y, rank)
    result = {"n": len(y), "positives": int(y.sum()), "auc": auc, "best_f1": f1}
    print(f"target: {target}   n={len(y)}   positives={int(y.sum())}", file=out)
    print(f"ROC-AUC: {shown(auc, 'needs positives and negatives')}", file=out)
    shown_thr = -thr if target == "negativity" else thr
    rel = "<=" if target == "negativity" else ">="
    if thr != thr:  # no positives: no threshold finds any
        print("best F1: - (no positives)", file=out)
    else:
        print(f"best F1: {f1:.4f} at {'score' if target == 'negativity' else target} {rel} {shown_thr:.4f}", file=out)
    result["best_threshold"] = shown_thr
    if target == "frustration":
        checks = [("frustration_threshold", th.frustration_threshold), ("critical", th.critical_frustration_threshold)]
    elif target == "negativity":
        checks = [("negative_score_threshold", th.negative_score_threshold), ("negative label", NEGATIVE_BELOW)]
    elif target == "urgency":
        checks = [("0.5", 0.5)]
    else:
        checks = [("positive label", POSITIVE_ABOVE)]
    for name, value in checks:
        t = -value if target == "negativity" else value
        # for negativity: score <= value  <=>  -score >= -value
        p, r, n_pred = precision_recall_at(y, rank, t - 1e-12 if target == "negativity" else t)
        print(f"at {name} ({target if target != 'negativity' else 'score'} {rel} {value}): "
              f"precision {shown(p, 'nothing flagged')}  recall {shown(r, 'no positives')}  "
              f"flagged {n_pred} ({n_pred / len(y):.1%})", file=out)
        result[f"precision@{value}"] = p
        result[f"recall@{value}"] = r
    return result


def goemotions_report(root: Path, split: str = "test", out=None, scorer=None,
                      thresholds: Thresholds | None = None, progress: bool = True) -> dict:
    out = out or sys.stdout
    th = thresholds or Thresholds()
    from ticketpulse.sentiment.train import ANGER, ANNOYANCE, NEGATIVE_GROUP, read_goemotions

    if (root / "goemotions").is_dir():
        root = root
    elif root.name == "goemotions":
        root = root.parent
    else:
        raise InputError(f"no goemotions/ under {root}")
    texts, emotions, groups = read_goemotions(root, split)
    scores = score_texts(texts, scorer, progress)
    s = np.array([x.score for x in scores])
    f = np.array([x.frustration for x in scores])
    y_neg = np.array([NEGATIVE_GROUP in g for g in groups])
    y_ang = np.array([bool({ANGER, ANNOYANCE} & e) for e in emotions])
    print(f"GoEmotions {split}: n={len(texts)}", file=out)
    r1 = report(y_neg, s, "negativity", out, th)
    print(file=out)
    r2 = report(y_ang, f, "frustration", out, th)
    share = float((f >= th.frustration_threshold).mean())
    crit = float((f >= th.critical_frustration_threshold).mean())
    low = float((s < th.negative_score_threshold).mean())
    print(f"\ncalibration: frustration >= {th.frustration_threshold}: {share:.1%} of messages; "
          f">= {th.critical_frustration_threshold}: {crit:.1%}; score < {th.negative_score_threshold}: {low:.1%}",
          file=out)
    return {"negativity": r1, "frustration": r2, "share_frustrated": share, "share_critical": crit,
            "share_below_negative": low}


def delimiter_option(value: str) -> str:
    """--delimiter: auto, tab, comma, or one character csv can split on."""
    if value == "auto" or value in _NAMED_DELIMITERS:
        return value
    if len(value) != 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not one character; give auto, tab, comma or one character")
    if value in '"\r\n':
        raise argparse.ArgumentTypeError(f"{value!r} cannot separate columns (it quotes or ends them)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", type=Path, help="labelled CSV or TSV")
    parser.add_argument("--text-column", default="text", help="name or 0-based index (default: text)")
    parser.add_argument("--label-column", default="label", help="name or 0-based index (default: label)")
    parser.add_argument("--positive", action="append", default=None, metavar="LABEL",
                        help="label value(s) counted as positive; repeat or comma-separate (default: 1)")
    # No default here: run() tells a --target given with --goemotions (refused) from none.
    parser.add_argument("--target", choices=("frustration", "negativity", "score", "urgency"),
                        help=f"what the label means (default: {DEFAULT_TARGET})")
    parser.add_argument("--delimiter", default="auto", type=delimiter_option, help="auto (tab for .tsv or a tab in line 1), tab, comma, or a character")
    parser.add_argument("--header", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--goemotions", type=Path, metavar="DIR",
                        help="report on GoEmotions test (shared/data) with the calibration share, instead of FILE")
    parser.add_argument("--split", default="test", help="GoEmotions split for --goemotions (default: test)")
    parser.add_argument("--ratings", action="store_true",
                        help="the label column holds numeric ratings (e.g. VADER's -4..4): report Pearson r")
    parser.add_argument("--no-progress", action="store_true")


def ratings_report(texts: list[str], labels: list[str], target: str, progress: bool = True) -> int:
    """Pearson r between the scorer's value and numeric human ratings."""
    ratings = []
    for row, label in enumerate(labels, start=1):
        try:
            rating = float(label)
        except ValueError:
            raise InputError(f"row {row}: rating {label!r} is not a number") from None
        if not math.isfinite(rating):  # float() takes "nan" and "inf"; Pearson r would be NaN
            raise InputError(f"row {row}: rating {label!r} is not a finite number")
        ratings.append(rating)
    if len(ratings) < 2:
        raise InputError(f"{len(ratings)} rating(s): Pearson r needs at least 2")
    field = "score" if target in ("negativity", "score") else target
    values = [getattr(s, field) for s in score_texts(texts, progress=progress)]
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant column: NaN, said below
        r = float(np.corrcoef(values, ratings)[0, 1])
    print(f"target: {field} vs ratings   n={len(values)}")
    print(f"Pearson r: {shown(r, 'the scores or the ratings do not vary')}")
    return 0


def _refuse_file_options(args: argparse.Namespace) -> None:
    """--goemotions has its own labels and its two targets: FILE's options would be left unread."""
    given = [name for name, value in (("FILE", args.file), ("--target", args.target), ("--positive", args.positive),
                                      ("--ratings", args.ratings or None)) if value is not None]
    if given:
        raise InputError(f"--goemotions reports negativity and frustration on GoEmotions' own labels: "
                         f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for a labelled FILE, "
                         "in a run of its own")


def run(args: argparse.Namespace) -> int:
    try:
        thresholds = configured_thresholds(args)
        if args.goemotions is not None:
            _refuse_file_options(args)
            goemotions_report(args.goemotions, args.split, thresholds=thresholds, progress=not args.no_progress)
            return 0
        if args.file is None:
            raise InputError("give a FILE or --goemotions DIR")
        target = args.target or DEFAULT_TARGET
        texts, labels = read_labelled(args.file, args.text_column, args.label_column,
                                      args.delimiter, args.header)
        if args.ratings:
            return ratings_report(texts, labels, target, progress=not args.no_progress)
        positive = {p.strip() for spec in (args.positive or ["1"]) for p in spec.split(",")}
        y = [lab in positive for lab in labels]
        if not any(y) or all(y):
            raise InputError(f"labels {sorted(positive)} must mark some rows but not all "
                             f"(labels seen: {', '.join(sorted(set(labels))[:10])})")
        scores = score_texts(texts, progress=not args.no_progress)
        if target in ("negativity", "score"):
            values = [s.score for s in scores]
        else:
            values = [getattr(s, target) for s in scores]
        report(y, values, target, thresholds=thresholds)
        return 0
    except (InputError, OSError, UnicodeError, csv.Error) as exc:
        print(f"ticketpulse: error: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ticketpulse.sentiment.evaluate", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
