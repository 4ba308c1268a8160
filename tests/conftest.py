"""Fixtures after Flask's tutorial: app, client, runner; plus a migrated database per test.

Database tests run on SQLite and, when TEST_DATABASE_URL points at a PostgreSQL server, on
PostgreSQL too (each test gets its own database, cloned from a migrated template).
Set TICKETPULSE_REQUIRE_POSTGRES=1 (CI does) to fail rather than skip without PostgreSQL.
"""

from __future__ import annotations

import io
import json
import os
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ticketpulse.migrations import upgrade
from ticketpulse.models import make_engine, make_session_factory
from ticketpulse.config import Config, Environment

FIXTURES = Path(__file__).parent / "fixtures"
ZENDESK_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
FRESHDESK_SECRET = "fd-whk-7Qm2vX9rLp4sT8"
ZENDESK_ACCOUNT_ID = "9876543"
ZENDESK_SENIOR_GROUP = 360001234567
FRESHDESK_SENIOR_GROUP = 43000777000
# One template per test run, so that concurrent runs on one server never share it.
_TEMPLATE = f"ticketpulse_test_template_{os.getpid()}"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> dict:
    return json.loads(fixture_text(name))


def as_body(payload) -> bytes:
    """A request body: bytes as they are, text encoded, anything else as JSON."""
    if isinstance(payload, bytes):
        return payload
    return payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()


def _postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("TICKETPULSE_REQUIRE_POSTGRES"):
        pytest.fail("TICKETPULSE_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
    return None


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template():
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not available: set TEST_DATABASE_URL")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {_TEMPLATE}"))
        conn.execute(text(f"CREATE DATABASE {_TEMPLATE}"))
    upgrade(_with_database(admin_url, _TEMPLATE))
    yield admin, admin_url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)"))
    admin.dispose()


@contextmanager
def _fresh_postgres_database(request):
    admin, admin_url = request.getfixturevalue("postgres_template")
    name = f"ticketpulse_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE}"))
    try:
        yield _with_database(admin_url, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A freshly migrated, empty database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ticketpulse.db'}"
        upgrade(url)
        yield url
        return
    with _fresh_postgres_database(request) as url:
        yield url


@pytest.fixture
def postgres_url(request):
    """A freshly migrated, empty PostgreSQL database (for multi-process worker tests)."""
    with _fresh_postgres_database(request) as url:
        yield url


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return make_session_factory(engine)


@pytest.fixture
def config() -> Config:
    return Config.model_validate({
        "zendesk": {"senior_group_id": ZENDESK_SENIOR_GROUP},
        "freshdesk": {"senior_group_id": FRESHDESK_SENIOR_GROUP},
    })


@pytest.fixture
def environment(database_url) -> Environment:
    return Environment(
        database_url=database_url,
        zendesk_webhook_secret=ZENDESK_SECRET,
        freshdesk_webhook_secret=FRESHDESK_SECRET,
        # The account the captures under fixtures/ come from: trigger bodies do not carry it.
        zendesk_account_id=ZENDESK_ACCOUNT_ID,
    )


@pytest.fixture
def app(config, environment, engine):
    from ticketpulse.webhooks import create_app

    return create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": environment, "ENGINE": engine})


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def runner(capsys, monkeypatch):
    """Runs the `ticketpulse` CLI in-process with the given stdin."""
    from ticketpulse.cli import main

    def run(*args: str, stdin: str = "") -> CliResult:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own errors
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture(scope="session")
def openai_live():
    """One fake OpenAI-compatible server on loopback for the whole run: (FakeOpenAI, LiveServer)."""
    from tests.fakes.openai_server import FakeOpenAI
    from tests.fakes.server import LiveServer

    fake = FakeOpenAI()
    with LiveServer(fake.app) as live:
        yield fake, live


@pytest.fixture
def fake_openai(openai_live):
    """The fake model server, its script and recorded requests cleared for this test."""
    return openai_live[0].reset()
