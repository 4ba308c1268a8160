"""`ticketpulse serve`'s web server: waitress, refusing an oversized body before it is read.

waitress buffers a whole request body before it calls the app, so the app's own limit comes too
late (a 100 MB body would be read in full first). `max_request_body_size` makes waitress stop
reading at the limit, Content-Length or chunked; its refusals are answered in the app's JSON.
"""

from __future__ import annotations

import json

import waitress
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from ticketpulse.webhooks.refusals import record_server_refusal


def too_large_message(max_body_bytes: int) -> str:
    """The 413 message, the same from waitress and from the app."""
    return f"request body larger than {max_body_bytes} bytes"


class JsonErrorTask(ErrorTask):
    """waitress's own error answers (413 over the limit, 400 bad framing) as {"error": ...}."""

    def execute(self) -> None:
        error = self.request.error
        if error.code == 413:
            message = too_large_message(self.channel.adj.max_request_body_size - 1)
        else:
            message = f"{error.reason}: {error.body}"
        if 400 <= error.code < 500:  # the app never sees it: logged and counted here, as the app's are
            self._record_refusal(error.code, message)
        body = json.dumps({"error": message}).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)

    def _record_refusal(self, status: int, message: str) -> None:
        request, addr = self.request, self.channel.addr
        remote = addr[0] if isinstance(addr, tuple) and addr else None
        # A request line that did not parse has no method or path (and is no webhook).
        record_server_refusal(getattr(request, "command", None) or "?", getattr(request, "path", None) or "",
                              remote, status, message)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def create_server(app, *, host: str, port: int, threads: int, max_body_bytes: int):
    """The bound server (the port is taken here: binding errors surface before serving)."""
    sockets: dict = {}
    # waitress refuses a body of max_request_body_size bytes or more: one over the app's limit.
    server = waitress.create_server(
        app, map=sockets, host=host, port=port, threads=threads, max_request_body_size=max_body_bytes + 1
    )
    for listener in list(sockets.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = JsonErrorChannel
    return server


def serve(app, *, host: str, port: int, threads: int, max_body_bytes: int) -> None:
    create_server(app, host=host, port=port, threads=threads, max_body_bytes=max_body_bytes).run()
