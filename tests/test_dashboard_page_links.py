"""The escalation list's page links carry its filters and nothing else a URL brought along."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard_seed import seed, souring
from tests.test_dashboard import basic, dashboard  # noqa: F401  (fixture)
from ticketpulse.models import utcnow


@pytest.fixture
def two_pages(sessions):
    now = utcnow()
    with sessions.begin() as session:
        for n in range(60):
            seed(session, souring("zendesk", str(5000 + n), now - timedelta(hours=n)))


def older_link(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return html.unescape(re.search(r'rel="next" href="([^"]*)"', response.get_data(as_text=True)).group(1))


@pytest.mark.parametrize("extra", ["endpoint=x", "_method=POST", "_external=1", "_scheme=https", "_anchor=%0Ax", "values=1"])
def test_query_keys_that_are_not_filters_are_a_400_naming_them_not_a_500(dashboard, two_pages, extra):
    """`endpoint` and `_method` were handed to url_for: a TypeError, a 500; `_external` and
    `_anchor` made the link absolute or gave it a fragment. A key the list does not take is
    refused now, naming it (an ignored misspelt filter showed every row)."""
    response = dashboard.test_client().get(f"/dashboard/escalations?{extra}&rule=repeated_negative", headers=basic())
    assert response.status_code == 400
    assert f"{extra.partition('=')[0]}: not a parameter of this page" in response.get_data(as_text=True)


def test_the_page_links_keep_every_filter(dashboard, two_pages):
    query = "period=30d&severity=low&helpdesk=zendesk&rule=repeated_negative&verdict=none"
    client = dashboard.test_client()
    link = older_link(client.get(f"/dashboard/escalations?{query}", headers=basic()))
    assert parse_qs(urlsplit(link).query) == {**parse_qs(query), "page": ["2"]}
    assert 'rel="prev"' in client.get(link, headers=basic()).get_data(as_text=True)
