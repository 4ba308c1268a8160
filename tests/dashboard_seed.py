"""Stored history for the dashboard and CLI view tests: tickets as the worker leaves them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ticketpulse.escalation.notes import escalation_note
from ticketpulse.escalation.rules import Decision
from ticketpulse.escalation.tracker import ScorePoint, track
from ticketpulse.models import Comment, Escalation, Score, Ticket


@dataclass
class Msg:
    minutes: float  # after the ticket's first message
    score: float
    frustration: float
    label: str = "negative"
    cues: tuple[str, ...] = ()
    text: str = "customer message"


@dataclass
class Skip:
    minutes: float
    reason: str
    role: str = "agent"


@dataclass
class Esc:
    message: int  # index into the ticket's messages: the comment that triggered it
    severity: str
    rule: str
    verdict: str | None = None
    verdict_source: str | None = None
    status: str = "applied"


@dataclass
class SeedTicket:
    helpdesk: str
    number: str
    start: datetime
    messages: list[Msg] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    escalations: list[Esc] = field(default_factory=list)
    account: str | None = None


def seed(session, spec: SeedTicket) -> Ticket:
    account = spec.account or ("9876543" if spec.helpdesk == "zendesk" else "acme.freshdesk.com")
    live = [e for e in spec.escalations if e.status != "superseded"]
    ticket = Ticket(
        helpdesk=spec.helpdesk, account=account, external_id=spec.number, created_at=spec.start,
        escalated_severity=live[-1].severity if live else None,
    )
    session.add(ticket)
    session.flush()
    comment_ids = []
    points = []
    for n, msg in enumerate(spec.messages):
        at = spec.start + timedelta(minutes=msg.minutes)
        comment = Comment(
            ticket_id=ticket.id, comment_key=f"id:{n}", fingerprint=f"f{n}", source=f"{spec.helpdesk}.event",
            author_role="customer", is_public=True, body=msg.text, text=msg.text, commented_at=at,
            received_at=at, status="done",
        )
        session.add(comment)
        session.flush()
        comment_ids.append(comment.id)
        session.add(Score(
            ticket_id=ticket.id, comment_id=comment.id, commented_at=at, text=msg.text, score=msg.score,
            label=msg.label, frustration=msg.frustration, urgency=0.3, cues=list(msg.cues), scorer="local",
            scorer_version="test",
        ))
        points.append(ScorePoint(at, msg.score, msg.frustration, 0.3, msg.label, msg.cues))
    for n, skip in enumerate(spec.skipped):
        at = spec.start + timedelta(minutes=skip.minutes)
        session.add(Comment(
            ticket_id=ticket.id, comment_key=f"skip:{n}", fingerprint=f"s{n}", source=f"{spec.helpdesk}.event",
            author_role=skip.role, is_public=skip.role != "agent", body="agent reply", text="agent reply",
            commented_at=at, received_at=at, status="skipped", reason=skip.reason,
        ))
    for esc in spec.escalations:
        at = spec.start + timedelta(minutes=spec.messages[esc.message].minutes, seconds=5)
        trajectory = track(points[: esc.message + 1], window=3, delta=0.3, negative_threshold=-0.6)
        note = escalation_note(Decision(esc.severity, esc.rule, f"{esc.rule} fired"), trajectory, to_senior_group=True)
        session.add(Escalation(
            ticket_id=ticket.id, comment_id=comment_ids[esc.message], severity=esc.severity, rule=esc.rule,
            note=note, created_at=at, status=esc.status, verdict=esc.verdict, verdict_source=(esc.verdict_source or spec.helpdesk) if esc.verdict else None,
            verdict_at=at + timedelta(hours=1) if esc.verdict else None, finished_at=at,
        ))
    session.flush()
    return ticket


def seed_unread(session, ticket: Ticket, at: datetime, text: str = "Das ist eine Frechheit", language: str = "de") -> None:
    """A customer message in a language the scorer cannot read, as the worker stores it: scored
    with placeholder values (score 0, frustration 0) and kept out of the rules."""
    comment = Comment(ticket_id=ticket.id, comment_key=f"id:{language}:{at.timestamp()}", fingerprint=language,
                      source="zendesk.event", author_role="customer", is_public=True, body=text, text=text,
                      commented_at=at, received_at=at, status="done")
    session.add(comment)
    session.flush()
    session.add(Score(ticket_id=ticket.id, comment_id=comment.id, commented_at=at, text=text, score=0.0,
                      label="neutral", frustration=0.0, urgency=0.0, cues=[], scorer="local", scorer_version="test",
                      unsupported_language=language))


def calm(helpdesk: str, number: str, start: datetime) -> SeedTicket:
    return SeedTicket(helpdesk, number, start, [Msg(0, 0.2, 0.1, "neutral"), Msg(30, 0.4, 0.05, "positive")])


def furious(helpdesk: str, number: str, start: datetime, verdict: str | None = None) -> SeedTicket:
    return SeedTicket(
        helpdesk, number, start,
        messages=[
            Msg(0, -0.3, 0.5, cues=("still",)),
            Msg(60, -0.65, 0.8, cues=("third time", "refund")),
            Msg(120, -0.9, 0.96, cues=("unacceptable", "lawyer")),
        ],
        skipped=[Skip(30, "not a customer comment (agent)")],
        escalations=[Esc(1, "medium", "frustration", verdict), Esc(2, "critical", "critical_frustration", verdict)],
    )


def souring(helpdesk: str, number: str, start: datetime, verdict: str | None = None) -> SeedTicket:
    return SeedTicket(
        helpdesk, number, start,
        messages=[Msg(0, -0.65, 0.3), Msg(45, -0.7, 0.4)],
        escalations=[Esc(1, "low", "repeated_negative", verdict)],
    )
