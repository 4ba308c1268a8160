"""What ticketpulse did, for support leads: the dashboard's pages and the CLI's views share these.

Every query is bounded by a period (indexed on created_at / commented_at) or by one ticket, and
lists are paginated, so a page costs the same with a thousand or a million stored tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from ticketpulse.config import SEVERITIES
from ticketpulse.escalation.conversations import CONVERSATION_ID, NAMESPACE as CONVERSATIONS
from ticketpulse.models import (
    Comment,
    Escalation,
    EscalationStatus,
    Score,
    Ticket,
    Verdict,
    ticket_number,
    ticket_ref,
    utcnow,
)

HELPDESKS = ("zendesk", "freshdesk")  # the webhooks' helpdesks, each with its work queue
# What the views filter by: the helpdesks, and the conversation API's namespace (no queue: a
# posted message is decided in its own request).
SOURCES = HELPDESKS + (CONVERSATIONS,)
# Every rule escalation/rules.py decides by, highest severity first: the escalations list's filter.
RULES = ("critical_frustration", "negative_and_declining", "frustration", "unanswered_frustration", "repeated_negative")
HEALTHY_RATE = (0.05, 0.15)
# The dashboard's named periods -> (length, chart bucket); any length `parse_since` reads is one too.
PERIODS: dict[str, tuple[timedelta, str]] = {
    "day": (timedelta(days=1), "hour"),
    "week": (timedelta(days=7), "day"),
    "30d": (timedelta(days=30), "day"),
}
PERIOD_LABELS = {"day": "last 24 hours", "week": "last 7 days", "30d": "last 30 days"}
# A period this short or shorter is drawn per hour, a longer one per day.
HOURLY_UP_TO = timedelta(days=2)
# The charts draw a bar per day: a longer period would draw thousands (the CLI's --since has no such bound).
MAX_PERIOD = timedelta(days=366)
SINCE_FORMS = "7d, 12h, 30m or 2w"
PAGE_SIZE = 50


def short_ref(helpdesk: str, account: str, external_id: str, *, shared: bool) -> str:
    """How the views name a ticket, as `show` and the dashboard's search take it back: the number
    alone, or with its account (models.ticket_ref) where the number is in several accounts of the
    helpdesk (a trigger webhook without ZENDESK_ACCOUNT_ID files under `default`)."""
    return ticket_ref(helpdesk, account, external_id) if shared else f"{helpdesk}:{external_id}"


def number_shared():
    """SQL, per row of a query on Ticket: whether another account of its helpdesk has a ticket of
    this number (short_ref's `shared`). A probe of ix_tickets_number per row, no list of numbers
    bound as parameters (`jobs --limit` may list a million)."""
    other = aliased(Ticket)
    return (select(other.id)
            .where(other.helpdesk == Ticket.helpdesk, other.external_id == Ticket.external_id, other.id != Ticket.id)
            .exists().label("number_shared"))


class ReportError(ValueError):
    """A filter value that is not one of the allowed ones; the message names the parameter."""


def check_choice(name: str, value: str | None, allowed: Sequence[str]) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise ReportError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Period:
    """A dashboard period: a named one (`week`) or a length as `--since` takes it (`24h`, `2w`)."""

    name: str  # as the URL gives it
    length: timedelta
    unit: str  # the chart's bucket: "hour" or "day"

    @property
    def label(self) -> str:
        if self.name in PERIOD_LABELS:
            return PERIOD_LABELS[self.name]
        number, unit = int(self.name[:-1]), _SINCE_UNITS[self.name[-1]]
        return f"last {number} {unit if number != 1 else unit[:-1]}"


def parse_period(value: str | None) -> Period:
    """`day`, `week`, `30d` or any length `parse_since` reads, up to MAX_PERIOD."""
    name = (value or "").strip().lower()
    if name in PERIODS:
        return Period(name, *PERIODS[name])
    try:
        length = _since_length(name)
    except ValueError:
        raise ReportError(f"period: {value!r} is not one of {', '.join(PERIODS)} nor a period like {SINCE_FORMS}") from None
    if length > MAX_PERIOD:
        raise ReportError(f"period: {value!r} is longer than the dashboard shows (at most {MAX_PERIOD.days} days)")
    return Period(name, length, "hour" if length <= HOURLY_UP_TO else "day")


def period_choices(chosen: Period) -> list[Period]:
    """The named periods, and the chosen one where none of them is as long (a select's options)."""
    named = [Period(name, *PERIODS[name]) for name in PERIODS]
    return named if any(p.length == chosen.length for p in named) else named + [chosen]


def period_start(period: str | Period, now: datetime | None = None) -> datetime:
    """The period's first moment, at the start of its first chart bucket (no partial first bar)."""
    if not isinstance(period, Period):
        period = parse_period(period)
    start = ((now or utcnow()) - period.length).replace(minute=0, second=0, microsecond=0)
    return start.replace(hour=0) if period.unit == "day" else start


_SINCE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


# --since counts back from now: much further would be before the year 1 (an OverflowError).
MAX_SINCE = timedelta(weeks=100_000)


def _since_length(value: str) -> timedelta:
    """`7d`, `12h`, `30m` or `2w` -> a timedelta; ValueError otherwise. The callers bound the
    length (MAX_SINCE, MAX_PERIOD), not the number: 999999m is 694 days, too long only for the
    dashboard, and 100001m is 69 days."""
    text = value.strip().lower()
    number, unit = text[:-1], text[-1:]
    # ASCII digits only: "²".isdigit() is true and int() refuses it; "١" it reads as 1. Six digits
    # at most: 999999w is still a timedelta.
    if unit not in _SINCE_UNITS or not (number.isascii() and number.isdigit()) or len(number) > 6 \
            or int(number) == 0:
        raise ValueError(value)
    return timedelta(**{_SINCE_UNITS[unit]: int(number)})


def parse_since(value: str) -> timedelta:
    """`7d`, `12h`, `30m` or `2w` -> a timedelta (the CLI's --since; the dashboard's periods too)."""
    try:
        length = _since_length(value)
    except ValueError:
        raise ReportError(f"since: {value!r} is not a period like {SINCE_FORMS}") from None
    if length > MAX_SINCE:
        raise ReportError(f"since: {value!r} reaches back too far (at most {MAX_SINCE.days // 7} weeks)")
    return length


def _bucket(column, unit: str, dialect: str):
    """The UTC hour or day of a timestamp column, as text ('2025-03-05' or '2025-03-05 17:00')."""
    if dialect == "postgresql":
        pattern = "YYYY-MM-DD HH24:00" if unit == "hour" else "YYYY-MM-DD"
        return func.to_char(func.timezone("UTC", column), pattern)
    # SQLite stores UTC as text 'YYYY-MM-DD HH:MM:SS.ffffff': a prefix is the bucket, and cheaper
    # per row than strftime.
    if unit == "hour":
        return func.substr(column, 1, 13).op("||")(":00")
    return func.substr(column, 1, 10)


def bucket_labels(since: datetime, now: datetime, unit: str) -> list[str]:
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    fmt = "%Y-%m-%d %H:00" if unit == "hour" else "%Y-%m-%d"
    start = since.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        start = start.replace(hour=0)
    labels, moment = [], start
    while moment <= now:
        labels.append(moment.strftime(fmt))
        moment += step
    return labels


# -- overview -----------------------------------------------------------------------------------


@dataclass
class Bucket:
    label: str
    conversations: int = 0
    escalated: int = 0

    @property
    def rate(self) -> float | None:
        return self.escalated / self.conversations if self.conversations else None


@dataclass
class Precision:
    """Escalations and the feedback on them, for one rule or severity (or all)."""

    name: str
    escalations: int = 0
    false_alarms: int = 0
    confirmed: int = 0

    @property
    def unreviewed(self) -> int:
        return self.escalations - self.false_alarms - self.confirmed

    @property
    def precision(self) -> float | None:
        """Share not called a false alarm: an unflagged escalation counts as right."""
        return (self.escalations - self.false_alarms) / self.escalations if self.escalations else None

    @property
    def reviewed_precision(self) -> float | None:
        """Among escalations someone gave a verdict on, the share confirmed."""
        reviewed = self.false_alarms + self.confirmed
        return self.confirmed / reviewed if reviewed else None


@dataclass
class QueueState:
    helpdesk: str
    pending_comments: int = 0
    pending_escalations: int = 0
    failed: int = 0
    oldest_pending: datetime | None = None

    def age_seconds(self, now: datetime) -> float | None:
        return (now - self.oldest_pending).total_seconds() if self.oldest_pending else None


@dataclass
class Overview:
    period: str
    since: datetime
    now: datetime
    helpdesk: str | None
    buckets: list[Bucket]
    severity_mix: dict[str, int]
    rule_mix: dict[str, int]
    total: Precision
    by_rule: list[Precision]
    by_severity: list[Precision]
    queue: list[QueueState] = field(default_factory=list)

    @property
    def unit(self) -> str:
        """The chart's bucket: "hour" or "day"."""
        return parse_period(self.period).unit

    @property
    def conversations(self) -> int:
        return sum(bucket.conversations for bucket in self.buckets)

    @property
    def escalated(self) -> int:
        return sum(bucket.escalated for bucket in self.buckets)

    @property
    def rate(self) -> float | None:
        return self.escalated / self.conversations if self.conversations else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.total.false_alarms / self.total.escalations if self.total.escalations else None


def _ticket_filter(helpdesk: str | None):
    return [Ticket.helpdesk == helpdesk] if helpdesk else []


def conversation_buckets(session: Session, since: datetime, now: datetime, unit: str, helpdesk: str | None) -> list[Bucket]:
    """Conversations first seen per bucket, and how many of them were escalated (the cohort's rate).

    A conversation is a ticket with a customer message the rules read, as `backtest` counts them:
    an agent-only ticket, or one whose messages are all in a language the scorer cannot read,
    could never be escalated and would only dilute the rate."""
    dialect = session.get_bind().dialect.name
    bucket = _bucket(Ticket.created_at, unit, dialect).label("bucket")
    read = select(Score.id).where(Score.ticket_id == Ticket.id, Score.unsupported_language.is_(None))
    rows = session.execute(
        select(bucket, func.count(), func.count(Ticket.escalated_severity))
        .where(Ticket.created_at >= since, read.exists(), *_ticket_filter(helpdesk))
        .group_by(bucket)
    ).all()
    found = {label: (total, escalated) for label, total, escalated in rows}
    labels = bucket_labels(since, now, unit)
    extra = sorted(set(found) - set(labels))  # clock skew: rows stamped slightly ahead
    return [Bucket(label, *found.get(label, (0, 0))) for label in labels + extra]


def precision_by(session: Session, column, since: datetime, helpdesk: str | None = None) -> list[Precision]:
    query = (
        select(
            column,
            func.count(),
            func.sum(case((Escalation.verdict == Verdict.FALSE_ALARM, 1), else_=0)),
            func.sum(case((Escalation.verdict == Verdict.CONFIRMED, 1), else_=0)),
        )
        .where(Escalation.created_at >= since, Escalation.status != EscalationStatus.SUPERSEDED)
        .group_by(column)
    )
    if helpdesk:  # a join per escalation of the period, not a scan of the helpdesk's tickets
        query = query.join(Ticket, Ticket.id == Escalation.ticket_id).where(Ticket.helpdesk == helpdesk)
    rows = session.execute(query).all()
    return [Precision(name, count, int(false or 0), int(confirmed or 0)) for name, count, false, confirmed in rows]


def queue_states(session: Session) -> list[QueueState]:
    """Pending and failed work per helpdesk, with the oldest pending item (the queue's age)."""
    states = {helpdesk: QueueState(helpdesk) for helpdesk in HELPDESKS}
    for model, since, attribute in (
        (Comment, Comment.received_at, "pending_comments"),
        (Escalation, Escalation.created_at, "pending_escalations"),
    ):
        # One equality per status: the (status, run_after) index finds the few open rows among
        # millions of finished ones (an IN list can make SQLite scan the table).
        for status in (model.PENDING, model.FAILED):
            rows = session.execute(
                select(Ticket.helpdesk, func.count(), func.min(since))
                .select_from(model)
                .join(Ticket, Ticket.id == model.ticket_id)
                .where(model.status == status)
                .group_by(Ticket.helpdesk)
            ).all()
            for helpdesk, count, oldest in rows:
                state = states.setdefault(helpdesk, QueueState(helpdesk))
                if status == model.FAILED:
                    state.failed += count
                    continue
                setattr(state, attribute, getattr(state, attribute) + count)
                if oldest is not None and (state.oldest_pending is None or oldest < state.oldest_pending):
                    state.oldest_pending = oldest
    return list(states.values())


@dataclass
class PrecisionTables:
    total: Precision
    by_rule: list[Precision]  # most escalations first
    by_severity: list[Precision]  # critical first, every severity


def precision_tables(session: Session, since: datetime, helpdesk: str | None = None) -> PrecisionTables:
    by_severity = {row.name: row for row in precision_by(session, Escalation.severity, since, helpdesk)}
    by_rule = precision_by(session, Escalation.rule, since, helpdesk)
    total = Precision("all")
    for row in by_severity.values():
        total.escalations += row.escalations
        total.false_alarms += row.false_alarms
        total.confirmed += row.confirmed
    return PrecisionTables(
        total,
        sorted(by_rule, key=lambda r: -r.escalations),
        [by_severity.get(name, Precision(name)) for name in reversed(SEVERITIES)],
    )


def overview(session: Session, period: str = "week", helpdesk: str | None = None, now: datetime | None = None) -> Overview:
    check_choice("helpdesk", helpdesk, SOURCES)
    now = now or utcnow()
    chosen = parse_period(period)
    since = period_start(chosen, now)
    unit = chosen.unit
    tables = precision_tables(session, since, helpdesk)
    return Overview(
        period=chosen.name,
        since=since,
        now=now,
        helpdesk=helpdesk,
        buckets=conversation_buckets(session, since, now, unit, helpdesk),
        severity_mix={row.name: row.escalations for row in tables.by_severity},
        rule_mix={row.name: row.escalations for row in tables.by_rule},
        total=tables.total,
        by_rule=tables.by_rule,
        by_severity=tables.by_severity,
        queue=[state for state in queue_states(session) if not helpdesk or state.helpdesk == helpdesk],
    )


# -- escalations list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRow:
    id: int
    ticket_id: int
    helpdesk: str
    account: str
    external_id: str
    severity: str
    rule: str
    status: str
    created_at: datetime
    verdict: str | None
    verdict_source: str | None
    score: float | None
    frustration: float | None
    urgency: float | None
    dry_run: bool
    cues: list[str] | None = None
    number_shared: bool = False

    @property
    def ref(self) -> str:
        return short_ref(self.helpdesk, self.account, self.external_id, shared=self.number_shared)


@dataclass
class EscalationPage:
    rows: list[EscalationRow]
    total: int
    page: int
    pages: int


def escalations(
    session: Session,
    *,
    since: datetime,
    severity: str | None = None,
    helpdesk: str | None = None,
    rule: str | None = None,
    verdict: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> EscalationPage:
    check_choice("severity", severity, SEVERITIES)
    check_choice("helpdesk", helpdesk, SOURCES)
    check_choice("verdict", verdict, (Verdict.FALSE_ALARM, Verdict.CONFIRMED, "none"))
    if rule is not None and rule != "" and rule not in RULES:
        raise ReportError(f"rule: {rule!r} is not one of {', '.join(RULES)}")
    conditions = [Escalation.created_at >= since, Escalation.status != EscalationStatus.SUPERSEDED]
    if severity:
        conditions.append(Escalation.severity == severity)
    if rule:
        conditions.append(Escalation.rule == rule)
    if helpdesk:
        conditions.append(Ticket.helpdesk == helpdesk)
    if verdict == "none":
        conditions.append(Escalation.verdict.is_(None))
    elif verdict:
        conditions.append(Escalation.verdict == verdict)
    total = session.scalar(
        select(func.count()).select_from(Escalation).join(Ticket, Ticket.id == Escalation.ticket_id).where(*conditions)
    ) or 0
    pages = max(1, -(-total // page_size))
    if page < 1:
        raise ReportError(f"page: {page} must be 1 or more")
    if page > pages:  # an empty table under a count of escalations would say none match
        raise ReportError(f"page: {page} is past the last page ({pages})")
    query = (
        select(
            Escalation.id, Escalation.ticket_id, Ticket.helpdesk, Ticket.account, Ticket.external_id,
            Escalation.severity, Escalation.rule, Escalation.status, Escalation.created_at,
            Escalation.verdict, Escalation.verdict_source,
            Score.score, Score.frustration, Score.urgency, Escalation.dry_run, Score.cues, number_shared(),
        )
        .join(Ticket, Ticket.id == Escalation.ticket_id)
        .outerjoin(Score, Score.comment_id == Escalation.comment_id)
        .where(*conditions)
        .order_by(Escalation.created_at.desc(), Escalation.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    rows = [EscalationRow(*row) for row in session.execute(query)]
    return EscalationPage(rows, total, page, pages)


# -- one ticket -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One delivered comment: scored (with its values) or skipped (with the reason)."""

    comment_id: int
    commented_at: datetime
    status: str
    reason: str | None
    author_role: str
    source: str
    score: float | None = None
    frustration: float | None = None
    urgency: float | None = None
    label: str | None = None
    cues: tuple[str, ...] = ()
    scorer: str | None = None
    unsupported_language: str | None = None  # not read: the values are placeholders

    @property
    def read(self) -> bool:
        """Scored in a language the scorer reads: what the rules see."""
        return self.score is not None and not self.unsupported_language


@dataclass
class TicketView:
    ticket: Ticket
    messages: list[Message]
    escalations: list[Escalation]
    number_shared: bool = False

    @property
    def ref(self) -> str:
        ticket = self.ticket
        return short_ref(ticket.helpdesk, ticket.account, ticket.external_id, shared=self.number_shared)

    @property
    def scored(self) -> list[Message]:
        """The messages the rules read (a language the scorer cannot read is kept out)."""
        return [message for message in self.messages if message.read]

    @property
    def skipped(self) -> list[Message]:
        return [message for message in self.messages if message.score is None]

    @property
    def live(self) -> list[Escalation]:
        """The escalations the helpdesk saw or will see: each has its own verdict."""
        return [e for e in self.escalations if e.status != EscalationStatus.SUPERSEDED]

    @property
    def verdict(self) -> str | None:
        return ticket_feedback([e.verdict for e in self.live])


def ticket_feedback(verdicts: Sequence[str | None]) -> str | None:
    """A ticket's feedback on one line, from its live escalations' own verdicts (oldest first):
    None when none has a word, the word when all have the same, else each one's in order
    ("none, false_alarm": the first escalation has no word, the second was called a false alarm)."""
    if not any(verdicts):
        return None
    if len(set(verdicts)) == 1:
        return verdicts[0]
    return ", ".join(verdict or "none" for verdict in verdicts)


@dataclass(frozen=True)
class Write:
    """One write an escalation sent to the helpdesk, with the answer its row records."""

    attempt: int | None
    method: str
    path: str
    outcome: str  # "accepted" | "refused" | "no answer seen"
    answer: str | None = None  # the helpdesk's words, or what is known of the answer


def escalation_writes(escalation: Escalation) -> list[Write]:
    """Every write the row records (escalation/pipeline.py settled_writes), in the order sent."""
    request = escalation.request or {}
    writes = [(w, Write(w.get("try"), w["method"], w["path"], "refused", w.get("reason")))
              for w in request.get("refused", [])]
    for w in [*request.get("earlier_tries", []), *request.get("sending", [])]:
        answer = w.get("answer")
        if answer and answer.startswith("accepted: "):
            writes.append((w, Write(w.get("try"), w["method"], w["path"], "accepted", answer.removeprefix("accepted: "))))
        else:
            writes.append((w, Write(w.get("try"), w["method"], w["path"], "no answer seen", answer)))
    writes.sort(key=lambda pair: (pair[0].get("try") or 0, pair[0].get("sent_at") or ""))
    # The applying try's accepted writes come last: none of that try was sent after them.
    return [write for _, write in writes] + [
        Write(escalation.attempts, w["method"], w["path"], "accepted") for w in request.get("requests", [])]


TICKET_REF_FORMS = "zendesk:<number>, freshdesk:<number> or api:<conversation id>"


@dataclass(frozen=True)
class TicketRef:
    """A ticket reference as read: `zendesk:48213`, `zendesk:<account>:48213`, `api:chat-42`."""

    text: str  # as given, stripped: what the messages quote
    helpdesk: str
    number: str  # a conversation's id for api:
    account: str | None = None


def parse_ticket_ref(ref: str) -> TicketRef:
    """The reference's parts, or a ReportError naming it: read before any database is opened, so
    that a malformed one is told as such wherever it is given."""
    ref = ref.strip()
    if ref.startswith(f"{CONVERSATIONS}:"):
        # Conversations are all in one account, and their ids are stored as posted (no number to
        # normalise): the rest of the reference is the id, which may hold colons.
        conversation_id = ref[len(CONVERSATIONS) + 1:]
        if not CONVERSATION_ID.fullmatch(conversation_id):
            raise ReportError(f"ticket: {ref[:80]!r} is not like {TICKET_REF_FORMS}")
        return TicketRef(ref, CONVERSATIONS, conversation_id)
    parts = ref.split(":")
    number = ticket_number(parts[-1])
    if len(parts) not in (2, 3) or parts[0] not in HELPDESKS or number is None:
        raise ReportError(f"ticket: {ref!r} is not like {TICKET_REF_FORMS}")
    return TicketRef(ref, parts[0], number, parts[1] if len(parts) == 3 else None)


def find_ticket(session: Session, ref: str | TicketRef) -> Ticket:
    """`zendesk:48213`, `zendesk:<account>:48213` where the number is in several accounts, or
    `api:chat-42`."""
    wanted = ref if isinstance(ref, TicketRef) else parse_ticket_ref(ref)
    query = select(Ticket).where(Ticket.helpdesk == wanted.helpdesk, Ticket.external_id == wanted.number)
    if wanted.account is not None:
        query = query.where(Ticket.account == wanted.account)
    found = list(session.scalars(query.limit(3)))  # a conversation's id is in one account: one row
    if not found:
        raise LookupError(f"ticket {wanted.text} is not in the database")
    if len(found) > 1:
        accounts = ", ".join(t.ref for t in found)
        raise ReportError(f"ticket: {wanted.text} is in several accounts; give one of {accounts}")
    return found[0]


def accounts_with(session: Session, helpdesk: str, external_id: str, limit: int = 10) -> list[str]:
    """The helpdesk accounts that have a ticket of this number (at most `limit`, in order), for
    an answer that says where a ticket asked for under another account is."""
    return list(session.scalars(
        select(Ticket.account).where(Ticket.helpdesk == helpdesk, Ticket.external_id == external_id)
        .order_by(Ticket.account).limit(limit)
    ))


def ticket_view(session: Session, ticket: Ticket) -> TicketView:
    rows = session.execute(
        select(Comment.id, Comment.commented_at, Comment.status, Comment.reason, Comment.author_role, Comment.source, Score)
        .outerjoin(Score, Score.comment_id == Comment.id)
        .where(Comment.ticket_id == ticket.id)
        .order_by(Comment.commented_at, Comment.id)
    ).all()
    messages = []
    for comment_id, commented_at, status, reason, role, source, score in rows:
        if score is None:
            messages.append(Message(comment_id, commented_at, status, reason, role, source))
        else:
            messages.append(Message(
                comment_id, score.commented_at, status, reason, role, source, score.score, score.frustration,
                score.urgency, score.label, tuple(score.cues), score.scorer, score.unsupported_language,
            ))
    escalation_rows = list(
        session.scalars(select(Escalation).where(Escalation.ticket_id == ticket.id).order_by(Escalation.created_at, Escalation.id))
    )
    shared = bool(session.scalar(select(number_shared()).where(Ticket.id == ticket.id)))
    return TicketView(ticket, messages, escalation_rows, shared)


# -- tickets list (CLI) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRow:
    id: int
    helpdesk: str
    account: str
    external_id: str
    messages: int
    last_message_at: datetime
    last_score: float | None
    lowest_score: float
    peak_frustration: float
    escalated_severity: str | None
    # The number is in several accounts of the helpdesk: `show` needs the account to find it.
    number_shared: bool
    verdict: str | None

    @property
    def ref(self) -> str:
        return short_ref(self.helpdesk, self.account, self.external_id, shared=self.number_shared)


def recent_tickets(
    session: Session, since: datetime, *, escalated_only: bool = False, helpdesk: str | None = None, limit: int = 50
) -> list[TicketRow]:
    """Tickets with a scored customer message since `since`, the most recent activity first.

    Only the messages the rules read: one in a language the scorer cannot read holds placeholders.
    """
    check_choice("helpdesk", helpdesk, SOURCES)
    read = Score.unsupported_language.is_(None)
    stats = (
        select(
            Score.ticket_id.label("ticket_id"),
            func.count().label("messages"),
            func.max(Score.commented_at).label("last_at"),
            func.min(Score.score).label("lowest"),
            func.max(Score.frustration).label("peak"),
        )
        .where(Score.commented_at >= since, read)
        .group_by(Score.ticket_id)
        .subquery()
    )
    last_score = (
        select(Score.score)
        .where(Score.ticket_id == stats.c.ticket_id, read)
        .order_by(Score.commented_at.desc(), Score.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            Ticket.id, Ticket.helpdesk, Ticket.account, Ticket.external_id, stats.c.messages, stats.c.last_at,
            last_score, stats.c.lowest, stats.c.peak, Ticket.escalated_severity, number_shared(),
        )
        .join(stats, stats.c.ticket_id == Ticket.id)
        .order_by(stats.c.last_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    if escalated_only:
        query = query.where(Ticket.escalated_severity.is_not(None))
    if helpdesk:
        query = query.where(Ticket.helpdesk == helpdesk)
    rows = session.execute(query).all()
    verdicts: dict[int, list[str | None]] = {}
    if rows:  # each escalation's own verdict, for the listed tickets only (at most `limit`)
        for ticket_id, verdict in session.execute(
            select(Escalation.ticket_id, Escalation.verdict)
            .where(Escalation.ticket_id.in_([row.id for row in rows]), Escalation.status != EscalationStatus.SUPERSEDED)
            .order_by(Escalation.created_at, Escalation.id)
        ):
            verdicts.setdefault(ticket_id, []).append(verdict)
    return [TicketRow(*row, ticket_feedback(verdicts.get(row.id, ()))) for row in rows]


def ticket_link(helpdesk: str, account: str, external_id: str, *, zendesk_url: str | None, freshdesk_url: str | None) -> str | None:
    """The ticket in the helpdesk's agent interface."""
    if helpdesk == "zendesk" and zendesk_url:
        return f"{zendesk_url}/agent/tickets/{external_id}"
    if helpdesk == "freshdesk":
        base = f"https://{account}" if "." in account else freshdesk_url
        return f"{base}/a/tickets/{external_id}" if base else None
    return None


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], low: float = -1.0, high: float = 1.0) -> str:
    span = high - low
    return "".join(SPARKS[min(len(SPARKS) - 1, max(0, int((v - low) / span * len(SPARKS))))] for v in values)
