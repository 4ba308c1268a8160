"""Ingest: the real app against a bare Flask view, same gunicorn settings, side by side in one run.

    .venv/bin/python bench/ingest.py                     # SQLite, and PostgreSQL if --admin-url/$TEST_DATABASE_URL
    apt-get install -y wrk                               # the load generator (Debian's package)

Both servers run `gunicorn -w 4` (sync workers); wrk drives each with `-t2 -c16 -d10s` and unique
Zendesk `ticket.comment_added` bodies, each signed with the webhook secret (pre-signed into a
Lua script, one body per request, each wrk thread its own share, new bodies for every run:
every request is a new comment, none a redelivery). Rounds
alternate app / bare so both see the same machine load; medians of the rounds are printed, and
the ratio app / bare. A third server in the same rounds, bench/minimal_receiver.py (parse, one
prepared INSERT, 202), shows what committing each webhook costs on this machine at the least
(`--no-minimal` leaves it out).

Then the fixed-rate mode (`--rate 200`, Debian's wrk has no wrk2 `-R`): an open-loop generator in
this process (asyncio, keep-alive connections) sends request i at start + i / rate and measures
each latency from that scheduled time, so a stall is counted for every request it holds up
(no coordinated omission); p50 / p99 of the app and of the bare view, rounds alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.children import start, stop  # noqa: E402
from bench.databases import drop_postgres, fresh_postgres, run_name  # noqa: E402
from bench.options import free_port, positive_int  # noqa: E402

DATABASE = run_name("tp_bench_ingest")

SECRET = "YmVuY2hfc2VjcmV0X2Zvcl9pbmdlc3Q="
TEXTS = ["Where is my order?", "Still no refund. This is unacceptable.", "Thanks, that worked!",
         "The app crashes when I upload a file.", "Any update? It has been a week."]


def bodies(n: int, first: int = 0) -> list[tuple[bytes, str, str]]:
    """`n` unique signed bodies, numbered from `first` (signed now: the app refuses stale ones)."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for i in range(first, first + n):
        ticket = 100_000 + i // 4
        payload = {
            "account_id": 9876543, "id": f"evt-bench-{i}", "time": stamp,
            "type": "zen:event-type:ticket.comment_added", "zendesk_event_version": "2022-11-06",
            "subject": f"zen:ticket:{ticket}",
            "detail": {"id": str(ticket), "requester_id": "301", "status": "OPEN", "tags": ["bench"], "updated_at": stamp},
            "event": {"comment": {"id": str(i), "body": f"{TEXTS[i % len(TEXTS)]} (#{i})", "is_public": True,
                                  "author": {"id": "301", "is_staff": False, "name": "Dana Cole"}}},
        }
        body = json.dumps(payload).encode()
        signature = base64.b64encode(hmac.new(SECRET.encode(), stamp.encode() + body, hashlib.sha256).digest()).decode()
        out.append((body, stamp, signature))
    return out


def lua_script(path: Path, signed: list[tuple[bytes, str, str]], threads: int = 2) -> None:
    def q(value: str) -> str:
        return "[==[" + value + "]==]"

    lines = ["local r = {}", f"local threads_expected = {threads}"]
    for body, stamp, signature in signed:
        lines.append(f"r[#r+1] = {{{q(body.decode())}, {q(stamp)}, {q(signature)}}}")
    lines.append("""
local i = 0
request = function()
  i = i % #r + 1
  local e = r[i]
  return wrk.format("POST", "/webhooks/zendesk", {
    ["Content-Type"] = "application/json",
    ["X-Zendesk-Webhook-Id"] = "01F1KRFQ6BG29CNWFR60NK5FNY",
    ["X-Zendesk-Webhook-Invocation-Id"] = tostring(i),
    ["X-Zendesk-Webhook-Signature-Timestamp"] = e[2],
    ["X-Zendesk-Webhook-Signature"] = e[3],
  }, e[1])
end
-- each wrk thread sends its own share of the bodies (an unseeded math.random gives every
-- thread the same offset, so half the requests were redeliveries)
local threads = 0
setup = function(thread) thread:set("part", threads); threads = threads + 1 end
init = function(args) i = part * math.floor(#r / threads_expected) end
""")
    path.write_text("\n".join(lines))


def refuse_a_taken_port(port: int) -> None:
    """Another server on the port would answer the start-up check and be measured in our place
    (gunicorn, unable to bind, gives up a few seconds later). The ports are free ones, but another
    program may take one between the pick and gunicorn's bind."""
    with socket.socket() as probe:
        # as gunicorn binds: the previous round's connections in TIME_WAIT do not count, a listener does
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"port {port} is in use: stop what listens there (a server of an earlier run?)") from None


