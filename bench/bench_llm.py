"""LLM scoring throughput against a local OpenAI-compatible server that answers in 200 ms.

    .venv/bin/python bench/bench_llm.py [--messages 48] [--runs 3] [--latency 0.2]
        [--concurrency 1 2 4 8 16]

For each concurrency, N messages are scored by one shared OpenAIScorer from a thread pool of that
size; the median messages/s over the runs is printed. With a 200 ms server the ideal is
5 x concurrency messages/s; the gap to it is client and server overhead.

    .venv/bin/python bench/bench_llm.py --cascade-share /work/shared/data/goemotions/group/test.tsv

instead runs the cascade (the real LocalScorer, the fake LLM at --latency 0) over the first
column of a TSV file and prints the share of messages it sent to the LLM, per band.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.options import positive_int  # noqa: E402

from ticketpulse.sentiment.base import SentimentScore  # noqa: E402
from ticketpulse.sentiment.llm import LLMSettings, OpenAIScorer, make_client  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.fakes.server import LiveServer  # noqa: E402

ANSWER = {"sarcasm": False, "cues": ["still broken"], "score": -0.4, "frustration": 0.5, "urgency": 0.3, "label": "negative"}


class NeverLocal:
    """Fallback that makes a failed LLM call visible instead of silently fast."""

    name = "never"
    version = "0"

    def score(self, text, context=()):
        return SentimentScore(0, 0, 0, scorer=self.name, scorer_version=self.version)


def run_once(scorer: OpenAIScorer, messages: list[str], concurrency: int) -> tuple[float, int]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(scorer.score, messages))
    elapsed = time.perf_counter() - started
    failed = sum(1 for r in results if r.scorer != "openai")
    return len(messages) / elapsed, failed


def cascade_share(path: str, bands: list[float]) -> None:
    from ticketpulse.sentiment.cascade import CascadeScorer
    from ticketpulse.sentiment.clean import clean_text
    from ticketpulse.sentiment.local import LocalScorer
    from ticketpulse.config import Thresholds

    texts = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            text = clean_text(line.rstrip("\n").split("\t")[0])
            if text:
                texts.append(text)
    local = LocalScorer()
    fake = FakeOpenAI(default=lambda body: FakeOpenAI.answer(ANSWER))
    with LiveServer(fake.app) as server:
        llm = OpenAIScorer(make_client("bench", server.url + "/v1", 10), LLMSettings(max_retries=0))
        print(f"{len(texts)} messages from {path}; local scorer {local.version}; default thresholds")
        print(f"{'band':>5}  {'to LLM':>7}  {'share':>6}")
        for band in bands:
            fake.reset(default=lambda body: FakeOpenAI.answer(ANSWER))
            scorer = CascadeScorer(local, llm, thresholds=Thresholds(), band=band)
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(scorer.score, texts))
            stats = scorer.stats()
            assert stats["llm"] == len(fake.requests)
            print(f"{band:>5.2f}  {stats['llm']:>7}  {scorer.llm_share():>6.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=48, help="messages per run (default 48)")
    parser.add_argument("--runs", type=positive_int, default=3, help="runs per concurrency; the median is shown")
    parser.add_argument("--latency", type=float, default=0.2, help="server answer time in s (default 0.2)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--cascade-share", metavar="TSV", help="measure the cascade's LLM share instead")
    parser.add_argument("--bands", type=float, nargs="+", default=[0.05, 0.1, 0.15, 0.2])
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("ticketpulse.scoring").setLevel(logging.WARNING)
    if args.cascade_share:
        cascade_share(args.cascade_share, args.bands)
        return 0

    fake = FakeOpenAI(default=lambda body: FakeOpenAI.slow(args.latency, FakeOpenAI.answer(ANSWER)))
    messages = [f"Message {i}: the export is still broken, any news?" for i in range(args.messages)]
    context = ["The export fails.", "Any update?"]
    with LiveServer(fake.app) as server:
        settings = LLMSettings(timeout_seconds=10, max_retries=0)
        scorer = OpenAIScorer(make_client("bench", server.url + "/v1", 10), settings, fallback=NeverLocal())
        scorer.score("warm-up", context)
        print(f"server latency {args.latency * 1000:.0f} ms, {args.messages} messages x {args.runs} runs")
        print(f"{'concurrency':>11}  {'msg/s':>7}  {'ideal':>6}  {'failed':>6}")
        for concurrency in args.concurrency:
            rates, failures = [], 0
            for _ in range(args.runs):
                rate, failed = run_once(scorer, messages, concurrency)
                rates.append(rate)
                failures += failed
            ideal = concurrency / args.latency
            print(f"{concurrency:>11}  {statistics.median(rates):>7.1f}  {ideal:>6.0f}  {failures:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
