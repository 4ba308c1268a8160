"""`ticketpulse serve` that cannot listen (a port in use, a host it cannot have) refuses the start
with the database untouched: it migrated a new release's schema under the ticketpulse still running
on that port, then exited."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect

from ticketpulse.migrations import head_revisions, upgrade


def serve(tmp_path: Path, database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run([sys.executable, "-m", "ticketpulse.cli", "serve", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def tables(database: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_port_in_use_refuses_serve_before_it_migrates(tmp_path):
    database = tmp_path / "live.db"
    upgrade(f"sqlite:///{database}", "0001")  # what the release still running on the port uses

    with socket.socket() as running:
        running.bind(("127.0.0.1", 0))
        running.listen()
        result = serve(tmp_path, database, "--port", str(running.getsockname()[1]))

    assert result.returncode == 2, result.stderr
    assert "is already in use (another ticketpulse?)" in result.stderr.strip().splitlines()[-1]
    assert "Running upgrade" not in result.stderr
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == ["0001"]
    engine.dispose()
    assert head_revisions() != {"0001"}


def test_a_host_it_cannot_have_refuses_serve_before_it_makes_the_database(tmp_path):
    database = tmp_path / "new.db"

    result = serve(tmp_path, database, "--host", "192.0.2.1", "--port", "8123")

    assert result.returncode == 2, result.stderr
    assert "cannot listen on 192.0.2.1:8123" in result.stderr.strip().splitlines()[-1]
    assert not database.exists() or tables(database) == []