def start_gunicorn(target: str, port: int, env: dict, workers: int, log: Path, threads: int = 1) -> subprocess.Popen:
    refuse_a_taken_port(port)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # threads > 1: the gthread worker (keep-alive, a request waiting on the database's commit
    # does not hold a whole process); the same settings for both servers.
    threading = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    process = start(
        [gunicorn, "-w", str(workers), *threading, "-b", f"127.0.0.1:{port}", "--log-level", "warning", target],
        env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, own_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz" if "ticketpulse" in target
                                   else f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # it answers (404 on the bare app's /)
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    stop(process)  # not left running (or holding its port) behind the error
    raise SystemExit(f"gunicorn {target} did not start:\n{log.read_text()[-2000:]}")


def run_wrk(port: int, script: Path, seconds: int, threads: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in ("50", "99")}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": rate, "p50": latency["50"], "p99": latency["99"], "non2xx": int(non2xx.group(1)) if non2xx else 0}


def _request(body: bytes, stamp: str, signature: str, n: int) -> bytes:
    head = (
        "POST /webhooks/zendesk HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-Zendesk-Webhook-Id: 01F1KRFQ6BG29CNWFR60NK5FNY\r\n"
        f"X-Zendesk-Webhook-Invocation-Id: {n}\r\nX-Zendesk-Webhook-Signature-Timestamp: {stamp}\r\n"
        f"X-Zendesk-Webhook-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _response(reader) -> tuple[int, bool]:
    """(status, the server closes the connection) of one HTTP/1.1 response, body read."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() == "close" or lines[0].startswith("HTTP/1.0")


async def _open_loop(port: int, requests: list[bytes], rate: float, connections: int) -> dict:
    """Send request i at start + i / rate, whatever the answers before it; latency is counted from
    that scheduled time (no coordinated omission: a slow answer delays the ones behind it, and
    their wait is counted). Up to `connections` requests in flight, each on a keep-alive
    connection that is opened again when the server closes it (gunicorn's sync workers do)."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    next_slot = iter(range(len(requests)))
    latencies: list[float] = []
    failures = Counter()

    async def connection() -> None:
        reader = writer = None
        for i in next_slot:
            scheduled = start + i / rate
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(requests[i])
                status, close = await _response(reader)
            except (OSError, asyncio.IncompleteReadError) as exc:
                failures[type(exc).__name__] += 1
                writer, close = None, False
                continue
            latencies.append((loop.time() - scheduled) * 1000)
            if not 200 <= status < 300:
                failures[f"http_{status}"] += 1
            if close:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "sent_rate": len(requests) / elapsed, "p50": _quantile(latencies, 0.50), "p99": _quantile(latencies, 0.99),
        "max": latencies[-1] if latencies else float("nan"), "failures": dict(failures),
    }


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_fixed_rate(port: int, signed: list[tuple[bytes, str, str]], rate: float, connections: int) -> dict:
    requests = [_request(body, stamp, signature, n) for n, (body, stamp, signature) in enumerate(signed)]
    return asyncio.run(_open_loop(port, requests, rate, connections))


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def database(kind: str, admin_url: str | None, workdir: Path) -> str:
    from ticketpulse.migrations import upgrade

    url = f"sqlite:///{workdir / 'ingest.db'}" if kind == "sqlite" else fresh_postgres(admin_url, DATABASE)
    upgrade(url)
    return url


def drop_database(kind: str, admin_url: str | None) -> None:
    """The PostgreSQL database `database` made (SQLite's file goes with the temporary directory)."""
    if kind == "postgresql":
        drop_postgres(admin_url, DATABASE)


def minimal_dsn(url: str) -> str:
    """The database of the app's URL, for bench/minimal_receiver.py (its own table in it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return f"sqlite:{parsed.database}"
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _print_wrk(kind: str, args, results: dict[str, list[dict]]) -> None:
    threads = f" --threads {args.threads}" if args.threads > 1 else " (sync)"
    print(f"{kind}: gunicorn -w {args.workers}{threads}, wrk -t2 -c16 -d{args.seconds}s, {args.rounds} rounds alternating")
    for name, label in (("app", "ticketpulse"), ("bare", "bare Flask"), ("minimal", "minimal")):
        rows = results.get(name)
        if not rows:
            continue
        print(f"  {label:<12} req/s " + " ".join(f"{r['rate']:7.0f}" for r in rows)
              + f"  median {statistics.median(r['rate'] for r in rows):7.0f}"
              + f"  p50 {statistics.median(r['p50'] for r in rows):6.1f} ms"
              + f"  p99 {statistics.median(r['p99'] for r in rows):6.1f} ms"
              + f"  non-2xx {sum(r['non2xx'] for r in rows)}")
    bare = statistics.median(r["rate"] for r in results["bare"])
    print(f"  ratio ticketpulse / bare Flask: {statistics.median(r['rate'] for r in results['app']) / bare:.2f}", flush=True)
    if results.get("minimal"):
        print(f"  ratio minimal receiver / bare Flask: {statistics.median(r['rate'] for r in results['minimal']) / bare:.2f}",
              flush=True)


def _print_fixed(kind: str, args, results: dict[str, list[dict]]) -> None:
    print(f"{kind}: fixed rate {args.rate:g} req/s for {args.rate_seconds} s, {args.rounds} rounds alternating "
          f"(open loop, latency from the scheduled send time)")
    for name, label in (("app", "ticketpulse"), ("bare", "bare Flask")):
        rows = results[name]
        failures = Counter()
        for r in rows:
            failures.update(r["failures"])
        print(f"  {label:<12} p50 " + " ".join(f"{r['p50']:6.1f}" for r in rows)
              + f"  p99 " + " ".join(f"{r['p99']:6.1f}" for r in rows)
              + f"  (median p50 {statistics.median(r['p50'] for r in rows):.1f} ms,"
              + f" p99 {statistics.median(r['p99'] for r in rows):.1f} ms, max {max(r['max'] for r in rows):.1f} ms)"
              + f"  sent {statistics.median(r['sent_rate'] for r in rows):.0f}/s  failures {dict(failures) or 0}",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn --threads (gthread worker) when > 1")
    parser.add_argument("--bodies-per-second", type=int, default=3_000,
                        help="unique bodies per second of a wrk run: more than the fastest server answers")
    parser.add_argument("--rate", type=float, default=200.0, help="fixed-rate mode: requests per second (0: skip)")
    parser.add_argument("--rate-seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32, help="fixed-rate mode: most requests in flight")
    parser.add_argument("--skip-wrk", action="store_true", help="only the fixed-rate mode")
    parser.add_argument("--no-minimal", action="store_true", help="leave out the minimal receiver (bench/minimal_receiver.py)")
    args = parser.parse_args()
    if not args.skip_wrk and not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk")
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not args.admin_url:
        kinds.remove("postgresql")
        print("PostgreSQL skipped: no --admin-url / $TEST_DATABASE_URL")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        script = workdir / "signed.lua"
        for kind in kinds:
            wrk_results: dict[str, list[dict]] = {"app": [], "bare": [], "minimal": []}
            fixed_results: dict[str, list[dict]] = {"app": [], "bare": []}
            servers: list[subprocess.Popen] = []  # stopped, and the database dropped, however the run ends
            try:
                url = database(kind, args.admin_url, workdir)  # in here: a Ctrl-C while migrating drops it too
                env = os.environ | {"DATABASE_URL": url, "ZENDESK_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
                env.pop("TICKETPULSE_CONFIG", None)
                # Free ports, each picked once the server before it listens: a fixed one was refused
                # while another run (or anything else) held it.
                app_port = free_port()
                servers.append(start_gunicorn("ticketpulse.webhooks:create_app()", app_port, env, args.workers,
                                              workdir / "app.log", args.threads))
                bare_port = free_port()
                servers.append(start_gunicorn("bench.bare_flask:create_app()", bare_port, env, args.workers,
                                              workdir / "bare.log", args.threads))
                minimal = None
                if not args.skip_wrk and not args.no_minimal:
                    minimal_env = env | {"MINIMAL_RECEIVER_DSN": minimal_dsn(url)}
                    minimal_port = free_port()
                    minimal = start_gunicorn("bench.minimal_receiver:create_app()", minimal_port, minimal_env,
                                             args.workers, workdir / "minimal.log", args.threads)
                    servers.append(minimal)
                # Bodies never sent before for every run (signed now: the app refuses stale ones).
                sent = 0
                if not args.skip_wrk:
                    per_run = args.bodies_per_second * args.seconds

                    def run(port: int) -> dict:
                        nonlocal sent
                        lua_script(script, bodies(per_run, first=sent))
                        sent += per_run
                        return run_wrk(port, script, args.seconds, 2, 16)

                    for _ in range(args.rounds):
                        wrk_results["app"].append(run(app_port))
                        wrk_results["bare"].append(run(bare_port))
                        if minimal is not None:
                            wrk_results["minimal"].append(run(minimal_port))
                if args.rate:
                    count = int(args.rate * args.rate_seconds)
                    for _ in range(args.rounds):
                        signed = bodies(count, first=sent)
                        sent += count
                        fixed_results["app"].append(run_fixed_rate(app_port, signed, args.rate, args.connections))
                        fixed_results["bare"].append(run_fixed_rate(bare_port, signed, args.rate, args.connections))
            finally:
                for server in servers:
                    stop(server)
                drop_database(kind, args.admin_url)
            if not args.skip_wrk:
                _print_wrk(kind, args, wrk_results)
            if args.rate:
                _print_fixed(kind, args, fixed_results)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
