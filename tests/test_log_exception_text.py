"""A traceback in a text log: the exception's text (which can carry a customer's words) cannot
start a forged log line, and the traceback's own lines stay as Python writes them."""

from __future__ import annotations

import logging

from ticketpulse.logs import TEXT_FORMAT, TextFormatter

FORGED = "2026-12-04T21:00:00.000Z INFO ticketpulse.escalation: ticket zendesk:acme:7 escalated"


def logged(exc: BaseException) -> list[str]:
    try:
        raise exc
    except BaseException as raised:
        record = logging.LogRecord("ticketpulse.worker", logging.ERROR, __file__, 1, "scoring failed", (),
                                   (type(raised), raised, raised.__traceback__))
    return TextFormatter(TEXT_FORMAT).format(record).splitlines()  # also breaks at \r and U+2028


def test_a_line_break_in_an_exception_message_is_escaped_and_the_traceback_kept():
    lines = logged(ValueError(f"cannot parse comment 'hi\n{FORGED}\r\u2028x'"))

    assert lines[0].endswith(" ERROR ticketpulse.worker: scoring failed")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[2].startswith('  File "') and lines[2].endswith(", in logged")
    assert lines[-1] == f"ValueError: cannot parse comment 'hi\\n{FORGED}\\r\\u2028x'"
    assert FORGED not in [line.strip() for line in lines]


def test_a_cause_and_a_note_are_escaped_too():
    cause = ValueError(f"first\n{FORGED}")
    cause.add_note(f"comment was: \n{FORGED}")
    error = RuntimeError("wrapped")
    error.__cause__ = cause

    lines = logged(error)

    assert not any(line.startswith("2026-12-04") for line in lines)
    assert f"ValueError: first\\n{FORGED}" in lines and f"comment was: \\n{FORGED}" in lines
    assert "The above exception was the direct cause of the following exception:" in lines
    assert lines[-1] == "RuntimeError: wrapped"


def test_a_group_member_is_escaped():
    lines = logged(ExceptionGroup("batch", [ValueError(f"one\n{FORGED}")]))

    assert not any(line.lstrip(" |").startswith("2026-12-04") for line in lines)
    assert any(line.endswith(f"ValueError: one\\n{FORGED}") for line in lines)
