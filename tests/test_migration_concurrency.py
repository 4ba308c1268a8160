"""Several replicas that each run `ticketpulse db upgrade` (or `serve`) at the same moment on a new
database: one migrates, the others wait for it and find the database at head, every one exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import text

from ticketpulse.migrations import alembic_config, head_revisions

ROOT = Path(__file__).resolve().parents[1]
REPLICAS = 4


def test_replicas_upgrading_a_new_database_at_once_all_succeed(database_url, engine, tmp_path):
    command.downgrade(alembic_config(database_url), "base")
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
    env["DATABASE_URL"] = database_url

    upgrades = [subprocess.Popen([sys.executable, "-m", "ticketpulse.cli", "db", "upgrade"], cwd=tmp_path, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(REPLICAS)]
    results = [(upgrade.wait(timeout=120), upgrade.stderr.read()) for upgrade in upgrades]

    assert [code for code, _ in results] == [0] * REPLICAS, [err.strip().splitlines()[-1] for _, err in results]
    with engine.connect() as connection:
        assert set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars()) == head_revisions()
