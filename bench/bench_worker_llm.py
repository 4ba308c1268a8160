"""Worker throughput with the LLM scorer: the real worker threads, a real database, a model that
answers in 200 ms.

    .venv/bin/python bench/bench_worker_llm.py [--messages 128] [--tickets 32] [--runs 3]
        [--latency 0.2] [--concurrency 1 2 4 8 16] [--database-url postgresql+psycopg:///...]

For each database (a temporary SQLite file; also PostgreSQL when --database-url names a server,
where a temporary database is created and dropped) and each worker concurrency, every run:

  1. a fresh, migrated database gets N customer comments spread round-robin over T tickets,
     stored through webhooks.inbox.accept (what the webhooks call), one transaction;
  2. the runtime is built as `ticketpulse worker` builds it (build_runtime, build_scorer:
     scoring.backend "openai", OPENAI_BASE_URL at a FakeOpenAI on loopback answering every
     request after --latency seconds, worker.concurrency = C, a dry-run Zendesk); only the local
     fallback is a stub, so that a failed model call is counted instead of hidden;
  3. Worker.start runs C threads until every comment is done; the clock runs from the start of
     the threads to the last comment done.

The median messages/s over the runs is printed per concurrency, with the ideal
(min(C, T) / latency: one call in flight per busy thread), the most calls the model saw in flight
at once, and how many messages fell back to the local scorer (should be 0).

Everything runs in one Python process (worker threads, openai client, fake server), so past about
16 threads the GIL and the per-message CPU (about 7-9 ms in the worker threads: 2-3 ms in the
openai client, the rest SQLAlchemy and the database round trips) cap the rate, not the model;
more throughput then comes from more worker processes (PostgreSQL), not more threads.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.databases import drop_postgres, fresh_postgres, run_name, temporary_postgres  # noqa: E402
from bench.options import positive_int  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from ticketpulse.escalation.comments import AuthorRole  # noqa: E402
from ticketpulse.webhooks.events import CommentEvent  # noqa: E402
from ticketpulse.integrations.zendesk import DryRunZendesk  # noqa: E402
from ticketpulse.webhooks.inbox import Inbox  # noqa: E402
from ticketpulse.migrations import upgrade  # noqa: E402
from ticketpulse.models import Comment, Score  # noqa: E402
from ticketpulse.sentiment.base import SentimentScore  # noqa: E402
from ticketpulse.sentiment.factory import build_scorer  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, message_of  # noqa: E402
from tests.fakes.server import LiveServer  # noqa: E402
from ticketpulse.config import Config, Environment  # noqa: E402
from ticketpulse.runtime import build_runtime  # noqa: E402

ANSWER = {"sarcasm": False, "cues": ["still waiting"], "score": -0.3, "frustration": 0.4, "urgency": 0.3,
          "label": "negative"}
START = datetime(2025, 3, 5, 9, 0, tzinfo=timezone.utc)


class CountedFallback:
    """Stands in for the local scorer: a fallback shows as scorer "fallback" in the Score rows."""

    name = "fallback"
    version = "0"

    def score(self, text, context=()):
        return SentimentScore(0, 0, 0, scorer=self.name, scorer_version=self.version)


@dataclass
class Run:
    rate: float  # messages/s
    seconds: float
    fallbacks: int
    max_in_flight: int


def events(messages: int, tickets: int) -> list[CommentEvent]:
    """N customer comments, round-robin over T tickets, one minute apart."""
    return [
        CommentEvent(
            helpdesk="zendesk",
            account="bench",
            external_id=str(70000 + n % tickets),
            body=f"Message {n} on ticket {70000 + n % tickets}: still waiting for my refund, any news?",
            is_public=True,
            author_role=AuthorRole.CUSTOMER,
            commented_at=START + timedelta(minutes=n),
            source="zendesk.event",
            comment_id=str(900000 + n),
            author_id="301",
            ticket={"tags": ["bench"], "requester_id": "301"},
        )
        for n in range(messages)
    ]


# -- databases ------------------------------------------------------------------------------------


class SQLiteDatabases:
    name = "sqlite"

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="ticketpulse-bench-")

    @contextmanager
    def fresh(self):
        url = f"sqlite:///{Path(self._dir.name) / (uuid.uuid4().hex[:8] + '.db')}"
        upgrade(url)
        yield url

    def close(self) -> None:
        self._dir.cleanup()


class PostgresDatabases:
    """A migrated template database, cloned for every run."""

    name = "postgresql"

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.template = run_name("tp_bench_worker_llm_template")
        url = fresh_postgres(server_url, self.template)
        try:
            upgrade(url)
        except BaseException:  # a Ctrl-C while migrating: no close() comes to drop it
            self.close()
            raise

    def fresh(self):
        return temporary_postgres(self.server_url, "tp_bench_worker_llm", template=self.template)

    def close(self) -> None:
        drop_postgres(self.server_url, self.template)


# -- one run --------------------------------------------------------------------------------------


def run_once(databases, fake: FakeOpenAI, model_url: str, args, concurrency: int) -> Run:
    fake.reset(default=fake.default)
    with databases.fresh() as url:
        config = Config.model_validate({
            "scoring": {"backend": "openai",
                        "openai": {"model": "bench", "timeout_seconds": 10, "max_retries": 0}},
            "worker": {"concurrency": concurrency, "poll_interval_seconds": args.poll_interval},
        })
        env = Environment(database_url=url, openai_base_url=model_url, openai_api_key="bench")
        # The factory's OpenAIScorer; its fallback is a stub so that a failed call is counted, not
        # hidden, and the bench does not load (or depend on) the local model.
        scorer = build_scorer(config, env, local=CountedFallback())
        runtime = build_runtime(config, env, scorer=scorer, helpdesks={"zendesk": DryRunZendesk(None)})
        try:
            inbox = Inbox(runtime.engine)
            for event in events(args.messages, args.tickets):
                inbox.store(event)

            stop = threading.Event()
            started = time.perf_counter()
            threads = runtime.worker.start(stop)
            deadline = started + args.timeout
            while time.perf_counter() < deadline:
                # Cheap in-memory check first; the database only once every message reached the model.
                if len(fake.requests) >= args.messages:
                    with runtime.sessions() as session:
                        pending = session.scalar(
                            select(func.count()).select_from(Comment).where(Comment.status == "pending")
                        )
                    if pending == 0:
                        break
                time.sleep(0.01)
            else:
                raise SystemExit(f"{databases.name}, concurrency {concurrency}: not done after {args.timeout}s")
            elapsed = time.perf_counter() - started
            stop.set()
            for thread in threads:
                thread.join(timeout=30)

            with runtime.sessions() as session:
                scored = session.scalar(select(func.count()).select_from(Score))
                fallbacks = session.scalar(select(func.count()).select_from(Score).where(Score.scorer != "openai"))
            if scored != args.messages:
                raise SystemExit(f"{databases.name}: {scored} scores for {args.messages} messages")
            return Run(args.messages / elapsed, elapsed, fallbacks, fake.max_in_flight)
        finally:
            runtime.engine.dispose()


def bench(databases, fake: FakeOpenAI, model_url: str, args) -> None:
    per_ticket = args.messages / args.tickets
    print(f"\n{databases.name}: {args.messages} messages on {args.tickets} tickets ({per_ticket:g} each), "
          f"model latency {args.latency * 1000:.0f} ms, median of {args.runs} runs")
    print(f"{'concurrency':>11}  {'msg/s':>7}  {'ideal':>6}  {'of ideal':>8}  {'in flight':>9}  {'fallbacks':>9}")
    for concurrency in args.concurrency:
        runs = [run_once(databases, fake, model_url, args, concurrency) for _ in range(args.runs)]
        rate = statistics.median(r.rate for r in runs)
        ideal = min(concurrency, args.tickets) / args.latency
        print(
            f"{concurrency:>11}  {rate:>7.1f}  {ideal:>6.0f}  {rate / ideal:>8.0%}  "
            f"{max(r.max_in_flight for r in runs):>9}  {sum(r.fallbacks for r in runs):>9}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=128, help="comments per run (default 128)")
    parser.add_argument("--tickets", type=int, default=32, help="tickets they are spread over (default 32)")
    parser.add_argument("--runs", type=positive_int, default=3, help="runs per concurrency; the median is shown")
    parser.add_argument("--latency", type=float, default=0.2, help="model answer time in s (default 0.2)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--poll-interval", type=float, default=1.0,
                        help="worker.poll_interval_seconds (default 1.0, the config default)")
    parser.add_argument("--database-url", help="a PostgreSQL server URL: also bench on PostgreSQL")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True,
                        help="bench on SQLite (default yes)")
    parser.add_argument("--timeout", type=float, default=600, help="give up a run after this many s")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING)
    for name in ("werkzeug", "ticketpulse", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)

    def respond(body):
        message_of(body)  # every request carries one message to rate
        return FakeOpenAI.slow(args.latency, FakeOpenAI.answer(ANSWER))

    fake = FakeOpenAI(default=respond)
    with LiveServer(fake.app) as server:
        model_url = server.url + "/v1"
        kinds = ([SQLiteDatabases] if args.sqlite else []) + (
            [lambda: PostgresDatabases(args.database_url)] if args.database_url else []
        )
        for make in kinds:
            databases = make()
            try:
                bench(databases, fake, model_url, args)
            finally:
                databases.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
