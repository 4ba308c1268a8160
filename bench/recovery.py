"""Recovery after kill -9, with the default lease (20 s):

    .venv/bin/python bench/recovery.py                         # SQLite: kill -9 `serve`, start it again
    .venv/bin/python bench/recovery.py --admin-url URL         # PostgreSQL too: kill -9 one of two workers

A slow (fake, loopback) Zendesk keeps escalations in flight; the process is killed while it
holds a lease. Measured: seconds from the kill until every queued comment and escalation is done,
and whether any escalation was sent twice.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.server import LiveServer  # noqa: E402
from tests.fakes.zendesk import FakeZendesk  # noqa: E402

import logging  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake API logs every request

SECRET = "YmVuY2hfc2VjcmV0X2Zvcl9yZWNvdmVyeQ=="
FURIOUS = "I am DONE. Cancel my account, I'm reporting you to the BBB and my lawyer!!! Worst service ever."


def signed(ticket: int, text_: str) -> tuple[bytes, dict]:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps({
        "account_id": 1, "id": f"evt-{ticket}", "time": stamp, "type": "zen:event-type:ticket.comment_added",
        "subject": f"zen:ticket:{ticket}",
        "detail": {"id": str(ticket), "requester_id": "301", "status": "OPEN", "tags": [], "updated_at": stamp},
        "event": {"comment": {"id": "1", "body": text_, "is_public": True,
                              "author": {"id": "301", "is_staff": False, "name": "Dana Cole"}}},
    }).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()).decode()
    return body, {"Content-Type": "application/json", "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                  "X-Zendesk-Webhook-Signature": signature}


def backlog(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT (SELECT count(*) FROM comments WHERE status = 'pending') + "
            "(SELECT count(*) FROM escalations WHERE status = 'pending')")).scalar()


def holds_lease(engine, pid: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM tickets WHERE lease_owner LIKE :p OR escalation_owner LIKE :p"),
            {"p": f"%:{pid}:%"}).scalar() > 0


def held_by(engine, pid: int) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT id FROM tickets WHERE lease_owner LIKE :p OR escalation_owner LIKE :p"), {"p": f"%:{pid}:%"}).scalars())


def pending_on(engine, ticket_ids: list[int]) -> int:
    with engine.connect() as conn:
        return sum(conn.execute(text(
            "SELECT (SELECT count(*) FROM comments WHERE ticket_id = :t AND status = 'pending') + "
            "(SELECT count(*) FROM escalations WHERE ticket_id = :t AND status = 'pending')"), {"t": t}).scalar()
            for t in ticket_ids)


def doubled(fake: FakeZendesk) -> int:
    puts = Counter(r.path for r in fake.writes())
    return sum(1 for count in puts.values() if count > 1)


def run(kind: str, url: str, tmp: Path, tickets: int) -> None:
    from ticketpulse.migrations import upgrade

    upgrade(url)
    engine = create_engine(url)
    fake = FakeZendesk()
    fake.latency = 1.0  # every API call takes a second: escalations stay in flight
    for t in range(tickets):
        fake.add_ticket(str(1000 + t))
    with LiveServer(fake.app()) as api:
        config = tmp / f"{kind}.toml"
        config.write_text("[zendesk]\nrequests_per_minute = 100000\n")
        env = os.environ | {"DATABASE_URL": url, "TICKETPULSE_CONFIG": str(config), "ZENDESK_WEBHOOK_SECRET": SECRET,
                            "ZENDESK_BASE_URL": api.url, "ZENDESK_EMAIL": fake.email, "ZENDESK_API_TOKEN": fake.token}
        log = (tmp / f"{kind}.log").open("w")
        if kind == "sqlite":
            command = [sys.executable, "-m", "ticketpulse.cli", "serve", "--port", "8721"]
            victim = subprocess.Popen(command, env=env, stdout=log, stderr=log)
            others: list[subprocess.Popen] = []
            web = "http://127.0.0.1:8721"
        else:
            command = [sys.executable, "-m", "ticketpulse.cli", "worker"]
            victim, *others = [subprocess.Popen(command, env=env, stdout=log, stderr=log) for _ in range(2)]
            from ticketpulse.config import Config, Environment
            from ticketpulse.webhooks import create_app

            web = LiveServer(create_app({"TICKETPULSE": Config(), "ENVIRONMENT": Environment(
                database_url=url, zendesk_webhook_secret=SECRET)}))
            web.__enter__()
        base = web if isinstance(web, str) else web.url
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
        for t in range(tickets):
            body, headers = signed(1000 + t, FURIOUS)
            assert requests.post(f"{base}/webhooks/zendesk", data=body, headers=headers, timeout=30).status_code == 202
        while not holds_lease(engine, victim.pid):
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed = time.monotonic()
        held = held_by(engine, victim.pid)
        if kind == "sqlite":  # the embedded default: the process manager starts it again
            others = [subprocess.Popen(command, env=env, stdout=log, stderr=log)]
        while pending_on(engine, held):
            time.sleep(0.1)
        taken_over = time.monotonic() - killed
        while backlog(engine):
            time.sleep(0.1)
        recovered = time.monotonic() - killed
        for process in others:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        if not isinstance(web, str):
            web.__exit__(None, None, None)
    what = "kill -9 of `serve`, then a restart" if kind == "sqlite" else "kill -9 of one of two workers"
    print(f"{kind}: {what}: the killed process's {len(held)} leased ticket(s) done {taken_over:.1f} s after "
          f"the kill; whole backlog done after {recovered:.1f} s "
          f"({tickets} tickets, 1 s per API call); tickets updated twice: {doubled(fake)}", flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--tickets", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run("sqlite", f"sqlite:///{tmp / 'recovery.db'}", tmp, args.tickets)
        if args.admin_url:
            from sqlalchemy.engine import make_url

            admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS tp_bench_recovery WITH (FORCE)"))
                conn.execute(text("CREATE DATABASE tp_bench_recovery"))
            url = make_url(args.admin_url).set(database="tp_bench_recovery").render_as_string(hide_password=False)
            run("postgresql", url, tmp, args.tickets)
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS tp_bench_recovery WITH (FORCE)"))


if __name__ == "__main__":
    main()
