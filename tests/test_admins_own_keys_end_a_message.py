"""An admin's template may carry keys of its own (`"subject":`). Where the customer's text before
one is unescaped, the key ends the message when the body from there to the next text is JSON as
it stands and the whole reads; in a customer's prose or pasted log it stays the customer's words,
and the template's keys keep their protections (a copy of one given before the text is text, one
given after it that repeats is refused)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ticketpulse.models import Comment, Ticket
from ticketpulse.webhooks import freshdesk, zendesk
from ticketpulse.webhooks.lenient_json import RepeatedKey, loads
from tests.freshdesk_helpers import post_freshdesk
from tests.zendesk_helpers import post_zendesk

# A trigger template with a key of the admin's ("subject") after the comment.
ADMINS = ('{"ticket_id":"8100","comment_id":"912","comment":"COMMENT","subject":"Login broken","is_public":"true",'
          '"author":"Dana Cole","updater_role":"End-user","tags":""}')


def test_an_admins_key_after_an_unescaped_quote_ends_the_message():
    # Was comment='I said "no"","subject":"Login broken' and no subject.
    data = loads(ADMINS.replace("COMMENT", 'I said "no"'), zendesk.SHAPE)

    assert (data["comment"], data["subject"], data["is_public"]) == ('I said "no"', "Login broken", "true")


def test_an_admins_key_in_a_freshdesk_ticket_ends_the_subject():
    body = ('{"event":"{reply_sent:sent}","ticket":{"id":"9100","subject":"Refund "now"","product":"Pro",'
            '"url":"https://acme.freshdesk.com/helpdesk/tickets/9100"},"comment_text":"Jane : Where?"}')

    data = loads(body, freshdesk.SHAPE)

    assert data["ticket"] == {"id": "9100", "subject": 'Refund "now"', "product": "Pro",
                              "url": "https://acme.freshdesk.com/helpdesk/tickets/9100"}


@pytest.mark.parametrize("message", [
    'The export failed with "error": "timeout", "retry": "no", and nobody answers.',
    'Your API answers {"error": "quota", "status": "failed"} all day.',
    'I set "a", "b": "vip" and still nothing',
])
def test_a_key_of_no_template_in_prose_stays_the_customers_words(message):
    data = loads(ADMINS.replace("COMMENT", message), zendesk.SHAPE)

    assert (data["comment"], data["subject"]) == (message, "Login broken")


def test_a_copy_of_a_key_given_before_the_text_is_still_text():
    message = 'I said "no", "zz": "1", "ticket_id": "5158'

    data = loads(ADMINS.replace("COMMENT", message), zendesk.SHAPE)

    assert (data["ticket_id"], data["comment"]) == ("8100", message)


def test_a_later_key_the_text_repeats_is_still_refused():
    with pytest.raises(RepeatedKey):
        loads(ADMINS.replace("COMMENT", 'I said "no", "zz": "1", "is_public": "false'), zendesk.SHAPE)


def test_the_message_is_stored_whole_and_the_admins_key_after_it(client, sessions):
    response = post_zendesk(client, ADMINS.replace("COMMENT", 'It says "denied"'))

    assert response.status_code == 202, response.json
    with sessions() as session:
        [(comment, ticket)] = session.execute(select(Comment, Ticket).join(Ticket)).all()
        assert (ticket.external_id, comment.comment_key, comment.body) == ("8100", "id:912", 'It says "denied"')


def test_a_freshdesk_admins_key_is_not_a_way_to_the_account(client, sessions):
    # The subject ends at the admin's "product"; the text's url after it repeats the template's.
    body = ('{"event":"{reply_sent:sent}","ticket":{"id":"9100","subject":"SUBJECT","product":"Pro",'
            '"url":"https://acme.freshdesk.com/helpdesk/tickets/9100"},"comment_text":"Jane : Where?"}')
    subject = 'Refund "a", "product": "x", "url": "https://other.freshdesk.com/helpdesk/tickets/9100'

    response = post_freshdesk(client, body.replace("SUBJECT", subject))

    assert response.status_code == 400
    assert response.json["error"].startswith("body: key 'url' appears twice")
    with sessions() as session:
        assert session.scalars(select(Ticket)).all() == []
