"""`ticketpulse serve` at rest: resident memory, and how long it takes to start.

    .venv/bin/python bench/memory.py                     # SQLite; PostgreSQL too with --admin-url / $TEST_DATABASE_URL
    .venv/bin/python bench/memory.py --database sqlite --runs 5

Each run starts `ticketpulse serve` (the README's first command) on a fresh database, times it
from exec to the first answer of /healthz with the database migrated ("start-up"), then a
second start on the now-migrated database (what a restart after a crash costs), lets it idle
`--idle` seconds (5) and reads its VmRSS. Medians over `--runs`. With `--breakdown`, one
in-process run shows which imports and loads the RSS is made of.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.children import start, stop  # noqa: E402
from bench.databases import drop_postgres, fresh_postgres, run_name  # noqa: E402
from bench.options import free_port, positive_int  # noqa: E402

DATABASE = run_name("tp_bench_memory")


def rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def start_serve(env: dict, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    """A started `serve` and the seconds from exec to its first /healthz answer."""
    began = time.monotonic()
    serve = start([sys.executable, "-m", "ticketpulse.cli", "serve", "--port", str(port)],
                  env=env, cwd=log.parent, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = began + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return serve, time.monotonic() - began
        except urllib.error.HTTPError:  # it answers (503 while a part is not ready)
            return serve, time.monotonic() - began
        except OSError:
            if serve.poll() is not None or time.monotonic() > deadline:
                stop(serve)  # not left running (or holding the port) behind the error
                raise SystemExit(f"serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)


def database(kind: str, admin_url: str | None, workdir: Path, n: int) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'serve{n}.db'}"
    return fresh_postgres(admin_url, DATABASE)


def drop_database(kind: str, admin_url: str | None) -> None:
    """The PostgreSQL database `database` made (SQLite's files go with the temporary directory)."""
    if kind == "postgresql":
        drop_postgres(admin_url, DATABASE)


def one_run(kind: str, args, workdir: Path, n: int) -> dict:
    env = os.environ | {"DATABASE_URL": database(kind, args.admin_url, workdir, n), "PYTHONPATH": str(ROOT),
                        "ZENDESK_WEBHOOK_SECRET": "bench-secret"}
    env.pop("TICKETPULSE_CONFIG", None)
    serve, fresh = start_serve(env, args.port or free_port(), workdir / "serve.log")  # migrates the empty database
    stop(serve)
    serve, restart = start_serve(env, args.port or free_port(), workdir / "serve.log")  # at head: nothing to migrate
    try:
        time.sleep(args.idle)
        rss = rss_mb(serve.pid)
    finally:
        stop(serve)
    return {"fresh": fresh, "restart": restart, "rss": rss}


def breakdown() -> None:
    """In this process: RSS after each step `serve` takes before it answers (first-time imports)."""
    steps = [
        ("python", None),
        ("import ticketpulse.cli", "import ticketpulse.cli"),
        ("import the runtime (worker, pipeline, integrations)", "import ticketpulse.runtime"),
        ("import the web app", "import ticketpulse.webhooks"),
        ("load the local scorer's model", "from ticketpulse.sentiment.local import default_scorer; default_scorer()"),
        # Loaded at the first message that may not be English; memory-mapped from the cache, so
        # most of it is file pages (RssFile) shared with every other process, not RssAnon.
        ("score a German message (the language model)",
         "from ticketpulse.sentiment.local import default_scorer; default_scorer().score('Ich warte seit drei Wochen "
         "auf eine Antwort, das ist eine Frechheit!')"),
    ]
    for label, code in steps:
        if code:
            exec(code, {})
        heavy = [m for m in ("numpy", "openai", "alembic", "py3langid", "jinja2") if m in sys.modules]
        print(f"  {label:<55} {rss_mb():6.1f} MB (anonymous {rss_mb(field='RssAnon'):5.1f}, files "
              f"{rss_mb(field='RssFile'):5.1f})   loaded: {', '.join(heavy) or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--admin-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--runs", type=positive_int, default=3)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--port", type=int, help="serve's port (default: a free one for each start)")
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not args.admin_url:
        kinds.remove("postgresql")
        print("PostgreSQL skipped: no --admin-url / $TEST_DATABASE_URL")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            try:
                runs = [one_run(kind, args, Path(tmp), n) for n in range(args.runs)]
            finally:
                drop_database(kind, args.admin_url)
            print(f"{kind}: serve, {args.runs} runs, idle {args.idle:g} s")
            for key, label, unit in (("rss", "RSS at rest", "MB"), ("fresh", "start-up, empty database", "s"),
                                     ("restart", "start-up, migrated database", "s")):
                values = [r[key] for r in runs]
                print(f"  {label:<30} " + " ".join(f"{v:6.1f}" if unit == "MB" else f"{v:6.2f}" for v in values)
                      + f"   median {statistics.median(values):.2f} {unit}", flush=True)
    if args.breakdown:
        print("where the RSS comes from (in-process, first-time imports):", flush=True)
        # A fresh interpreter: this one has imported SQLAlchemy and psycopg for the PostgreSQL runs.
        subprocess.run([sys.executable, "-c", "from bench.memory import breakdown; breakdown()"], cwd=ROOT,
                       env=os.environ | {"PYTHONPATH": str(ROOT)}, check=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
