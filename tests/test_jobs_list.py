"""`ticketpulse jobs`: one row per pending or failed job, with the reason on it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

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
    header, row = result.out.splitlines()
    assert header.startswith("KIND")
    assert row.split()[:5] == ["escalation", "1", "zendesk:42", "failed", "5"]
    assert row.endswith("-> 502: <html> <head><title>502 Bad Gateway</title></head> <body> "
                        "<center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> </body> </html>")
