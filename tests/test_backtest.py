"""`ticketpulse backtest`: the escalation rate the thresholds would give on the stored history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ticketpulse.escalation.backtest import replay
from ticketpulse.escalation.tracker import ScorePoint
from ticketpulse.models import Comment, Escalation, Score, Ticket
from ticketpulse.config import Thresholds

T0 = datetime(2025, 3, 5, 10, tzinfo=timezone.utc)


def history(*values):
    """(score, frustration) per message, one hour apart."""
    return [ScorePoint(T0 + timedelta(hours=n), s, f, 0.1) for n, (s, f) in enumerate(values)]


CALM = history((0.3, 0.1), (0.1, 0.2))
ANNOYED = history((-0.2, 0.3), (-0.4, 0.8))  # medium at the default 0.75, nothing at 0.85
FURIOUS = history((-0.3, 0.8), (-0.7, 0.95))  # medium, then critical
SOURING = history((-0.65, 0.3), (-0.7, 0.4))  # two negative messages in a row: low


def test_replay_counts_each_conversation_once_at_its_highest_severity():
    result = replay([CALM, ANNOYED, FURIOUS, SOURING], Thresholds())

    assert result.tickets == 4
    assert dict(result.highest) == {"medium": 1, "critical": 1, "low": 1}
    assert result.rate == 0.75
    assert dict(result.rules) == {"frustration": 2, "critical_frustration": 1, "repeated_negative": 1}


def test_replay_follows_the_thresholds():
    strict = Thresholds(frustration_threshold=0.85, consecutive_negative_messages=3)
    result = replay([CALM, ANNOYED, FURIOUS, SOURING], strict)

    assert dict(result.highest) == {"critical": 1}
    assert result.rate == 0.25


def test_replay_orders_by_comment_time():
    shuffled = list(reversed(history((-0.65, 0.3), (-0.7, 0.4), (0.5, 0.1))))
    assert replay([shuffled], Thresholds()).escalated == 1  # the two negatives came first, in a row


def _store(sessions, histories, escalated_severity=None):
    with sessions.begin() as session:
        for n, points in enumerate(histories):
            ticket = Ticket(helpdesk="zendesk", account="1", external_id=str(n), escalated_severity=escalated_severity)
            session.add(ticket)
            session.flush()
            for m, point in enumerate(points):
                comment = Comment(ticket_id=ticket.id, comment_key=f"id:{m}", fingerprint="f", source="zendesk.event",
                                  author_role="customer", is_public=True, body="x", commented_at=point.commented_at,
                                  status="done")
                session.add(comment)
                session.flush()
                session.add(Score(ticket_id=ticket.id, comment_id=comment.id, commented_at=point.commented_at, text="x",
                                  score=point.score, label="", frustration=point.frustration, urgency=point.urgency,
                                  scorer="scripted", scorer_version="1"))
                if n == 2 and m == 1:
                    session.add(Escalation(ticket_id=ticket.id, comment_id=comment.id, severity="critical",
                                           rule="critical_frustration", note="n", status="applied"))


def test_backtest_command_reports_the_rate_for_the_config_file(runner, sessions, database_url, monkeypatch, tmp_path):
    _store(sessions, [CALM, ANNOYED, FURIOUS, SOURING])
    monkeypatch.setenv("DATABASE_URL", database_url)
    strict = tmp_path / "strict.toml"
    strict.write_text("[thresholds]\nfrustration_threshold = 0.85\nconsecutive_negative_messages = 3\n"
                      "unanswered_frustration_threshold = 0.95\n")

    default = runner("backtest")
    tuned = runner("--config", str(strict), "backtest")

    assert default.code == 0, default.err
    assert "conversations with scored customer messages (all time): 4" in default.out
    assert "escalated with these thresholds: 3 (75.0%) - above the healthy 5%-15%" in default.out
    assert "escalated as recorded by the worker: 1 (25.0%)" in default.out
    assert "escalated with these thresholds: 1 (25.0%)" in tuned.out
    assert "highest severity critical      1 (25.0%)" in tuned.out


def test_backtest_rejects_a_bad_period(runner):
    result = runner("backtest", "--days", "-3")
    assert result.code == 2
    assert "must be more than 0" in result.err


def _reviewed_conversation(session, number, messages, escalation):
    """A ticket as the worker leaves it. messages: (minutes, author, score, frustration, language);
    escalation: (message index, severity, rule, verdict)."""
    ticket = Ticket(helpdesk="zendesk", account="1", external_id=number, escalated_severity=escalation[1])
    session.add(ticket)
    session.flush()
    comments = []
    for m, (minutes, author, score, frustration, language) in enumerate(messages):
        at = T0 + timedelta(minutes=minutes)
        comment = Comment(ticket_id=ticket.id, comment_key=f"id:{m}", fingerprint=f"f{m}", source="zendesk.event",
                          author_role=author, is_public=True, body="x", commented_at=at, status="done")
        session.add(comment)
        session.flush()
        comments.append(comment)
        if author == "customer":
            session.add(Score(ticket_id=ticket.id, comment_id=comment.id, commented_at=at, text="x", score=score,
                              label="", frustration=frustration, urgency=0.1, scorer="local", scorer_version="1",
                              unsupported_language=language))
    index, severity, rule, verdict = escalation
    session.add(Escalation(ticket_id=ticket.id, comment_id=comments[index].id, severity=severity, rule=rule,
                           note="n", status="applied", verdict=verdict, verdict_source="zendesk",
                           verdict_at=T0 + timedelta(days=1)))


def test_threshold_advice_replays_the_unanswered_signal_and_leaves_out_unread_messages(
    runner, sessions, database_url, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    with sessions.begin() as session:
        # Wrote again before any agent reply, getting frustrated: medium by unanswered_frustration, right.
        _reviewed_conversation(session, "1", [(0, "customer", -0.3, 0.4, None), (30, "customer", -0.4, 0.7, None)],
                               (1, "medium", "unanswered_frustration", "confirmed"))
        # Two negative messages in a row around one in German (kept out of the rules): low, right.
        _reviewed_conversation(session, "2", [(0, "customer", -0.7, 0.5, None), (5, "agent", 0, 0, None),
                                              (10, "customer", 0.0, 0.0, "de"), (20, "customer", -0.7, 0.5, None)],
                               (3, "low", "repeated_negative", "confirmed"))
        # One message at 0.8: medium by frustration, a false alarm.
        _reviewed_conversation(session, "3", [(0, "customer", -0.2, 0.8, None)],
                               (0, "medium", "frustration", "false_alarm"))

    result = runner("backtest")

    assert result.code == 0, result.err
    assert "thresholds that would have avoided false alarms and kept all 2 confirmed" in result.out
    assert "frustration_threshold = 0.85 (now 0.75): avoids 1 of 1 false alarms" in result.out


def test_threshold_advice_can_hold_back_the_unanswered_rule(runner, sessions, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    with sessions.begin() as session:
        # Wrote again before any reply at 0.65: medium by unanswered_frustration, a false alarm.
        _reviewed_conversation(session, "1", [(0, "customer", -0.1, 0.3, None), (30, "customer", -0.3, 0.65, None)],
                               (1, "medium", "unanswered_frustration", "false_alarm"))
        # One message at 0.8: medium by frustration, right.
        _reviewed_conversation(session, "2", [(0, "customer", -0.2, 0.8, None)],
                               (0, "medium", "frustration", "confirmed"))

    result = runner("backtest")

    assert result.code == 0, result.err
    assert "no single stricter threshold" not in result.out
    assert "unanswered_frustration_threshold = 0.7 (now 0.6): avoids 1 of 1 false alarms" in result.out
    assert "unanswered_messages = 3 (now 2): avoids 1 of 1 false alarms" in result.out


def test_backtest_of_a_period_without_scored_messages_gives_no_rate_verdict(runner, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)

    result = runner("backtest", "--days", "7")

    assert result.code == 0, result.err
    assert "conversations with scored customer messages (last 7 days): 0" in result.out
    assert "nothing to replay: no customer message was scored in this period" in result.out
    assert "below the healthy" not in result.out
