"""Messages per second of LocalScorer on one core, for ~100-character support messages.

    python bench/bench_local_scorer.py [--runs 7] [--messages 5000]

Prints each run and the median. The messages are built from fixed templates (seeded), about
100 characters each, so runs are comparable between machines and commits.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sentiment.local import LocalScorer  # noqa: E402

TEMPLATES = [
    "Third time asking about order {n}. Still no refund after {d} weeks, this is unacceptable!",
    "Hi, how do I reset my password? I tried the link in the email but it says it expired.",
    "My flight {n} was delayed {d} hours and nobody at the gate could tell us anything at all.",
    "Thanks so much, the agent on chat was super helpful and sorted out my billing issue fast.",
    "Great, another outage. Just what I needed before my deadline today. Please fix it ASAP!!",
    "I was charged twice for order {n} and I have been on hold for {d} minutes. Cancel my account.",
    "Can I change the delivery address for order {n}? I am moving next week, thanks in advance.",
    "The app keeps crashing when I open my invoices, we can't work. Our whole team is blocked.",
]


def messages(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(TEMPLATES).format(n=rng.randint(1000, 99999), d=rng.randint(2, 9))
        while len(t) < 96:
            t += f" Ref {rng.randint(100, 999)}."
        out.append(t[:110])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    scorer = LocalScorer()
    batch = messages(args.messages)
    mean_len = sum(map(len, batch)) / len(batch)
    for text in batch[:200]:  # warm up
        scorer.score(text)
    rates = []
    for run in range(args.runs):
        start = time.perf_counter()
        for text in batch:
            scorer.score(text)
        rate = len(batch) / (time.perf_counter() - start)
        rates.append(rate)
        print(f"run {run + 1}: {rate:,.0f} messages/s")
    print(f"median: {statistics.median(rates):,.0f} messages/s "
          f"({len(batch)} messages, mean {mean_len:.0f} characters, one core, model {scorer.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
