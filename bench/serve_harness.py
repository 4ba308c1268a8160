"""What the `serve` benchmarks share: `ticketpulse serve` on the embedded default (SQLite) against a
fake Zendesk on loopback, and comment webhooks built and signed the way the tests build them
(tests/zendesk_helpers.py: Zendesk's event shape and signature)."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.children import start, stop  # noqa: E402
from tests.conftest import as_body  # noqa: E402
from tests.fakes.zendesk import FakeZendesk  # noqa: E402
from tests.zendesk_helpers import comment_event, signed_headers  # noqa: E402

SECRET = "YmVuY2hfc2VjcmV0X2Zvcl9lc2NhbGF0aW9u"
CUSTOMER_ID, AGENT_ID = "301", "9001"
FURIOUS = "I am DONE. Cancel my account, I'm reporting you to the BBB and my lawyer!!! Worst service ever."
CALM = ["Could you tell me when my order will ship?", "Thanks, that worked.", "Where do I change my address?"]


def signed(ticket: int, comment: int | str, text: str, *, at: datetime | None = None,
           staff: bool = False) -> tuple[bytes, dict]:
    """A signed `ticket.comment_added` webhook: the comment written at `at` (default now), by the
    requester or, with `staff`, by an agent; the signature itself is always fresh."""
    written = (at or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = comment_event(str(ticket), str(comment), text, time=written, staff=staff, tags=[],
                          author_id=AGENT_ID if staff else CUSTOMER_ID)
    body = as_body(event)
    return body, signed_headers(body, secret=SECRET, invocation=f"{ticket}-{comment}")


def pct(values: list[float], q: int) -> float:
    """The q-th percentile, always within the values measured: statistics.quantiles' default
    method ("exclusive") extrapolates past the largest value of a small sample (a p95 above the max)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def pending(url: str) -> int:
    health = json.load(urllib.request.urlopen(f"{url}/healthz", timeout=10))
    return health["pending_comments"] + health["pending_escalations"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(tmp: Path, api_url: str, fake: FakeZendesk, port: int = 0) -> Iterator[tuple[subprocess.Popen, str]]:
    """`ticketpulse serve` in `tmp` (database `tmp/serve.db`, log `tmp/serve.log`), started and
    answering, stopped with SIGTERM on the way out. Default config except the fake API's address
    and an account budget that does not queue the benchmark (100 requests a minute would)."""
    config = tmp / "ticketpulse.toml"
    config.write_text("[zendesk]\nsenior_group_id = 360001234567\nrequests_per_minute = 100000\n")
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp / 'serve.db'}", "TICKETPULSE_CONFIG": str(config),
        "ZENDESK_WEBHOOK_SECRET": SECRET, "ZENDESK_BASE_URL": api_url, "ZENDESK_EMAIL": fake.email,
        "ZENDESK_API_TOKEN": fake.token, "PYTHONPATH": str(ROOT),
    }
    port = port or free_port()
    log = tmp / "serve.log"
    serve = start([sys.executable, "-m", "ticketpulse.cli", "serve", "--port", str(port)],
                  env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                pending(url)
                break
            except OSError:
                if time.monotonic() > deadline or serve.poll() is not None:
                    raise SystemExit(log.read_text()[-2000:])
                time.sleep(0.2)
        yield serve, url
    finally:
        stop(serve, timeout=60)


def send_steady(url: str, rate: float, seconds: float, first_ticket: int, text_of: Callable[[int], str],
                senders: int = 4) -> dict[str, float]:
    """Comment i on the fresh ticket first_ticket + i, sent at start + i / rate from a few sender
    threads; returns each ticket's send time (wall clock)."""
    total = int(rate * seconds)
    sent_at: dict[str, float] = {}
    start = time.monotonic() + 0.5

    def send(offset: int) -> None:
        session = requests.Session()
        for i in range(offset, total, senders):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ticket = first_ticket + i
            body, headers = signed(ticket, 1, text_of(i))
            sent_at[str(ticket)] = time.time()
            response = session.post(f"{url}/webhooks/zendesk", data=body, headers=headers, timeout=30)
            assert response.status_code == 202, response.text

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent_at
