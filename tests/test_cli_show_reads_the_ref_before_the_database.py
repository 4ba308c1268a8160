"""`show` with a malformed ticket ref, run where there is no database, said "no database exists"
(exit 1) rather than that the ref is malformed: the ref is read before the database is opened."""

from __future__ import annotations

import pytest

from ticketpulse.escalation.reports import TICKET_REF_FORMS


@pytest.fixture
def no_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TICKETPULSE_CONFIG", raising=False)
    return tmp_path


@pytest.mark.parametrize("ref", ["zendesk:abc", "48213", "jira:48213", "zendesk:a:b:1", "api:"])
def test_show_names_a_malformed_ref_even_where_there_is_no_database(runner, no_database, ref):
    result = runner("show", ref)

    assert result.code == 2
    assert result.err == f"ticketpulse: error: ticket: {ref!r} is not like {TICKET_REF_FORMS}\n"
    assert list(no_database.iterdir()) == []


def test_show_of_a_well_formed_ref_still_names_the_missing_database(runner, no_database):
    result = runner("show", "zendesk:acme:48213")

    assert result.code == 1
    assert result.err.startswith(f"ticketpulse: error: no database exists at {no_database / 'ticketpulse.db'} ")
