"""`ticketpulse backtest` replays the unanswered signal as the worker decides it: a private agent
note is not a reply to the customer, a public agent comment is."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ticketpulse.models import Comment, Score, Ticket

T0 = datetime(2025, 3, 5, 10, tzinfo=timezone.utc)


def _store_conversation(sessions, *, agent_public: bool):
    """Customer (frustration 0.4), an agent comment, customer again (0.7): medium by
    unanswered_frustration unless the agent's comment answered."""
    with sessions.begin() as session:
        ticket = Ticket(helpdesk="zendesk", account="1", external_id="1")
        session.add(ticket)
        session.flush()
        for m, (author, public, frustration) in enumerate(
            [("customer", True, 0.4), ("agent", agent_public, None), ("customer", True, 0.7)]
        ):
            at = T0 + timedelta(minutes=10 * m)
            comment = Comment(ticket_id=ticket.id, comment_key=f"id:{m}", fingerprint=f"f{m}", source="zendesk.event",
                              author_role=author, is_public=public, body="x", commented_at=at, status="done")
            session.add(comment)
            session.flush()
            if frustration is not None:
                session.add(Score(ticket_id=ticket.id, comment_id=comment.id, commented_at=at, text="x", score=-0.3,
                                  label="", frustration=frustration, urgency=0.1, scorer="local", scorer_version="1"))


@pytest.mark.parametrize("agent_public, escalated", [(False, "1 (100.0%)"), (True, "0 (0.0%)")],
                         ids=["private note", "public reply"])
def test_backtest_counts_a_private_agent_note_as_no_reply(runner, sessions, database_url, monkeypatch,
                                                           agent_public, escalated):
    monkeypatch.setenv("DATABASE_URL", database_url)
    _store_conversation(sessions, agent_public=agent_public)

    result = runner("backtest")

    assert result.code == 0, result.err
    assert f"escalated with these thresholds: {escalated}" in result.out, result.out
