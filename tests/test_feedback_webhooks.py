"""Feedback from the helpdesks: the false-alarm tag, learned from tag-change webhooks."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import fixture_json
from tests.dashboard_seed import furious, seed, souring
from tests.freshdesk_helpers import post_freshdesk
from tests.zendesk_helpers import post_zendesk
from ticketpulse.models import Escalation, utcnow


@pytest.fixture
def escalated(sessions):
    now = utcnow()
    with sessions.begin() as session:
        zendesk = seed(session, furious("zendesk", "48213", now - timedelta(days=1))).id
        freshdesk = seed(session, souring("freshdesk", "11", now - timedelta(days=1))).id
    return {"zendesk": zendesk, "freshdesk": freshdesk}


def verdicts(sessions, ticket_id):
    with sessions() as session:
        return session.execute(
            select(Escalation.severity, Escalation.verdict, Escalation.verdict_source)
            .where(Escalation.ticket_id == ticket_id).order_by(Escalation.id)
        ).all()


def test_zendesk_tags_changed_event_records_a_false_alarm(client, sessions, escalated):
    response = post_zendesk(client, fixture_json("zendesk_tags_changed.json"))
    assert response.status_code == 200
    assert response.get_json() == {"status": "recorded", "feedback": "recorded"}
    assert verdicts(sessions, escalated["zendesk"]) == [
        ("medium", "false_alarm", "zendesk"), ("critical", "false_alarm", "zendesk"),
    ]
    assert verdicts(sessions, escalated["freshdesk"]) == [("low", None, None)]


def test_the_same_tag_event_twice_records_once(client, sessions, escalated):
    post_zendesk(client, fixture_json("zendesk_tags_changed.json"))
    again = post_zendesk(client, fixture_json("zendesk_tags_changed.json"))
    assert again.get_json()["feedback"] == "unchanged"


def test_removing_the_tag_clears_the_verdict_and_an_older_event_does_not_undo_a_newer_one(client, sessions, escalated):
    added = fixture_json("zendesk_tags_changed.json")
    removed = copy.deepcopy(added)
    removed["time"] = "2026-12-01T10:20:00Z"
    removed["event"] = {"tags_added": [], "tags_removed": ["sentiment_false_alarm"]}
    removed["detail"]["tags"].remove("sentiment_false_alarm")

    assert post_zendesk(client, removed).get_json()["feedback"] == "unchanged"  # nothing to clear yet
    post_zendesk(client, added)
    assert verdicts(sessions, escalated["zendesk"])[0][1] == "false_alarm"
    assert post_zendesk(client, removed).get_json()["feedback"] == "cleared"
    assert verdicts(sessions, escalated["zendesk"])[0][1] is None
    # The add arriving late again (a retry) is older than the removal: ignored.
    assert post_zendesk(client, added).get_json()["feedback"] == "unchanged"
    assert verdicts(sessions, escalated["zendesk"])[0][1] is None


@pytest.mark.parametrize("event", [
    {"tags": {"added": ["sentiment_false_alarm"], "removed": []}},
    {"added_tags": ["sentiment_false_alarm"]},
    {"added": "sentiment_false_alarm"},
    {},  # nothing in `event`: the ticket snapshot's current tags say it
])
def test_zendesk_tag_event_shapes_are_read_liberally(client, sessions, escalated, event):
    payload = fixture_json("zendesk_tags_changed.json")
    payload["event"] = event
    assert post_zendesk(client, payload).get_json()["feedback"] == "recorded"


def test_other_tag_changes_and_unknown_tickets_are_ignored(client, sessions, escalated):
    other = fixture_json("zendesk_tags_changed.json")
    other["event"] = {"tags_added": ["vip"], "tags_removed": []}
    other["detail"]["tags"] = ["vip", "sentiment_escalated"]
    assert post_zendesk(client, other).get_json() == {"status": "ignored", "feedback": "unchanged"}
    unknown = fixture_json("zendesk_tags_changed.json")
    unknown["detail"]["id"] = "999"
    assert post_zendesk(client, unknown).get_json() == {"status": "ignored", "feedback": "not escalated"}
    assert verdicts(sessions, escalated["zendesk"])[0][1] is None


def test_an_unsigned_tag_event_is_refused(client, sessions, escalated):
    response = post_zendesk(client, fixture_json("zendesk_tags_changed.json"), secret="wrong")
    assert response.status_code == 401
    assert verdicts(sessions, escalated["zendesk"])[0][1] is None


def test_a_tag_event_without_a_ticket_is_a_400(client, escalated):
    payload = fixture_json("zendesk_tags_changed.json")
    del payload["detail"]["id"]
    del payload["subject"]
    response = post_zendesk(client, payload)
    assert response.status_code == 400
    assert "detail.id" in response.get_json()["error"]


def test_zendesk_trigger_with_the_tags_body_records_a_false_alarm(client, sessions, escalated):
    body = {"kind": "tags_changed", "ticket_id": "48213", "tags": "shipping sentiment_escalated sentiment_false_alarm"}
    assert post_zendesk(client, body).get_json()["feedback"] == "recorded"
    assert verdicts(sessions, escalated["zendesk"])[1][1:] == ("false_alarm", "zendesk")


def test_freshdesk_automation_rule_records_a_false_alarm(client, sessions, escalated):
    response = post_freshdesk(client, fixture_json("freshdesk_tags_changed.json"))
    assert response.status_code == 200 and response.get_json()["feedback"] == "recorded"
    assert verdicts(sessions, escalated["freshdesk"]) == [("low", "false_alarm", "freshdesk")]


def test_freshdesk_rule_needs_the_secret(client, sessions, escalated):
    response = post_freshdesk(client, fixture_json("freshdesk_tags_changed.json"), headers={"X-Webhook-Token": "nope"})
    assert response.status_code == 401
    assert verdicts(sessions, escalated["freshdesk"])[0][1] is None


def test_the_false_alarm_tag_is_configurable(config, environment, engine, sessions, escalated):
    from ticketpulse.config import Config
    from ticketpulse.webhooks import create_app

    custom = Config.model_validate({**config.model_dump(), "tags": {"false_alarm": "tp_wrong"}})
    app = create_app({"TESTING": True, "TICKETPULSE": custom, "ENVIRONMENT": environment, "ENGINE": engine})
    client = app.test_client()
    assert post_freshdesk(client, fixture_json("freshdesk_tags_changed.json")).get_json()["feedback"] == "unchanged"
    body = {"kind": "tags_changed", "ticket": {"id": "11", "tags": "refund, tp_wrong", "url": "https://acme.freshdesk.com/helpdesk/tickets/11"}}
    assert post_freshdesk(client, body).get_json()["feedback"] == "recorded"


def test_a_comment_webhook_still_works_beside_tag_events(client, escalated):
    from tests.zendesk_helpers import comment_event

    response = post_zendesk(client, comment_event("48213", "900", "Any news?", time="2026-12-01T11:00:00Z"))
    assert response.status_code == 202


def test_removing_the_tag_does_not_clear_a_confirmation_given_after_it(client, dashboard_client, sessions, escalated):
    """The tag's removal takes back a false alarm; a lead's later 'Right call' on the dashboard stays."""
    import re

    from tests.test_dashboard import basic

    added = fixture_json("zendesk_tags_changed.json")
    added["time"] = (utcnow() - timedelta(minutes=10)).isoformat()
    assert post_zendesk(client, added).get_json()["feedback"] == "recorded"
    page = dashboard_client.get(f"/dashboard/tickets/{escalated['zendesk']}", headers=basic()).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    dashboard_client.post(f"/dashboard/tickets/{escalated['zendesk']}/verdict", headers=basic(),
                          data={"verdict": "confirmed", "csrf": csrf})
    assert verdicts(sessions, escalated["zendesk"])[0][1:] == ("confirmed", "dashboard")

    removed = copy.deepcopy(added)
    removed["time"] = utcnow().isoformat()
    removed["event"] = {"tags_added": [], "tags_removed": ["sentiment_false_alarm"]}
    removed["detail"]["tags"].remove("sentiment_false_alarm")
    assert post_zendesk(client, removed).get_json()["feedback"] == "unchanged"
    assert verdicts(sessions, escalated["zendesk"]) == [
        ("medium", "confirmed", "dashboard"), ("critical", "confirmed", "dashboard"),
    ]


@pytest.fixture
def dashboard_client(config, environment, engine):
    from ticketpulse.webhooks import create_app

    from tests.test_dashboard import PASSWORD

    env = environment.model_copy(update={"dashboard_password": PASSWORD})
    return create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": env, "ENGINE": engine}).test_client()


def test_an_unrelated_tag_change_does_not_undo_a_later_confirmation(client, dashboard_client, sessions, escalated):
    """The event lists what changed: adding 'vip' says nothing of the false-alarm tag still on the ticket,
    so the lead's 'Right call' after the agent's tag stays (the ticket's current tags re-recorded the false alarm)."""
    import re

    from tests.test_dashboard import basic

    added = fixture_json("zendesk_tags_changed.json")
    added["time"] = (utcnow() - timedelta(minutes=10)).isoformat()
    post_zendesk(client, added)
    page = dashboard_client.get(f"/dashboard/tickets/{escalated['zendesk']}", headers=basic()).get_data(as_text=True)
    dashboard_client.post(f"/dashboard/tickets/{escalated['zendesk']}/verdict", headers=basic(),
                          data={"verdict": "confirmed", "csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1)})

    vip = copy.deepcopy(added)
    vip["id"], vip["time"] = "5d1c0e2a-0000-4000-8000-000000000001", utcnow().isoformat()
    vip["event"] = {"tags_added": ["vip"], "tags_removed": []}
    vip["detail"]["tags"].append("vip")
    assert post_zendesk(client, vip).get_json()["feedback"] == "unchanged"
    assert verdicts(sessions, escalated["zendesk"])[0][1:] == ("confirmed", "dashboard")


def _confirm_on_the_dashboard(dashboard_client, ticket_id):
    import re

    from tests.test_dashboard import basic

    page = dashboard_client.get(f"/dashboard/tickets/{ticket_id}", headers=basic()).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    dashboard_client.post(f"/dashboard/tickets/{ticket_id}/verdict", headers=basic(),
                          data={"verdict": "confirmed", "csrf": csrf})


def test_a_trigger_firing_again_on_a_tagged_ticket_does_not_undo_a_later_confirmation(
    client, dashboard_client, sessions, escalated,
):
    """The trigger sends the tags as they are on every update of a tagged ticket: the tag still
    there is no new word after the lead's 'Right call'."""
    body = {"kind": "tags_changed", "ticket_id": "48213", "tags": "shipping sentiment_escalated sentiment_false_alarm"}
    assert post_zendesk(client, body).get_json()["feedback"] == "recorded"
    _confirm_on_the_dashboard(dashboard_client, escalated["zendesk"])
    assert post_zendesk(client, body).get_json()["feedback"] == "unchanged"
    assert verdicts(sessions, escalated["zendesk"])[0][1:] == ("confirmed", "dashboard")


def test_a_freshdesk_rule_firing_again_does_not_undo_a_later_confirmation(client, dashboard_client, sessions, escalated):
    rule = fixture_json("freshdesk_tags_changed.json")
    assert post_freshdesk(client, rule).get_json()["feedback"] == "recorded"
    _confirm_on_the_dashboard(dashboard_client, escalated["freshdesk"])
    rule["ticket"]["updated_at"] = (utcnow() + timedelta(minutes=1)).isoformat()  # a note added later
    assert post_freshdesk(client, rule).get_json()["feedback"] == "unchanged"
    assert verdicts(sessions, escalated["freshdesk"]) == [("low", "confirmed", "dashboard")]


def test_after_a_leads_verdict_only_an_event_that_adds_the_tag_records_a_false_alarm(
    client, dashboard_client, sessions, escalated,
):
    _confirm_on_the_dashboard(dashboard_client, escalated["zendesk"])
    body = {"kind": "tags_changed", "ticket_id": "48213", "tags": "sentiment_false_alarm"}
    assert post_zendesk(client, body).get_json()["feedback"] == "unchanged"
    added = fixture_json("zendesk_tags_changed.json")  # the event says the tag was added: a new word
    added["time"] = (utcnow() + timedelta(seconds=1)).isoformat()
    assert post_zendesk(client, added).get_json()["feedback"] == "recorded"
    assert verdicts(sessions, escalated["zendesk"])[0][1:] == ("false_alarm", "zendesk")
