"""The `ticketpulse` command."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Sequence

from ticketpulse.sentiment import evaluate
from ticketpulse.config import ConfigError, config_path, load_config, load_environment
from ticketpulse.logs import configure_logging
from ticketpulse.startup import freeze_startup_objects

log = logging.getLogger("ticketpulse")

MAX_DAYS = 36_500  # a hundred years: `backtest --days`
METRICS_HOST = "0.0.0.0"  # `worker --metrics-port`: for a scraper on another host


def cmd_check_config(args: argparse.Namespace) -> int:
    from ticketpulse.check import describe, online, refuse_what_serve_refuses

    _check_metrics_directory(args.metrics_directory)
    _refuse_a_config_that_cannot_be_reread(args)
    config = _config(args)
    env = load_environment()
    refuse_what_serve_refuses(config, env)
    source = config_path(args.config) or "built-in defaults"
    print(f"config OK ({source})")
    for line in describe(config, env):
        print(line)
    keys = len(env.api_keys)
    print(f"conversation API: {keys} key(s)" if keys else "conversation API: off (set TICKETPULSE_API_KEYS)")
    if not getattr(args, "online", False):
        return 0
    answers = online(config, env)
    if not answers:
        print("online: nothing to reach (no API credentials, local scorer)")
    for answer in answers:
        print(answer.line())
    failed = [answer.service for answer in answers if not answer.ok]
    if failed:
        return _fail(f"online check failed for {', '.join(failed)}", 1)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from ticketpulse.migrations import upgrade

    env = load_environment()
    upgrade(env.database_url)
    print(f"database at revision head ({_safe_url(env.database_url)})")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from ticketpulse.escalation.comments import AuthorRole, skip_reason
    from ticketpulse.sentiment.clean import clean_text
    from ticketpulse.sentiment.factory import build_scorer

    scorer = build_scorer(_config(args), load_environment())

    def not_scored(text: str) -> str | None:
        # The worker's rule for a customer's public comment: an empty one ("", markup or invisible
        # characters only) is skipped there, not scored as a calm message.
        return skip_reason(is_public=True, author_role=AuthorRole.CUSTOMER, text=text)

    def emit(text: str) -> None:  # flushed: a line out for each line in, also through a pipe
        print(json.dumps(scorer.score(text).to_dict(), ensure_ascii=False), flush=True)

    if args.text and args.text != ["-"]:  # "-" means stdin, as for most tools
        text = clean_text(" ".join(args.text))
        if reason := not_scored(text):
            cleaned = ", once cleaned of markup and invisible characters" if not text else ""
            return _fail(f"score: TEXT is not scored ({reason}{cleaned}), as the worker skips it", 2)
        emit(text)
        return 0
    for line in sys.stdin:
        text = clean_text(line.rstrip("\n"))
        if reason := not_scored(text):  # a line out still, so that the lines stay aligned
            print(json.dumps({"skipped": reason}), flush=True)
        else:
            emit(text)
    sys.stdout.flush()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.conversations is not None:
        from ticketpulse.escalation import conversation_eval

        return conversation_eval.run(args)
    return evaluate.run(args)


def _config(args: argparse.Namespace):
    """The --config file as main read it, else the usual search ($TICKETPULSE_CONFIG, ...)."""
    loaded = getattr(args, "loaded_config", None)
    return loaded if loaded is not None else load_config(args.config)


def _runtime(args: argparse.Namespace):
    from ticketpulse.runtime import build_runtime

    return build_runtime(_config(args), load_environment())


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum, _frame) -> None:
        log.info("received %s; finishing current work", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def cmd_worker(args: argparse.Namespace) -> int:
    early_sighup = _defer_sighup()
    runtime = _runtime(args)
    worker = runtime.worker
    if args.once:
        done = worker.drain()
        print(f"processed {done} ticket(s)")
        return 0
    _refuse_a_config_that_cannot_be_reread(args)
    if args.metrics_port:
        import prometheus_client

        from ticketpulse.metrics import registry

        _bind(lambda: prometheus_client.start_http_server(args.metrics_port, METRICS_HOST, registry=registry()),
              METRICS_HOST, args.metrics_port, "--metrics-port")
    from ticketpulse.runtime import follow_config

    stop = _stop_on_signals()
    live = _live_config(args, runtime)
    follow_config(runtime, worker, live)
    _reclaim_own_leases(worker)
    threads = worker.start(stop)
    live.watch(stop)
    live.reload_on_sighup()
    if early_sighup:
        live.request_reload("SIGHUP")
    log.info("worker started: %d thread(s), database %s", len(threads), _safe_url(runtime.env.database_url))
    freeze_startup_objects()
    while not stop.is_set():
        stop.wait(1.0)
    for thread in threads:
        thread.join()
    log.info("worker stopped")
    return 0


def _reclaim_own_leases(worker) -> None:
    """A restart after a crash takes its own tickets back at once, not when their leases expire."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        worker.reclaim()
    except SQLAlchemyError as exc:
        if _no_tables(exc):
            # Never migrated: one line saying so (main), not threads logging 'database
            # unavailable' every second for ever. An unreachable database is waited for.
            raise
        log.warning("could not free leases left by a crash: %s", exc.__class__.__name__)


