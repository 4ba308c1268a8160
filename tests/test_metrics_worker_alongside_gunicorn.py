"""`ticketpulse worker --metrics-port` next to `gunicorn -w N`, both with the same environment (the
same PROMETHEUS_MULTIPROC_DIR): each process is counted by one scrape target only, so the sum over
the targets is the true total."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import requests

from tests.conftest import ZENDESK_SECRET
from tests.test_live_reload import Process, free_port
from tests.test_metrics_multiprocess import sample
from tests.zendesk_helpers import as_body, comment_event, signed_headers

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REFUSED, ACCEPTED = 3, 2


def totals(text: str) -> tuple[float, float, float]:
    return (sample(text, "ticketpulse_webhook_refusals_total", helpdesk="zendesk", reason="authentication_failed"),
            sample(text, "ticketpulse_webhooks_total", helpdesk="zendesk", status="accepted"),
            sample(text, "ticketpulse_comments_total", outcome="scored"))


def test_a_worker_sharing_gunicorns_metrics_directory_is_counted_once(tmp_path):
    from ticketpulse.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))} | {
        "DATABASE_URL": url, "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    web_port, worker_port = free_port(), free_port()
    gunicorn = Process([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{web_port}",
                        "ticketpulse.webhooks:create_app()"], ROOT, env, log_dir=tmp_path)
    worker = Process([str(BIN / "ticketpulse"), "worker", "--metrics-port", str(worker_port)], tmp_path, env)
    web, metrics_port = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{worker_port}"
    try:
        gunicorn.wait_for("FRESHDESK_WEBHOOK_SECRET is not set", count=2)
        worker.wait_for("worker started")
        for _ in range(REFUSED):
            assert requests.post(f"{web}/webhooks/zendesk", data=b"{}", timeout=10,
                                 headers={"Content-Type": "application/json"}).status_code == 401
        for n in range(ACCEPTED):
            body = as_body(comment_event(str(700 + n), "1", "Where is my order?", time="2025-03-05T10:00:00Z"))
            assert requests.post(f"{web}/webhooks/zendesk", data=body, headers=signed_headers(body, invocation=str(n)),
                                 timeout=10).status_code == 202
        deadline = time.monotonic() + 60
        while totals(requests.get(metrics_port, timeout=10).text)[2] < ACCEPTED:
            assert time.monotonic() < deadline, worker.output
            time.sleep(0.2)
        web_totals = totals(requests.get(f"{web}/metrics", timeout=10).text)
        worker_totals = totals(requests.get(metrics_port, timeout=10).text)
    finally:
        worker.stop()
        gunicorn.stop()
    assert web_totals == (REFUSED, ACCEPTED, 0)  # the web processes received; they never scored
    assert worker_totals == (0, 0, ACCEPTED)  # the worker scored; it received nothing
