"""The worker hands the scorer the customer's earlier messages as context, also one it stored
unread (unsupported language: an LLM that failed on it, then the offline scorer): it was written,
and the LLM reads German. The same, whether the earlier message was scored in the same turn or
read back from the stored history, as the conversation API and `ticketpulse eval` do."""

from __future__ import annotations

import pytest

from tests.test_unanswered_counts_unread_messages import (  # noqa: F401 (fixtures)
    ANYONE, GERMAN, SCRIPT, UnreadGerman, fake_zendesk, say,
)
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
from ticketpulse.runtime import build_runtime


@pytest.fixture
def scorer():
    return UnreadGerman(dict(SCRIPT))


@pytest.fixture
def runtime(config, environment, engine, fake_zendesk, scorer):
    policy = HttpPolicy(attempts=3, max_wait=5, backoff=0.01)
    helpdesks = {"zendesk": ZendeskHelpdesk(ZendeskClient(fake_zendesk.url, fake_zendesk.email, fake_zendesk.token, policy))}
    return build_runtime(config, environment, engine=engine, scorer=scorer, helpdesks=helpdesks)


@pytest.mark.parametrize("turns", ["one turn", "a turn per message"])
def test_an_unread_earlier_message_is_in_the_next_messages_context(client, runtime, scorer, turns):
    say(client, GERMAN[0], 0)
    if turns == "a turn per message":
        runtime.worker.drain()
    say(client, ANYONE, 1)
    runtime.worker.drain()

    assert scorer.calls == [(GERMAN[0], ()), (ANYONE, (GERMAN[0],))]