def cmd_serve(args: argparse.Namespace) -> int:
    """Embedded all-in-one: migrate, run the worker threads and the web server in one process."""
    early_sighup = _defer_sighup()
    from ticketpulse.migrations import upgrade
    from ticketpulse.runtime import follow_config
    from ticketpulse.webhooks import create_app

    _refuse_a_config_that_cannot_be_reread(args)
    runtime = _runtime(args)
    live = _live_config(args, runtime)
    app = create_app({"TICKETPULSE": runtime.config, "ENVIRONMENT": runtime.env, "ENGINE": runtime.engine,
                      "LIVE_CONFIG": live, "SCORER": runtime.scorer})
    port = args.port or runtime.env.port
    # Bound before migrating: a port in use (another ticketpulse, perhaps the release still
    # running) or a wrong --host refuses the start with the database untouched; it was migrated
    # first. Requests that come during a migration wait in the socket's queue until it is done.
    # waitress stops reading a body at the limit and answers 413 itself (webhooks/serving.py).
    server = _listen(app, args.host, port, runtime.config.webhooks.max_body_bytes)
    upgrade(runtime.env.database_url)
    live.subscribe(lambda _old, new: _follow_body_limit(server, new.webhooks.max_body_bytes))
    stop = threading.Event()
    worker = runtime.worker
    _reclaim_own_leases(worker)
    follow_config(runtime, worker, live)
    # After follow_config, which builds the new scorer: the conversation API was given the first
    # one, and went on scoring with the old backend after a reload changed [scoring].
    def share_scorer(_old, _new) -> None:
        app.extensions["ticketpulse.scorer"] = runtime.scorer

    live.subscribe(share_scorer)
    threads = worker.start(stop)
    live.watch(stop)
    live.reload_on_sighup()
    if early_sighup:
        live.request_reload("SIGHUP")

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
    freeze_startup_objects()
    try:
        server.run()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        log.info("stopped")
    return 0


def _defer_sighup() -> list[int]:
    """A SIGHUP while starting is remembered and done once the config is live: never a stop."""
    received: list[int] = []
    signal.signal(signal.SIGHUP, lambda signum, _frame: received.append(signum))
    return received


def _refuse_a_config_that_cannot_be_reread(args: argparse.Namespace) -> None:
    """Before migrating or binding: the LiveConfig that follows the file would refuse it later."""
    from ticketpulse.reload import refuse_a_config_that_cannot_be_reread

    refuse_a_config_that_cannot_be_reread(config_path(args.config))


def _live_config(args: argparse.Namespace, runtime):
    """The config file, reloaded on SIGHUP and when it changes (validated as at start)."""
    from ticketpulse.check import refuse_what_serve_refuses
    from ticketpulse.reload import LiveConfig

    return LiveConfig(runtime.config, args.config, validate=lambda config: refuse_what_serve_refuses(config, runtime.env))


def _listen(app, host: str, port: int, max_body_bytes: int):
    from ticketpulse.webhooks import serving

    return _bind(lambda: serving.create_server(app, host=host, port=port, threads=8, max_body_bytes=max_body_bytes),
                 host, port, "--port or PORT")


def _follow_body_limit(server, max_body_bytes: int) -> None:
    """A reloaded [webhooks] max_body_bytes for waitress too: the app's own limit only lowers it,
    and waitress would go on refusing, at the old limit, bodies the new one allows."""
    # One over the limit, as webhooks.serving.create_server sets it (the adjustments are shared
    # by every listening socket and read for each request).
    server.adj.max_request_body_size = max_body_bytes + 1


def _bind(listen, host: str, port: int, port_option: str):
    """Bind the port now, so that a port in use is a one-line error (exit 2) naming it and the
    option that moves it."""
    import errno
    import socket

    try:
        return listen()
    except ValueError as exc:  # waitress's word for, among others, a host name that does not resolve
        raise ConfigError(f"cannot listen on {host}:{port}: {exc} (--host must be an address or a name "
                          "that resolves)") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use (another ticketpulse?); "
                f"stop it, or choose another port with {port_option}"
            ) from None
        if exc.errno == errno.EACCES:
            raise ConfigError(f"not allowed to listen on port {port} (ports below 1024 need root); "
                              f"choose another with {port_option}") from None
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (check --host)") from None
        raise


