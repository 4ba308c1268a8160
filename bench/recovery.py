"""Recovery after kill -9, with the default lease (20 s), and after a database outage:

    .venv/bin/python bench/recovery.py                         # SQLite: kill -9 `serve`, start it again
    .venv/bin/python bench/recovery.py --admin-url URL         # PostgreSQL too: kill -9 one of two workers
    .venv/bin/python bench/recovery.py --admin-url URL --outage 20   # PostgreSQL: the database away 20 s

The outage: two `ticketpulse worker` processes reach PostgreSQL through a TCP proxy on loopback
(to the server's Unix socket); for `--outage` seconds the proxy drops every connection and
refuses new ones, as a restarting or unreachable server does (the real server is shared, so it
is not stopped). Webhooks keep arriving meanwhile (the web app reaches the database directly).
Measured: seconds from the database's return until every queued comment and escalation is done.

A slow (fake, loopback) Zendesk keeps escalations in flight; the process is killed while it
holds a lease. Measured: seconds from the kill until every queued comment and escalation is done,
and whether any escalation was sent twice.

The service's log lines (the processes started, the web app and migrations run in this one) go to
`--log FILE`, else to a new file in the temporary directory; its name is the first line printed.
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
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.children import start, stop  # noqa: E402
from bench.databases import drop_postgres, fresh_postgres, run_name  # noqa: E402
from bench.options import free_port, positive_int  # noqa: E402

from tests.fakes.server import LiveServer  # noqa: E402
from tests.fakes.zendesk import FakeZendesk  # noqa: E402

import logging  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake API logs every request

OUTAGE, RECOVERY = run_name("tp_bench_outage"), run_name("tp_bench_recovery")  # this run's PostgreSQL databases
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


def wait_until(done, timeout: float, what: str) -> None:
    """Poll `done()` until it is true; a run that gets stuck ends with what it waited for, not a hang."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {timeout:g} s")
        time.sleep(0.01)


def end(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        stop(process, timeout=60)


def doubled(fake: FakeZendesk) -> int:
    puts = Counter(r.path for r in fake.writes())
    return sum(1 for count in puts.values() if count > 1)


def run(kind: str, url: str, tmp: Path, tickets: int, log_path: Path) -> None:
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
        log = log_path.open("a")
        if kind == "sqlite":
            port = free_port()  # the restart after the kill takes the same one
            command = [sys.executable, "-m", "ticketpulse.cli", "serve", "--port", str(port)]
            victim = start(command, env=env, stdout=log, stderr=log)
            others: list[subprocess.Popen] = []
            web = f"http://127.0.0.1:{port}"
        else:
            command = [sys.executable, "-m", "ticketpulse.cli", "worker"]
            victim, *others = [start(command, env=env, stdout=log, stderr=log) for _ in range(2)]
            from ticketpulse.config import Config, Environment
            from ticketpulse.webhooks import create_app

            web = LiveServer(create_app({"TICKETPULSE": Config(), "ENVIRONMENT": Environment(
                database_url=url, zendesk_webhook_secret=SECRET)}))
            web.__enter__()
        base = web if isinstance(web, str) else web.url
        try:
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
            wait_until(lambda: holds_lease(engine, victim.pid), 120, "the process to kill holding a lease")
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed = time.monotonic()
            held = held_by(engine, victim.pid)
            if kind == "sqlite":  # the embedded default: the process manager starts it again
                others = [start(command, env=env, stdout=log, stderr=log)]
            wait_until(lambda: not pending_on(engine, held), 300, "the killed process's tickets done")
            taken_over = time.monotonic() - killed
            wait_until(lambda: not backlog(engine), 300, "the whole backlog done")
            recovered = time.monotonic() - killed
        finally:  # no process left running, whatever stopped the run
            end([victim, *others])
            if not isinstance(web, str):
                web.__exit__(None, None, None)
    what = "kill -9 of `serve`, then a restart" if kind == "sqlite" else "kill -9 of one of two workers"
    print(f"{kind}: {what}: the killed process's {len(held)} leased ticket(s) done {taken_over:.1f} s after "
          f"the kill; whole backlog done after {recovered:.1f} s "
          f"({tickets} tickets, 1 s per API call); tickets updated twice: {doubled(fake)}", flush=True)
    engine.dispose()


class OutageProxy:
    """TCP on loopback -> PostgreSQL's Unix socket; `down()` drops and refuses connections."""

    def __init__(self, socket_path: str) -> None:
        import asyncio
        import socket
        import threading

        self.socket_path = socket_path
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.pipes: set = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def _call(self, coroutine):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def up(self) -> None:
        import asyncio

        async def start():
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self._call(start())

    def down(self) -> None:
        async def stop():
            self.server.close()
            for writer in list(self.pipes):
                writer.transport.abort()
            self.pipes.clear()
        self._call(stop())

    async def _serve(self, reader, writer) -> None:
        import asyncio

        try:
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.socket_path)
        except OSError:
            writer.transport.abort()
            return
        self.pipes |= {writer, upstream_writer}

        async def pump(source, sink) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, ConnectionError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))


