"""`ticketpulse jobs`: one row per pending or failed job, with the reason on it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from ticketpulse.models import Comment, Escalation, Ticket

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
FIXTURES = Path(__file__).parent / "fixtures"
# What a helpdesk behind a proxy answers in an outage, as the client keeps it (the first 300 characters).
BAD_GATEWAY = ("PUT https://acme.zendesk.com/api/v2/tickets/42.json -> 502: "
               + (FIXTURES / "nginx_502_bad_gateway.html").read_bytes().decode()[:300].strip())


def test_jobs_lists_a_reason_with_line_breaks_on_the_jobs_row(runner, sessions, database_url, monkeypatch):
    with sessions.begin() as session:
        ticket = Ticket(helpdesk="zendesk", account="1", external_id="42", escalated_severity="critical")
        session.add(ticket)
        session.flush()
        comment = Comment(ticket_id=ticket.id, comment_key="id:1", fingerprint="f", source="zendesk.event",
                          author_role="customer", is_public=True, body="x", commented_at=T0, status="done")
        session.add(comment)
        session.flush()
        session.add(Escalation(ticket_id=ticket.id, comment_id=comment.id, severity="critical",
                               rule="critical_frustration", note="n", status="failed", attempts=5,
                               reason=BAD_GATEWAY))
    monkeypatch.setenv("DATABASE_URL", database_url)

    result = runner("jobs")

    assert result.code == 0, result.err
    counts, header, row = result.out.splitlines()
    assert counts == "failed: 0 comments, 1 escalation; pending: 0 comments, 0 escalations"
    assert header.startswith("KIND")
    assert row.split()[:5] == ["escalation", "1", "zendesk:42", "failed", "5"]
    assert row.endswith("-> 502: <html> <head><title>502 Bad Gateway</title></head> <body> "
                        "<center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> </body> </html>")


def seed_backlog(sessions, pending: int, failed_escalations: int = 1) -> None:
    """`pending` pending comments and `failed_escalations` failed escalations on one ticket."""
    with sessions.begin() as session:
        ticket = Ticket(helpdesk="zendesk", account="1", external_id="42", escalated_severity="critical")
        session.add(ticket)
        session.flush()
        comments = [Comment(ticket_id=ticket.id, comment_key=f"id:{n}", fingerprint=f"f{n}", source="zendesk.event",
                            author_role="customer", is_public=True, body="x", commented_at=T0, status="pending")
                    for n in range(pending + 1)]
        comments[-1].status = "done"  # the one the escalations were decided on
        session.add_all(comments)
        session.flush()
        session.add_all([Escalation(ticket_id=ticket.id, comment_id=comments[-1].id, severity=severity,
                                    rule="frustration", note="n", status="failed", attempts=5, reason="gave up")
                         for severity in ("critical", "high", "medium")[:failed_escalations]])  # one per severity


def test_jobs_lists_50_by_default_failed_first_with_the_counts_and_how_many_more(
        runner, sessions, database_url, monkeypatch):
    seed_backlog(sessions, pending=60)
    monkeypatch.setenv("DATABASE_URL", database_url)

    result = runner("jobs")

    assert result.code == 0, result.err
    counts, header, *rows, more = result.out.splitlines()
    assert counts == "failed: 0 comments, 1 escalation; pending: 60 comments, 0 escalations"
    assert header.startswith("KIND")
    assert len(rows) == 50
    assert rows[0].split()[:4] == ["escalation", "1", "zendesk:42", "failed"]  # what waits for a person first
    assert [row.split()[0] for row in rows[1:]] == ["comment"] * 49
    assert more == "... and 11 more (failed ones first, then pending, oldest first; --limit N lists more)"


def test_jobs_limit_lists_that_many_and_all_when_enough(runner, sessions, database_url, monkeypatch):
    seed_backlog(sessions, pending=3)
    monkeypatch.setenv("DATABASE_URL", database_url)

    two = runner("jobs", "--limit", "2").out.splitlines()
    four = runner("jobs", "--limit", "4").out.splitlines()

    assert len(two) == 5 and two[-1].startswith("... and 2 more")
    assert len(four) == 6 and not four[-1].startswith("...")


@pytest.mark.parametrize("value", ["0", "-1", "abc", "2.5", "1000001"])
def test_jobs_limit_must_be_a_positive_whole_number(runner, value):
    result = runner("jobs", "--limit", value)

    assert result.code == 2
    assert "--limit" in result.err and repr(value) in result.err


def test_jobs_list_reads_at_most_the_limit_from_the_database(sessions, engine):
    from sqlalchemy import event

    from ticketpulse.escalation.jobs import list_jobs

    seed_backlog(sessions, pending=30, failed_escalations=3)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with sessions() as session:
        jobs = list_jobs(session, 5)

    assert [(job.kind, job.status) for job in jobs] == [("escalation", "failed")] * 3 + [("comment", "pending")] * 2
    reads = [statement for statement in statements if statement.startswith("SELECT")]
    assert reads and all("LIMIT" in statement for statement in reads)
