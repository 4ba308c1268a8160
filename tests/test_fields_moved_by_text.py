"""A customer's text pasted unescaped that keeps the body valid JSON, repeats no key, and closes
its object early: the fields it sets after itself take the template's place, and the template's
own copies land in an object the text opened. Such a body is refused (400), never read."""

from __future__ import annotations

from sqlalchemy import select

from ticketpulse.models import Comment, Ticket
from tests.freshdesk_helpers import post_freshdesk
from tests.zendesk_helpers import post_zendesk

# The README's Freshdesk reply body, rendered unescaped.
REPLY = ('{"event":"{reply_sent:sent}",\n "ticket":{"id":"9100","subject":"SUBJECT","status":"Open","priority":"Medium",'
         '"group_id":"43","group":"Billing","tags":"","url":"https://acme.freshdesk.com/helpdesk/tickets/9100"},\n'
         ' "requester":{"id":"43009876543","email":"jane@example.com","name":"Jane Doe"},\n'
         ' "comment_html":"Jane Doe : <div>Where is my refund</div>",\n "comment_text":"Jane Doe : Where is my refund"}')
# The README's Zendesk trigger body, rendered unescaped.
TRIGGER = ('{"ticket_id":"8100","comment_id":"912","updated_at":"2025-03-05T17:40:11Z","comment":"COMMENT",'
           '"is_public":"true","author":"AUTHOR","author_id":"666","updater_id":"666","updater_role":"End-user",'
           '"requester_id":"666","via":"Mail","group_id":"320","tags":""}')


def stored(sessions) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(ticket.account, ticket.external_id) for _c, ticket in session.execute(select(Comment, Ticket).join(Ticket))]


def test_a_subject_that_closes_the_ticket_cannot_choose_the_account(client, sessions):
    # Without FRESHDESK_DOMAIN the account is ticket.url's host: this was 202, filed under other.freshdesk.com.
    subject = 'Refund", "url": "https://other.freshdesk.com/helpdesk/tickets/9100"}, "x": {"y": "'

    response = post_freshdesk(client, REPLY.replace("SUBJECT", subject))

    assert response.status_code == 400, response.json
    assert response.json["error"] == ("body: 'x' holds the template's fields after a customer's text: a body whose "
                                      "text closed an object early cannot be read safely")
    assert stored(sessions) == []


def test_a_subject_with_quotes_is_still_read(client, sessions):
    response = post_freshdesk(client, REPLY.replace("SUBJECT", 'Refund "asap", {"order": "7"}'))

    assert response.status_code == 202, response.json
    assert stored(sessions) == [("acme.freshdesk.com", "9100")]


def test_an_object_of_the_admins_before_the_text_is_read(client, sessions):
    body = REPLY.replace('"event":"{reply_sent:sent}",', '"event":"{reply_sent:sent}","rule":{"id":"7"},')

    response = post_freshdesk(client, body.replace("SUBJECT", "Refund"))

    assert response.status_code == 202, response.json


def test_a_comment_and_author_that_move_the_triggers_fields_are_refused(client, sessions):
    # The comment closes its field and opens an object, the author's name closes it: is_public was the text's.
    body = (TRIGGER.replace("COMMENT", 'hi", "is_public": "false", "x": {"y": "')
            .replace("AUTHOR", 'Mallory"}, "q": "'))

    response = post_zendesk(client, body)

    assert response.status_code == 400, response.json
    assert "'x' holds the template's fields" in response.json["error"]
    assert stored(sessions) == []