def run_outage(url: str, tmp: Path, tickets: int, outage: float, log_path: Path) -> None:
    """Workers lose the database for `outage` seconds; how soon after its return is the work done?"""
    from sqlalchemy.engine import make_url

    from ticketpulse.config import Config, Environment
    from ticketpulse.migrations import upgrade
    from ticketpulse.webhooks import create_app

    upgrade(url)
    engine = create_engine(url)
    parsed = make_url(url)
    socket_dir = parsed.query.get("host", "/var/run/postgresql")
    proxy = OutageProxy(f"{socket_dir}/.s.PGSQL.{parsed.port or 5432}")
    proxy.up()
    via_proxy = parsed.set(host="127.0.0.1", port=proxy.port, query={}).render_as_string(hide_password=False)
    fake = FakeZendesk()
    fake.latency = 0.05
    for t in range(3 * tickets):
        fake.add_ticket(str(1000 + t))
    with LiveServer(fake.app()) as api:
        config = tmp / "outage.toml"
        config.write_text("[zendesk]\nrequests_per_minute = 100000\n")
        env = os.environ | {"DATABASE_URL": via_proxy, "TICKETPULSE_CONFIG": str(config),
                            "ZENDESK_WEBHOOK_SECRET": SECRET, "ZENDESK_BASE_URL": api.url,
                            "ZENDESK_EMAIL": fake.email, "ZENDESK_API_TOKEN": fake.token}
        log = log_path.open("a")
        workers = [start([sys.executable, "-m", "ticketpulse.cli", "worker"], env=env, stdout=log,
                         stderr=log) for _ in range(2)]
        web = LiveServer(create_app({"TICKETPULSE": Config(), "ENVIRONMENT": Environment(
            database_url=url, zendesk_webhook_secret=SECRET)}))
        try:
            with web:
                def post(first: int) -> None:
                    for t in range(first, first + tickets):
                        body, headers = signed(1000 + t, FURIOUS)
                        assert requests.post(f"{web.url}/webhooks/zendesk", data=body, headers=headers,
                                             timeout=30).status_code == 202

                post(0)
                wait_until(lambda: not backlog(engine), 120, "the first tickets done before the outage")
                before = len(fake.writes())
                post(tickets)  # in flight when the database goes away
                time.sleep(0.3)
                proxy.down()
                post(2 * tickets)  # arrive during the outage
                time.sleep(outage)
                proxy.up()
                back = time.monotonic()
                wait_until(lambda: not backlog(engine), 300,
                           "the whole backlog done after the database came back")
                done = time.monotonic() - back
        finally:  # no worker left running, whatever stopped the run
            end(workers)
    print(f"postgresql: database away {outage:g} s (2 workers, {2 * tickets} furious comments arriving just "
          f"before and during it): whole backlog done {done:.1f} s after the database came back "
          f"({len(fake.writes()) - before} escalation writes); tickets updated twice: {doubled(fake)}", flush=True)
    engine.dispose()


@contextmanager
def logs_in(path: Path | None) -> Iterator[Path]:
    """The log lines of this process (the web app run in it, the migrations) in `path`, else in a
    new file kept after the run; the processes it starts write there too. On stderr they came
    between the results, and the started processes' files went with the temporary directory."""
    from ticketpulse.logs import TEXT_FORMAT, TextFormatter

    if path is None:
        handle, name = tempfile.mkstemp(prefix="ticketpulse-bench-recovery-", suffix=".log")
        os.close(handle)
        path = Path(name)
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(TextFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)  # before create_app: its configure_logging then keeps this handler
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--tickets", type=positive_int, default=10)
    parser.add_argument("--outage", type=float, default=0, help="seconds of database outage (PostgreSQL); 0: kill -9")
    parser.add_argument("--log", type=Path, metavar="FILE",
                        help="where the service's log lines go (default: a new file in the temporary directory)")
    args = parser.parse_args()
    if args.outage and not args.admin_url:
        parser.error("--outage needs --admin-url / $TEST_DATABASE_URL (PostgreSQL)")
    with logs_in(args.log) as log_path, tempfile.TemporaryDirectory() as tmp:
        print(f"service logs: {log_path}", flush=True)
        tmp = Path(tmp)
        if args.outage:
            url = fresh_postgres(args.admin_url, OUTAGE)
            try:
                run_outage(url, tmp, args.tickets, args.outage, log_path)
            finally:
                drop_postgres(args.admin_url, OUTAGE)
            return
        run("sqlite", f"sqlite:///{tmp / 'recovery.db'}", tmp, args.tickets, log_path)
        if args.admin_url:
            url = fresh_postgres(args.admin_url, RECOVERY)
            try:
                run("postgresql", url, tmp, args.tickets, log_path)
            finally:
                drop_postgres(args.admin_url, RECOVERY)


if __name__ == "__main__":
    main()
