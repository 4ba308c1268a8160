"""The ticket snapshot stored with a Zendesk trigger's comment (what the dry-run update is built
from) holds only the fields a trigger template has: "status" and "priority" are in none, so in a
trigger body they are a customer's text's."""

from __future__ import annotations

from sqlalchemy import select

from ticketpulse.models import Comment
from tests.test_trigger_fields_added_by_text import README
from tests.zendesk_helpers import post_zendesk


def stored_snapshot(sessions) -> dict:
    with sessions() as session:
        [comment] = session.scalars(select(Comment)).all()
        return comment.ticket_snapshot


def test_a_status_and_priority_the_text_adds_to_valid_json_are_not_the_tickets(client, sessions):
    body = README.replace("COMMENT", 'Still broken!!!", "status": "solved", "priority": "low", "x": "')

    assert post_zendesk(client, body).status_code == 202
    snapshot = stored_snapshot(sessions)
    assert "status" not in snapshot and "priority" not in snapshot
    assert (snapshot["requester_id"], snapshot["group_id"], snapshot["updated_at"]) == (
        "666", "320", "2025-03-05T17:40:11Z")


def test_a_priority_read_out_of_an_unescaped_message_is_not_the_tickets(client, sessions):
    # Ended at "priority" (the body after it is JSON as it stands): read as an admin's own field.
    body = README.replace("COMMENT", 'I said "no", "priority": "urgent", "x": "')

    assert post_zendesk(client, body).status_code == 202
    assert "priority" not in stored_snapshot(sessions)

