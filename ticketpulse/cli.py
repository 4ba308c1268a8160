"""The `ticketpulse` command."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Sequence

from ticketpulse.sentiment import evaluate
from ticketpulse.config import ConfigError, config_path, load_config, load_environment
from ticketpulse.logs import configure_logging

log = logging.getLogger("ticketpulse")

MAX_DAYS = 36_500  # a hundred years: `backtest --days`
MAX_JOB_ID = 2**31 - 1  # job ids are 32-bit integer columns


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    env = load_environment()
    source = config_path(args.config) or "built-in defaults"
    print(f"config OK ({source})")
    for helpdesk, url, live in (
        ("zendesk", env.zendesk_api_url, env.zendesk_email and env.zendesk_api_token),
        ("freshdesk", env.freshdesk_api_url, env.freshdesk_api_key),
    ):
        mode = f"live at {url}" if url and live else "dry-run (no API credentials)"
        print(f"{helpdesk}: {mode}; senior group {getattr(config, helpdesk).senior_group_id or 'not set'}")
    print(f"scoring backend: {config.scoring.backend}")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ticketpulse.migrations import upgrade

    env = load_environment()
    upgrade(env.database_url)
    print(f"database at revision head ({_safe_url(env.database_url)})")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from ticketpulse.sentiment.clean import clean_text
    from ticketpulse.sentiment.factory import build_scorer

    scorer = build_scorer(load_config(args.config), load_environment())

    def emit(message: str) -> None:
        print(json.dumps(scorer.score(clean_text(message)).to_dict(), ensure_ascii=False), flush=args.text is not None)

    if args.text:
        emit(" ".join(args.text))
        return 0
    for line in sys.stdin:
        emit(line.rstrip("\n"))
    sys.stdout.flush()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.conversations is not None:
        from ticketpulse.escalation import conversation_eval

        return conversation_eval.run(args)
    return evaluate.run(args)


def _runtime(args: argparse.Namespace):
    from ticketpulse.runtime import build_runtime

    return build_runtime(load_config(args.config), load_environment())


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum, _frame) -> None:
        log.info("received %s; finishing current work", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def cmd_worker(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    worker = runtime.worker
    if args.once:
        done = worker.drain()
        print(f"processed {done} ticket(s)")
        return 0
    if args.metrics_port:
        import prometheus_client

        prometheus_client.start_http_server(args.metrics_port)
    stop = _stop_on_signals()
    threads = worker.start(stop)
    log.info("worker started: %d thread(s), database %s", len(threads), _safe_url(runtime.env.database_url))
    while not stop.is_set():
        stop.wait(1.0)
    for thread in threads:
        thread.join()
    log.info("worker stopped")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Embedded all-in-one: migrate, run the worker threads and the web server in one process."""
    import waitress

    from ticketpulse.migrations import upgrade
    from ticketpulse.webhooks import create_app

    runtime = _runtime(args)
    upgrade(runtime.env.database_url)
    app = create_app({"TICKETPULSE": runtime.config, "ENVIRONMENT": runtime.env, "ENGINE": runtime.engine})
    stop = threading.Event()
    threads = runtime.worker.start(stop)
    port = args.port or runtime.env.port

    def shut_down(signum, _frame) -> None:
        log.info("received %s; finishing current work", signal.Signals(signum).name)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, shut_down)
    log.info(
        "ticketpulse serving on http://%s:%d (database %s, scorer %s, %d worker thread(s))",
        args.host, port, _safe_url(runtime.env.database_url), runtime.config.scoring.backend, len(threads),
    )
    for helpdesk, client in runtime.helpdesks.items():
        log.info("%s: %s", helpdesk, type(client).__name__)
    try:
        waitress.serve(app, host=args.host, port=port, threads=8, _quiet=True)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        log.info("stopped")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from ticketpulse.escalation.jobs import list_jobs, retry_jobs
    from ticketpulse.models import make_engine, make_session_factory

    env = load_environment()
    sessions = make_session_factory(make_engine(env.database_url))
    if args.jobs_command == "retry":
        if not args.ids and not args.all:
            print("ticketpulse: error: jobs retry: give job ids or --all", file=sys.stderr)
            return 2
        if args.ids and not args.kind:
            # A comment and an escalation may have the same id: `ticketpulse jobs` shows both.
            print("ticketpulse: error: jobs retry: give --kind comment or --kind escalation with job ids "
                  "(ids are per kind)", file=sys.stderr)
            return 2
        with sessions.begin() as session:
            count = retry_jobs(session, args.kind, args.ids or None)
        print(f"queued {count} failed job(s) again")
        return 0
    with sessions() as session:
        jobs = list_jobs(session)
    if not jobs:
        print("no pending or failed jobs")
        return 0
    print(f"{'KIND':<11} {'ID':>6} {'TICKET':<22} {'STATUS':<8} {'TRIES':>5} {'NEXT TRY (UTC)':<19}  REASON")
    for job in jobs:
        next_try = f"{job.run_after:%Y-%m-%d %H:%M:%S}" if job.status == "pending" else "-"
        print(
            f"{job.kind:<11} {job.id:>6} {job.helpdesk + ':' + job.ticket:<22} {job.status:<8} "
            f"{job.attempts:>5} {next_try:<19}  {job.reason or ''}"
        )
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from ticketpulse.escalation.backtest import format_report, recorded_escalations, replay, stored_histories
    from ticketpulse.models import make_engine, make_session_factory, utcnow

    config = load_config(args.config)
    env = load_environment()
    since = utcnow() - timedelta(days=args.days) if args.days else None
    with make_session_factory(make_engine(env.database_url))() as session:
        histories = stored_histories(session, since)
        recorded = recorded_escalations(session, len(histories), since)
    period = f"last {args.days:g} days" if args.days else "all time"
    print(format_report(replay(histories, config.thresholds), recorded, period))
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _positive_number(value: str) -> float:
    """A number of days: more than 0, at most MAX_DAYS (a date further back does not exist)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not math.isfinite(number) or not 0 < number <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value!r} must be more than 0 and at most {MAX_DAYS}")
    return number


def _bounded_int(what: str, low: int, high: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{value!r} is not a {what} ({low}..{high})")
        return number

    parse.__name__ = what  # argparse names the type in "invalid <name> value"
    return parse


_port = _bounded_int("port", 1, 65535)
_job_id = _bounded_int("job id", 1, MAX_JOB_ID)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ticketpulse", description=__doc__)
    parser.add_argument("--config", help="config file (default: $TICKETPULSE_CONFIG, else ./ticketpulse.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="web server and worker in one process (embedded default)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port (default $PORT, else 8000)")
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="process queued comments and escalations")
    worker.add_argument("--once", action="store_true", help="work until nothing is due, then exit")
    worker.add_argument("--metrics-port", type=_port, help="serve Prometheus metrics on this port")
    worker.set_defaults(func=cmd_worker)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="run the migrations up to the latest").set_defaults(func=cmd_db_upgrade)

    commands.add_parser("check-config", help="validate the config file and environment").set_defaults(
        func=cmd_check_config
    )

    jobs = commands.add_parser("jobs", help="list pending and failed work; `jobs retry` queues failed work again")
    jobs.set_defaults(func=cmd_jobs, jobs_command="list")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")
    jobs_retry = jobs_commands.add_parser("retry", help="queue failed jobs again")
    jobs_retry.add_argument("ids", nargs="*", type=_job_id, help="job ids, with --kind (ids are per kind)")
    jobs_retry.add_argument("--kind", choices=["comment", "escalation"], help="only this kind of job (required with ids)")
    jobs_retry.add_argument("--all", action="store_true", help="every failed job")

    backtest = commands.add_parser(
        "backtest", help="replay the stored score history under the config's thresholds: the escalation rate"
    )
    backtest.add_argument("--days", type=_positive_number, help="only conversations with a message in the last DAYS days")
    backtest.set_defaults(func=cmd_backtest)

    score = commands.add_parser("score", help="score TEXT, or one message per line from stdin, as JSON")
    score.add_argument("text", nargs="*", help="the message (omit to read stdin)")
    score.set_defaults(func=cmd_score)

    eval_parser = commands.add_parser("eval", help="measure the scorer on a labelled CSV/TSV file")
    evaluate.add_arguments(eval_parser)
    eval_parser.add_argument("--conversations", type=Path, metavar="FILE",
                             help="replay labelled conversations (JSON) through scorer, tracker and rules; see README")
    eval_parser.add_argument("--labels", type=Path, metavar="FILE",
                             help="with --conversations: JSON lines, one per customer message with its level 0-3")
    eval_parser.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        return args.func(args)
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`ticketpulse score < big.txt | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        problem = _database_problem(exc)
        if problem:
            return _fail(problem, 1)
        detail = _first_line(exc)
        return _fail(f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else ""), 1)


def _fail(message: str, code: int) -> int:
    print(f"ticketpulse: error: {message}", file=sys.stderr)
    return code


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else ""


def _database_name() -> str:
    try:
        return _safe_url(load_environment().database_url)  # the password hidden
    except Exception:
        return "(DATABASE_URL)"


def _database_problem(exc: Exception) -> str | None:
    """One line for a database that cannot be used: unreachable, unwritable, or not migrated."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(exc, DBAPIError):
        return None
    driver_error = exc.orig if exc.orig is not None else exc
    if getattr(driver_error, "sqlstate", None) == "42P01" or "no such table" in str(driver_error):
        return f"the database {_database_name()} has no tables: run `ticketpulse db upgrade` first"
    if isinstance(exc, OperationalError):
        return f"cannot use the database {_database_name()}: {_first_line(driver_error)}"
    return None


if __name__ == "__main__":
    sys.exit(main())
