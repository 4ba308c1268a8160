"""Latency of the conversation API with the offline scorer: `ticketpulse serve` in a subprocess,
real HTTP on loopback, real support conversations.

    .venv/bin/python bench/bench_api.py [--data ../shared/data/support_conversations/dev.json]
        [--clients 1 4] [--long 300] [--database-url postgresql+psycopg:///root?host=/var/run/postgresql]

For each database (a temporary SQLite file; also PostgreSQL when --database-url names a server,
where a temporary database is created and dropped):

  1. `ticketpulse serve` starts as a user starts it (migrations, waitress, worker threads, the
     local scorer, a dry-run helpdesk) with TICKETPULSE_API_KEYS set, on a free loopback port;
  2. every turn of every conversation in --data (525 real Twitter support conversations: customer
     and agent turns with their times) is posted in order to
     POST /api/v1/conversations/<id>/messages with a message_id, by C client threads at once
     (each thread takes whole conversations; requests.Session, keep-alive), and each request's
     wall time is measured at the client, from send to parsed JSON;
  3. one long conversation of --long customer messages (the corpus' customer messages in turn)
     is posted, to compare the first 50 messages' latency with the last 50: the cost of a message
     must not grow with the conversation's history;
  4. with one client, each message is posted a second time (same message_id): the idempotent
     replay's latency.

Printed: p50 / p95 / p99 / max in ms per kind of request, the server's CPU time per request
(what the latency comes down to on an idle machine, with the commit's fsync) and the load average
(other processes on the machine stretch every figure), the share of conversations that were
escalated, and the tone labels against the annotated frustration level (dev.labels.jsonl: 0 calm
.. 3 extreme) of each customer message.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.children import start, stop  # noqa: E402
from bench.databases import temporary_postgres  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "support_conversations" / "dev.json"
KEY = "bench-" + uuid.uuid4().hex


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(name: str, millis: list[float]) -> str:
    return (
        f"  {name:<34} n={len(millis):>5}  p50 {statistics.median(millis):6.1f}  p95 {percentile(millis, 95):6.1f}  "
        f"p99 {percentile(millis, 99):6.1f}  max {max(millis):6.1f} ms"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(database_url: str):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TICKETPULSE_API_KEYS": KEY,
        "PORT": str(port),
    }
    env.pop("TICKETPULSE_CONFIG", None)  # built-in defaults (and no ./ticketpulse.toml in the cwd)
    for name in ("ZENDESK_SUBDOMAIN", "ZENDESK_BASE_URL", "FRESHDESK_DOMAIN", "FRESHDESK_BASE_URL"):
        env.pop(name, None)  # a dry-run helpdesk
    cli = Path(sys.executable).with_name("ticketpulse")
    log = tempfile.TemporaryFile(mode="w+")  # the server logs a line per message: never a full pipe
    process = start(
        [str(cli), "serve", "--port", str(port)], env=env, cwd=tempfile.mkdtemp(),
        stdout=subprocess.DEVNULL, stderr=log, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"ticketpulse serve did not start: {log.read()[-2000:]}")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        stop(process)
        log.close()


def load_conversations(path: Path) -> list[list[dict]]:
    conversations = []
    for conv in json.loads(path.read_text(encoding="utf-8")):
        turns = []
        for number, turn in enumerate(conv["dialogContent"]):
            turns.append({
                "number": number,
                "author": "agent" if "agent" in turn else "customer",
                "text": turn["message"],
                "time": turn["datetime"],
            })
        conversations.append(turns)
    return conversations


def load_levels(path: Path) -> dict[tuple[int, int], int]:
    if not path.exists():
        return {}
    levels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row.get("other") and not row.get("lang"):
            levels[(row["conv"], row["msg"])] = row["level"]
    return levels


def post(session: requests.Session, url: str, conversation: str, body: dict) -> tuple[float, dict]:
    start = time.perf_counter()
    response = session.post(
        f"{url}/api/v1/conversations/{conversation}/messages", json=body,
        headers={"Authorization": f"Bearer {KEY}"}, timeout=30,
    )
    answer = response.json()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code not in (200, 201):
        raise SystemExit(f"{response.status_code}: {answer}")
    return elapsed, answer


def replay_corpus(url: str, conversations: list[list[dict]], clients: int, run: str):
    """Post every turn; returns latencies by kind, escalated conversation indexes, tone by (conv, msg)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    escalated: set[int] = set()
    tones: dict[tuple[int, int], str] = {}
    lock = threading.Lock()
    todo = list(range(len(conversations)))

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not todo:
                    return
                index = todo.pop(0)
            for turn in conversations[index]:
                body = {"text": turn["text"], "author": turn["author"], "time": turn["time"],
                        "message_id": f"{index}-{turn['number']}"}
                elapsed, answer = post(session, url, f"{run}-{index}", body)
                with lock:
                    latencies[turn["author"]].append(elapsed)
                    if answer["action"] == "escalate":
                        escalated.add(index)
                    if turn["author"] == "customer":
                        tones[(index, turn["number"])] = answer["tone"]["label"]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, escalated, tones


