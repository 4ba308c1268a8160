"""A database error's message (logged with its traceback by the web app and the worker) names
the statement, never the values bound to it: those are the customer's words."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from ticketpulse.models import Comment, Ticket, utcnow

CUSTOMERS_WORDS = "my card 4111 1111 1111 1111 was charged twice"


def comment(ticket: Ticket) -> Comment:
    now = utcnow()
    return Comment(ticket=ticket, comment_key="3100", fingerprint="f" * 64, source="zendesk_comment",
                   author_name="Ann Customer", author_role="end-user", is_public=True, body=CUSTOMERS_WORDS,
                   text=CUSTOMERS_WORDS, commented_at=now, received_at=now)


def test_a_database_error_never_quotes_the_customers_words(sessions):
    with sessions.begin() as session:
        ticket = Ticket(helpdesk="zendesk", account="acme", external_id="7")
        session.add(comment(ticket))

    with pytest.raises(IntegrityError) as refused:  # the same comment key again
        with sessions.begin() as session:
            session.add(comment(session.get(Ticket, ticket.id)))
            session.flush()

    message = str(refused.value)
    assert "INSERT INTO comments" in message
    assert CUSTOMERS_WORDS not in message and "Ann Customer" not in message
