"""The Helpdesk port: what the domain asks of a helpdesk, and the typed errors it may answer with.

An escalation is planned here, independent of any API's shape (`EscalationPlan`); each helpdesk's
adapter in `ticketpulse.integrations` turns it into requests. The rules about our tags (add ours,
replace our older severity, keep every other tag; a retry after a crash recognises its own work)
live here too, so both helpdesks follow them alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from ticketpulse.config import SEVERITIES, Config, Tags
from ticketpulse.escalation.rules import severity_rank
from ticketpulse.sentiment.clean import squash_whitespace


class HelpdeskError(Exception):
    # The request this error answers, where a client knows it (integrations/http.py `answering`):
    # the escalation row tells by it which of its writes was refused.
    method: str | None = None
    url: str | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(HelpdeskError):
    """Worth trying again later; `retry_after` is the server's wish in seconds, if it said."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ConflictError(TransientError):
    """409: the resource changed since we read it (Zendesk's safe_update): read it again."""


class PermanentError(HelpdeskError):
    """Will not succeed by retrying: bad credentials, no such ticket, invalid request."""


@dataclass(frozen=True)
class EscalationPlan:
    """Everything needed to escalate one ticket, independent of the helpdesk's API shape."""

    external_id: str  # the helpdesk's ticket number
    severity: str
    group_id: int | None
    priority: str | int
    note: str
    tags: Tags
    # The ticket as the webhook last described it; used when no API can be read (dry-run).
    snapshot: dict[str, Any] = field(default_factory=dict)
    ticket_ref: str = ""  # `zendesk:<account>:<number>`, for the logs
    # Told of every write right before it is sent, so the escalation row records it even if the
    # process dies before the helpdesk answers (the retry then finds the work done).
    on_write: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False, repr=False)
    # Told when the helpdesk refused the write last sent and the adapter goes on by itself (reads
    # again after a 409, sends again unassigned after the assignee's 422), so that the row keeps
    # the helpdesk's status and reason for it; a refusal that ends the try comes as the error.
    on_refused: Callable[[HelpdeskError], None] | None = field(default=None, compare=False, repr=False)
    # An earlier try sent a write the helpdesk did not refuse: its answer lost (a timeout, a 5xx),
    # the worker dead right after sending it, or taken before a later request failed. The
    # escalation may be on the ticket then, even with its tags gone since (an agent undid it), so
    # the adapter looks for our note before writing again; a first try spends no call on that.
    may_be_applied_already: bool = False

    def sending(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The write about to be sent, as `Applied.requests` keeps it; recorded first."""
        record = request_record(method, path, body)
        if self.on_write is not None:
            self.on_write(record)
        return record

    def refused(self, error: HelpdeskError) -> None:
        """The write last sent was refused with `error`, and the adapter goes on (see on_refused)."""
        if self.on_refused is not None:
            self.on_refused(error)


@dataclass(frozen=True)
class Applied:
    """What was (or, in dry-run, would have been) sent; `already`: why not all of it was, the
    ticket having had it (CARRIES_IT, CARRIES_HIGHER, AGENT_UNDID_IT), for the escalation row."""

    requests: list[dict[str, Any]]
    dry_run: bool = False
    already: str | None = None


class Helpdesk(Protocol):
    def apply(self, plan: EscalationPlan) -> Applied: ...


# Tags are compared regardless of case, as the config's own check does: Zendesk stores every tag
# in lower case, so `Sentiment_Escalated` comes back as `sentiment_escalated`.


def has_tag(current: list[str], tag: str) -> bool:
    return tag.casefold() in {item.casefold() for item in current}


def escalated_tags(current: list[str], plan: EscalationPlan) -> list[str]:
    """The ticket's tags with ours added; our older severity tag replaced, every other tag kept
    (as the ticket spells it)."""
    ours = {plan.tags.severity_tag(level).casefold() for level in SEVERITIES}
    kept = [tag for tag in current if tag.casefold() not in ours]
    wanted = [plan.tags.escalated, plan.tags.severity_tag(plan.severity)]
    added = [tag for tag in wanted if not has_tag(kept, tag)]  # the ticket's own tags untouched
    return list(dict.fromkeys(kept + added))


def raised_priority(plan: EscalationPlan, current: Any, order: Sequence[str | int]) -> str | int:
    """The severity's configured priority, or the ticket's own where that is higher (`order`:
    the helpdesk's priorities, lowest first): an escalation raises a ticket's priority and never
    lowers it (an Urgent ticket escalated at low severity stays Urgent)."""
    own = current.strip().lower() if isinstance(current, str) else current
    if own in order and plan.priority in order and order.index(own) > order.index(plan.priority):
        return own
    return plan.priority


# Why a retry sends less than the whole escalation (the escalation row's reason; the log's too).
CARRIES_IT = "the ticket already carried this severity"
CARRIES_HIGHER = "the ticket already carried a higher severity"
AGENT_UNDID_IT = "our note is on it but not our tags: an agent undid the escalation; left so"


def carried(current: list[str], plan: EscalationPlan) -> str | None:
    """Why the ticket needs no update (CARRIES_IT or CARRIES_HIGHER), or None."""
    if has_tag(current, plan.tags.severity_tag(plan.severity)):
        return CARRIES_IT
    return CARRIES_HIGHER if already_escalated(current, plan) else None


def already_escalated(current: list[str], plan: EscalationPlan) -> bool:
    """True when the ticket already carries this severity or a higher one (a retry after a crash)."""
    return any(
        has_tag(current, plan.tags.severity_tag(level))
        for level in SEVERITIES
        if severity_rank(level) >= severity_rank(plan.severity)
    )


def is_our_note(text: str, note: str) -> bool:
    """Does a private note's or comment's `text` hold this escalation's note? The note's first
    line, whitespace aside (a helpdesk may rewrap or reformat the rest), identifies it: the
    same ticket is never escalated twice at one severity. An empty note matches nothing."""
    first_line = squash_whitespace(note.splitlines()[0]) if note.strip() else ""
    return bool(first_line) and first_line in squash_whitespace(text)


def request_record(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One write request as Applied.requests (and the escalation row) keep it."""
    return {"method": method, "path": path, "json": body}


def plan_for(
    config: Config,
    helpdesk: str,
    external_id: str,
    severity: str,
    note: str,
    snapshot: dict,
    group_id: int | None,
    ticket_ref: str = "",
) -> EscalationPlan:
    """The plan for a decided escalation; `group_id` is the one its note names (stored with it)."""
    return EscalationPlan(
        external_id=external_id,
        severity=severity,
        group_id=group_id,
        priority=getattr(getattr(config, helpdesk).priority, severity),
        note=note,
        tags=config.tags,
        snapshot=snapshot,
        ticket_ref=ticket_ref,
    )