def replay_duplicates(url: str, conversations: list[list[dict]], run: str) -> list[float]:
    session = requests.Session()
    millis = []
    for index, conversation in enumerate(conversations):
        for turn in conversation:
            body = {"text": turn["text"], "author": turn["author"], "time": turn["time"],
                    "message_id": f"{index}-{turn['number']}"}
            elapsed, answer = post(session, url, f"{run}-{index}", body)
            assert answer["duplicate"], answer
            millis.append(elapsed)
    return millis


def long_conversation(url: str, conversations: list[list[dict]], length: int) -> list[float]:
    texts = [turn["text"] for conversation in conversations for turn in conversation if turn["author"] == "customer"]
    session = requests.Session()
    conversation = f"long-{uuid.uuid4().hex[:8]}"
    millis = []
    for n in range(length):
        body = {"text": texts[n % len(texts)], "message_id": str(n),
                "time": f"2026-12-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"}
        millis.append(post(session, url, conversation, body)[0])
    return millis


def bench(name: str, database_url: str, args, conversations, levels) -> None:
    print(f"\n{name}")
    with serve(database_url) as (url, pid):
        post(requests.Session(), url, "warm-up", {"text": "warming up"})
        for clients in args.clients:
            run = f"c{clients}-{uuid.uuid4().hex[:6]}"
            start, cpu = time.perf_counter(), cpu_seconds(pid)
            latencies, escalated, tones = replay_corpus(url, conversations, clients, run)
            seconds, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu
            total = sum(len(v) for v in latencies.values())
            print(f" {clients} client(s): {total} requests in {seconds:.1f} s ({total / seconds:.0f}/s); server CPU "
                  f"{cpu / total * 1000:.1f} ms per request; {load()}")
            print(summary("POST customer message (scored)", latencies["customer"]))
            print(summary("POST agent message (stored)", latencies["agent"]))
            print(f"  conversations escalated: {len(escalated)} of {len(conversations)} "
                  f"({len(escalated) / len(conversations):.1%})")
            if clients == 1:
                print(summary("POST again, same message_id", replay_duplicates(url, conversations, run)))
                if levels:
                    table: dict[int, Counter] = defaultdict(Counter)
                    for key, label in tones.items():
                        if key in levels:
                            table[levels[key]][label] += 1
                    print("  tone label by annotated frustration level of the customer message:")
                    for level in sorted(table):
                        row = table[level]
                        print(f"    level {level} (n={sum(row.values()):>3}): " + ", ".join(
                            f"{label} {count / sum(row.values()):.0%}" for label, count in row.most_common()))
        millis = long_conversation(url, conversations, args.long)
        print(f" one conversation of {args.long} customer messages:")
        print(summary("messages 1-50", millis[:50]))
        print(summary(f"messages {args.long - 49}-{args.long}", millis[-50:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="support conversations (dev.json)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="client threads at once")
    parser.add_argument("--long", type=int, default=300, help="length of the long conversation")
    parser.add_argument("--database-url", help="also run on this PostgreSQL server (a temporary database)")
    args = parser.parse_args()
    conversations = load_conversations(args.data)
    levels = load_levels(args.data.with_name("dev.labels.jsonl"))
    print(f"{len(conversations)} conversations, {sum(map(len, conversations))} turns from {args.data.name}; "
          f"{os.cpu_count()} CPUs, {load()}; latency measured at the client")
    with tempfile.TemporaryDirectory() as folder:
        bench("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args, conversations, levels)
    if args.database_url:
        with temporary_postgres(args.database_url, "tp_bench_api") as url:
            bench("PostgreSQL", url, args, conversations, levels)


if __name__ == "__main__":
    main()
