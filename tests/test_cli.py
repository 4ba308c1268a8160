"""The `ticketpulse` command as a user runs it."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, inspect

from tests.zendesk_helpers import as_body, comment_event, signed_headers
from tests.conftest import ZENDESK_SECRET

ROOT = Path(__file__).resolve().parents[1]


def test_score_prints_one_json_object(runner):
    result = runner("score", "Third time asking, still no refund for order 4411.")

    assert result.code == 0
    score = json.loads(result.out)
    assert set(score) >= {"score", "label", "frustration", "urgency", "cues", "scorer"}
    assert -1 <= score["score"] <= 1 and 0 <= score["frustration"] <= 1 and 0 <= score["urgency"] <= 1
    assert score["label"] in {"negative", "neutral", "positive"}


def test_score_reads_stdin_one_line_per_message_in_order(runner):
    messages = ["Thanks so much, that fixed it!", "Still broken. Third time asking!!!", "", "<p>Where is my <b>refund</b>?</p>"]
    result = runner("score", stdin="\n".join(messages) + "\n")

    assert result.code == 0
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert len(lines) == 4
    assert lines[0]["score"] > lines[1]["score"]
    assert lines[1]["frustration"] > lines[0]["frustration"]
    assert lines[2] == {"skipped": "empty comment"}  # as the worker skips it, not scored as calm


def test_score_dash_reads_stdin_like_no_argument(runner):
    result = runner("score", "-", stdin="Still broken. Third time asking!!!\n")

    assert result.code == 0
    (line,) = [json.loads(line) for line in result.out.splitlines()]
    assert line == json.loads(runner("score", "Still broken. Third time asking!!!").out)
    assert line["frustration"] > 0.5


def test_score_answers_each_stdin_line_as_it_comes_for_a_pipe(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen([sys.executable, "-m", "ticketpulse.cli", "score"], cwd=tmp_path, env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        process.stdin.write("Still broken. Third time asking!!!\n")
        process.stdin.flush()  # and stdin stays open: the answer must not wait for its end
        answered = select.select([process.stdout], [], [], 60)[0]
        assert answered, "no answer while stdin is open"
        assert json.loads(process.stdout.readline())["frustration"] > 0.5
    finally:
        process.kill()
        process.wait()


def test_check_config_names_each_wrong_key_and_exits_2(runner, tmp_path):
    path = tmp_path / "ticketpulse.toml"
    path.write_text('[thresholds]\nfrustration_treshold = 0.8\ntrend_window = "three"\n[zendesk.priority]\nhigh = "asap"\n')

    result = runner("--config", str(path), "check-config")

    assert result.code == 2
    assert "thresholds.frustration_treshold: unknown key" in result.err
    assert "thresholds.trend_window" in result.err
    assert "zendesk.priority.high" in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_check_config_accepts_the_example_file(runner):
    result = runner("--config", str(ROOT / "ticketpulse.example.toml"), "check-config")
    assert result.code == 0, result.err
    assert "config OK" in result.out


def test_config_file_from_environment_variable(runner, tmp_path, monkeypatch):
    path = tmp_path / "custom.toml"
    path.write_text("[thresholds]\ncritical_frustration_threshold = 0.5\n")
    monkeypatch.setenv("TICKETPULSE_CONFIG", str(path))

    result = runner("check-config")

    assert result.code == 2
    assert "critical_frustration_threshold must be >= frustration_threshold" in result.err


COMMANDS_WITH_ARGUMENTS = [
    ["jobs"], ["jobs", "retry", "--all"], ["tickets"], ["show", "zendesk:1"], ["db", "upgrade"], ["backtest"],
    ["worker", "--once"], ["score", "hello"], ["check-config"], ["eval", "labels.csv"],
    ["setup", "zendesk", "--url", "https://ticketpulse.example.com"],
]


def test_every_command_refuses_a_config_file_that_does_not_exist(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'untouched.db'}")
    missing = tmp_path / "nonexistent.toml"

    for command in COMMANDS_WITH_ARGUMENTS:
        before, after = runner("--config", str(missing), *command), runner(*command, "--config", str(missing))
        for result in (before, after):
            assert one_line_error(result, 2) == f"ticketpulse: error: {missing}: config file not found", command
    assert not (tmp_path / "untouched.db").exists()  # refused before anything was done


def test_a_config_file_named_is_checked_even_by_a_command_that_reads_no_threshold(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.db'}")
    path = tmp_path / "typo.toml"
    path.write_text("[thresholds]\nfrustration_treshold = 0.8\n")

    assert "thresholds.frustration_treshold: unknown key" in one_line_error(runner("--config", str(path), "jobs"), 2)
    assert one_line_error(runner("--config", "", "jobs"), 2) == "ticketpulse: error: --config: an empty file name"


def test_unknown_command_exits_2(runner):
    assert runner("frobnicate").code == 2


def test_db_upgrade_creates_the_schema(runner, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DATABASE_URL", url)

    result = runner("db", "upgrade")

    assert result.code == 0, result.err
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"tickets", "comments", "scores", "escalations", "alembic_version"} <= tables


def test_serve_runs_web_and_worker_in_one_process(tmp_path):
    """The README's first command: a webhook in, a dry-run escalation out, no other process."""
    port = 18000 + os.getpid() % 1000
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "PORT": str(port),
        "TICKETPULSE_CONFIG": str(ROOT / "ticketpulse.example.toml"),
    }
    for key in ("ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_SUBDOMAIN", "ZENDESK_BASE_URL"):
        env.pop(key, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "ticketpulse.cli", "serve"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # still starting
                time.sleep(0.1)
        body = as_body(comment_event("5158", "1", "This is the THIRD time I ask. Still broken, I want a refund NOW!!! "
                                     "Absolutely unacceptable, I'm cancelling.", time="2025-03-05T10:00:00Z"))
        response = requests.post(f"{base}/webhooks/zendesk", data=body, headers=signed_headers(body), timeout=5)
        assert response.status_code == 202
        for _ in range(100):
            health = requests.get(f"{base}/healthz", timeout=1).json()
            if health["pending_comments"] == 0 and health["pending_escalations"] == 0:
                break
            time.sleep(0.1)
        assert health["pending_comments"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert "DRY RUN (no Zendesk credentials): PUT https://{subdomain}.zendesk.com/api/v2/tickets/5158" in output
    assert '"sentiment_severity_' in output
    assert "stopped" in output  # SIGTERM let the worker finish


def test_gunicorn_serves_the_app_factory(tmp_path):
    """Scale-out: `gunicorn "ticketpulse.webhooks:create_app()"` on a migrated database."""
    from ticketpulse.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(url)
    port = 19000 + os.getpid() % 1000
    env = os.environ | {"DATABASE_URL": url, "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "2", "ticketpulse.webhooks:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:  # still booting
                time.sleep(0.1)
        body = as_body(comment_event("77", "1", "Where is my order?", time="2025-03-05T10:00:00Z"))
        accepted = requests.post(f"{base}/webhooks/zendesk", data=body, headers=signed_headers(body), timeout=5)
        health = requests.get(f"{base}/healthz", timeout=5).json()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert accepted.status_code == 202, output
    assert health["pending_comments"] == 1  # the web app only stores; workers score
    assert "ticket zendesk:9876543:77: zendesk.event accepted" in output  # app logs reach gunicorn's stderr


# -- every failure is one line, never a traceback ---------------------------------------------------


def one_line_error(result, code: int) -> str:
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err
    [line] = result.err.strip().splitlines()
    assert line.startswith("ticketpulse: error: ")
    return line


def test_config_path_that_is_a_directory_exits_2(runner, tmp_path):
    line = one_line_error(runner("--config", str(tmp_path), "check-config"), 2)
    assert f"{tmp_path}: is a directory" in line


def test_config_file_that_is_not_utf8_exits_2(runner, tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes("[zendesk]\n# Zürich\nsenior_group_id = 1\n".encode("latin-1"))

    line = one_line_error(runner("--config", str(path), "check-config"), 2)
    assert f"{path}: not UTF-8 text" in line


def test_unreadable_config_file_exits_2(runner, tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "secret.toml"
    path.write_text("[zendesk]\n")

    def denied(self, *args, **kwargs):  # chmod 0 is no obstacle to root, so refuse here
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)

    line = one_line_error(runner("--config", str(path), "check-config"), 2)
    assert line == f"ticketpulse: error: {path}: cannot read the config file: Permission denied"


def argparse_error(result, argument: str) -> str:
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err
    last = result.err.strip().splitlines()[-1]
    assert f"error: argument {argument}: " in last
    return last


def test_backtest_days_must_be_finite_and_at_most_a_hundred_years(runner):
    for days in ("1000000", "inf", "nan", "-1", "0", "36501"):
        assert "at most 36500" in argparse_error(runner("backtest", "--days", days), "--days")


def test_port_must_be_a_port(runner):
    assert "is not a port: it must be at most 65535" in argparse_error(runner("serve", "--port", "99999"), "--port")
    assert "is not a port" in argparse_error(runner("worker", "--metrics-port", "0"), "--metrics-port")
    for port in ("١٢", "+80", "8_0"):  # int() reads each as a number
        assert f"{port!r} is not a whole number" in argparse_error(runner("serve", "--port", port), "--port")


def test_port_from_environment_must_be_a_port(runner, monkeypatch):
    monkeypatch.setenv("PORT", "99999")
    assert "PORT: " in one_line_error(runner("check-config"), 2)


def test_job_ids_are_32_bit_and_need_a_kind(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'jobs.db'}")
    assert "is not a job id" in argparse_error(runner("jobs", "retry", "99999999999999999999"), "ids")
    assert "is not a job id" in argparse_error(runner("jobs", "retry", "--kind", "comment", "0"), "ids")

    line = one_line_error(runner("jobs", "retry", "5"), 2)
    assert "--kind" in line and "ids are per kind" in line


def one_failed_and_one_pending_comment(client, sessions) -> tuple[int, int]:
    from sqlalchemy import select

    from tests.zendesk_helpers import post_zendesk
    from ticketpulse.models import Comment

    for ticket in ("42", "43"):
        post_zendesk(client, comment_event(ticket, "1", "hello", time="2025-03-05T10:00:00Z"))
    with sessions.begin() as session:
        failed, pending = session.scalars(select(Comment).order_by(Comment.id)).all()
        failed.status, failed.reason = "failed", "scoring failed: boom"
        return failed.id, pending.id


def comment_statuses(sessions) -> list[str]:
    from sqlalchemy import select

    from ticketpulse.models import Comment

    with sessions() as session:
        return session.scalars(select(Comment.status).order_by(Comment.id)).all()


def test_jobs_retry_of_an_unknown_id_names_it_exits_2_and_queues_nothing(client, sessions, runner, database_url,
                                                                        monkeypatch):
    failed, _pending = one_failed_and_one_pending_comment(client, sessions)
    monkeypatch.setenv("DATABASE_URL", database_url)

    result = runner("jobs", "retry", "--kind", "comment", str(failed), "999", "998")

    assert one_line_error(result, 2) == (
        "ticketpulse: error: jobs retry: no comment job 999, 998 (`ticketpulse jobs` lists the pending and failed ones)")
    assert result.out == ""
    assert comment_statuses(sessions) == ["failed", "pending"]


def test_jobs_retry_names_the_ids_that_were_not_failed(client, sessions, runner, database_url, monkeypatch):
    failed, pending = one_failed_and_one_pending_comment(client, sessions)
    monkeypatch.setenv("DATABASE_URL", database_url)

    result = runner("jobs", "retry", "--kind", "comment", str(pending), str(failed))

    assert result.code == 0, result.err
    assert result.out == f"queued 1 failed job(s) again\nnot failed, left as they are: comment {pending} (pending)\n"
    assert comment_statuses(sessions) == ["pending", "pending"]


def test_database_url_that_is_not_a_url_exits_2(runner, monkeypatch):
    for url in ("nonsense", "frob://host/db"):
        monkeypatch.setenv("DATABASE_URL", url)
        line = one_line_error(runner("db", "upgrade"), 2)
        assert "DATABASE_URL: not a database URL" in line


def test_unwritable_sqlite_path_exits_1_naming_the_database(runner, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'ticketpulse.db'}"
    monkeypatch.setenv("DATABASE_URL", url)

    line = one_line_error(runner("db", "upgrade"), 1)
    assert line == f"ticketpulse: error: cannot use the database {url}: unable to open database file"


def test_a_database_url_naming_a_file_that_is_not_a_database_exits_1_saying_so(runner, tmp_path, monkeypatch):
    path = tmp_path / "ticketpulse.toml"  # DATABASE_URL pointed at the wrong file
    path.write_text("[thresholds]\nfrustration_threshold = 0.8\n" * 200)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")

    for command in (["db", "upgrade"], ["jobs"], ["worker", "--once"]):
        line = one_line_error(runner(*command), 1)
        assert line == f"ticketpulse: error: cannot use the database sqlite:///{path}: file is not a database", command


def test_a_postgresql_user_without_privileges_exits_1_naming_what_it_may_not_do(runner, postgres_url, monkeypatch):
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    role = f"ticketpulse_no_grants_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} NOLOGIN"))
    url = make_url(postgres_url).update_query_dict({"options": f"-c role={role}"}).render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        line = one_line_error(runner("jobs"), 1)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP ROLE {role}"))
        admin.dispose()
    assert line.startswith("ticketpulse: error: cannot use the database postgresql")
    assert line.endswith(": permission denied for table comments"), line


def test_unreachable_postgresql_exits_1_without_the_password(runner, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://ticketpulse:s3cret-pw@127.0.0.1:{port}/ticketpulse")

    line = one_line_error(runner("jobs"), 1)
    assert f"cannot use the database postgresql://ticketpulse:***@127.0.0.1:{port}/ticketpulse: " in line
    assert "s3cret-pw" not in line


def test_commands_on_an_unmigrated_sqlite_database_say_to_upgrade(runner, tmp_path, monkeypatch):
    (tmp_path / "empty.db").touch()  # there, not migrated (a missing file: test_cli_read_commands_...)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    for command in (["jobs"], ["backtest"], ["worker", "--once"]):
        line = one_line_error(runner(*command), 1)
        assert "run `ticketpulse db upgrade` first" in line, command


def test_commands_on_an_unmigrated_postgresql_database_say_to_upgrade(runner, request, monkeypatch):
    import uuid

    from sqlalchemy import text

    admin, admin_url = request.getfixturevalue("postgres_template")
    name = f"ticketpulse_empty_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        from tests.conftest import _with_database

        monkeypatch.setenv("DATABASE_URL", _with_database(admin_url, name))
        for command in (["jobs"], ["backtest"], ["worker", "--once"]):
            line = one_line_error(runner(*command), 1)
            assert "has no tables: run `ticketpulse db upgrade` first" in line, command
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def worker_on(url: str, cwd: Path) -> subprocess.CompletedProcess:
    """`ticketpulse worker` (not --once): it should stop by itself, or time out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "FRESHDESK_", "TICKETPULSE_"))}
    return subprocess.run([sys.executable, "-m", "ticketpulse.cli", "worker"], cwd=cwd, env=env | {"DATABASE_URL": url},
                          capture_output=True, text=True, timeout=30)


def test_a_worker_on_an_unmigrated_sqlite_database_exits_saying_to_upgrade(tmp_path):
    result = worker_on(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)

    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("has no tables: run `ticketpulse db upgrade` first")
    assert "database unavailable" not in result.stderr


def test_a_worker_on_an_unmigrated_postgresql_database_exits_saying_to_upgrade(request, tmp_path):
    import uuid

    from sqlalchemy import text

    from tests.conftest import _with_database

    admin, admin_url = request.getfixturevalue("postgres_template")
    name = f"ticketpulse_empty_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        result = worker_on(_with_database(admin_url, name), tmp_path)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("has no tables: run `ticketpulse db upgrade` first")


def test_db_upgrade_on_a_database_of_a_newer_release_says_so(runner, database_url, monkeypatch):
    """A release rolled back: the database is at a revision this code has never heard of."""
    from sqlalchemy import text

    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", database_url)

    line = one_line_error(runner("db", "upgrade"), 1)

    assert "was migrated by a newer ticketpulse (Can't locate revision identified by '9999'; this one knows up to " in line
    assert "unexpected" not in line


def test_an_unexpected_error_is_one_line_and_the_traceback_only_with_verbose(runner, monkeypatch):
    import ticketpulse.cli

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(ticketpulse.cli, "load_config", broken)

    line = one_line_error(runner("check-config"), 1)
    assert line == "ticketpulse: error: unexpected RuntimeError: disk on fire"

    verbose = runner("-v", "check-config")
    assert verbose.code == 1
    assert "Traceback" in verbose.err and "RuntimeError: disk on fire" in verbose.err
    assert verbose.err.strip().splitlines()[-1] == line


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_followed_config_that_is_a_directory_is_named_a_directory(runner, tmp_path, monkeypatch, command):
    from tests.test_servers import free_port

    monkeypatch.setenv("TICKETPULSE_CONFIG", str(tmp_path))
    line = one_line_error(runner(command, *(["--port", str(free_port())] if command == "serve" else [])), 2)
    assert f"{tmp_path}: is a directory, not a config file" in line
