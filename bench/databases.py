"""The PostgreSQL databases the benches make for a run, and drop however the run ends."""

from __future__ import annotations


def fresh_postgres(admin_url: str, name: str) -> str:
    """An empty database `name` (an old one of a crashed run dropped first); its URL."""
    from sqlalchemy.engine import make_url

    _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, name: str) -> None:
    _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _admin(admin_url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()
