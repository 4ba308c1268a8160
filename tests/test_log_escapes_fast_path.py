"""The text log's escapes are skipped for a line that is all printable: that must never skip a
character the escapes exist for."""

import logging

from ticketpulse.logs import _ESCAPES, TEXT_FORMAT, TextFormatter


def test_every_escaped_character_makes_a_line_not_printable():
    assert [hex(code) for code in _ESCAPES if chr(code).isprintable()] == []


def test_a_printable_line_is_written_as_it_is_and_a_forged_break_is_escaped():
    formatter = TextFormatter(TEXT_FORMAT)

    def line(message):
        return formatter.format(logging.LogRecord("ticketpulse.webhooks", logging.INFO, __file__, 1, message, (), None))

    assert line("ticket zendesk:1:7: accepted — “ok” ü").endswith(": ticket zendesk:1:7: accepted — “ok” ü")
    assert line("refused /x\nFAKE INFO line\u2028more").endswith(": refused /x\\nFAKE INFO line\\u2028more")
