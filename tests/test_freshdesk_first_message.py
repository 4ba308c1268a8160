"""A Freshdesk ticket's first message (its description) comes with the ticket, not as a reply:
the README's Ticket Creation rule delivers it, and a furious first email escalates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from ticketpulse.models import Comment, Escalation
from ticketpulse.runtime import build_runtime
from tests.conftest import fixture_json
from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer
from tests.freshdesk_helpers import post_freshdesk
from tests.test_freshdesk_escalation import live_freshdesk

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def fake_freshdesk():
    fake = FakeFreshdesk()
    fake.add_ticket("4522", priority=1)
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


def test_the_readme_s_ticket_creation_rule_sends_the_description_in_the_reply_body():
    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("**2. The rule for the first message.**"):]
    body = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    assert '"comment_text":"{{ticket.description_text}}"' in body and '"comment_html":"{{ticket.description}}"' in body
    assert "**Ticket Creation**" in section.split("```")[0]


def test_a_furious_first_email_is_stored_as_the_requesters_and_escalated(client, sessions, config, environment, engine,
                                                                          fake_freshdesk):
    runtime = build_runtime(config, environment, engine=engine,
                            helpdesks={"freshdesk": live_freshdesk(fake_freshdesk)})
    response = post_freshdesk(client, fixture_json("freshdesk_ticket_created.json"))
    assert response.status_code == 202, response.json
    runtime.worker.drain()

    with sessions() as session:
        (comment,) = session.scalars(select(Comment)).all()
        escalations = session.scalars(select(Escalation)).all()
    assert (comment.author_role, comment.is_public, comment.status) == ("customer", True, "done")
    assert comment.author_name == "Jane Doe" and comment.text.startswith("You charged my card TWICE")
    assert [e.severity for e in escalations] == ["critical"]
    assert [w.path for w in fake_freshdesk.writes()] == ["/api/v2/tickets/4522", "/api/v2/tickets/4522/notes"]
