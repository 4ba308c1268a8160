"""Several `db upgrade` (or `serve`, or gunicorn workers each migrating at start) on one new SQLite
file at the same moment: every one succeeds and the file ends at head. Alembic commits each SQLite
migration on its own, and a run that took the write lock between two of them read a revision half
way and ran the next migrations again ("table ... already exists", "duplicate column name").

That gap lasts microseconds; here the first run waits a moment before each transaction after its
first, so that every round shows what one in a few real rounds did."""

from __future__ import annotations

import multiprocessing
import time

from sqlalchemy import create_engine, text

from ticketpulse.migrations import head_revisions, upgrade

ROUNDS = 2
LATER_RUNS = 2  # started once the first run holds the write lock
PAUSE = 0.15  # seconds before each of the first run's transactions after its first


def first_run(url: str, migrating, errors) -> None:
    from sqlalchemy import Engine, event

    begun = []

    @event.listens_for(Engine, "before_cursor_execute")
    def pause(_connection, _cursor, statement, *_args) -> None:
        if statement == "BEGIN IMMEDIATE":  # make_engine's write lock, taken by each transaction
            if begun:
                time.sleep(PAUSE)  # the lock free: the gap between two migrations, made wide
            begun.append(statement)
            migrating.set()

    run(url, errors)


def later_run(url: str, migrating, errors) -> None:
    import alembic.command  # noqa: F401  (imported before the start: the runs overlap)

    migrating.wait(timeout=30)
    time.sleep(0.05)  # the first run's BEGIN IMMEDIATE has taken the lock
    run(url, errors)


def run(url: str, errors) -> None:
    try:
        upgrade(url)
    except Exception as exc:  # reported to the test, which names it
        errors.put(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")


def test_parallel_upgrades_of_a_new_sqlite_file_all_succeed(tmp_path):
    forked = multiprocessing.get_context("fork")  # this process's imports: no interpreter start-up per run
    errors = forked.Queue()
    began = time.monotonic()
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'round{round_}.db'}"
        migrating = forked.Event()
        runs = [forked.Process(target=first_run, args=(url, migrating, errors))]
        runs += [forked.Process(target=later_run, args=(url, migrating, errors)) for _ in range(LATER_RUNS)]
        for process in runs:
            process.start()
        for process in runs:
            process.join(timeout=60)
        assert [process.exitcode for process in runs] == [0] * len(runs)
        engine = create_engine(url)
        with engine.connect() as connection:
            assert set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars()) == head_revisions()
        engine.dispose()
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == []
    assert time.monotonic() - began < 30
