"""A hung helpdesk must not slow anyone else's scoring: webhook in -> score stored, for the other
tickets, with a healthy helpdesk and with one where every API call hangs, side by side in one run.

    .venv/bin/python bench/hung_helpdesk.py

Each phase starts `ticketpulse serve` (the embedded default: SQLite, one process) on a fresh
database, with the fake Zendesk of tests/fakes/ on loopback. First `--furious` furious customers
on their own tickets: their escalations go to the helpdesk (in the hung phase every call hangs
until the client's read timeout, 20 s, and is rescheduled). Then calm comments on other tickets at
a steady `--rate` for `--seconds`; for each, the time from the webhook's send to its score row's
commit (`scores.created_at`). Prints p50 / p95 for both phases and the ratio hung / healthy.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_harness import CALM, FURIOUS, pct, send_steady, serving, signed  # noqa: E402
from tests.fakes.server import LiveServer  # noqa: E402
from tests.fakes.zendesk import FakeZendesk  # noqa: E402

import logging  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)

HANG_SECONDS = 3600.0  # every API call: longer than any client timeout


class Calls:
    """WSGI middleware: counts the helpdesk API calls that arrived (hung ones included)."""

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0

    def __call__(self, environ, start_response):
        self.count += 1
        return self.app(environ, start_response)


def scored_at(db: Path) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT t.external_id, min(s.created_at) FROM scores s JOIN tickets t ON t.id = s.ticket_id "
                            "GROUP BY t.external_id").fetchall()
    return {ticket: datetime.fromisoformat(at).replace(tzinfo=timezone.utc).timestamp() for ticket, at in rows}


def phase(name: str, hang: bool, args) -> list[float]:
    fake = FakeZendesk()
    for t in range(1, args.furious + 1):
        fake.add_ticket(str(t))
    calls = Calls(fake.app())
    with LiveServer(calls) as api, tempfile.TemporaryDirectory() as tmp_name, \
            serving(Path(tmp_name), api.url, fake, args.port) as (_serve, url):
        tmp = Path(tmp_name)
        if hang:
            fake.latency = HANG_SECONDS
        session = requests.Session()
        for t in range(1, args.furious + 1):  # their escalations now wait on the helpdesk
            body, headers = signed(t, 1, FURIOUS)
            assert session.post(f"{url}/webhooks/zendesk", data=body, headers=headers, timeout=30).status_code == 202
        time.sleep(1.0)
        sent_at = send_steady(url, args.rate, args.seconds, 1_000_000, lambda i: CALM[i % len(CALM)])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = scored_at(tmp / "serve.db")
            if all(ticket in done for ticket in sent_at):
                break
            time.sleep(0.5)
        latencies = sorted((done[t] - sent) * 1000 for t, sent in sent_at.items() if t in done)
        missing = len(sent_at) - len(latencies)
        furious_scored = sum(1 for t in range(1, args.furious + 1) if str(t) in done)
    p95 = pct(latencies, 95)
    print(f"  {name:<9} {len(sent_at)} other tickets: p50 {pct(latencies, 50):6.0f} ms   p95 {p95:6.0f} ms   "
          f"max {max(latencies, default=float('nan')):6.0f} ms   not scored {missing}; {furious_scored}/{args.furious} furious scored, "
          f"{calls.count} API calls reached the helpdesk", flush=True)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="other tickets' webhooks per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--furious", type=int, default=20, help="escalating tickets sent first")
    parser.add_argument("--port", type=int, default=0, help="serve's port (default: a free one)")
    args = parser.parse_args()
    print(f"webhook in -> score stored for other tickets, {args.rate:.0f} webhooks/s for {args.seconds:.0f} s, "
          f"after {args.furious} escalating tickets (serve, SQLite)", flush=True)
    healthy = phase("healthy", False, args)
    hung = phase("hung", True, args)
    ratio = pct(hung, 95) / pct(healthy, 95)
    print(f"p95 hung / healthy = {ratio:.2f}")


if __name__ == "__main__":
    main()