def cmd_jobs(args: argparse.Namespace) -> int:
    from ticketpulse.escalation.jobs import backlog, list_jobs, retry_jobs
    from ticketpulse.models.tables import QueuedWork

    if args.jobs_command == "retry":
        if not args.ids and not args.all:
            print("ticketpulse: error: jobs retry: give job ids or --all", file=sys.stderr)
            return 2
        if args.ids and not args.kind:
            # A comment and an escalation may have the same id: `ticketpulse jobs` shows both.
            print("ticketpulse: error: jobs retry: give --kind comment or --kind escalation with job ids "
                  "(ids are per kind)", file=sys.stderr)
            return 2
    sessions = _sessions()
    if args.jobs_command == "retry":
        with sessions.begin() as session:
            statuses = _job_statuses(session, args.kind, args.ids)
            unknown = [str(job_id) for job_id in args.ids if job_id not in statuses]
            if unknown:  # a mistyped id: nothing is queued, so that the command can simply be run again
                return _fail(f"jobs retry: no {args.kind} job {', '.join(unknown)} "
                             "(`ticketpulse jobs` lists the pending and failed ones)", 2)
            retried = retry_jobs(session, args.kind, args.ids or None, config=_config(args))
        print(f"queued {retried.queued} failed job(s) again")
        if retried.superseded:  # sending them would show the helpdesk a lower escalation after the higher
            print(f"superseded {len(retried.superseded)}, not queued: a higher escalation of the ticket is pending, "
                  "applied or queued: " + ", ".join(f"escalation {job_id} (by {severity})"
                                                     for job_id, severity in sorted(retried.superseded.items())))
        not_failed = [f"{job_id} ({status})" for job_id, status in statuses.items() if status != QueuedWork.FAILED]
        if not_failed:  # already pending again, or done: nothing to retry, and no error either
            print(f"not failed, left as they are: {args.kind} {', '.join(not_failed)}")
        return 0
    with sessions() as session:
        counts = backlog(session)
        jobs = list_jobs(session, args.limit)
    total = sum(counts[f"{status}_{kind}"] for status in ("pending", "failed") for kind in ("comments", "escalations"))
    if not jobs and not total:
        print("no pending or failed jobs")
        return 0
    print("; ".join(
        f"{status}: {_some(counts[f'{status}_comments'], 'comment')}, {_some(counts[f'{status}_escalations'], 'escalation')}"
        for status in ("failed", "pending")
    ))
    # As wide as the longest ref: one with a Freshdesk account (its domain) is longer than 22.
    width = max([22, *(len(job.ticket) for job in jobs)])
    print(f"{'KIND':<11} {'ID':>6} {'TICKET':<{width}} {'STATUS':<8} {'TRIES':>5} {'NEXT TRY (UTC)':<19}  REASON")
    for job in jobs:
        next_try = f"{job.run_after:%Y-%m-%d %H:%M:%S}" if job.status == "pending" else "-"
        print(
            f"{job.kind:<11} {job.id:>6} {job.ticket:<{width}} {job.status:<8} "
            f"{job.attempts:>5} {next_try:<19}  {job.reason or ''}"
        )
    if total > len(jobs):  # the counts were read first: a job queued since is not counted
        print(f"... and {total - len(jobs)} more (failed ones first, then pending, oldest first; "
              f"--limit N lists more)")
    return 0


