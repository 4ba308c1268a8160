"""`ticketpulse serve`'s waitress refuses an oversized body itself, before the app: that refusal is
logged and counted like the app's own (README, "Refused webhooks")."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from tests.conftest import FRESHDESK_SECRET
from tests.test_webhook_refusals import refusal_lines, refusals
from ticketpulse.webhooks.serving import create_server

MAX_BODY_BYTES = 2048


@pytest.fixture
def serve(app):
    """The app behind `serve`'s waitress on a loopback port, as `ticketpulse serve` builds it."""
    server = create_server(app, host="127.0.0.1", port=0, threads=2, max_body_bytes=MAX_BODY_BYTES)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    server.task_dispatcher.shutdown()
    thread.join(timeout=5)


def post_raw(port: int, path: str, body: bytes) -> bytes:
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Webhook-Token: {FRESHDESK_SECRET}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            connection.sendall(request)
        except (BrokenPipeError, ConnectionResetError):  # answered (413) and closed before the end
            pass
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_an_oversized_webhook_refused_by_serves_server_is_logged_and_counted(serve, caplog):
    caplog.set_level(logging.WARNING, "ticketpulse.webhooks")
    before = refusals("freshdesk", "too_large")

    answer = post_raw(serve, "/webhooks/freshdesk", b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}')

    assert answer.startswith(b"HTTP/1.1 413")
    assert refusals("freshdesk", "too_large") == before + 1
    [line] = refusal_lines(caplog)
    assert line.startswith("refused POST /webhooks/freshdesk from 127.0.0.1: 413 too_large: request body larger than")


def test_an_oversized_body_on_another_path_is_no_webhook_refusal(serve, caplog):
    caplog.set_level(logging.WARNING, "ticketpulse.webhooks")

    answer = post_raw(serve, "/api/v1/messages", b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}')

    assert answer.startswith(b"HTTP/1.1 413")
    assert refusal_lines(caplog) == []
