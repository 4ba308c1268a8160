"""The dashboard's views on the command line: `tickets`, `show`, and feedback in `backtest`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dashboard_seed import Msg, SeedTicket, calm, furious, seed, seed_unread, souring
from ticketpulse.models import utcnow


@pytest.fixture
def stored(sessions, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    now = utcnow()
    with sessions.begin() as session:
        for n in range(6):
            seed(session, calm("zendesk", str(200 + n), now - timedelta(days=n, hours=1)))
        seed(session, furious("zendesk", "48213", now - timedelta(days=1), "confirmed"))
        seed(session, souring("freshdesk", "11", now - timedelta(days=2), "false_alarm"))
        seed(session, calm("zendesk", "9", now - timedelta(days=20)))


def test_tickets_lists_recent_conversations_most_recent_first(runner, stored):
    result = runner("tickets")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["TICKET", "MSGS", "LAST"]
    refs = [line.split()[0] for line in lines[1:]]
    assert refs[0] == "zendesk:200" and "zendesk:9" not in refs and len(refs) == 8
    furious_line = next(line for line in lines if line.startswith("zendesk:48213"))
    assert furious_line.split()[1:2] == ["3"] and "critical" in furious_line and "confirmed" in furious_line


def test_tickets_escalated_since(runner, stored):
    result = runner("tickets", "--escalated", "--since", "36h")
    assert [line.split()[0] for line in result.out.splitlines()[1:]] == ["zendesk:48213"]
    wider = runner("tickets", "--escalated", "--since", "30d")
    assert {line.split()[0] for line in wider.out.splitlines()[1:]} == {"zendesk:48213", "freshdesk:11"}
    assert "false alarm" in wider.out


@pytest.mark.parametrize("period", ["lately", "²d", "١d", "9" * 5000 + "d"])
def test_tickets_rejects_a_bad_period(runner, stored, period):
    result = runner("tickets", "--since", period)
    assert result.code == 2
    assert f"argument --since: {period!r} is not a period like 7d" in result.err


def test_show_finds_a_ticket_written_with_leading_zeros(runner, stored):
    result = runner("show", "zendesk:0048213")
    assert result.code == 0, result.err
    assert result.out.startswith("zendesk:48213 (account 9876543)")


def test_show_prints_the_trajectory_skips_and_decisions(runner, stored):
    result = runner("show", "zendesk:48213")
    assert result.code == 0, result.err
    out = result.out
    assert out.startswith("zendesk:48213 (account 9876543) - escalated critical, feedback: confirmed")
    assert "score trajectory: " in out and "(-0.30 -> -0.90" in out
    assert "skipped: not a customer comment (agent)" in out
    assert "-0.90 negative    0.96" in out and "unacceptable, lawyer" in out
    assert "medium by rule frustration - applied, feedback confirmed (zendesk)" in out
    assert "critical by rule critical_frustration" in out


@pytest.mark.parametrize("ref, code, message", [
    ("zendesk:1", 1, "ticket zendesk:1 is not in the database"),
    ("48213", 2, "ticket: '48213' is not like zendesk:<number>"),
    ("jira:5", 2, "is not like zendesk:<number>"),
])
def test_show_names_what_is_wrong(runner, stored, ref, code, message):
    result = runner("show", ref)
    assert result.code == code
    assert result.err.startswith("ticketpulse: error: ") and message in result.err
    assert result.err.count("\n") == 1


def test_show_asks_for_the_account_when_a_number_is_in_two(runner, stored, sessions):
    with sessions.begin() as session:
        seed(session, SeedTicket("zendesk", "48213", utcnow(), [Msg(0, 0.1, 0.1)], account="555"))
    result = runner("show", "zendesk:48213")
    assert result.code == 2 and "zendesk:555:48213" in result.err
    assert runner("show", "zendesk:555:48213").code == 0


def _conversation(conversation_id: str, start) -> SeedTicket:
    """A conversation of the conversation API, as it stores one: helpdesk `api`, one account."""
    spec = souring("api", conversation_id, start)
    spec.account = "default"
    return spec


def test_a_conversation_api_conversation_is_listed_filtered_and_shown(runner, stored, sessions):
    with sessions.begin() as session:
        seed(session, _conversation("chat-3", utcnow() - timedelta(hours=2)))
        seed(session, _conversation("bot:7@acme", utcnow() - timedelta(hours=3)))
    listed = runner("tickets")
    assert "api:chat-3" in [line.split()[0] for line in listed.out.splitlines()[1:]]
    only = runner("tickets", "--helpdesk", "api")
    assert only.code == 0, only.err
    assert [line.split()[0] for line in only.out.splitlines()[1:]] == ["api:chat-3", "api:bot:7@acme"]
    for ref in ("api:chat-3", " api:bot:7@acme"):
        shown = runner("show", ref)
        assert shown.code == 0, shown.err
        assert shown.out.startswith(f"{ref.strip()} (account default) - escalated")


def test_tickets_keeps_its_columns_in_line_for_a_long_reference(runner, stored, sessions):
    long_id = "support-bot-conversation-" + "7" * 30  # 4 + 55 characters: past the 22 of a short ref
    with sessions.begin() as session:
        seed(session, _conversation(long_id, utcnow() - timedelta(hours=2)))
    lines = runner("tickets").out.splitlines()
    long_line = next(line for line in lines if line.startswith(f"api:{long_id}"))
    short_line = next(line for line in lines if line.startswith("zendesk:48213"))
    # every row's MSGS column ends where the header's does
    end = lines[0].index("MSGS") + len("MSGS")
    assert long_line[end - 1].isdigit() and long_line[end] == " "
    assert short_line[end - 1].isdigit() and short_line[end] == " "


@pytest.mark.parametrize("ref, code, message", [
    ("api:", 2, "is not like zendesk:<number>, freshdesk:<number> or api:<conversation id>"),
    ("api:" + "c" * 65, 2, "or api:<conversation id>"),
    ("api:chat 3", 2, "or api:<conversation id>"),  # the API's own id rule: no such conversation can exist
    ("api:chat-404", 1, "ticket api:chat-404 is not in the database"),
    ("api:0048213", 1, "ticket api:0048213 is not in the database"),  # an id, not a number: no zeros dropped
])
def test_show_names_what_is_wrong_with_a_conversation_reference(runner, stored, sessions, ref, code, message):
    with sessions.begin() as session:
        seed(session, _conversation("48213", utcnow() - timedelta(hours=2)))
    result = runner("show", ref)
    assert result.code == code
    assert message in result.err


def test_backtest_reports_precision_and_thresholds_that_avoid_the_false_alarms(runner, stored, sessions):
    result = runner("backtest", "--days", "7")
    assert result.code == 0, result.err
    out = result.out
    assert "feedback on recorded escalations (last 7 days): 3 escalations, 1 false alarms, 2 confirmed" in out
    repeated = next(line for line in out.splitlines() if line.strip().startswith("repeated_negative"))
    assert repeated.split() == ["repeated_negative", "1", "1", "0", "0.0%", "0.0%"]
    assert "thresholds that would have avoided false alarms and kept all 1 confirmed" in out
    # Three negative messages in a row needed: the two-message false alarm goes, the furious ticket stays.
    assert "consecutive_negative_messages = 3 (now 2): avoids 1 of 1 false alarms" in out


def test_backtest_without_feedback_says_so(runner, sessions, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    with sessions.begin() as session:
        seed(session, souring("zendesk", "3", utcnow() - timedelta(hours=3)))
    result = runner("backtest")
    assert "no false alarms recorded: nothing to tune against" in result.out


def test_no_threshold_is_suggested_that_loses_a_confirmed_escalation(runner, sessions, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    now = utcnow()
    with sessions.begin() as session:
        # Two identical conversations, one called right and one wrong: no threshold tells them apart.
        seed(session, souring("zendesk", "1", now - timedelta(hours=5), "false_alarm"))
        seed(session, souring("zendesk", "2", now - timedelta(hours=4), "confirmed"))
    result = runner("backtest")
    assert "no single stricter threshold avoids a false alarm while keeping all 1 confirmed" in result.out


def test_the_dashboards_replay_takes_only_the_latest_reviewed_conversations(sessions):
    from ticketpulse.escalation.tuning import reviewed_histories

    now = utcnow()
    with sessions.begin() as session:
        for n in range(3):
            seed(session, souring("zendesk", str(10 + n), now - timedelta(hours=10 - n), "false_alarm"))
            seed(session, souring("zendesk", str(20 + n), now - timedelta(hours=10 - n), "confirmed"))
        seed(session, souring("zendesk", "30", now - timedelta(hours=2)))
    with sessions() as session:
        everything = reviewed_histories(session)
        latest = reviewed_histories(session, unreviewed=False, latest=2)
    assert (len(everything.false_alarms), len(everything.confirmed), len(everything.unreviewed)) == (3, 3, 1)
    assert (len(latest.false_alarms), len(latest.confirmed), len(latest.unreviewed)) == (2, 2, 0)


def test_show_prints_a_message_the_scorer_cannot_read_as_not_read(runner, sessions, database_url, monkeypatch):
    """Its stored values are placeholders (score +0.00, frustration 0) kept out of the rules, as the
    dashboard's ticket page shows it."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    start = utcnow() - timedelta(hours=3)
    with sessions.begin() as session:
        ticket = seed(session, SeedTicket("zendesk", "4242", start, [Msg(0, -0.7, 0.8)]))
        seed_unread(session, ticket, start + timedelta(minutes=20))

    result = runner("show", "zendesk:4242")
    assert result.code == 0, result.err
    german = next(line for line in result.out.splitlines() if line.split()[:1] == ["2"])  # message 2
    assert "not read: in de, a language the local scorer cannot read; kept out of the rules" in german
    assert "+0.00" not in german and "neutral" not in german