def _some(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _job_statuses(session, kind: str | None, ids: list[int]) -> dict[int, str]:
    """The status of each of these jobs of this kind that exists, in the order given."""
    from sqlalchemy import select

    from ticketpulse.models import Comment, Escalation

    if not ids:
        return {}
    model = {"comment": Comment, "escalation": Escalation}[kind]
    found = dict(session.execute(select(model.id, model.status).where(model.id.in_(ids))).all())
    return {job_id: found[job_id] for job_id in dict.fromkeys(ids) if job_id in found}


def cmd_backtest(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from ticketpulse.escalation.backtest import format_report, recorded_escalations, replay, stored_histories
    from ticketpulse.models import utcnow

    config = _config(args)
    sessions = _sessions()
    since = utcnow() - timedelta(days=args.days) if args.days else None
    with sessions() as session:
        histories = stored_histories(session, since)
        recorded = recorded_escalations(session, len(histories), since)
    period = f"last {args.days:g} days" if args.days else "all time"
    print(format_report(replay(histories, config.thresholds), recorded, period))
    _print_feedback(sessions, config, since, period)
    return 0


def _print_feedback(sessions, config, since, period: str) -> None:
    """Precision per rule and severity against agents' feedback, and thresholds that fit it."""
    from ticketpulse.escalation.tuning import format_feedback

    with sessions() as session:
        print(format_feedback(session, since, config.thresholds, period))


def _sessions():
    """The sessions of the commands that read the stored work (tickets, show, jobs, backtest):
    a SQLite file that does not exist is named, not created empty (serve, worker and db upgrade
    create it)."""
    from ticketpulse.models import make_engine, make_session_factory

    return make_session_factory(make_engine(load_environment().database_url, create_database=False))


def _time(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


def cmd_tickets(args: argparse.Namespace) -> int:
    """Recent conversations: one line per ticket with a scored customer message in the period."""
    from ticketpulse.escalation.reports import parse_since, recent_tickets
    from ticketpulse.models import utcnow

    with _sessions()() as session:
        rows = recent_tickets(session, utcnow() - parse_since(args.since), escalated_only=args.escalated,
                              helpdesk=args.helpdesk, limit=args.limit)
    if not rows:
        print(f"no {'escalated ' if args.escalated else ''}tickets with customer messages in the last {args.since}")
        return 0
    width = max([22, *(len(row.ref) for row in rows)])  # a Freshdesk domain or an api: id may be longer
    print(f"{'TICKET':<{width}} {'MSGS':>4} {'LAST MESSAGE':<16} {'SCORE':>6} {'LOWEST':>6} {'FRUSTR':>6} "
          f"{'ESCALATED':<9} FEEDBACK")
    for row in rows:
        print(
            f"{row.ref:<{width}} {row.messages:>4} {_time(row.last_message_at):<16} "
            f"{row.last_score if row.last_score is not None else 0:>+6.2f} {row.lowest_score:>+6.2f} "
            f"{row.peak_frustration:>6.2f} {row.escalated_severity or '-':<9} {(row.verdict or '-').replace('_', ' ')}"
        )
    if len(rows) == args.limit:
        print(f"(the {args.limit} most recent; --limit for more)")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """One ticket's trajectory: each message's values, skipped comments, the decisions and feedback."""
    from ticketpulse.escalation.reports import ReportError, find_ticket, parse_ticket_ref, sparkline, ticket_view

    try:  # before the database: a malformed ref is told as such, also where there is none
        wanted = parse_ticket_ref(args.ticket)
    except ReportError as exc:
        return _fail(str(exc), 2)
    with _sessions()() as session:
        try:
            view = ticket_view(session, find_ticket(session, wanted))
        except ReportError as exc:
            return _fail(str(exc), 2)
        except LookupError as exc:
            return _fail(str(exc), 1)
    ticket = view.ticket
    state = f"escalated {ticket.escalated_severity}" if ticket.escalated_severity else "not escalated"
    # Named as `tickets` lists it (the account in the ref when the number is in two accounts).
    account = "" if view.number_shared else f" (account {ticket.account})"
    print(f"{view.ref}{account} - {state}, feedback: {(view.verdict or 'none').replace('_', ' ')}")
    scores = [message.score for message in view.scored]
    if scores:
        print(f"score trajectory: {sparkline(scores)}  ({scores[0]:+.2f} -> {scores[-1]:+.2f}; -1 bottom, +1 top)")
    print(f"{'#':>3} {'TIME (UTC)':<16} {'AUTHOR':<9} {'SCORE':>6} {'LABEL':<9} {'FRUSTR':>6} {'URGENCY':>7}  CUES / STATUS")
    for number, message in enumerate(view.messages, 1):
        if message.score is None:
            print(f"{number:>3} {_time(message.commented_at):<16} {message.author_role:<9} {'':>6} {'':<9} {'':>6} {'':>7}  "
                  f"{message.status}: {message.reason or ''}")
            continue
        if not message.read:  # its stored values are placeholders, kept out of the rules
            print(f"{number:>3} {_time(message.commented_at):<16} {message.author_role:<9} {'':>6} {'':<9} {'':>6} {'':>7}  "
                  f"not read: in {message.unsupported_language}, a language the {message.scorer or 'local'} scorer "
                  "cannot read; kept out of the rules")
            continue
        print(f"{number:>3} {_time(message.commented_at):<16} {message.author_role:<9} {message.score:>+6.2f} "
              f"{message.label or '':<9} {message.frustration:>6.2f} {message.urgency:>7.2f}  {', '.join(message.cues)}")
    for escalation in view.escalations:
        verdict = f", feedback {escalation.verdict.replace('_', ' ')} ({escalation.verdict_source})" if escalation.verdict else ""
        print(f"decision {_time(escalation.created_at)}: {escalation.severity} by rule {escalation.rule} - "
              f"{escalation.status}{' (dry run)' if escalation.dry_run else ''}{verdict}")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from ticketpulse.check import and_list, missing_credentials
    from ticketpulse.config import check_credentials
    from ticketpulse.escalation.helpdesk import HelpdeskError
    from ticketpulse.integrations.freshdesk import FreshdeskClient
    from ticketpulse.integrations.http import HttpPolicy
    from ticketpulse.integrations.setup import setup_freshdesk, setup_zendesk
    from ticketpulse.integrations.zendesk import ZendeskClient

    config = _config(args)
    env = load_environment()
    check_credentials(env)
    policy = HttpPolicy(timeout=(5.0, 30.0), attempts=2)
    out = SetupOutput()
    try:
        if missing := missing_credentials(env, args.setup_command):
            admin = " (an admin's API token)" if "ZENDESK_API_TOKEN" in missing else ""
            raise ConfigError(f"setup {args.setup_command}: set {and_list(missing)}{admin} first")
        if args.setup_command == "zendesk":
            client = ZendeskClient(env.zendesk_api_url, env.zendesk_email, env.zendesk_api_token, policy,
                                   url_variable=env.zendesk_url_variable)
            ok = setup_zendesk(client, args.url, trigger=args.trigger, current_secret=env.zendesk_webhook_secret,
                               section=config.zendesk, account_id=env.zendesk_account_id, out=out)
        else:
            client = FreshdeskClient(env.freshdesk_api_url, env.freshdesk_api_key, policy,
                                     url_variable=env.freshdesk_url_variable)
            ok = setup_freshdesk(client, args.url, section=config.freshdesk, current_secret=env.freshdesk_webhook_secret,
                                 out=out)
    except HelpdeskError as exc:
        code = _fail(f"setup {args.setup_command}: {_first_line(exc)}", 1)
        if out.cut:
            _fail(f"setup {args.setup_command}: {out.cut_message('stopped at the error above')}", 1)
        return code
    if out.cut:
        outcome = "ran to its end and verified it all" if ok else "ran to its end, not all of it verified"
        return _fail(f"setup {args.setup_command}: {out.cut_message(outcome)}", 1)
    return 0 if ok else 1


class SetupOutput:
    """Where `setup` prints. A reader that goes away (`setup zendesk | head -1`) stopped the setup
    at its next line, between two of its writes (a webhook made, its trigger not), with exit 0.
    Each line is flushed, so that the closed pipe is seen at the line it missed (not at exit); the
    setup then goes on to its end, the lines after discarded, and the command says what was cut."""

    SECRET_LINE = re.compile(r"^([A-Z_]+_WEBHOOK_SECRET)=")

    def __init__(self) -> None:
        self.printed = 0
        self.written = 0  # before the pipe closed; its reader may have read fewer
        self.cut = False
        # A secret line's variable, and whether it was printed after the cut (else the reader
        # may still have missed it): printed once, so the place to say so.
        self.secret: tuple[str, bool] | None = None

    def __call__(self, line: str) -> None:
        self.printed += 1
        if not self.cut:
            try:
                print(line, flush=True)
                self.written += 1
            except BrokenPipeError:
                self.cut = True
                _discard_stdout()
        if found := self.SECRET_LINE.match(line):
            self.secret = (found[1], self.cut)

    def cut_message(self, outcome: str) -> str:
        secret = ""
        if self.secret:
            secret = f", the {self.secret[0]}= line {'among it' if self.secret[1] else 'perhaps among it'}"
        return (f"its output was cut: the reader closed the pipe after {self.written} of its {self.printed} lines "
                f"were written. The setup {outcome}; what the reader missed is lost{secret}: run it again "
                "without the pipe to read it all (it finds what it set up and makes nothing twice)")


def _public_url(value: str) -> str:
    from urllib.parse import urlsplit

    from ticketpulse.config import http_url

    example = "https://ticketpulse.example.com"
    try:
        url = http_url(value, example=example)
    except ValueError as exc:  # as ArgumentTypeError, so argparse names --url, not this function
        raise argparse.ArgumentTypeError(str(exc)) from None
    parts = urlsplit(url)
    if parts.query or parts.fragment:  # /webhooks/<helpdesk> is added after it: it would land in the query
        raise argparse.ArgumentTypeError(
            f"{url!r} has a ?query or #fragment; give ticketpulse's base URL, like {example} "
            "(/webhooks/<helpdesk> is added to it)")
    return url


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
        # ASCII digits alone: int() would also read "١" as 1, and "+80", " 80 " or "8_0". A minus
        # sign is read, so that "-1" is told it is too small, not that it is no whole number.
        digits = value[1:] if value.startswith("-") else value
        if not (digits.isascii() and digits.isdigit()):
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number")
        number = int(value)
        if number < low:
            raise argparse.ArgumentTypeError(f"{value!r} is not a {what}: it must be at least {low}")
        if number > high:
            raise argparse.ArgumentTypeError(f"{value!r} is not a {what}: it must be at most {high}")
        return number

    parse.__name__ = what  # argparse names the type in "invalid <name> value"
    return parse


_port = _bounded_int("port", 1, 65535)


def _since(value: str) -> str:
    """`--since 7d`: checked here, turned into a time in the command."""
    from ticketpulse.escalation.reports import ReportError, parse_since

    try:
        parse_since(value)
    except ReportError as exc:  # its message names the option as "since:"; argparse names it itself
        raise argparse.ArgumentTypeError(str(exc).removeprefix("since: ")) from None
    return value


def _job_id(value: str) -> int:
    from ticketpulse.models import MAX_ROW_ID  # not at import: the CLI starts without SQLAlchemy

    return _bounded_int("job id", 1, MAX_ROW_ID)(value)


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
    # --once exits as soon as nothing is due: no scraper would ever read its metrics.
    lifetime = worker.add_mutually_exclusive_group()
    lifetime.add_argument("--once", action="store_true", help="work until nothing is due, then exit")
    lifetime.add_argument("--metrics-port", type=_port, metavar="N",
                          help=f"serve Prometheus metrics on this port, on every interface ({METRICS_HOST}; "
                               "not with --once)")
    worker.set_defaults(func=cmd_worker)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="run the migrations up to the latest").set_defaults(func=cmd_db_upgrade)

    commands.add_parser("check-config", help="validate the config file and environment").set_defaults(
        func=cmd_check_config
    )

    jobs = commands.add_parser("jobs", help="list pending and failed work; `jobs retry` queues failed work again")
    jobs.set_defaults(func=cmd_jobs, jobs_command="list")
    jobs.add_argument("--limit", type=_bounded_int("limit", 1, 1_000_000), default=50, metavar="N",
                      help="most jobs listed, failed ones first (default 50); the counts on top are of all")
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

    tickets = commands.add_parser("tickets", help="recent conversations: score, peak frustration, escalation, feedback")
    tickets.add_argument("--escalated", action="store_true", help="only escalated tickets")
    tickets.add_argument("--since", type=_since, default="7d", metavar="PERIOD",
                         help="with a customer message in this period: 30m, 12h, 7d, 2w (default 7d)")
    tickets.add_argument("--helpdesk", choices=["zendesk", "freshdesk", "api"],
                         help="only this helpdesk (api: the conversation API's conversations)")
    tickets.add_argument("--limit", type=_bounded_int("limit", 1, 10_000), default=50, help="most tickets shown (default 50)")
    tickets.set_defaults(func=cmd_tickets)

    show = commands.add_parser("show", help="one ticket's trajectory, skipped comments and decisions")
    show.add_argument("ticket", help="zendesk:<number>, freshdesk:<number> (zendesk:<account>:<number> if ambiguous) "
                                     "or api:<conversation id>")
    show.set_defaults(func=cmd_show)

    score = commands.add_parser("score", help="score TEXT, or one message per line from stdin, as JSON")
    score.add_argument("text", nargs="*", help="the message (omit, or -, to read stdin)")
    score.set_defaults(func=cmd_score)

    eval_parser = commands.add_parser("eval", help="measure the offline scorer (whatever [scoring] backend says) "
                                                  "on a labelled CSV/TSV file, or the decisions on labelled "
                                                  "conversations (--conversations, --labels)")
    evaluate.add_arguments(eval_parser)
    eval_parser.add_argument("--conversations", type=Path, metavar="FILE",
                             help="replay labelled conversations (JSON) through scorer, tracker and rules; see README")
    eval_parser.add_argument("--labels", type=Path, metavar="FILE",
                             help="with --conversations: JSON lines, one per customer message with its level 0-3")
    eval_parser.set_defaults(func=cmd_eval)

    setup = commands.add_parser("setup", help="connect a helpdesk through its API (webhook, secret, groups)")
    setup_commands = setup.add_subparsers(dest="setup_command", required=True, metavar="HELPDESK")
    setup_zendesk = setup_commands.add_parser(
        "zendesk", help="create or update the webhook, print its signing secret, send a signed test event")
    setup_zendesk.add_argument("--url", required=True, type=_public_url,
                               help="ticketpulse's public base URL, e.g. https://ticketpulse.example.com")
    setup_zendesk.add_argument("--trigger", action="store_true",
                               help="the trigger-connected webhook and its trigger instead of event subscriptions")
    setup_zendesk.set_defaults(func=cmd_setup)
    setup_freshdesk = setup_commands.add_parser(
        "freshdesk", help="check the API key, list the groups, print the automation rule to enter")
    setup_freshdesk.add_argument("--url", required=True, type=_public_url,
                                 help="ticketpulse's public base URL, e.g. https://ticketpulse.example.com")
    setup_freshdesk.set_defaults(func=cmd_setup)

    commands.choices["check-config"].add_argument(
        "--online", action="store_true", help="also call each helpdesk API and the LLM with the credentials"
    )
    _everywhere(parser)
    return parser


# One line per command, shown at the end of its --help.
EXAMPLES = {
    "serve": "ticketpulse serve --host 0.0.0.0 --port 8080",
    "worker": "DATABASE_URL=postgresql+psycopg://tp:pw@db/ticketpulse ticketpulse worker --metrics-port 9100",
    "db": "ticketpulse db upgrade",
    "db upgrade": "DATABASE_URL=postgresql+psycopg://tp:pw@db/ticketpulse ticketpulse db upgrade",
    "check-config": "ticketpulse check-config --config ticketpulse.toml --online",
    "jobs": "ticketpulse jobs",
    "jobs retry": "ticketpulse jobs retry --kind escalation 12 13",
    "backtest": "ticketpulse backtest --config candidate.toml --days 30",
    "tickets": "ticketpulse tickets --escalated --since 7d",
    "show": "ticketpulse show zendesk:48213",
    "score": "ticketpulse score \"third time asking, still no refund for order 4411\"",
    "setup": "ticketpulse setup zendesk --url https://ticketpulse.example.com",
    "setup zendesk": "ticketpulse setup zendesk --url https://ticketpulse.example.com --trigger",
    "setup freshdesk": "ticketpulse setup freshdesk --url https://ticketpulse.example.com",
    "eval": "ticketpulse eval labelled.tsv --label-column label --positive frustrated --target frustration",
}


def _subparsers(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if sub.description is None:
                    sub.description = helps.get(name)
                yield f"{prefix}{name}", sub
                yield from _subparsers(sub, f"{prefix}{name} ")


def _everywhere(parser: argparse.ArgumentParser) -> None:
    """-v, --log-format and --config after the subcommand too, and an example in each --help.

    The subcommands' copies default to SUPPRESS, so they never undo the same option given
    before the subcommand."""
    from ticketpulse.logs import LOG_FORMAT_VARIABLE, LOG_FORMATS

    log_help = f"text (default) or json: one JSON object per line (also ${LOG_FORMAT_VARIABLE})"
    parser.add_argument("--log-format", choices=LOG_FORMATS, help=log_help)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "example:\n  ticketpulse serve        (then `ticketpulse COMMAND --help`)"
    for name, sub in _subparsers(parser):
        have = sub._option_string_actions
        if "--config" not in have:
            sub.add_argument("--config", default=argparse.SUPPRESS, help=parser._option_string_actions["--config"].help)
        if "-v" not in have:
            sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="debug logging, and the traceback of an unexpected error")
        if "--log-format" not in have:
            sub.add_argument("--log-format", choices=LOG_FORMATS, default=argparse.SUPPRESS, help=log_help)
        if name in EXAMPLES:
            sub.formatter_class = argparse.RawDescriptionHelpFormatter
            sub.epilog = f"example:\n  {EXAMPLES[name]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.metrics_directory = _leave_metrics_directory_to_gunicorn()
    from ticketpulse.logs import LOG_FORMAT_VARIABLE, LOG_FORMATS, log_format_from_environment

    if args.log_format is None and log_format_from_environment() not in LOG_FORMATS:
        return _fail(f"{LOG_FORMAT_VARIABLE}: {log_format_from_environment()!r} is not one of "
                     f"{', '.join(LOG_FORMATS)}", 2)
    configure_logging(args.verbose, args.log_format)
    try:
        if args.config is not None:
            # Read whether or not the command uses it: a file named on the command line that is
            # missing or wrong is never silently replaced by the defaults.
            if not args.config.strip():
                return _fail("--config: an empty file name", 2)
            # Read once, here: a file that can be read only once (`--config <(git show
            # main:ticketpulse.toml)`) gave the command's own second read the defaults.
            args.loaded_config = load_config(args.config)
        code = args.func(args)
        # Here, not at exit: a pipe closed before the last buffered line is seen by the handler
        # below, instead of Python's "Exception ignored ... BrokenPipeError" and exit 120. (None:
        # started with stdout closed, `>&-`.)
        if sys.stdout is not None:
            sys.stdout.flush()
        return code
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`ticketpulse score < big.txt | head`): not an error of ours.
        _discard_stdout()
        return 0
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        problem = _database_problem(exc) or _newer_schema_problem(exc)
        if problem:
            return _fail(problem, 1)
        detail = _first_line(exc)
        return _fail(f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else ""), 1)


