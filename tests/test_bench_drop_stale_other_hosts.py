"""`bench/databases.py --drop-stale` judges a database by its run's pid only on the host that made
it: a run on another host sharing the server (or in another container) has pids of its own, and
a database of a live run may have no session (bench_worker_llm's template between copies)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.bench_helpers import ADMIN_URL, ROOT, database_exists, needs_postgres


def drop_stale(prefix: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "bench/databases.py", "--drop-stale", "--admin-url", ADMIN_URL,
                           "--prefix", prefix], cwd=ROOT, capture_output=True, text=True, timeout=60)


def made_elsewhere(name: str) -> None:
    """What fresh_postgres on another host would have written on it."""
    from bench.databases import _admin

    _admin(ADMIN_URL, f"COMMENT ON DATABASE {name} IS 'made by a ticketpulse bench on host some-other-host'")


@needs_postgres
def test_drop_stale_keeps_a_database_made_on_another_host_that_no_session_uses():
    from bench.databases import drop_postgres, fresh_postgres

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid not alive here, as any pid of the other host's run may be
    prefix = f"tp_bench_otherhost{os.getpid()}"
    theirs, ours = f"{prefix}_{gone.pid}_00beef", f"{prefix}_{gone.pid}_00cafe"
    for name in (theirs, ours):
        fresh_postgres(ADMIN_URL, name)
    made_elsewhere(theirs)  # as its template is between two copies: no session on it
    try:
        result = drop_stale(prefix)

        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [f"dropped {ours}", "1 stale bench database(s) dropped"]
        assert database_exists(theirs) and not database_exists(ours)
    finally:
        for name in (theirs, ours):
            drop_postgres(ADMIN_URL, name)
