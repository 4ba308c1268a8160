"""Alembic migrations: the only way the schema is created or changed.

`upgrade(url)` is what `ticketpulse db upgrade` and `ticketpulse serve` run.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

from ticketpulse.config import normalize_url

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", normalize_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
