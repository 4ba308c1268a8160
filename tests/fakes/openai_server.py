"""A fake OpenAI-compatible server: POST /v1/chat/completions with scriptable behaviours.

    fake = FakeOpenAI()
    fake.script(fake.error(429, headers={"Retry-After": "1"}), fake.answer({...}))
    with LiveServer(fake.app) as server:
        client = openai.OpenAI(api_key="test", base_url=server.url + "/v1", max_retries=0)
        ...
    fake.requests  # every request received: {"json": body, "headers": {...}, "at": monotonic}

`reset()` clears requests and script, so one server can serve a whole test module.
`max_in_flight` is the most requests answered at once; `message_of(body)` / `context_of(body)`
take the rated message and the earlier messages (context) out of a received body.
Scripted behaviours are used one per request, in order; after they run out, `default` answers
(a callable taking the request body and returning a behaviour; by default a neutral answer).
Behaviours are plain callables (body) -> werkzeug Response, built by the helpers below.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from typing import Any, Callable

from werkzeug.wrappers import Request, Response

Behaviour = Callable[[dict], Response]

NEUTRAL = {"sarcasm": False, "cues": [], "score": 0.0, "frustration": 0.1, "urgency": 0.1, "label": "neutral"}


def _json(status: int, payload: Any, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload), status=status, headers=headers or {}, mimetype="application/json")


def completion(
    body: dict,
    content: str | None,
    *,
    refusal: str | None = None,
    finish_reason: str = "stop",
    prompt_tokens: int = 150,
    completion_tokens: int = 40,
) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


_MESSAGE = re.compile(r"<message>\n(.*)\n</message>", re.S)
_EARLIER = re.compile(r"<earlier_message n=\"\d+\">\n(.*?)\n</earlier_message>", re.S)


def message_of(body: dict) -> str:
    """The message being rated in a received request body."""
    return _MESSAGE.search(body["messages"][-1]["content"]).group(1)


def context_of(body: dict) -> list[str]:
    """The earlier messages (context) in a received request body, in the order sent."""
    return _EARLIER.findall(body["messages"][-1]["content"])


class FakeOpenAI:
    def __init__(self, default: Callable[[dict], Behaviour] | None = None) -> None:
        self._lock = threading.Lock()
        self.reset(default)

    def reset(self, default: Callable[[dict], Behaviour] | None = None) -> "FakeOpenAI":
        """Forget requests and script (to share one server between tests)."""
        with self._lock:
            self.requests: list[dict] = []
            # Requests being answered right now (a slow one may outlive the test that sent it),
            # and the most answered at once since the last reset.
            self.in_flight: int = getattr(self, "in_flight", 0)
            self.max_in_flight = self.in_flight
            self._script: deque[Behaviour] = deque()
            self.default = default or (lambda body: self.answer(NEUTRAL))
        return self

    # -- scripting ------------------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> "FakeOpenAI":
        with self._lock:
            self._script.extend(behaviours)
        return self

    @staticmethod
    def answer(answer: dict | str, **kwargs: Any) -> Behaviour:
        """A 200 completion whose content is `answer` (a dict is JSON-encoded, a str sent raw)."""
        content = answer if isinstance(answer, str) else json.dumps(answer)
        return lambda body: _json(200, completion(body, content, **kwargs))

    @staticmethod
    def refusal(text: str = "I'm sorry, I can't help with that.") -> Behaviour:
        return lambda body: _json(200, completion(body, None, refusal=text))

    @staticmethod
    def error(status: int, message: str = "fake error", headers: dict | None = None) -> Behaviour:
        kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
        payload = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
        return lambda body: _json(status, payload, headers)

    @staticmethod
    def slow(seconds: float, then: Behaviour) -> Behaviour:
        def behave(body: dict) -> Response:
            time.sleep(seconds)
            return then(body)

        return behave

    @staticmethod
    def dripping(seconds_per_chunk: float, then: Behaviour, chunk_bytes: int = 4) -> Behaviour:
        """The answer's headers at once, then its body a few bytes at a time: every read is
        quick, the whole answer slow (a server or proxy trickling it out)."""

        def behave(body: dict) -> Response:
            answer = then(body)
            data = answer.get_data()

            def trickle():
                for start in range(0, len(data), chunk_bytes):
                    time.sleep(seconds_per_chunk)
                    yield data[start:start + chunk_bytes]

            headers = {"Content-Type": answer.mimetype, "Content-Length": str(len(data))}
            return Response(trickle(), status=answer.status_code, headers=headers, direct_passthrough=True)

        return behave

    # -- inspection -----------------------------------------------------------------------------

    @property
    def bodies(self) -> list[dict]:
        with self._lock:
            return [r["json"] for r in self.requests]

    def prompt_of(self, index: int = -1) -> str:
        """All message contents of one received request, joined."""
        return "\n".join(m.get("content") or "" for m in self.bodies[index]["messages"])

    # -- WSGI -----------------------------------------------------------------------------------

    def app(self, environ, start_response):
        request = Request(environ)
        if request.method != "POST" or request.path.rstrip("/") != "/v1/chat/completions":
            response = _json(404, {"error": {"message": f"no route {request.method} {request.path}"}})
            return response(environ, start_response)
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return _json(400, {"error": {"message": "body is not JSON"}})(environ, start_response)
        with self._lock:
            self.requests.append({"json": body, "headers": dict(request.headers), "at": time.monotonic()})
            behaviour = self._script.popleft() if self._script else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if behaviour is None:
                behaviour = self.default(body)
            return behaviour(body)(environ, start_response)
        finally:
            with self._lock:
                self.in_flight -= 1
