"""A Zendesk trigger body's fields that file or date the comment (comment_id, account_id,
created_at, updated_at) are not read where a customer's text, pasted unescaped, could have added
them: anywhere after the first text field, the body's last field too (the text may be the
template's last field)."""

from __future__ import annotations

from sqlalchemy import select

from ticketpulse.models import Comment, Ticket, utcnow
from tests.zendesk_helpers import post_zendesk

# The README's trigger template, rendered with the message unescaped.
README = ('{"ticket_id":"8100","comment_id":"912","updated_at":"2025-03-05T17:40:11Z","comment":"COMMENT",'
          '"is_public":"true","author":"Mallory","author_id":"666","updater_id":"666","updater_role":"End-user",'
          '"requester_id":"666","via":"Mail","group_id":"320","tags":""}')
# The README's template before updated_at moved ahead of the comment.
OLD_README = ('{"ticket_id":"8100","comment_id":"912","comment":"COMMENT","is_public":"true","author":"Mallory",'
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


def test_the_fields_before_the_text_are_read(client, sessions):
    # The README's template gives comment_id and updated_at before the comment; an admin may add
    # the account there.
    body = ('{"ticket_id":"8100","account_id":"9876543","comment_id":"912","updated_at":"2025-03-05T17:40:11Z",'
            '"comment":"Still broken!!!","updater_role":"End-user"}')

    assert post_zendesk(client, body).status_code == 202
    comment, ticket = stored(sessions)
    assert (ticket.account, comment.comment_key) == ("9876543", "id:912")
    assert comment.commented_at.isoformat().startswith("2025-03-05T17:40:11")


# reference/zendesk.md's shape: the comment is the template's last field.
COMMENT_LAST = '{"ticket_id":"8100","updater_role":"End-user","comment":"COMMENT"}'


def test_fields_the_text_adds_as_the_bodys_last_are_not_read(client, sessions):
    # Read as "the body's last field", they filed the text under comment 377 dated 2001.
    before = utcnow()
    body = COMMENT_LAST.replace("COMMENT", 'Still broken!!!", "comment_id": "377", "updated_at": "2001-01-01T00:00:00Z')

    assert post_zendesk(client, body).status_code == 202
    comment, _ticket = stored(sessions)
    assert comment.comment_key.startswith("text:")
    assert comment.commented_at.replace(tzinfo=None) >= before.replace(tzinfo=None)  # dated on arrival


def test_an_account_the_text_adds_as_the_bodys_last_is_not_read(client, sessions):
    # Read, it was refused 400 as not ZENDESK_ACCOUNT_ID (without it: the comment filed under 555).
    body = COMMENT_LAST.replace("COMMENT", 'Still broken!!!", "account_id": "555')

    response = post_zendesk(client, body)

    assert response.status_code == 202, response.json
    _comment, ticket = stored(sessions)
    assert (ticket.account, ticket.external_id) == ("9876543", "8100")


def test_an_older_template_with_updated_at_last_dates_the_comment_on_arrival(client, sessions):
    # The README's template before updated_at moved ahead of the comment: its time is not told from
    # one the text added; the comment is dated on arrival, the body's time kept in the snapshot.
    before = utcnow()
    body = OLD_README.replace("COMMENT", "Still broken!!!")

    assert post_zendesk(client, body).status_code == 202
    comment, _ticket = stored(sessions)
    assert comment.comment_key == "id:912"
    assert comment.commented_at.replace(tzinfo=None) >= before.replace(tzinfo=None)
    assert comment.ticket_snapshot["updated_at"] == "2025-03-05T17:40:11Z"
