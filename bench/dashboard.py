"""Dashboard page render time with 100,000 stored tickets (target: every page <= 300 ms).

    .venv/bin/python bench/dashboard.py [--runs 15]
        [--database-url postgresql+psycopg:///root?host=/var/run/postgresql]

Three stored histories, side by side:
  - 10,000 tickets over 30 days and 100,000 over 300 days: the same traffic (about 330
    conversations a day), ten times the history. Their ratio shows whether a page's cost grows
    with the stored history (it should stay near 1.0).
  - 100,000 tickets all in the last 30 days: the worst case for the 30-day pages, ten times the
    traffic in the window.

For each database (a temporary SQLite file; also PostgreSQL when --database-url names a server,
where a temporary database is created and dropped) and each history:

  1. a fresh, migrated database gets N tickets spread evenly over D days, each with 1-5
     scored customer messages (and their comments), about 10 % escalated (one or two
     escalations, a rule and severity each), a fifth of those with a verdict; bulk inserts;
  2. the app is built as gunicorn builds it (create_app with DASHBOARD_PASSWORD) and each page is
     requested through the WSGI stack with HTTP Basic, as a browser would: overview for a day, a
     week and 30 days; the escalations list (week; critical only; page 20 of 30 days); tuning over 30 days;
     a ticket's page. One warm-up request each, then --runs timed requests.

Printed: the median milliseconds per page and history, and the ratio 100k-over-300-days to
10k-over-30-days.
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.databases import temporary_postgres  # noqa: E402
from bench.options import positive_int  # noqa: E402

from sqlalchemy import insert, select, text  # noqa: E402

from ticketpulse.config import Config, Environment  # noqa: E402
from ticketpulse.migrations import upgrade  # noqa: E402
from ticketpulse.models import Comment, Escalation, Score, Ticket, make_engine, utcnow  # noqa: E402

PASSWORD = "bench-dashboard-pw"  # DASHBOARD_PASSWORD takes 12 characters or more
RULES = [("critical", "critical_frustration"), ("high", "negative_and_declining"), ("medium", "frustration"), ("low", "repeated_negative")]
PAGES = {
    "overview day": "/dashboard/?period=day",
    "overview week": "/dashboard/?period=week",
    "overview 30d": "/dashboard/?period=30d",
    "escalations week": "/dashboard/escalations?period=week",
    "escalations critical": "/dashboard/escalations?period=30d&severity=critical",
    "escalations page 20": "/dashboard/escalations?period=30d&page=20",
    "tuning 30d": "/dashboard/tuning?period=30d",
    "ticket": None,  # filled in with an escalated ticket's id
}
CHUNK = 5000


def seed(engine, tickets: int, days: int, rng: random.Random) -> int:
    """Bulk-insert the history; returns the id of an escalated ticket with several messages."""
    now = utcnow()
    span = days * 86400
    escalated_example = None
    with engine.begin() as conn:
        comment_id = score_id = escalation_id = 0
        for start in range(0, tickets, CHUNK):
            ticket_rows, comment_rows, score_rows, escalation_rows = [], [], [], []
            for n in range(start, min(start + CHUNK, tickets)):
                ticket_id = n + 1
                created = now - timedelta(seconds=span * (1 - (n + 0.5) / tickets))
                messages = rng.randint(1, 5)
                escalate = rng.random() < 0.10
                severities = []
                if escalate:
                    first = rng.randrange(4)
                    severities = [RULES[first]] + ([RULES[rng.randrange(first)]] if first and rng.random() < 0.3 else [])
                ticket_rows.append(dict(
                    id=ticket_id, helpdesk="zendesk" if n % 3 else "freshdesk",
                    account="9876543" if n % 3 else "acme.freshdesk.com", external_id=str(100000 + n),
                    escalated_severity=severities[-1][0] if severities else None, created_at=created,
                ))
                message_ids = []
                for m in range(messages):
                    comment_id += 1
                    score_id += 1
                    at = created + timedelta(minutes=40 * m)
                    frustration = rng.random() ** (0.5 if escalate else 3)
                    comment_rows.append(dict(
                        id=comment_id, ticket_id=ticket_id, comment_key=f"id:{m}", fingerprint="f" * 16,
                        source="zendesk.event", author_role="customer", is_public=True, body="message", text="message",
                        commented_at=at, received_at=at, status="done", attempts=1, run_after=at, ticket_snapshot={},
                    ))
                    score_rows.append(dict(
                        id=score_id, ticket_id=ticket_id, comment_id=comment_id, commented_at=at, text="message",
                        score=round(rng.uniform(-1, 1) * (1 if escalate else 0.5), 3), label="negative",
                        frustration=round(frustration, 3), urgency=round(rng.random(), 3), cues=["late"],
                        scorer="local", scorer_version="bench", created_at=at,
                    ))
                    message_ids.append((comment_id, at))
                for k, (severity, rule) in enumerate(severities):
                    escalation_id += 1
                    trigger, at = message_ids[min(len(message_ids) - 1, k)]
                    verdict = rng.choice(["false_alarm", "confirmed"]) if rng.random() < 0.2 else None
                    escalation_rows.append(dict(
                        id=escalation_id, ticket_id=ticket_id, comment_id=trigger, severity=severity, rule=rule,
                        note="Auto-escalated", created_at=at + timedelta(seconds=3), status="applied", attempts=1,
                        run_after=at, dry_run=True, verdict=verdict, verdict_source="zendesk" if verdict else None,
                        verdict_at=at + timedelta(hours=2) if verdict else None,
                    ))
                if severities and messages >= 3 and created > now - timedelta(days=7):
                    escalated_example = ticket_id
            conn.execute(insert(Ticket), ticket_rows)
            conn.execute(insert(Comment), comment_rows)
            conn.execute(insert(Score), score_rows)
            if escalation_rows:
                conn.execute(insert(Escalation), escalation_rows)
    if engine.dialect.name == "postgresql":  # what autovacuum does on a live server
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    # SQLite: no ANALYZE, as in a deployment (ticketpulse never runs it). With sqlite_stat1 saying
    # every comment is "done", SQLite scans for the open work instead of using ix_comments_due.
    return escalated_example


def measure(url: str, ticket_id: int, runs: int) -> dict[str, float]:
    from ticketpulse.webhooks import create_app

    engine = make_engine(url)
    env = Environment(database_url=url, dashboard_password=PASSWORD, zendesk_subdomain="acme")
    app = create_app({"TICKETPULSE": Config(), "ENVIRONMENT": env, "ENGINE": engine})
    client = app.test_client()
    headers = {"Authorization": "Basic " + base64.b64encode(f"lead:{PASSWORD}".encode()).decode()}
    medians = {}
    for name, path in PAGES.items():
        path = path or f"/dashboard/tickets/{ticket_id}"
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            response.get_data()
            timings.append((time.perf_counter() - started) * 1000)
        medians[name] = statistics.median(timings)
    engine.dispose()
    return medians


@contextmanager
def sqlite_database():
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", nargs="+", default=["10000:30", "100000:300", "100000:30"],
                        help="TICKETS:DAYS each (default 10000:30 100000:300 100000:30); the ratio is 2nd / 1st")
    parser.add_argument("--no-sqlite", action="store_true", help="only the --database-url server")
    parser.add_argument("--runs", type=positive_int, default=15)
    parser.add_argument("--database-url", help="a PostgreSQL server to benchmark too")
    args = parser.parse_args()
    databases = [] if args.no_sqlite else [("sqlite", sqlite_database)]
    if args.database_url:
        databases.append(("postgresql", lambda: temporary_postgres(args.database_url, "tp_bench_dashboard")))
    histories = [tuple(int(part) for part in spec.split(":")) for spec in args.histories]
    names = [f"{size:,} / {days} d" for size, days in histories]
    for label, make in databases:
        results = []
        for size, days in histories:
            with make() as url:
                upgrade(url)
                engine = make_engine(url)
                started = time.perf_counter()
                ticket_id = seed(engine, size, days, random.Random(size))
                seeded = time.perf_counter() - started
                with engine.connect() as conn:
                    escalations = conn.scalar(select(text("count(*)")).select_from(Escalation.__table__))
                engine.dispose()
                print(f"{label}: {size} tickets, {escalations} escalations over {days} days (seeded in {seeded:.0f} s)", flush=True)
                results.append(measure(url, ticket_id, args.runs))
        print(f"\n{label}: median ms per page ({args.runs} runs each); tickets / days of history")
        print(f"  {'PAGE':<22}" + "".join(f"{name:>18}" for name in names) + f"{'RATIO 2/1':>11}")
        for page in PAGES:
            row = "".join(f"{result[page]:>18.1f}" for result in results)
            ratio = results[1][page] / results[0][page] if results[0][page] else float("nan")
            print(f"  {page:<22}{row}{ratio:>11.2f}")
        for name, result in zip(names[1:], results[1:]):
            worst = max(result, key=result.get)
            print(f"  slowest page with {name}: {worst} {result[worst]:.1f} ms "
                  f"({'within' if result[worst] <= 300 else 'over'} the 300 ms target)")
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
