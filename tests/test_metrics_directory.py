"""PROMETHEUS_MULTIPROC_DIR that cannot be used: a one-line error naming the variable, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def check_config(tmp_path: Path, metrics_dir: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
    env |= {"PROMETHEUS_MULTIPROC_DIR": metrics_dir, "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    return subprocess.run([sys.executable, "-m", "ticketpulse.cli", "check-config"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("where, problem", [
    ("a-file", "is a file, not a directory"),
    ("a-file/metrics", "cannot create"),
])
def test_an_unusable_metrics_directory_is_named_exit_2(tmp_path, where, problem):
    (tmp_path / "a-file").write_text("")

    result = check_config(tmp_path, str(tmp_path / where))

    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ticketpulse: error: PROMETHEUS_MULTIPROC_DIR: ") and problem in line


def test_a_missing_metrics_directory_is_created(tmp_path):
    result = check_config(tmp_path, str(tmp_path / "metrics"))

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "metrics").is_dir()
