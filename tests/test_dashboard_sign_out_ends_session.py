"""Signing out ends the session on the server: a copy of the cookie taken before is refused after."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.test_dashboard import PASSWORD, dashboard, seeded  # noqa: F401  (fixtures)
from tests.test_dashboard_session_security import sign_out_token, signed_in
from ticketpulse.config import Environment
from ticketpulse.models import utcnow
from ticketpulse.models.tables import DashboardSession
from ticketpulse.webhooks.dashboard import COOKIE

OVERVIEW_MARK = 'id="conversations"'


def cookie_of(client) -> str:
    return client.get_cookie(COOKIE, path="/dashboard").value


def with_cookie(app, value: str):
    """Another browser (an attacker's) holding a copy of the cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE, value, path="/dashboard")
    return client


def session_rows(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(DashboardSession))


def test_a_copied_cookie_is_refused_once_its_session_signed_out(dashboard, seeded, sessions):
    lead = signed_in(dashboard)
    copied = cookie_of(lead)
    assert OVERVIEW_MARK in with_cookie(dashboard, copied).get(
        "/dashboard/").get_data(as_text=True)  # the copy works while the session lasts

    assert lead.post("/dashboard/logout", data={"csrf": sign_out_token(lead)}).status_code == 302

    after = with_cookie(dashboard, copied).get("/dashboard/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/dashboard/login")
    assert session_rows(sessions) == 0
    # Nor can the copy write: a verdict needs a live session before its form token is looked at.
    verdict = with_cookie(dashboard, copied).post(
        f"/dashboard/tickets/{seeded['furious']}/verdict", data={"verdict": "confirmed", "csrf": "x"})
    assert verdict.status_code == 302


def test_signing_out_ends_only_that_session(dashboard, seeded, sessions):
    office, laptop = signed_in(dashboard), signed_in(dashboard)
    assert session_rows(sessions) == 2
    office.post("/dashboard/logout", data={"csrf": sign_out_token(office)})
    assert office.get("/dashboard/").status_code == 302
    assert laptop.get("/dashboard/").status_code == 200
    assert session_rows(sessions) == 1


def test_a_new_password_still_ends_every_session(dashboard, seeded, config, database_url, engine):
    from ticketpulse.webhooks import create_app

    copied = cookie_of(signed_in(dashboard))
    env = Environment(database_url=database_url, dashboard_password="another-lead-pw-8Kd2", zendesk_subdomain="acme")
    restarted = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine})
    assert with_cookie(restarted, copied).get("/dashboard/").status_code == 302


def test_a_signed_cookie_naming_no_session_is_refused(dashboard, seeded):
    """A cookie from before sessions had rows (signed with the password's key all the same), or
    one naming a session that never was: no row, no access."""
    from ticketpulse.webhooks.dashboard import _serializer

    for payload in ({"csrf": "c" * 32}, {"csrf": "c" * 32, "sid": "made-up"}):
        forged = _serializer(PASSWORD).dumps(payload)
        assert with_cookie(dashboard, forged).get("/dashboard/").status_code == 302, payload


def test_sessions_past_the_cookies_age_are_pruned_at_the_next_sign_in(dashboard, seeded, sessions):
    now = utcnow()
    with sessions.begin() as session:
        session.add(DashboardSession(id="old", created_at=now - timedelta(hours=12, minutes=1)))
        session.add(DashboardSession(id="recent", created_at=now - timedelta(hours=11)))
    signed_in(dashboard)
    with sessions() as session:
        kept = set(session.scalars(select(DashboardSession.id)))
    assert "old" not in kept and "recent" in kept and len(kept) == 2
