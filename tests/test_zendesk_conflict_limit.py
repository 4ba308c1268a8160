"""A ticket that agents keep changing under us: the escalation reads and retries the PUT a few
times (CONFLICT_RETRIES) within one try, then gives the try up as transient (retried later),
instead of racing the agents on and on."""

from __future__ import annotations

from ticketpulse.integrations.zendesk import CONFLICT_RETRIES
from ticketpulse.models import Escalation
from tests.test_pipeline import fake_zendesk, rows, runtime, say, scorer  # noqa: F401 (fixtures)


def test_an_update_that_conflicts_every_time_is_put_three_times_then_left_for_later(client, sessions, runtime, fake_zendesk):
    fake_zendesk.concurrent_edits = 50
    say(client, "I am done. Cancel everything, I'm reporting you to my bank!!!", 3)
    runtime.worker.drain()

    puts = [r for r in fake_zendesk.requests if r.method == "PUT"]
    assert CONFLICT_RETRIES == 3 and len(puts) == 3
    (escalation,) = rows(sessions, Escalation)
    assert escalation.status != "applied"
    assert "409 conflict 3 times" in (escalation.reason or "")
