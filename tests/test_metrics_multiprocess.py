"""Under `gunicorn -w N` with PROMETHEUS_MULTIPROC_DIR, every scrape shows the totals of all processes."""

from __future__ import annotations

import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.conftest import ZENDESK_SECRET
from tests.test_live_reload import Process, free_port
from tests.zendesk_helpers import as_body, comment_event, signed_headers

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 3
REFUSED = 60


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search(rf"^{name}{{{re.escape(wanted)}}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_a_multi_process_gunicorn_reports_true_totals(tmp_path):
    from ticketpulse.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))} | {
        "DATABASE_URL": url, "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    port = free_port()
    # Sync workers: one connection per request, taken by whichever worker accepts it first.
    gunicorn = Process([str(Path(sys.executable).parent / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
                        "ticketpulse.webhooks:create_app()"], ROOT, env, log_dir=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        gunicorn.wait_for("FRESHDESK_WEBHOOK_SECRET is not set", count=WORKERS)
        # Sent at once from several threads: one after another, a fast answer lets the same
        # worker accept every request, and the test would show nothing about summing.
        def unsigned(_n) -> int:
            return requests.post(f"{base}/webhooks/zendesk", data=b"{}", headers={"Content-Type": "application/json"},
                                 timeout=10).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            assert set(pool.map(unsigned, range(REFUSED))) == {401}
        for n in range(5):
            body = as_body(comment_event(str(500 + n), "1", "Where is my order?", time="2025-03-05T10:00:00Z"))
            accepted = requests.post(f"{base}/webhooks/zendesk", data=body, headers=signed_headers(body, invocation=str(n)),
                                     timeout=10)
            assert accepted.status_code == 202
        scrapes = []
        for _ in range(9):
            response = requests.get(f"{base}/metrics", timeout=10)
            scrapes.append(response.text)
            time.sleep(0.05)
        pids = {line.split(" ")[-1] for line in gunicorn.output.splitlines() if "Booting worker with pid" in line}
    finally:
        gunicorn.stop()
    assert len(pids) == WORKERS
    refused = {sample(text, "ticketpulse_webhook_refusals_total", helpdesk="zendesk", reason="authentication_failed")
               for text in scrapes}
    accepted_totals = {sample(text, "ticketpulse_webhooks_total", helpdesk="zendesk", status="accepted") for text in scrapes}
    assert refused == {float(REFUSED)}
    assert accepted_totals == {5.0}
    files = list((tmp_path / "prometheus").glob("counter_*.db"))
    assert len(files) >= 2  # more than one process counted: the totals above are sums
