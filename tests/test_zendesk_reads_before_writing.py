"""A Zendesk retry after a write whose answer was never seen reads the ticket's comments before it
writes: the update carries our private note, so the note on the ticket says the escalation was
made, and a retry never makes it again, even when an agent has undone it in between. A first try
reads no comments (GET + PUT, as before), and a retry whose earlier PUT never took still escalates."""

from __future__ import annotations

import logging

import pytest
import requests

from tests.conftest import ZENDESK_SENIOR_GROUP
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.scripted_scorer import ScriptedScorer
from tests.test_freshdesk_escalation import WorkerKilled, make_due, paths, rows
from tests.test_zendesk_client import CRITICAL, plan
from tests.zendesk_helpers import comment_event, post_zendesk
from ticketpulse.escalation.helpdesk import PermanentError
from ticketpulse.integrations.http import HttpPolicy
from ticketpulse.integrations.zendesk import ZendeskClient, ZendeskHelpdesk
from ticketpulse.models import Escalation
from ticketpulse.runtime import build_runtime

TICKET = "/api/v2/tickets/48213"
UNDONE = "our note is on it but not our tags: an agent undid the escalation; left so"


@pytest.fixture
def fake_zendesk():
    fake = FakeZendesk()
    fake.add_ticket("48213", tags=["shipping"])
    with LiveServer(fake.app()) as server:
        fake.url = server.url
        yield fake


def live_zendesk(fake: FakeZendesk, session: requests.Session | None = None) -> ZendeskHelpdesk:
    # No in-call retry: the try ends on the answer it got (as when every in-call retry fails too).
    policy = HttpPolicy(attempts=1, max_wait=1, backoff=0.01, session=session)
    return ZendeskHelpdesk(ZendeskClient(fake.url, fake.email, fake.token, policy))


@pytest.fixture
def runtime_for(config, environment, engine):
    def build(helpdesk: ZendeskHelpdesk):
        return build_runtime(config, environment, engine=engine, scorer=ScriptedScorer({CRITICAL: (-0.95, 0.96, 0.9)}),
                             helpdesks={"zendesk": helpdesk})
    return build


def say_critical(client) -> None:
    event = comment_event("48213", "403", CRITICAL, time="2025-03-05T13:00:00Z")
    assert post_zendesk(client, event).status_code == 202


def dying_after_the_put_answer() -> requests.Session:
    """A session whose worker dies the moment the first PUT's answer arrives (a SIGKILL then):
    Zendesk made the update, nothing of ours saw it."""
    session = requests.Session()
    died = []

    def die(response, *args, **kwargs):
        if response.request.method == "PUT" and not died:
            died.append(1)
            raise WorkerKilled()

    session.hooks["response"].append(die)
    return session


def agent_undoes_the_escalation(fake: FakeZendesk) -> None:
    ticket = fake.tickets["48213"]
    assert ticket["group_id"] == ZENDESK_SENIOR_GROUP and "sentiment_severity_critical" in ticket["tags"]
    ticket.update(group_id=320, priority="normal", tags=["shipping"], updated_at="2025-03-05T18:00:00Z")


@pytest.mark.parametrize("lost", ["504", "worker-died"])
def test_a_retry_after_a_lost_put_answer_leaves_an_escalation_an_agent_undid_alone(
        client, sessions, runtime_for, fake_zendesk, caplog, lost):
    if lost == "504":
        fake_zendesk.lost_answers = {"PUT": 1}  # Zendesk made the update; a proxy answered 504
        runtime = runtime_for(live_zendesk(fake_zendesk))
        say_critical(client)
        runtime.worker.drain()
        [escalation] = rows(sessions, Escalation)
        assert escalation.status == "pending" and escalation.request["earlier_tries"][0]["answer"].startswith(
            "unknown: PUT ")
    else:
        runtime = runtime_for(live_zendesk(fake_zendesk, session=dying_after_the_put_answer()))
        say_critical(client)
        with pytest.raises(WorkerKilled):
            runtime.worker.drain()
    assert len(fake_zendesk.private_comments("48213")) == 1
    # Before the retry, an agent reads the note, disagrees, and puts the ticket back.
    agent_undoes_the_escalation(fake_zendesk)

    make_due(sessions)
    with caplog.at_level(logging.INFO, logger="ticketpulse.helpdesk"):
        runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and escalation.request["requests"] == []
    assert escalation.reason == UNDONE  # what the lead reads on the row: not "already carried this severity"
    assert UNDONE in caplog.text
    assert len(paths(fake_zendesk, "PUT")) == 1  # not escalated a second time
    ticket = fake_zendesk.tickets["48213"]
    assert (ticket["group_id"], ticket["priority"], ticket["tags"]) == (320, "normal", ["shipping"])
    assert len(fake_zendesk.private_comments("48213")) == 1
    assert paths(fake_zendesk)[-2:] == [("GET", TICKET), ("GET", f"{TICKET}/comments")]


