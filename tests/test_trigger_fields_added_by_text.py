"""A Zendesk trigger body's fields that file or date the comment (comment_id, account_id,
created_at, updated_at) are not read where a customer's text, pasted unescaped, could have added
them: after the text, unless as the body's last field."""

from __future__ import annotations

from sqlalchemy import select

from ticketpulse.models import Comment, Ticket, utcnow
from tests.zendesk_helpers import post_zendesk

# The README's trigger template, rendered with the message unescaped.
README = ('{"ticket_id":"8100","comment_id":"912","comment":"COMMENT","is_public":"true","author":"Mallory",'
          '"author_id":"666","updater_id":"666","updater_role":"End-user","requester_id":"666","via":"Mail",'
          '"group_id":"320","tags":"","updated_at":"2025-03-05T17:40:11Z"}')
# The template of reference/zendesk.md: no comment id, no time.
SHORT = ('{"ticket_id":"8100","comment":"COMMENT","author":"Mallory","updater_id":"666","updater_role":"End-user",'
         '"requester_id":"666","via":"Mail","group_id":"320","tags":"","brand":"Acme"}')


def stored(sessions):
    with sessions() as session:
        [(comment, ticket)] = session.execute(select(Comment, Ticket).join(Ticket)).all()
        return comment, ticket


def test_a_time_added_by_the_text_does_not_date_the_comment(client, sessions):
    # created_at (read before updated_at) is in no template: the text chose the comment's time.
    body = README.replace("COMMENT", 'Still broken!!!", "created_at": "2001-01-01T00:00:00Z", "x": "')

    assert post_zendesk(client, body).status_code == 202
    comment, _ticket = stored(sessions)
    assert comment.commented_at.isoformat().startswith("2025-03-05T17:40:11")


def test_an_account_added_by_the_text_does_not_file_the_comment(client, sessions):
    # The text's account_id was read as the signed account, and refused (400) as not the server's
    # ZENDESK_ACCOUNT_ID: the message was never scored. (Without it, it filed the comment apart.)
    body = README.replace("COMMENT", 'Still broken!!!", "account_id": "555", "x": "')

    response = post_zendesk(client, body)

    assert response.status_code == 202, response.json
    _comment, ticket = stored(sessions)
    assert (ticket.account, ticket.external_id) == ("9876543", "8100")


def test_a_comment_id_and_time_added_to_a_template_without_them_are_not_read(client, sessions):
    before = utcnow()
    body = SHORT.replace("COMMENT", 'Still broken!!!", "comment_id": "377", "updated_at": "2001-01-01T00:00:00Z", "x": "')

    assert post_zendesk(client, body).status_code == 202
    comment, _ticket = stored(sessions)
    assert comment.comment_key.startswith("text:")  # the text's fingerprint, not comment 377
    assert comment.commented_at.replace(tzinfo=None) >= before.replace(tzinfo=None)  # dated on arrival


def test_the_fields_where_no_text_can_add_them_are_read(client, sessions):
    # Before the first text field, and as the last field (the template's end follows the text);
    # an account_id there: tests/test_webhook_security.py.
    body = ('{"ticket_id":"8100","comment_id":"912","comment":"Still broken!!!","updater_role":"End-user",'
            '"updated_at":"2025-03-05T17:40:11Z"}')

    assert post_zendesk(client, body).status_code == 202
    comment, _ticket = stored(sessions)
    assert comment.comment_key == "id:912"
    assert comment.commented_at.isoformat().startswith("2025-03-05T17:40:11")
