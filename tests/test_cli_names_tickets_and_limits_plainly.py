"""`show` names a ticket as `tickets` lists it, and an integer option out of its range says the
range: `show freshdesk:acme.freshdesk.com:4521` printed `freshdesk:4521` though the list names that
ticket with its account, and `tickets --limit -1` said "'-1' is not a whole number"."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.dashboard_seed import calm, furious, seed
from ticketpulse.models import utcnow


@pytest.fixture
def shared_number(sessions, database_url, monkeypatch):
    """Freshdesk ticket 4521 in two accounts, 5158 in one."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    now = utcnow()
    with sessions.begin() as session:
        seed(session, replace(furious("freshdesk", "4521", now - timedelta(hours=3)), account="acme.freshdesk.com"))
        seed(session, replace(calm("freshdesk", "4521", now - timedelta(hours=2)), account="globex.freshdesk.com"))
        seed(session, replace(calm("freshdesk", "5158", now - timedelta(hours=1)), account="acme.freshdesk.com"))


def test_show_names_a_shared_number_with_its_account_as_tickets_lists_it(runner, shared_number):
    listed = [line.split()[0] for line in runner("tickets").out.splitlines()[1:]]
    assert "freshdesk:acme.freshdesk.com:4521" in listed and "freshdesk:5158" in listed

    for ref in listed:
        shown = runner("show", ref)

        assert shown.code == 0, shown.err
        assert shown.out.split(" - ")[0].split()[0] == ref


def test_show_names_the_account_once(runner, shared_number):
    shared = runner("show", "freshdesk:acme.freshdesk.com:4521").out.splitlines()[0]
    alone = runner("show", "freshdesk:5158").out.splitlines()[0]

    assert shared.startswith("freshdesk:acme.freshdesk.com:4521 - escalated")
    assert alone.startswith("freshdesk:5158 (account acme.freshdesk.com) - ")


@pytest.mark.parametrize("argv, option, message", [
    (["tickets", "--limit", "-1"], "--limit", "'-1' is not a limit: it must be at least 1"),
    (["tickets", "--limit", "0"], "--limit", "'0' is not a limit: it must be at least 1"),
    (["tickets", "--limit", "10001"], "--limit", "'10001' is not a limit: it must be at most 10000"),
    (["jobs", "--limit", "-1"], "--limit", "'-1' is not a limit: it must be at least 1"),
    (["serve", "--port", "-8000"], "--port", "'-8000' is not a port: it must be at least 1"),
    (["worker", "--metrics-port", "-1"], "--metrics-port", "'-1' is not a port: it must be at least 1"),
    (["jobs", "retry", "--kind", "comment", "-3"], "ids", "'-3' is not a job id: it must be at least 1"),
    (["backtest", "--days", "-1"], "--days", "'-1' must be more than 0 and at most 36500"),
])
def test_a_negative_or_out_of_range_number_is_told_its_range(runner, argv, option, message):
    result = runner(*argv)

    assert result.code == 2
    assert result.err.strip().splitlines()[-1].endswith(f"error: argument {option}: {message}")
    assert "whole number" not in result.err


@pytest.mark.parametrize("value", ["1.5", "-", "--1", "-1.0", "+3", "١"])
def test_a_value_that_is_no_whole_number_is_still_called_one(runner, value):
    result = runner("tickets", f"--limit={value}")

    assert result.code == 2
    assert f"argument --limit: {value!r} is not a whole number" in result.err