def test_a_first_try_reads_no_comments(client, sessions, runtime_for, fake_zendesk):
    runtime = runtime_for(live_zendesk(fake_zendesk))
    say_critical(client)
    runtime.worker.drain()

    assert paths(fake_zendesk) == [("GET", TICKET), ("PUT", TICKET)]
    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and [r["method"] for r in escalation.request["requests"]] == ["PUT"]


def test_a_retry_whose_earlier_put_never_took_escalates(client, sessions, runtime_for, fake_zendesk):
    fake_zendesk.method_failures = {"PUT": [(503, None)]}  # refused before anything was written
    runtime = runtime_for(live_zendesk(fake_zendesk))
    say_critical(client)
    runtime.worker.drain()
    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "pending" and "earlier_tries" in escalation.request  # 503: its answer unknown
    assert fake_zendesk.private_comments("48213") == []

    make_due(sessions)
    runtime.worker.drain()

    [escalation] = rows(sessions, Escalation)
    assert escalation.status == "applied" and [r["method"] for r in escalation.request["requests"]] == ["PUT"]
    assert paths(fake_zendesk)[-3:] == [("GET", TICKET), ("GET", f"{TICKET}/comments"), ("PUT", TICKET)]
    ticket = fake_zendesk.tickets["48213"]
    assert ticket["group_id"] == ZENDESK_SENIOR_GROUP and "sentiment_severity_critical" in ticket["tags"]
    [note] = fake_zendesk.private_comments("48213")
    assert note["body"] == escalation.note


# -- the adapter and the comments endpoint, without the pipeline -------------------------------


NOTE = "[ticketpulse] Escalated: severity HIGH.\nRule: frustration (0.96 >= 0.85)."


def test_our_note_found_pages_back_newest_first_only_as_far_as_it(fake_zendesk):
    fake_zendesk.comments_page_size = 2
    fake_zendesk.add_comment("48213", "My order never arrived.")
    fake_zendesk.add_comment("48213", NOTE, public=False, author_id=361000000001)
    for n in range(5):
        fake_zendesk.add_comment("48213", f"Any news? ({n})")

    applied = live_zendesk(fake_zendesk).apply(plan(note=NOTE, may_be_applied_already=True))

    assert applied.already and applied.requests == []
    assert paths(fake_zendesk) == [("GET", TICKET)] + [("GET", f"{TICKET}/comments")] * 3  # 5 newer, then ours
    assert fake_zendesk.writes() == []


def test_the_note_quoted_in_a_public_comment_or_another_note_is_not_ours(fake_zendesk):
    fake_zendesk.comments_page_size = 2
    fake_zendesk.add_comment("48213", f"You wrote: {NOTE}")  # the customer pastes it back
    fake_zendesk.add_comment("48213", "[ticketpulse] Escalated: severity MEDIUM.", public=False)
    fake_zendesk.add_comment("48213", "Still waiting.")

    applied = live_zendesk(fake_zendesk).apply(plan(note=NOTE, may_be_applied_already=True))

    assert not applied.already and [r["method"] for r in applied.requests] == ["PUT"]
    assert paths(fake_zendesk) == [("GET", TICKET), ("GET", f"{TICKET}/comments"), ("GET", f"{TICKET}/comments"),
                                   ("PUT", TICKET)]
    assert [c["body"] for c in fake_zendesk.private_comments("48213")][-1] == NOTE


def test_a_private_comment_whose_body_is_not_text_fails_naming_the_field(fake_zendesk):
    fake_zendesk.add_comment("48213", "x", public=False)["body"] = {"text": NOTE}

    with pytest.raises(PermanentError) as raised:
        live_zendesk(fake_zendesk).apply(plan(note=NOTE, may_be_applied_already=True))

    assert f'GET {TICKET}/comments: expected "body" of a comment as a string, got dict' in str(raised.value)
    assert fake_zendesk.writes() == []


def test_the_comments_of_a_deleted_ticket_are_a_permanent_404(fake_zendesk):
    client = ZendeskClient(fake_zendesk.url, fake_zendesk.email, fake_zendesk.token, HttpPolicy(attempts=1))

    with pytest.raises(PermanentError) as raised:
        list(client.list_comments("99999"))

    assert raised.value.status == 404 and "Zendesk has no ticket 99999" in str(raised.value)


def test_the_comments_need_the_api_token(fake_zendesk):
    client = ZendeskClient(fake_zendesk.url, fake_zendesk.email, "wrong", HttpPolicy(attempts=1))

    with pytest.raises(PermanentError) as raised:
        list(client.list_comments("48213"))

    assert raised.value.status == 401 and "ZENDESK_API_TOKEN" in str(raised.value)
