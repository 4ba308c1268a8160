"""Time to escalation and `serve`'s memory, on the embedded default (`ticketpulse serve`, SQLite).

    .venv/bin/python bench/escalation.py

- Time to escalation: signed Zendesk webhooks at a steady `--rate` (50/s) for `--seconds`, one in
  ten a furious customer on a fresh ticket; measured from the moment the webhook is sent to the
  moment the (fake, loopback) Zendesk API receives the escalation's PUT. p50 and p95.
- RSS of the `serve` process: at rest (started, migrated, idle 5 s), and after 10,000 more
  webhooks have been accepted and worked off.

The Zendesk API is tests/fakes/zendesk.py on loopback (real request shapes, auth, tag
semantics). The account budget is raised (`requests_per_minute = 100000`) so the measure is the
pipeline's latency, not the default budget's queueing (100 requests a minute would queue a burst
of 150 escalations by design).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_harness import CALM, FURIOUS, pct, pending, send_steady, serving, signed  # noqa: E402
from tests.fakes.server import LiveServer  # noqa: E402
from tests.fakes.zendesk import FakeZendesk  # noqa: E402

import logging  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake API logs every request


class PutClock:
    """WSGI middleware: when each ticket's first PUT arrived."""

    def __init__(self, app) -> None:
        self.app = app
        self.first_put: dict[str, float] = {}

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PUT":
            self.first_put.setdefault(environ["PATH_INFO"].rsplit("/", 1)[-1], time.time())
        return self.app(environ, start_response)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def wait_drained(url: str, timeout: float) -> float:
    started = time.monotonic()
    while pending(url) and time.monotonic() - started < timeout:
        time.sleep(0.5)
    return time.monotonic() - started


def furious_or_calm(i: int) -> str:
    return FURIOUS if i % 10 == 0 else CALM[i % len(CALM)]


def flood(url: str, count: int, first_ticket: int) -> None:
    def send(offset: int) -> None:
        session = requests.Session()
        for i in range(offset, count, 8):
            body, headers = signed(first_ticket + i // 3, i, f"{CALM[i % len(CALM)]} (#{i})")
            assert session.post(f"{url}/webhooks/zendesk", data=body, headers=headers, timeout=60).status_code == 202

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def stage_times(db: Path, sent_at: dict[str, float], first_put: dict[str, float]) -> dict[str, list[float]]:
    """Where the time goes, per escalating ticket, from the rows `serve` stored (ms)."""
    import sqlite3

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()

    stages: dict[str, list[float]] = {"webhook sent -> stored": [], "stored -> score recorded": [],
                                      "score recorded -> PUT at the API": []}
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT t.external_id, c.received_at, s.created_at FROM tickets t JOIN comments c ON c.ticket_id = t.id "
            "JOIN scores s ON s.comment_id = c.id").fetchall()
    for ticket, received, scored in rows:
        if ticket in sent_at and ticket in first_put:
            stages["webhook sent -> stored"].append((epoch(received) - sent_at[ticket]) * 1000)
            stages["stored -> score recorded"].append((epoch(scored) - epoch(received)) * 1000)
            stages["score recorded -> PUT at the API"].append((first_put[ticket] - epoch(scored)) * 1000)
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--flood", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=0, help="serve's port (default: a free one)")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    args = parser.parse_args()

    fake = FakeZendesk()
    for t in range(100_000, 100_000 + int(args.rate * args.seconds)):
        fake.add_ticket(str(t))
    clock = PutClock(fake.app())
    with LiveServer(clock) as api, tempfile.TemporaryDirectory() as tmp, \
            serving(Path(tmp), api.url, fake, args.port) as (serve, url):
        time.sleep(5)
        at_rest = rss_mb(serve.pid)

        # one in ten a furious customer on a new ticket: those are the escalations timed
        sent = send_steady(url, args.rate, args.seconds, 100_000, furious_or_calm, senders=8)
        sent_at = {ticket: at for ticket, at in sent.items() if furious_or_calm(int(ticket) - 100_000) == FURIOUS}
        total = len(sent)
        wait_drained(url, 120)
        time.sleep(1)
        latencies = sorted((clock.first_put[t] - sent) * 1000 for t, sent in sent_at.items() if t in clock.first_put)
        missing = len(sent_at) - len(latencies)
        stages = stage_times(Path(tmp) / "serve.db", sent_at, clock.first_put)

        flooded = time.monotonic()
        flood(url, args.flood, 1_000_000)
        accepted = time.monotonic() - flooded
        after_accept = rss_mb(serve.pid)
        drained = wait_drained(url, args.drain_timeout)
        left = pending(url)
        after = rss_mb(serve.pid)

    print(f"time to escalation at {args.rate:.0f} webhooks/s for {args.seconds:.0f} s ({total} webhooks, "
          f"{len(sent_at)} escalating, {missing} without a PUT): p50 {pct(latencies, 50):.0f} ms, "
          f"p95 {pct(latencies, 95):.0f} ms, max {max(latencies, default=float('nan')):.0f} ms")
    for name, values in stages.items():
        if values:
            print(f"  {name:<38} p50 {pct(values, 50):6.0f} ms   p95 {pct(values, 95):6.0f} ms")
    print(f"serve RSS: {at_rest:.0f} MB at rest; {after_accept:.0f} MB right after {args.flood:,} more webhooks "
          f"(accepted in {accepted:.0f} s); {after:.0f} MB {drained:.0f} s later, {left} items still queued")


if __name__ == "__main__":
    main()
