"""A customer's message with JSON pasted in (a log, an API error), in a template body that the
helpdesk rendered unescaped: the message is read whole and scored on its own ticket; its text never
chooses a field."""

from __future__ import annotations

from sqlalchemy import select

from ticketpulse.models import Comment, Ticket
from tests.freshdesk_helpers import post_freshdesk
from tests.zendesk_helpers import post_zendesk

# The README's trigger template, rendered with the message unescaped.
TRIGGER = ('{"ticket_id":"8100","comment_id":"912","comment":"COMMENT","is_public":"true","author":"Dana Cole",'
           '"author_id":"301","updater_id":"301","updater_role":"End-user","requester_id":"301","via":"Mail",'
           '"group_id":"320","tags":"","updated_at":"2025-03-05T17:40:11Z"}')
# The README's Freshdesk reply body, the same way.
REPLY = ('{"event":"{reply_sent:sent}",\n "ticket":{"id":"9100","subject":"Refund","status":"Open","priority":"Medium",'
         '"group_id":"43","group":"Billing","tags":"","url":"https://acme.freshdesk.com/helpdesk/tickets/9100"},\n'
         ' "requester":{"id":"43009876543","email":"jane@example.com","name":"Jane Doe"},\n'
         ' "comment_html":"Jane Doe : <div>COMMENT</div>",\n "comment_text":"Jane Doe : COMMENT"}')


def stored(sessions) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [(ticket.external_id, comment.comment_key, comment.body)
                for comment, ticket in session.execute(select(Comment, Ticket).join(Ticket).order_by(Comment.id))]


def test_a_pasted_log_that_repeats_the_ticket_id_is_scored_whole_on_its_ticket(client, sessions):
    # Was 400 "key 'ticket_id' appears twice": the message was never scored.
    message = 'Your API says {"error": "not found", "ticket_id": "123"} again!!! Fix it.'

    response = post_zendesk(client, TRIGGER.replace("COMMENT", message))

    assert response.status_code == 202, response.json
    assert stored(sessions) == [("8100", "id:912", message)]


def test_pasted_json_with_keys_no_template_has_does_not_cut_the_message_short(client, sessions):
    # `", "retry":` looked like the body's next field: the message ended at "timeout" and the
    # rest went into a field nobody reads.
    message = 'The export failed with "error": "timeout", "retry": "no", and nobody answers. Useless.'

    response = post_zendesk(client, TRIGGER.replace("COMMENT", message))

    assert response.status_code == 202, response.json
    assert stored(sessions) == [("8100", "id:912", message)]


def test_a_pasted_status_is_no_field_of_the_trigger(client, sessions):
    # "status" and "priority" are in no trigger template, and in many a pasted API answer.
    message = 'Your API answers {"error": "quota", "status": "failed", "priority": "high"} all day.'

    response = post_zendesk(client, TRIGGER.replace("COMMENT", message))

    assert response.status_code == 202, response.json
    assert stored(sessions) == [("8100", "id:912", message)]


def test_a_freshdesk_reply_with_a_pasted_log_is_read_whole(client, sessions):
    message = 'Still broken: {"status": "failed", "ticket": {"id": "4521"}, "code": "E42"}. Third time!'

    response = post_freshdesk(client, REPLY.replace("COMMENT", message))

    assert response.status_code == 202, response.json
    assert [(ticket, body) for ticket, _key, body in stored(sessions)] == [("9100", message)]


def test_text_that_repeats_a_field_the_template_gives_after_it_is_still_refused(client, sessions):
    # The template's own updated_at comes after the text: which copy is the customer's cannot be
    # told, so the body is refused rather than dated by the text.
    message = 'ok", "updated_at": "2001-01-01T00:00:00Z", "x": "'

    response = post_zendesk(client, TRIGGER.replace("COMMENT", message))

    assert response.status_code == 400
    assert response.json["error"].startswith("body: key 'updated_at' appears twice")
    assert stored(sessions) == []


def test_a_template_with_the_ticket_id_after_the_text_never_lets_the_text_choose_it(client, sessions):
    # Only keys given before any customer text are the template's for sure: here the text's copy
    # comes first, and the template's follows another text field (the author's name).
    template = '{"comment":"COMMENT","ticket_id":"8100","updater_role":"End-user"}'
    body = template.replace("COMMENT", 'ok", "ticket_id": "5158", "author": "x')

    response = post_zendesk(client, body)

    assert response.status_code == 400
    assert response.json["error"].startswith("body: key 'ticket_id' appears twice")
    assert stored(sessions) == []


def test_a_subject_that_repeats_the_tickets_id_stays_text(client, sessions):
    # The subject is the customer's too (an email's subject line), inside the ticket object.
    body = REPLY.replace('"subject":"Refund"', '"subject":"Refund", "id": "4521", "x": ""').replace(
        "COMMENT", "Where is my refund?")

    response = post_freshdesk(client, body)

    assert response.status_code == 202, response.json
    assert [(ticket, body) for ticket, _key, body in stored(sessions)] == [("9100", "Where is my refund?")]
