"""Run a WSGI app (a fake helpdesk or model server, or ticketpulse itself) on loopback."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server


class LiveServer:
    """A threaded HTTP server on 127.0.0.1 and a free port, for the length of a test."""

    def __init__(self, app) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
