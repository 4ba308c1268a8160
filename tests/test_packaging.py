"""Installed, ticketpulse is one import name: nothing generic like `models` lands in site-packages,
and a working directory with its own `models.py` cannot shadow ours."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_installs_exactly_one_top_level_name(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    [wheel] = tmp_path.glob("ticketpulse-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"ticketpulse"}
    for shipped in (
        "ticketpulse/webhooks/__init__.py",
        "ticketpulse/integrations/zendesk.py",
        "ticketpulse/escalation/pipeline.py",
        "ticketpulse/models/tables.py",
        "ticketpulse/migrations/env.py",
        "ticketpulse/migrations/script.py.mako",
        "ticketpulse/migrations/versions/0001_initial_schema.py",
        "ticketpulse/sentiment/data/local_model.json.gz",
    ):
        assert shipped in names
    assert not any(name.startswith("tests/") for name in names)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_boots_from_a_directory_with_its_own_models_and_webhooks(tmp_path):
    # gunicorn puts the working directory first on sys.path: these must not be what we import.
    for name in ("models.py", "webhooks.py", "integrations.py", "sentiment.py", "escalation.py", "migrations.py"):
        (tmp_path / name).write_text("raise ImportError('the wrong module was imported')\n")
    url = f"sqlite:///{tmp_path / 'ticketpulse.db'}"
    subprocess.run([str(Path(sys.executable).parent / "ticketpulse"), "db", "upgrade"],
                   cwd=tmp_path, env=os.environ | {"DATABASE_URL": url}, check=True, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-b", f"127.0.0.1:{port}", "ticketpulse.webhooks:create_app()"],
        cwd=tmp_path, env=os.environ | {"DATABASE_URL": url},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        health = None
        for _ in range(100):
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.RequestException:  # still booting
                if process.poll() is not None:
                    break
                time.sleep(0.1)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert health is not None and health.status_code == 200, output
    assert health.json()["database"] == "ok"
