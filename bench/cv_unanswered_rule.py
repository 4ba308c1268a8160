"""Does "the customer wrote again before any agent reply" help? Cross-validated on the dev split.

    python bench/cv_unanswered_rule.py ../shared/data/support_conversations

Replays the conversations (ticketpulse.escalation.conversation_eval, the real scorer, tracker and
rules) with and without the `unanswered_frustration` rule. Its one parameter,
`unanswered_frustration_threshold`, is fitted on 4 folds (by conversation) and measured on the
5th, 5 folds x 4 seeds: the threshold with the best recall of frustrated conversations that adds
no false alarm on the training folds (ties: the highest, the most conservative).
"""

from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

from ticketpulse.config import Thresholds
from ticketpulse.escalation.conversation_eval import measures, read_conversations, replay
from ticketpulse.sentiment.local import default_scorer

GRID = [round(0.30 + 0.01 * i, 2) for i in range(46)] + [1.0]  # 1.0: the rule never fires
TARGETS = ("recall_extreme", "critical_precision", "false_alarms", "recall_frustrated", "escalation_rate")


class Cached:
    """The scorer once per message: scores do not depend on the thresholds."""

    def __init__(self, scorer):
        self.scorer, self.cache = scorer, {}

    def score(self, text, context=()):
        key = (text, tuple(context))
        if key not in self.cache:
            self.cache[key] = self.scorer.score(text, context)
        return self.cache[key]


def run(conversations, scorer, threshold):
    return [replay(c, scorer, Thresholds(unanswered_frustration_threshold=threshold)) for c in conversations]


def main(root: str) -> None:
    root_path = Path(root)
    conversations = read_conversations(root_path / "dev.json", root_path / "dev.labels.jsonl")
    scorer = Cached(default_scorer())
    by_threshold = {t: run(conversations, scorer, t) for t in GRID}
    n = len(conversations)

    def pick(train):
        base = measures([by_threshold[1.0][i] for i in train])
        best = None
        for t in GRID:
            m = measures([by_threshold[t][i] for i in train])
            if m["false_alarms"] > base["false_alarms"] + 1e-12:
                continue
            key = (m["recall_frustrated"], t)
            if best is None or key > best[0]:
                best = (key, t)
        return best[1]

    print(f"in-sample, threshold -> measures (n={n}):")
    for t in (1.0, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3):
        m = measures(by_threshold[t])
        print(f"  {t:.2f}: " + "  ".join(f"{k} {m[k]:.3f}" for k in TARGETS))
    pooled_with, pooled_without, chosen = [], [], []
    for seed in range(4):
        order = list(range(n))
        random.Random(seed).shuffle(order)
        folds = [order[f::5] for f in range(5)]
        held = {}
        for f, test in enumerate(folds):
            train = [i for g, fold in enumerate(folds) if g != f for i in fold]
            t = pick(train)
            chosen.append(t)
            for i in test:
                held[i] = by_threshold[t][i]
        pooled_with.append(measures([held[i] for i in range(n)]))
        pooled_without.append(measures(by_threshold[1.0]))
    print(f"\nfitted thresholds over 20 folds: median {statistics.median(chosen):.2f}, "
          f"range {min(chosen):.2f}-{max(chosen):.2f}")
    print("cross-validated (pooled held-out folds, mean over 4 seeds):  without rule -> with rule")
    for k in TARGETS:
        a = statistics.fmean(m[k] for m in pooled_without)
        b = statistics.fmean(m[k] for m in pooled_with)
        sd = statistics.pstdev(m[k] for m in pooled_with)
        print(f"  {k:<20} {a:.3f} -> {b:.3f} (sd {sd:.3f})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/support_conversations")
