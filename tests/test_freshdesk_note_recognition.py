"""Is our note already on the ticket? (integrations/freshdesk.py, read on a retry so the note is
never posted twice nor skipped): only a private note counts, and its HTML body is read as text."""

from __future__ import annotations

from ticketpulse.integrations.freshdesk import note_on_ticket

NOTE = "[ticketpulse] Escalated to the senior group: severity HIGH.\nRule: frustration (frustration 0.80 >= 0.75)."
FIRST_LINE = NOTE.splitlines()[0]


def test_a_public_reply_quoting_the_notes_first_line_is_not_our_note():
    conversations = [{"private": False, "body_text": f"As our system said: {FIRST_LINE}"}]
    assert not note_on_ticket(conversations, NOTE, "GET /api/v2/tickets/1/conversations")


def test_our_private_note_is_recognised_from_its_html_body_with_entities():
    # Freshdesk's editor writes non-breaking spaces and escapes as entities; body_text may be absent.
    body = "<div>[ticketpulse]&nbsp;Escalated to the senior group:&nbsp;severity HIGH.<br>Rule: ...</div>"
    assert note_on_ticket([{"private": True, "body": body}], NOTE, "GET /api/v2/tickets/1/conversations")


def test_a_private_note_of_someone_else_is_not_ours():
    conversations = [{"private": True, "body_text": "Customer called, escalating by hand."}]
    assert not note_on_ticket(conversations, NOTE, "GET /api/v2/tickets/1/conversations")
