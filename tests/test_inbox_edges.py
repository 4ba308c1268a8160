"""The inbox write at its edges (webhooks/inbox.py): a new comment brings a parked ticket back
into the queue at once, and an overlong delivery id is cut to its column, not a 503."""

from __future__ import annotations

from sqlalchemy import select

from ticketpulse.escalation.queue import claim_ticket, release
from ticketpulse.models import Comment
from tests.conftest import fixture_json
from tests.zendesk_helpers import comment_event, post_zendesk


def test_a_new_comment_makes_a_ticket_held_off_for_later_due_at_once(client, sessions):
    assert post_zendesk(client, comment_event("7", "1", "hello", time="2025-03-05T10:00:00Z")).status_code == 202
    release(sessions, claim_ticket(sessions, 30, "a:1:1"), hold_off_seconds=3600)  # parked for an hour
    assert claim_ticket(sessions, 30, "b:2:2") is None

    assert post_zendesk(client, comment_event("7", "2", "are you there?", time="2025-03-05T10:05:00Z")).status_code == 202

    lease = claim_ticket(sessions, 30, "b:2:2")
    assert lease is not None and lease.external_id == "7"


def test_an_overlong_delivery_id_is_stored_cut_to_its_column(client, sessions):
    payload = fixture_json("zendesk_comment_added.json")
    payload["id"] = "e" * 300  # Zendesk's event id, kept as the delivery id

    response = post_zendesk(client, payload)

    assert response.status_code == 202, response.json
    with sessions() as session:
        assert session.scalars(select(Comment.delivery_id)).one() == "e" * 128
