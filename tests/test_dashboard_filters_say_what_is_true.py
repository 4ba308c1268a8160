"""The dashboard's filters: a parameter a page does not take is refused, not ignored, and the
periods are the CLI's `--since` lengths as well as the named ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dashboard_seed import calm, seed, souring
from tests.test_dashboard import basic, dashboard, seeded, text_of  # noqa: F401  (fixtures)
from ticketpulse.models import utcnow


def page(dashboard, url):
    response = dashboard.test_client().get(url, headers=basic())
    return response.status_code, text_of(response).replace("&#39;", "'")


def test_the_feedback_filter_under_another_name_is_a_400_naming_it_and_the_parameters(dashboard, seeded):
    """`?feedback=false_alarm` was ignored: all the period's escalations shown as if it had applied."""
    status, text = page(dashboard, "/dashboard/escalations?period=30d&feedback=false_alarm")
    assert status == 400
    assert "feedback: not a parameter of this page; it takes period, severity, helpdesk, rule, verdict, page" in text
    status, text = page(dashboard, "/dashboard/escalations?period=30d&verdict=false_alarm")
    assert status == 200 and "1 escalation " in text


@pytest.mark.parametrize("url, parameter", [
    ("/dashboard/?period=week&severity=low", "severity"),  # a filter of the list, not of the overview
    ("/dashboard/tuning?helpdesk=zendesk", "helpdesk"),
    ("/dashboard/ticket?ref=zendesk:48213&q=1", "q"),
])
def test_every_page_refuses_a_parameter_it_does_not_take(dashboard, seeded, url, parameter):
    status, text = page(dashboard, url)
    assert status == 400 and f"{parameter}: not a parameter of this page" in text


def test_a_period_as_the_cli_writes_it_is_taken_and_24h_is_the_day(dashboard, seeded):
    """`24h` was a 400 ('not one of day, week, 30d') though `--since 24h` is the CLI's way to say it."""
    assert page(dashboard, "/dashboard/escalations?period=24h")[1] == page(dashboard, "/dashboard/escalations?period=day")[1]
    status, week = page(dashboard, "/dashboard/escalations?period=7d")
    assert status == 200 and "4 escalations" in week
    status, three_weeks = page(dashboard, "/dashboard/escalations?period=3w")
    assert status == 200 and "5 escalations" in three_weeks  # the ticket of 20 days ago too


def test_a_period_that_is_no_named_one_is_the_selected_option(dashboard, seeded):
    html = dashboard.test_client().get("/dashboard/escalations?period=12h", headers=basic()).get_data(as_text=True)
    assert '<option value="12h" selected>last 12 hours</option>' in html
    html = dashboard.test_client().get("/dashboard/escalations?period=7d", headers=basic()).get_data(as_text=True)
    assert '<option value="week" selected>last 7 days</option>' in html and 'value="7d"' not in html


def test_a_short_period_is_drawn_per_hour_on_the_overview_and_tuning_takes_it(dashboard, sessions):
    two_hours_ago = utcnow() - timedelta(hours=2)
    with sessions.begin() as session:
        seed(session, calm("zendesk", "1", two_hours_ago))
        seed(session, souring("zendesk", "2", two_hours_ago))
    html = dashboard.test_client().get("/dashboard/?period=6h", headers=basic()).get_data(as_text=True)
    assert f"<title>{two_hours_ago:%Y-%m-%d %H}:00: 50.0% (1 of 2)</title>" in html
    assert "first seen in each hour" in html
    assert page(dashboard, "/dashboard/tuning?period=6h")[0] == 200


@pytest.mark.parametrize("period, problem", [
    ("year", "period: 'year' is not one of day, week, 30d nor a period like 7d, 12h, 30m or 2w"),
    ("0d", "period: '0d' is not one of day, week, 30d nor a period like"),
    ("400d", "period: '400d' is longer than the dashboard shows (at most 366 days)"),
])
def test_a_period_the_dashboard_cannot_show_is_a_400_naming_it(dashboard, period, problem):
    for path in ("/dashboard/", "/dashboard/escalations", "/dashboard/tuning"):
        status, text = page(dashboard, f"{path}?period={period}")
        assert status == 400 and problem in text, path
