"""`ticketpulse tickets` names the account of a number that is in two accounts, as `show` needs it.

A trigger-connected webhook without ZENDESK_ACCOUNT_ID files its comments under `default`, and
the event webhook under the signed account_id: one number, two tickets. Listed as `zendesk:48213`
twice, the lead could not tell them apart, and `show zendesk:48213` refused the ref (exit 2).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.dashboard_seed import calm, furious, seed
from ticketpulse.models import utcnow


def test_a_number_in_two_accounts_is_listed_with_its_account_and_show_opens_each_row(
        runner, sessions, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    now = utcnow()
    with sessions.begin() as session:
        seed(session, furious("zendesk", "48213", now - timedelta(hours=3)))  # last message 1 h ago
        seed(session, replace(calm("zendesk", "48213", now - timedelta(hours=1)), account="default"))
        seed(session, calm("zendesk", "5158", now - timedelta(hours=3)))
        seed(session, calm("freshdesk", "48213", now - timedelta(hours=4)))  # another helpdesk: not shared

    result = runner("tickets")

    assert result.code == 0, result.err
    refs = [line.split()[0] for line in result.out.splitlines()[1:]]
    assert refs == ["zendesk:default:48213", "zendesk:9876543:48213", "zendesk:5158", "freshdesk:48213"]
    for ref in refs:  # each row's ref opens that row's ticket
        shown = runner("show", ref)
        assert shown.code == 0, shown.err
        assert shown.out.startswith(f"{ref} ")  # and its header names it as the row does


def test_show_of_a_shared_number_names_each_account_as_the_list_does(runner, sessions, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    now = utcnow()
    with sessions.begin() as session:
        seed(session, furious("zendesk", "48213", now - timedelta(hours=3)))
        seed(session, replace(calm("zendesk", "48213", now - timedelta(hours=1)), account="default"))

    listed = [line.split()[0] for line in runner("tickets").out.splitlines()[1:]]
    shown = runner("show", "zendesk:48213")

    assert shown.code == 2, shown.out + shown.err
    assert "is in several accounts; give one of" in shown.err
    for ref in listed:  # the refs it offers are the list's, spelled by models.ticket_ref
        assert ref in shown.err
