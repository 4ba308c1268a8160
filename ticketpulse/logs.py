"""Logging for the CLI and for the web app under gunicorn: one line per event, on stderr.

`--log-format json` (or TICKETPULSE_LOG_FORMAT=json) writes one JSON object per line for log
shippers: time, level, logger, message, and the traceback as `exc_info` when there is one.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from datetime import datetime, timezone

LOG_FORMATS = ("text", "json")
LOG_FORMAT_VARIABLE = "TICKETPULSE_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# Line breaks and other control characters, written as escapes: a URL path or a header can carry
# them, and a text log line must never end where the sender chose (a forged next line).
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7f, *range(0x80, 0xa0))}
_ESCAPES |= {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, one line per event (a traceback still follows on lines of its own), its time
    in UTC and marked so, as every other time ticketpulse shows (not the host's zone, unnamed)."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def formatMessage(self, record: logging.LogRecord) -> str:
        return _escape(super().formatMessage(record))

    def formatException(self, exc_info) -> str:
        """The traceback's own lines as Python writes them; the exception's text (and its notes),
        which may carry a customer's words, escaped as the message is."""
        report = traceback.TracebackException(*exc_info)
        _escape_exception_texts(report)
        return "".join(report.format()).rstrip("\n")


def _escape(text: str) -> str:
    # isprintable() is false for every character _ESCAPES maps: the common line skips the
    # per-character translate (a webhook's log line is on the ingest hot path).
    return text if text.isprintable() else text.translate(_ESCAPES)


def _escape_exception_texts(report: traceback.TracebackException) -> None:
    """Every exception of the report: its causes, contexts and the members of a group."""
    seen: set[int] = set()
    pending = [report]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current._str = _escape(current._str)  # what format_exception_only writes after "Type: "
        if isinstance(current.__notes__, (list, tuple)):
            current.__notes__ = [_escape(str(note)) for note in current.__notes__]
        if isinstance(getattr(current, "msg", None), str):  # a SyntaxError's message, written instead
            current.msg = _escape(current.msg)
        pending += [current.__cause__, current.__context__, *(current.exceptions or ())]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_format_from_environment() -> str:
    """TICKETPULSE_LOG_FORMAT, lower-cased; "text" when unset."""
    return (os.environ.get(LOG_FORMAT_VARIABLE) or "text").strip().lower()


def configure_logging(verbose: bool = False, log_format: str | None = None) -> None:
    """Set up the root logger once; a host that configured logging already keeps its own."""
    root = logging.getLogger()
    if root.handlers:
        return
    chosen = log_format or log_format_from_environment()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if chosen not in LOG_FORMATS:
        logging.getLogger("ticketpulse").warning(
            "%s=%r is not one of %s; writing text logs", LOG_FORMAT_VARIABLE, chosen, ", ".join(LOG_FORMATS)
        )