def _discard_stdout() -> None:
    """After a BrokenPipeError: what is still buffered, or printed later, goes nowhere, so that
    the flush at exit does not raise it again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _leave_metrics_directory_to_gunicorn() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR, taken out of this process's environment before prometheus_client
    is imported, and returned. A ticketpulse command is one process, and `serve` and `worker
    --metrics-port` answer for it alone; written into gunicorn's directory too (an environment
    shared with the web processes), a worker was counted by gunicorn's /metrics and by its own port,
    and its port added in the web processes' counts: twice each in a sum over the targets."""
    os.environ.pop("prometheus_multiproc_dir", None)  # the old name, which prometheus_client still reads
    return os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


def _check_metrics_directory(path: str | None) -> None:
    """PROMETHEUS_MULTIPROC_DIR for gunicorn, whose ticketpulse.metrics creates it on import: one
    that cannot be a directory is a wrong variable (exit 2), checked without prometheus_client."""
    if not path:
        return
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR: {path!r} is a file, not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR: cannot create {path!r}: {exc.strerror or exc}") from None


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


def _no_tables(exc: Exception) -> bool:
    """A database that was never migrated: PostgreSQL's undefined_table, SQLite's 'no such table'."""
    driver_error = getattr(exc, "orig", None) or exc
    return getattr(driver_error, "sqlstate", None) == "42P01" or "no such table" in str(driver_error)


