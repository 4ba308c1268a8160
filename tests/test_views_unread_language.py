"""A message in a language the scorer cannot read is stored with placeholder values (score 0,
frustration 0) and kept out of the rules: the views do not report those values as scores."""

from __future__ import annotations

from datetime import timedelta

from tests.dashboard_seed import Msg, SeedTicket, seed, seed_unread
from ticketpulse.models import utcnow


def test_tickets_shows_the_last_score_the_rules_read_not_an_unread_messages_placeholder(runner, sessions, database_url,
                                                                                        monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    start = utcnow() - timedelta(hours=3)
    with sessions.begin() as session:
        ticket = seed(session, SeedTicket("zendesk", "4242", start, [Msg(0, -0.7, 0.8), Msg(10, -0.75, 0.85)]))
        seed_unread(session, ticket, start + timedelta(minutes=20))
        only_german = seed(session, SeedTicket("zendesk", "4343", start))
        seed_unread(session, only_german, start + timedelta(minutes=5))
    result = runner("tickets")
    assert result.code == 0, result.err
    line = next(line for line in result.out.splitlines() if line.startswith("zendesk:4242"))
    columns = line.split()
    assert columns[1] == "2"  # messages the rules read
    assert columns[4:7] == ["-0.75", "-0.75", "0.85"]  # last score, lowest, peak frustration
    assert "zendesk:4343" not in result.out  # no message read: nothing to report
