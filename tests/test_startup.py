"""What `serve` does at start-up, kept cheap: the migration check at head, the model's loading."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

from ticketpulse.migrations import alembic_config, at_head, head_revisions, upgrade


def test_the_migration_files_heads_are_alembics_heads():
    from alembic.script import ScriptDirectory

    assert head_revisions() == set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def test_a_database_at_head_is_recognised_and_an_older_one_is_migrated(database_url):
    from alembic import command
    from sqlalchemy import create_engine, text

    assert at_head(database_url)  # the fixture migrated it
    command.downgrade(alembic_config(database_url), "-1")
    assert not at_head(database_url)
    upgrade(database_url)
    assert at_head(database_url)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))} == head_revisions()
    engine.dispose()


def test_a_new_database_is_not_at_head(tmp_path):
    assert not at_head(f"sqlite:///{tmp_path / 'new.db'}")


def test_serve_imports_neither_alembic_nor_numpy_nor_openai_when_the_database_is_at_head(database_url):
    code = (
        "import sys\n"
        "from ticketpulse import cli\n"
        "from ticketpulse.migrations import upgrade\n"
        f"upgrade({database_url!r})\n"
        "from ticketpulse.runtime import build_runtime\n"
        "from ticketpulse.webhooks import create_app\n"
        "from ticketpulse.sentiment.local import default_scorer\n"
        "default_scorer()\n"
        "print(sorted(m for m in ('alembic', 'numpy', 'openai') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_compact_model_holds_the_same_weights_as_the_model_file():
    from ticketpulse.sentiment.local import MODEL_PATH, LocalScorer

    with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as fh:
        vocab = json.load(fh)["vocab"]
    scorer = LocalScorer()
    assert len(scorer._vocab) == len(vocab)
    for feature, weights in vocab.items():
        assert scorer._vocab.get(feature) == tuple(weights)
        if feature.startswith("#"):
            assert scorer._chars.get(feature[1:]) == tuple(weights)
    assert scorer._vocab.get("no such feature") is None


def test_the_app_as_gunicorn_loads_it_leaves_the_collector_nothing_of_start_up_to_walk(tmp_path):
    """A full collection walks every tracked object: start-up's are frozen once the app is built."""
    code = (
        "import gc\n"
        "from ticketpulse.webhooks import create_app\n"
        "create_app()\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "ZENDESK_WEBHOOK_SECRET": "s"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    frozen, tracked = map(int, out.split())
    assert frozen > 20_000  # the app, its routes, the tables' metadata, the config
    assert tracked < 1_000


def test_serve_and_worker_freeze_their_start_up_objects_before_taking_work(tmp_path):
    """`serve` and `worker` build their runtime themselves (not through gunicorn's create_app):
    each freezes what start-up left before its loop, once."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "import gc, os, signal, sys, threading, time\n"
        "from ticketpulse import cli\n"
        "def watch():\n"
        "    deadline = time.monotonic() + 60\n"
        "    while gc.get_freeze_count() == 0 and time.monotonic() < deadline:\n"
        "        time.sleep(0.05)\n"
        "    print('frozen', gc.get_freeze_count(), flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "threading.Thread(target=watch, daemon=True).start()\n"
        "cli.main(sys.argv[1:])\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'tp.db'}", "ZENDESK_WEBHOOK_SECRET": "s"}
    subprocess.run([sys.executable, "-m", "ticketpulse.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
    for command in (["worker"], ["serve", "--port", str(port)]):
        done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, env=env,
                              timeout=120)
        frozen = [line for line in done.stdout.splitlines() if line.startswith("frozen")]
        assert frozen and int(frozen[0].split()[1]) > 20_000, (command, done.stdout, done.stderr[-2000:])
