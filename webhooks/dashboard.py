"""/dashboard: what ticketpulse escalated, why, and whether agents agreed. Server-rendered, no JavaScript.

Access: refused until DASHBOARD_PASSWORD is set; then HTTP Basic (any user name, that password)
or the login form, which sets a signed, HTTP-only session cookie naming a session row. Signing out
deletes the row, so the cookie (or a copy of it) is dead on the server; changing the password ends
every session (the cookie's key derives from it). Both doors are throttled per client address,
in the database so that every gunicorn process counts alike. The only writes are the verdict
buttons and signing out, which need the session's CSRF token. URLs carry filters and ticket numbers only, never customer text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.exceptions import HTTPException

from ticketpulse import metrics
from ticketpulse.escalation import feedback, reports
from ticketpulse.escalation.reports import ReportError
from ticketpulse.models import EscalationStatus, Ticket, Verdict, utcnow
from ticketpulse.models.tables import DashboardSession, SignInFailures, UTCDateTime
from ticketpulse.webhooks import charts
from ticketpulse.webhooks.request_input import bounded_number, row_id, same_secret, storable

log = logging.getLogger("ticketpulse.dashboard")

bp = Blueprint(
    "dashboard", __name__, url_prefix="/dashboard",
    template_folder="templates", static_folder="static", static_url_path="/static",
)

COOKIE = "ticketpulse_dashboard"
SESSION_LIFETIME = timedelta(hours=12)
# The sign-in throttle: after this many wrong passwords from one client address within the window
# (from its first), that address is refused (429) until the window ends, the password unread.
SIGN_IN_FAILURES = 10
SIGN_IN_WINDOW = timedelta(minutes=15)
VERDICT_CHOICES = {"false_alarm": Verdict.FALSE_ALARM, "confirmed": Verdict.CONFIRMED, "clear": None}
MAX_PAGE = 1_000_000
# The tuning page replays at most this many of the latest false alarms and confirmed escalations
# (the page stays fast whatever the traffic; `ticketpulse backtest` replays them all).
TUNING_LATEST = 100
# The two doors of the sign-in: the metric's label, and the name the log lines give.
DOORS = {"form": "login form", "basic": "HTTP Basic"}
# Each page's query parameters: any other is refused (400) rather than ignored, so that a
# misspelt filter (`?feedback=` for `?verdict=`) does not show every row as if it had applied.
QUERY_PARAMETERS = {
    "dashboard.overview": ("period", "helpdesk"),
    "dashboard.tuning": ("period",),
    "dashboard.escalations": ("period", "severity", "helpdesk", "rule", "verdict", "page"),
    "dashboard.find_ticket": ("ref",),
}


@dataclass(frozen=True)
class Viewer:
    csrf: str
    via: str  # "basic" or "session"
    session_id: str | None = None  # the session's row, when signed in with the form


def _password() -> str | None:
    return current_app.config["ENVIRONMENT"].dashboard_password or None


def _serializer(password: str) -> URLSafeTimedSerializer:
    key = hashlib.sha256(b"ticketpulse dashboard session\0" + password.encode("utf-8")).digest()
    return URLSafeTimedSerializer(key, salt="dashboard-session")


def _basic_password() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def _session_viewer(password: str) -> Viewer | None:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        data = _serializer(password).loads(cookie, max_age=int(SESSION_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("csrf"), str) or not isinstance(data.get("sid"), str):
        return None  # a cookie from before sessions had rows names none to sign out: sign in again
    with _session() as session:
        if session.get(DashboardSession, data["sid"]) is None:  # signed out
            return None
    return Viewer(data["csrf"], "session", data["sid"])


def _start_session() -> str:
    """A new session's id; the expired are pruned here, so the table holds the last 12 hours'
    sign-ins at most."""
    session_id = secrets.token_urlsafe(32)
    with current_app.extensions["ticketpulse.sessions"].begin() as session:
        session.execute(delete(DashboardSession).where(DashboardSession.created_at < utcnow() - SESSION_LIFETIME))
        session.add(DashboardSession(id=session_id))
    return session_id


def _end_session(session_id: str) -> None:
    with current_app.extensions["ticketpulse.sessions"].begin() as session:
        session.execute(delete(DashboardSession).where(DashboardSession.id == session_id))


class SignInsRefused(Exception):
    """Too many wrong passwords from this client lately."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _client_address() -> str:
    """The client the throttle counts, so that someone guessing elsewhere never locks the lead out.
    X-Forwarded-For is read only from TICKETPULSE_TRUSTED_PROXIES (loopback by default) and a Unix
    socket: each proxy appends the address it saw, and a client can only write entries before
    those, so the client is the last entry that no trusted proxy added. An IPv6 client counts by
    its /64, the block one host is commonly given."""
    trusted = current_app.config["ENVIRONMENT"].trusted_proxies
    address = _ip(request.remote_addr)
    hops = request.headers.get("X-Forwarded-For", "").split(",")
    while hops and (address is None or any(address in network for network in trusted)):
        earlier = _ip(hops.pop())
        if earlier is None:
            break  # not an address: the trusted proxy's own peer is as far as we can tell
        address = earlier
    if address is None:
        return (request.remote_addr or "unknown")[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _ip(text: str | None):
    """An address, with or without a port (`203.0.113.9:4711`, `[2001:db8::1]:4711`), else None."""
    text = (text or "").strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address  # ::ffff:203.0.113.9 is 203.0.113.9


def _password_matches(given: str, password: str, door: str) -> bool:
    """Both doors' check (`door`: a key of DOORS). Past SIGN_IN_FAILURES wrong passwords in the window
    it raises SignInsRefused without reading the password; a wrong one is counted, a right one
    clears the count. One client's attempts take turns (_lock_client), so that concurrent guesses
    cannot all pass the check before any is counted. Each check's outcome is counted in
    ticketpulse_dashboard_sign_ins_total."""
    client, now = _client_address(), utcnow()
    expired = now - SIGN_IN_WINDOW
    with current_app.extensions["ticketpulse.sessions"].begin() as session:
        _lock_client(session, client)
        row = session.execute(
            select(SignInFailures.failures, SignInFailures.window_start).where(SignInFailures.client == client)
        ).one_or_none()
        if row is not None and row.window_start > expired and row.failures >= SIGN_IN_FAILURES:
            retry_after = max(1, math.ceil((row.window_start - expired).total_seconds()))
            log.warning("dashboard: sign-in refused (%s) from %s: %d wrong passwords since %s, retry in %d s",
                        DOORS[door], client, row.failures, charts.utc_minute(row.window_start), retry_after)
            metrics.DASHBOARD_SIGN_INS.labels(door=door, outcome="throttled").inc()
            raise SignInsRefused(retry_after)
        matches = same_secret(given, password)
        if matches:
            if row is not None:
                session.execute(delete(SignInFailures).where(SignInFailures.client == client))
        else:
            session.execute(_count_failure(session.get_bind().dialect.name, client, now, expired))
            # Old counts go with each new one, so the table holds one window's clients at most. SKIP
            # LOCKED: a row another sign-in is rewriting is left to the next prune (waiting could deadlock).
            stale = select(SignInFailures.client).where(SignInFailures.window_start <= expired)
            session.execute(delete(SignInFailures).where(
                SignInFailures.client.in_(stale.with_for_update(skip_locked=True).scalar_subquery())))
    # Counted once committed: a check whose write failed answered neither way.
    metrics.DASHBOARD_SIGN_INS.labels(door=door, outcome="signed_in" if matches else "wrong_password").inc()
    if not matches:
        log.warning("dashboard: wrong password (%s) from %s", DOORS[door], client)
    return matches


def _lock_client(session, client: str) -> None:
    """PostgreSQL: a transaction lock on the client's name, held even before its row exists (a row
    lock would not be). SQLite: every transaction holds the database's write lock already."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(b"ticketpulse sign-in\0" + client.encode()).digest()
        session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True))))


def _count_failure(dialect: str, client: str, now, expired):
    """One more wrong password, in a window that starts anew once the last one is over."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    new_window = SignInFailures.window_start <= literal(expired, UTCDateTime())
    return insert(SignInFailures).values(client=client, failures=1, window_start=now).on_conflict_do_update(
        index_elements=[SignInFailures.client],
        set_={
            "failures": case((new_window, 1), else_=SignInFailures.failures + 1),
            "window_start": case((new_window, literal(now, UTCDateTime())), else_=SignInFailures.window_start),
        },
    )


def _check_form_token(viewer: Viewer) -> None:
    """Every POST but the sign-in carries the viewer's CSRF token, which a form on another site cannot know."""
    if not same_secret(request.form.get("csrf", ""), viewer.csrf):
        abort(403, description="The form is stale or not from this dashboard; reload the page and try again.")


def _html_error(message: str, status: int, **headers):
    return render_template("dashboard/error.html", message=message, status=status), status, headers


@bp.before_request
def authenticate():
    if request.endpoint == "dashboard.static":
        return None
    _check_query_string()
    password = _password()
    if not password:
        return _html_error(
            "The dashboard is off: set DASHBOARD_PASSWORD in the server's environment to turn it on.", 403
        )
    if request.endpoint in ("dashboard.login", "dashboard.logout"):
        return None
    given = _basic_password()
    if given is not None:
        if _password_matches(given, password, "basic"):
            g.viewer = Viewer(hmac.new(password.encode(), b"basic csrf", hashlib.sha256).hexdigest(), "basic")
            _check_query_parameters()
            return None
        return _html_error("Wrong password.", 401, **{"WWW-Authenticate": 'Basic realm="ticketpulse dashboard"'})
    viewer = _session_viewer(password)
    if viewer is None:
        return redirect(url_for("dashboard.login", next=_this_page()))
    g.viewer = viewer
    _check_query_parameters()
    return None


def _check_query_parameters() -> None:
    """Signed in only: before that, the sign-in keeps the URL as it is (and says nothing of the pages)."""
    known = QUERY_PARAMETERS.get(request.endpoint)
    if known is None:
        return
    unknown = [name for name in request.args if name not in known]
    if unknown:
        raise ReportError(f"{unknown[0][:40]}: not a parameter of this page; it takes {', '.join(known)}")


@bp.after_request
def not_stored(response):
    """The pages quote customers: no browser or proxy keeps a copy, so that Back after signing out
    (or the next user of a shared computer) shows the sign-in form, not a ticket. The stylesheet is
    public and may be cached."""
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _check_query_string() -> None:
    """Werkzeug decodes the query string as strict UTF-8 when the filters are read: a raw byte
    that is not (a hand-made URL, a scanner) raised UnicodeDecodeError, a 500."""
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportError("query string: not UTF-8; percent-encode the filters") from None


def _this_page() -> str:
    """The path with its filters, so that they survive the sign-in. Re-encoded from the parsed
    arguments: the raw query string need not be UTF-8."""
    if request.endpoint == "dashboard.record_verdict":  # the form's URL takes only a POST: its ticket
        return url_for("dashboard.ticket", ticket_id=request.view_args["ticket_id"])
    query = urlencode(list(request.args.items(multi=True)))
    return f"{request.path}?{query}" if query else request.path


@bp.errorhandler(ReportError)
def bad_filter(exc: ReportError):
    return _html_error(str(exc), 400)


@bp.errorhandler(SignInsRefused)
def sign_ins_refused(exc: SignInsRefused):
    message = f"Too many wrong passwords from your address: try again in {math.ceil(exc.retry_after / 60)} min."
    headers = {"Retry-After": str(exc.retry_after)}
    if request.endpoint == "dashboard.login":
        form = render_template("dashboard/login.html", next=_safe_next(request.values.get("next")), error=message)
        return form, 429, headers
    return _html_error(message, 429, **headers)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return _html_error(exc.description or exc.name, exc.code or 500)


@bp.app_template_filter("pct")
def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


@bp.app_template_filter("utc")
def utc(moment) -> str:
    return charts.utc_minute(moment)


@bp.app_template_filter("age")
def age(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _safe_next(target: str | None) -> str:
    # Printable: a line break cannot go into the Location header (a 500), nor a NUL.
    if target and target.startswith("/dashboard") and not target.startswith("//") and target.isprintable():
        return target
    return url_for("dashboard.overview")


def _browser_uses_https() -> bool:
    """Whether the sign-in page was served over HTTPS. ticketpulse speaks plain HTTP behind the TLS
    proxy, which says so in X-Forwarded-Proto (or RFC 7239's Forwarded). Those headers are unsigned,
    but they only ever add Secure: a client that fakes them can only lose its own cookie."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")
    forwarded += re.findall(r"proto=\"?([a-z]+)", request.headers.get("Forwarded", ""), re.IGNORECASE)
    return request.is_secure or any(proto.strip().lower() == "https" for proto in forwarded)


@bp.route("/login", methods=["GET", "POST"])
def login():
    password = _password()
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("dashboard/login.html", next=target, error=None)
    if not _password_matches(request.form.get("password", ""), password, "form"):
        return render_template("dashboard/login.html", next=target, error="Wrong password."), 401
    response = redirect(target)
    token = _serializer(password).dumps({"sid": _start_session(), "csrf": secrets.token_urlsafe(24)})
    response.set_cookie(
        COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True, samesite="Lax",
        secure=_browser_uses_https(), path="/dashboard",
    )
    log.info("dashboard: signed in from %s", _client_address())
    return response


@bp.post("/logout")
def logout():
    """Signing out is a write too: another site's form must not end a lead's session. A browser
    sends no Lax cookie with another site's POST, so without a session nothing is deleted.
    The session's row goes first: a copy of the cookie is refused from then on."""
    response = redirect(url_for("dashboard.login"))
    viewer = _session_viewer(_password())
    if viewer is None:
        return response
    _check_form_token(viewer)
    _end_session(viewer.session_id)
    response.delete_cookie(COOKIE, path="/dashboard")
    log.info("dashboard: signed out from %s", _client_address())
    return response


def _session():
    return current_app.extensions["ticketpulse.sessions"]()


def _links():
    env = current_app.config["ENVIRONMENT"]
    return lambda helpdesk, account, external_id: reports.ticket_link(
        helpdesk, account, external_id, zendesk_url=env.zendesk_api_url, freshdesk_url=env.freshdesk_api_url
    )


def _page_number() -> int:
    raw = request.args.get("page", "1")
    page = bounded_number(raw, MAX_PAGE)
    if not page:
        raise ReportError(f"page: {raw[:40]!r} is not a page number (1..{MAX_PAGE})")
    return page


@bp.get("/", strict_slashes=False)  # "/dashboard" too: its redirect would name http:// behind a TLS proxy
def overview():
    period = reports.parse_period(request.args.get("period") or "week")
    helpdesk = request.args.get("helpdesk") or None
    with _session() as session:
        data = reports.overview(session, period.name, helpdesk)
    return render_template(
        "dashboard/overview.html",
        data=data,
        period=period,
        periods=reports.period_choices(period),
        helpdesks=reports.SOURCES,
        rate_chart=charts.rate_chart(data.buckets),
        volume_chart=charts.volume_chart(data.buckets),
        severity_chart=charts.mix_chart(data.severity_mix, "severity-chart", "Escalations by severity"),
        rule_chart=charts.mix_chart(data.rule_mix, "rule-chart", "Escalations by rule"),
        healthy=reports.HEALTHY_RATE,
        false_alarm_tag=current_app.config["TICKETPULSE"].tags.false_alarm,
    )


@bp.get("/tuning")
def tuning():
    """Thresholds that would have avoided the period's false alarms and kept the confirmed ones."""
    from ticketpulse.escalation.tuning import candidates, reviewed_histories

    period = reports.parse_period(request.args.get("period") or "30d")
    since = reports.period_start(period)
    current = current_app.config["TICKETPULSE"].thresholds
    with _session() as session:
        data = reports.precision_tables(session, since)  # not the whole overview: no buckets, no queue
        reviewed = reviewed_histories(session, since, unreviewed=False, latest=TUNING_LATEST)
    return render_template(
        "dashboard/tuning.html", data=data, period=period, periods=reports.period_choices(period), current=current,
        reviewed=reviewed, found=candidates(reviewed, current), latest=TUNING_LATEST,
    )


@bp.get("/escalations")
def escalations():
    args = request.args
    period = reports.parse_period(args.get("period") or "week")
    filters = {
        "severity": args.get("severity") or None,
        "helpdesk": args.get("helpdesk") or None,
        "rule": args.get("rule") or None,
        "verdict": args.get("verdict") or None,
    }
    with _session() as session:
        page = reports.escalations(session, since=reports.period_start(period), page=_page_number(), **filters)
    return render_template(
        "dashboard/escalations.html",
        page=page,
        period=period,
        filters=filters,
        periods=reports.period_choices(period),
        helpdesks=reports.SOURCES,
        severities=("critical", "high", "medium", "low"),
        rules=reports.RULES,
        link=_links(),
        page_url=_page_url(period.name, filters),
    )


def _page_url(period: str, filters: dict):
    """The list's URL for a page number, with its filters and nothing else of the query string:
    handed to url_for, a key such as `endpoint` or `_method` raised a TypeError (a 500), and
    `_external` or `_anchor` rewrote the link."""
    chosen = {name: value for name, value in filters.items() if value}
    return lambda number: url_for("dashboard.escalations", period=period, **chosen, page=number)


@bp.get("/ticket")
def find_ticket():
    """The search box: `zendesk:48213` (or `api:chat-42`) -> that ticket's page."""
    ref = request.args.get("ref", "")
    if not storable(ref):  # no ticket has a NUL, and the database refuses to look for one
        raise ReportError(f"ticket: {ref[:60]!r} is not like {reports.TICKET_REF_FORMS}")
    with _session() as session:
        try:
            ticket = reports.find_ticket(session, ref)
        except LookupError as exc:
            abort(404, description=str(exc))
    return redirect(url_for("dashboard.ticket", ticket_id=ticket.id))


def _stored_ticket(session, ticket_id: str) -> Ticket:
    """The ticket a URL names, else a 404; the URL's id is text, so that an id no row can have (not
    ASCII digits, or past the column's range) is a 404 too, never a database error."""
    number = row_id(ticket_id)
    found = session.get(Ticket, number) if number is not None else None
    if found is None:
        abort(404, description=f"ticket {ticket_id[:40]} is not in the database")
    return found


@bp.get("/tickets/<ticket_id>")
def ticket(ticket_id: str):
    thresholds = current_app.config["TICKETPULSE"].thresholds
    with _session() as session:
        view = reports.ticket_view(session, _stored_ticket(session, ticket_id))
    score_at = {message.comment_id: message.commented_at for message in view.messages}
    chart = charts.trajectory_chart(
        [
            charts.Point(m.commented_at, m.score, m.frustration, m.label or "", number)
            for number, m in enumerate(view.messages, 1) if m.read
        ],
        [
            charts.Mark(score_at.get(e.comment_id, e.created_at), e.severity, e.rule)
            for e in view.escalations if e.status != EscalationStatus.SUPERSEDED
        ],
        negative=thresholds.negative_score_threshold,
        frustration=thresholds.frustration_threshold,
        critical=thresholds.critical_frustration_threshold,
    )
    return render_template(
        "dashboard/ticket.html", view=view, chart=chart, thresholds=thresholds, link=_links(),
        superseded=EscalationStatus.SUPERSEDED, sent=reports.escalation_writes,
    )


@bp.post("/tickets/<ticket_id>/verdict")
def record_verdict(ticket_id: str):
    _check_form_token(g.viewer)
    choice = request.form.get("verdict", "")
    if choice not in VERDICT_CHOICES:
        raise ReportError(f"verdict: {choice!r} is not one of {', '.join(VERDICT_CHOICES)}")
    sessions = current_app.extensions["ticketpulse.sessions"]
    with sessions.begin() as session:
        found = _stored_ticket(session, ticket_id)
        outcome = feedback.record_verdict(session, found.id, VERDICT_CHOICES[choice], source="dashboard")
    log.info("dashboard: ticket %s verdict %s (%s)", found.id, choice, outcome)
    return redirect(url_for("dashboard.ticket", ticket_id=found.id))