def _newer_schema_problem(exc: Exception) -> str | None:
    """A database migrated by a newer ticketpulse (a release rolled back): Alembic cannot find
    its revision, which `serve` and `db upgrade` said as 'unexpected CommandError'."""
    alembic_errors = sys.modules.get("alembic.util.exc")  # loaded only if a migration ran
    if alembic_errors is None or not isinstance(exc, alembic_errors.CommandError):
        return None
    if "Can't locate revision" not in str(exc):
        return None
    from ticketpulse.migrations import head_revisions

    return (f"the database {_database_name()} was migrated by a newer ticketpulse ({_first_line(exc)}; "
            f"this one knows up to {', '.join(sorted(head_revisions()))}): run the newer version, or "
            "restore the database from before its upgrade")


# PostgreSQL refusing the work, not an error of ours: insufficient_privilege (the user may not read
# or change the tables, `permission denied for table comments`: a grant to give) and
# read_only_sql_transaction (a standby after a failover, or default_transaction_read_only).
REFUSING_SQLSTATES = frozenset({"42501", "25006"})


def _refused_by_the_database(driver_error: object) -> bool:
    return getattr(driver_error, "sqlstate", None) in REFUSING_SQLSTATES


def _database_problem(exc: Exception) -> str | None:
    """One line for a database that cannot be used: unreachable, unwritable, or not migrated."""
    from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError

    from ticketpulse.models.db import NoDatabaseError

    if isinstance(exc, NoDatabaseError):
        return (f"{exc} (DATABASE_URL {_database_name()}): `ticketpulse serve` or `ticketpulse db upgrade` "
                "creates it; or set DATABASE_URL to the database in use")
    if not isinstance(exc, DBAPIError):
        return None
    driver_error = exc.orig if exc.orig is not None else exc
    if _no_tables(exc):
        return f"the database {_database_name()} has no tables: run `ticketpulse db upgrade` first"
    # The bare DatabaseError is SQLite's "file is not a database" (a DATABASE_URL pointing at
    # another file) or "database disk image is malformed"; its subclasses (IntegrityError ...)
    # are not the database's fault.
    if isinstance(exc, OperationalError) or type(exc) is DatabaseError or _refused_by_the_database(driver_error):
        return f"cannot use the database {_database_name()}: {_first_line(driver_error)}"
    return None


if __name__ == "__main__":
    sys.exit(main())
