"""In-call retries wait what the helpdesk asked for (README: "A 429 waits `Retry-After`"), not
the short backoff: retrying sooner only earns another 429."""

from __future__ import annotations

import time

import requests

from ticketpulse.integrations.http import HttpPolicy


def _response(status: int, url: str, headers: dict[str, str] | None = None, body: bytes = b"{}") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = body
    response.url = url
    response.request = requests.Request("GET", url).prepare()
    return response


class ScriptedSession:
    def __init__(self, *responses: requests.Response) -> None:
        self.responses = list(responses)
        self.sent_at: list[float] = []

    def request(self, method, url, **kwargs):
        self.sent_at.append(time.monotonic())
        return self.responses.pop(0)


def test_a_429_is_retried_after_the_retry_after_seconds_not_the_backoff():
    url = "https://acme.zendesk.com/api/v2/tickets/1"
    session = ScriptedSession(_response(429, url, {"Retry-After": "1"}), _response(200, url, body=b'{"ok": true}'))
    policy = HttpPolicy(attempts=3, max_wait=5, backoff=0.01, session=session)

    assert policy.request("GET", url) == {"ok": True}

    assert len(session.sent_at) == 2
    assert session.sent_at[1] - session.sent_at[0] >= 0.95


def test_a_retry_after_beyond_the_longest_wait_is_not_waited_in_the_call():
    url = "https://acme.zendesk.com/api/v2/tickets/1"
    session = ScriptedSession(_response(429, url, {"Retry-After": "120"}), _response(200, url))
    policy = HttpPolicy(attempts=3, max_wait=5, backoff=0.01, session=session)

    started = time.monotonic()
    try:
        policy.request("GET", url)
    except Exception as exc:  # the caller reschedules the work for later
        assert getattr(exc, "retry_after", None) == 120
    else:
        raise AssertionError("a 429 asking for 120 s was retried within the call")
    assert time.monotonic() - started < 2 and len(session.sent_at) == 1
