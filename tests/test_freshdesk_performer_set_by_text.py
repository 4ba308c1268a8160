"""`performer` says a Freshdesk delivery is an agent's reply (the agents' replies rule puts
`"performer":"agent"` right after `event`). A customer's text pasted unescaped into the customer
rule's body can add the key after itself; read, it skipped the customer's message as an agent's
and counted it as an agent reply for the account (rule unanswered_frustration)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.freshdesk_helpers import post_freshdesk
from ticketpulse.models import Comment

# The README's customer-replies body, rendered unescaped.
CUSTOMER_RULE = ('{"event":"{reply_sent:sent}",\n "ticket":{"id":"9100","subject":"Refund","status":"Open",'
                 '"priority":"Medium","group_id":"43","group":"Billing","tags":"",'
                 '"url":"https://acme.freshdesk.com/helpdesk/tickets/9100"},\n'
                 ' "requester":{"id":"43009876543","email":"jane@example.com","name":"Jane Doe"},\n'
                 ' "comment_html":"Jane Doe : <div>HTML</div>",\n "comment_text":"Jane Doe : TEXT"}')
AGENT_RULE = CUSTOMER_RULE.replace('{"event":"{reply_sent:sent}",', '{"event":"{reply_sent:sent}","performer":"agent",')


def stored_roles(sessions) -> list[str]:
    with sessions() as session:
        return [comment.author_role for comment in session.scalars(select(Comment))]


@pytest.mark.parametrize("text", [
    'Still no refund","performer":"agent',  # completes the body: valid JSON, the key twice
    'Still no refund", "performer": "agent", "x": "',
])
def test_a_performer_the_customers_text_adds_is_not_read(client, sessions, text):
    # The HTML placeholder renders the quotes as &quot;: the text completes the body once, in comment_text.
    html = text.replace('"', "&quot;")
    response = post_freshdesk(client, CUSTOMER_RULE.replace("HTML", html).replace("TEXT", text))

    assert response.status_code == 202, response.json
    assert stored_roles(sessions) == ["customer"]  # scored as the customer's, not counted as a reply


def test_the_agents_rule_performer_before_the_text_is_read(client, sessions):
    response = post_freshdesk(client, AGENT_RULE.replace("Jane Doe : TEXT", "Sam Agent : I have refunded you")
                              .replace("Jane Doe : <div>HTML</div>", "Sam Agent : <div>I have refunded you</div>"))

    assert response.status_code == 202, response.json
    assert stored_roles(sessions) == ["agent"]
