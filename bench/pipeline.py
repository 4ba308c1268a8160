"""Worker throughput (comments/s, one process, local scorer) on an empty database and on one
holding 1,000,000 stored tickets with 5 scores each, side by side in one run.

    .venv/bin/python bench/pipeline.py --database sqlite
    .venv/bin/python bench/pipeline.py --database postgresql --admin-url 'postgresql+psycopg:///root?host=/var/run/postgresql'

Each round stores the same fresh comments (4 per ticket on new tickets) through the webhook's
inbox write, then times `Worker.drain()` (claim, score, decide, record, hand back) until the
queue is empty. The history is loaded in bulk with SQL (generate_series / a recursive CTE), then
ANALYZEd. The ratio "with history / empty" shows whether cost grows with stored history.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.databases import drop_postgres, fresh_postgres, run_name  # noqa: E402
from bench.options import positive_int  # noqa: E402

from ticketpulse.config import Config  # noqa: E402
from ticketpulse.escalation.pipeline import Pipeline  # noqa: E402
from ticketpulse.escalation.worker import Worker  # noqa: E402
from ticketpulse.migrations import upgrade  # noqa: E402
from ticketpulse.models import make_engine, make_session_factory  # noqa: E402
from ticketpulse.sentiment.local import LocalScorer  # noqa: E402
from ticketpulse.webhooks.events import CommentEvent  # noqa: E402
from ticketpulse.webhooks.inbox import Inbox  # noqa: E402

EMPTY, HISTORY = run_name("tp_bench_empty"), run_name("tp_bench_history")  # this run's PostgreSQL databases

MESSAGES = [
    "Hi, could you tell me when my order will ship?",
    "Thanks, that worked perfectly!",
    "It has been a week and I still have not heard back.",
    "Third time asking. Still no refund. This is unacceptable.",
    "Any update on this? The invoice still shows the wrong amount.",
    "Still broken. I can't work and I'm losing money every day.",
    "Ok, thank you for the quick reply.",
    "The export button does nothing when I click it in Firefox.",
    "Could you reset my password? The link in the email expired.",
    "We were charged twice for the March subscription, please fix it.",
]


def events(round_no: int, tickets: int, per_ticket: int, rng: random.Random) -> list[CommentEvent]:
    base = datetime(2026, 11, 1, tzinfo=timezone.utc)
    out = []
    for t in range(tickets):
        for n in range(per_ticket):
            body = f"{rng.choice(MESSAGES)} (ref {rng.randrange(10**6)})"
            out.append(CommentEvent(
                helpdesk="zendesk", account="bench", external_id=str(5_000_000 + round_no * 100_000 + t),
                comment_id=str(n + 1), source="zendesk.comment_created", delivery_id=uuid.uuid4().hex,
                author_id="1", author_name="Customer", author_role="customer", is_public=True,
                body=body, commented_at=base + timedelta(minutes=n), ticket={"id": t, "tags": []},
            ))
    return out


def load_history(engine, tickets: int, per_ticket: int) -> float:
    """Bulk: `tickets` tickets (done, no due work), `per_ticket` comments and scores each."""
    started = time.perf_counter()
    n = tickets * per_ticket
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            series_t = f"generate_series(1, {tickets}) AS g(i)"
            series_c = f"generate_series(1, {n}) AS g(i)"
            ts = "timestamptz '2025-01-01' + (i || ' seconds')::interval"
            conn.execute(text(f"INSERT INTO tickets (id, helpdesk, account, external_id, created_at) "
                              f"SELECT i, 'zendesk', 'history', i::text, {ts} FROM {series_t}"))
            conn.execute(text(f"INSERT INTO comments (id, ticket_id, comment_key, fingerprint, source, author_role, "
                              f"is_public, body, text, commented_at, received_at, ticket_snapshot, status, attempts, "
                              f"run_after, finished_at) SELECT i, (i - 1) / {per_ticket} + 1, i::text, md5(i::text), "
                              f"'zendesk.comment_created', 'customer', true, 'old message ' || i, 'old message ' || i, "
                              f"{ts}, {ts}, '{{}}'::json, 'done', 0, {ts}, {ts} FROM {series_c}"))
            conn.execute(text(f"INSERT INTO scores (id, ticket_id, comment_id, commented_at, text, score, label, "
                              f"frustration, urgency, cues, scorer, scorer_version, created_at) "
                              f"SELECT i, (i - 1) / {per_ticket} + 1, i, {ts}, 'old message ' || i, -0.1, 'neutral', "
                              f"0.2, 0.1, '[]'::json, 'local', '1', {ts} FROM {series_c}"))
            for table in ("tickets", "comments", "scores"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        else:
            cte = "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) "
            ts = "datetime('2025-01-01', '+' || i || ' seconds')"
            conn.execute(text(cte.format(n=tickets) + f"INSERT INTO tickets (id, helpdesk, account, external_id, "
                              f"created_at) SELECT i, 'zendesk', 'history', CAST(i AS TEXT), {ts} FROM g"))
            conn.execute(text(cte.format(n=n) + f"INSERT INTO comments (id, ticket_id, comment_key, fingerprint, "
                              f"source, author_role, is_public, body, text, commented_at, received_at, ticket_snapshot, "
                              f"status, attempts, run_after, finished_at) SELECT i, (i - 1) / {per_ticket} + 1, "
                              f"CAST(i AS TEXT), hex(i), 'zendesk.comment_created', 'customer', 1, 'old message ' || i, "
                              f"'old message ' || i, {ts}, {ts}, '{{}}', 'done', 0, {ts}, {ts} FROM g"))
            conn.execute(text(cte.format(n=n) + f"INSERT INTO scores (id, ticket_id, comment_id, commented_at, text, "
                              f"score, label, frustration, urgency, cues, scorer, scorer_version, created_at) "
                              f"SELECT i, (i - 1) / {per_ticket} + 1, i, {ts}, 'old message ' || i, -0.1, 'neutral', "
                              f"0.2, 0.1, '[]', 'local', '1', {ts} FROM g"))
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - started


def one_round(engine, worker: Worker, round_no: int, tickets: int, per_ticket: int, seed: int) -> float:
    stream = events(round_no, tickets, per_ticket, random.Random(seed))
    inbox = Inbox(engine)
    for event in stream:
        inbox.store(event)
    started = time.perf_counter()
    worker.drain(limit=10**9)
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM comments WHERE status = 'pending'")).scalar()
    assert left == 0, f"{left} comments left pending"
    return len(stream) / elapsed


def measure(urls: dict[str, str], rounds: int, tickets: int, per_ticket: int) -> dict[str, list[float]]:
    """Rounds alternate between the databases, so both see the same machine load."""
    setups = {}
    for label, url in urls.items():
        engine = make_engine(url)
        worker = Worker(Pipeline(make_session_factory(engine), LocalScorer(), {}, Config()))
        one_round(engine, worker, 99, 50, per_ticket, seed=0)  # warm-up: imports, model load, caches
        setups[label] = (engine, worker)
    rates: dict[str, list[float]] = {label: [] for label in urls}
    for r in range(rounds):
        for label, (engine, worker) in setups.items():
            rates[label].append(one_round(engine, worker, r, tickets, per_ticket, seed=r))
    for label, (engine, _) in setups.items():
        engine.dispose()
        print(f"  {label:<34} " + "  ".join(f"{rate:7.0f}" for rate in rates[label])
              + f"   median {statistics.median(rates[label]):7.0f} comments/s", flush=True)
    return rates


def fresh_database(kind: str, admin_url: str | None, workdir: Path, name: str) -> str:
    url = f"sqlite:///{workdir / (name + '.db')}" if kind == "sqlite" else fresh_postgres(admin_url, name)
    upgrade(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostgreSQL URL allowed to CREATE DATABASE (default $TEST_DATABASE_URL)")
    parser.add_argument("--history-tickets", type=int, default=1_000_000)
    parser.add_argument("--scores-per-ticket", type=int, default=5)
    parser.add_argument("--tickets", type=int, default=500, help="new tickets per round")
    parser.add_argument("--per-ticket", type=int, default=4, help="new comments per new ticket")
    parser.add_argument("--rounds", type=positive_int, default=3)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    if args.database == "postgresql" and not args.admin_url:
        parser.error("--admin-url (or TEST_DATABASE_URL) is needed for PostgreSQL")

    with tempfile.TemporaryDirectory() as tmp:
        try:
            run(args, Path(tmp))
        finally:  # an interrupted load or a failed round too: no database left behind
            if args.database == "postgresql":
                drop_databases(args.admin_url)


def run(args, workdir: Path) -> None:
    empty = fresh_database(args.database, args.admin_url, workdir, EMPTY)
    full = fresh_database(args.database, args.admin_url, workdir, HISTORY)
    print(f"{args.database}: loading {args.history_tickets:,} tickets x {args.scores_per_ticket} scores ...", flush=True)
    history = make_engine(full)
    loaded = load_history(history, args.history_tickets, args.scores_per_ticket)
    history.dispose()
    print(f"  loaded in {loaded:.0f} s", flush=True)
    print(f"{args.database}: {args.tickets * args.per_ticket} comments per round "
          f"({args.tickets} tickets x {args.per_ticket}), {args.rounds} rounds each, alternating", flush=True)
    stored = f"{args.history_tickets:,} tickets stored"
    rates = measure({"empty database": empty, stored: full}, args.rounds, args.tickets, args.per_ticket)
    empty_rates, full_rates = rates["empty database"], rates[stored]
    ratio = statistics.median(full_rates) / statistics.median(empty_rates)
    print(f"{args.database}: with history / empty = {ratio:.2f}")


def drop_databases(admin_url: str) -> None:
    for name in (EMPTY, HISTORY):
        drop_postgres(admin_url, name)


if __name__ == "__main__":
    main()
