"""A period's number was capped at 100000 whatever its unit, with the message for a malformed one:
`?period=100001m` (69 days) was a 400 "not ... a period like 7d, 12h, 30m or 2w" though the
dashboard shows up to 366 days, `?period=999999m` (694 days) said the same instead of that it is
too long, and `tickets --since 100001m` was refused as no period. The bound is on the length."""

from __future__ import annotations

import pytest

from tests.test_dashboard import basic, dashboard, seeded, text_of  # noqa: F401  (fixtures)


def page(dashboard, url):
    response = dashboard.test_client().get(url, headers=basic())
    return response.status_code, text_of(response).replace("&#39;", "'")


def test_a_period_of_many_minutes_within_the_dashboards_days_is_shown(dashboard, seeded):
    status, text = page(dashboard, "/dashboard/escalations?period=100001m")
    assert status == 200, text
    assert "last 100001 minutes" in text


@pytest.mark.parametrize("period", ["999999m", "999999w"])
def test_a_period_of_a_large_number_is_too_long_not_malformed(dashboard, period):
    status, text = page(dashboard, f"/dashboard/?period={period}")
    assert status == 400
    assert f"period: '{period}' is longer than the dashboard shows (at most 366 days)" in text


def test_tickets_since_takes_a_six_digit_number_of_minutes(runner, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = runner("tickets", "--since", "999999m")
    assert result.code == 0, result.err


def test_tickets_since_beyond_the_bound_says_so(runner):
    result = runner("tickets", "--since", "100001w")
    assert result.code == 2
    assert "argument --since: '100001w' reaches back too far (at most 100000 weeks)" in result.err
