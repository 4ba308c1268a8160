"""What the tests of the bench scripts share: loading a script as a module, the PostgreSQL
databases a run makes, and a port held as another server would hold it."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(not ADMIN_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")


def load_bench(script: str):
    """bench/<script>.py, loaded afresh (its module-level state new for each test)."""
    spec = importlib.util.spec_from_file_location(f"bench_{script}_under_test", ROOT / "bench" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass in the script looks its module up while it is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def existing_databases(*names: str) -> list[str]:
    """Which of these PostgreSQL databases exist."""
    admin = create_engine(ADMIN_URL)
    try:
        with admin.connect() as conn:
            return list(conn.execute(text("SELECT datname FROM pg_database WHERE datname = ANY(:names)"),
                                     {"names": list(names)}).scalars())
    finally:
        admin.dispose()


def database_exists(name: str) -> bool:
    return existing_databases(name) == [name]


def hold(port: int) -> socket.socket:
    """A server on `port` (a bench's old fixed one): another run, or anything else there."""
    other = socket.socket()
    try:
        other.bind(("127.0.0.1", port))
        other.listen()
    except OSError:  # something holds it already: as good
        pass
    return other
