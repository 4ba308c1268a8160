"""Old vs new LocalScorer side by side, in CPU time, on a loaded machine.

    python bench/bench_ab_local_scorer.py [--baseline REV] [--rounds 3] [--messages 5000]

Wall-clock throughput is meaningless while other jobs share the cores, so this measures the
process CPU time (time.process_time) of scoring the same generated messages with the scorer of
git revision REV (default: main's 23630fc, before the calibration) and with the installed tree,
alternating them in fresh processes pinned to one core, `--rounds` times each (the language
detector's model is loaded before the clock starts, as the scorer's own is). Prints each
measurement, the medians and the ratio new / old. Multiply the ratio by an idle machine's
figure from bench_local_scorer.py for the expected throughput.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.options import positive_int  # noqa: E402

CHILD = r"""
import os, sys, time
tree = sys.argv[1]
if tree:  # the baseline: its copy of the package, not the editable install of this tree
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, tree)
try:
    os.sched_setaffinity(0, {0})
except (AttributeError, OSError):
    pass
from ticketpulse.sentiment.local import LocalScorer
import ticketpulse.sentiment.local as module
sys.path.insert(0, sys.argv[2])
from bench_local_scorer import generated_messages  # after: it puts this tree first on sys.path
assert (module.__file__.startswith(tree)) if tree else True, module.__file__
batch = generated_messages(int(sys.argv[3]), 7)
scorer = LocalScorer()
try:  # a one-time load, like the model's: not part of the throughput
    from ticketpulse.sentiment.language import preload
    preload()
except ImportError:  # the baseline has no language detection
    pass
start = time.process_time()
for message in batch:
    scorer.score(message)
print(len(batch) / (time.process_time() - start))
"""


def baseline_tree(revision: str, into: Path) -> Path:
    """REV's sentiment/ and ticketpulse/*.py laid out as the installed package `ticketpulse`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "sentiment", "ticketpulse"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into / "src", filter="data")
    package = into / "ticketpulse"
    (into / "src" / "ticketpulse").rename(package)
    (into / "src" / "sentiment").rename(package / "sentiment")
    return into


def measure(tree: str, messages: int) -> float:
    done = subprocess.run([sys.executable, "-c", CHILD, tree, str(ROOT / "bench"), str(messages)],
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"benchmark child failed:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="23630fc")
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = str(baseline_tree(args.baseline, Path(tmp)))
        old, new = [], []
        for round_ in range(args.rounds):
            old.append(measure(old_tree, args.messages))
            new.append(measure("", args.messages))
            print(f"round {round_ + 1}: {args.baseline} {old[-1]:,.0f} msg/s CPU   this tree {new[-1]:,.0f} msg/s CPU",
                  flush=True)
    o, n = statistics.median(old), statistics.median(new)
    print(f"median CPU-time throughput: {args.baseline} {o:,.0f} msg/s, this tree {n:,.0f} msg/s, ratio {n / o:.3f}")


if __name__ == "__main__":
    main()
