"""The repair takes runs of ordinary characters at once (bench/lenient_json.py has the timings):
what it reads is the same as character by character, at the edges of a run too."""

from __future__ import annotations

import pytest

from ticketpulse.webhooks import zendesk
from ticketpulse.webhooks.lenient_json import loads

# A trigger template with a key of the admin's ("subject") after the comment.
ADMINS = ('{"ticket_id":"8100","comment_id":"912","comment":"COMMENT","subject":"Login broken","is_public":"true",'
          '"author":"Dana Cole","tags":""}')


def test_every_raw_control_character_in_a_broken_message_is_kept():
    message = 'He said "no".' + "".join(chr(code) for code in range(0x20)) + ' end'

    data = loads(ADMINS.replace("COMMENT", message), zendesk.SHAPE)

    assert (data["comment"], data["subject"]) == (message, "Login broken")


def test_a_raw_line_break_after_a_key_of_no_template_keeps_that_key_the_customers():
    # Ended at "zz", the body up to the next text would need a repair (the raw line break): it is
    # not an admin's field, and the message goes on to the template's "subject".
    message = 'It failed "x", "zz": "line\nbreak'

    data = loads(ADMINS.replace("COMMENT", message), zendesk.SHAPE)

    assert (data["comment"], data["subject"], "zz" in data) == (message, "Login broken", False)


def test_an_admins_key_ends_the_message_when_the_body_after_it_is_json():
    data = loads(ADMINS.replace("COMMENT", 'I said "no", "zz": "1'), zendesk.SHAPE)

    assert (data["comment"], data["zz"], data["subject"]) == ('I said "no', "1", "Login broken")


def test_pasted_json_that_closes_the_body_early_stays_in_the_message():
    message = 'It says "a", "zz": "1"} and then {"comment":"b "c", "zz": "2"} again'

    data = loads(ADMINS.replace("COMMENT", message), zendesk.SHAPE)

    assert (data["comment"], data["subject"]) == (message, "Login broken")


@pytest.mark.parametrize(("message", "read"), [
    ('he said "no" , then "yes"', 'he said "no" , then "yes"'),  # quote, space, comma: judged in full
    ('ends in a quote "', 'ends in a quote "'),
    ('two quotes ""', 'two quotes ""'),
    ('a \\u00e9 escape, a C:\\users path and a \\\\ pair', 'a \u00e9 escape, a C:\\users path and a \\ pair'),
])
def test_quotes_and_backslashes_at_the_edges_of_a_run(message, read):
    raw = '{"ticket_id":"1","comment":"' + message + '","tags":"a b"}'

    assert loads(raw, zendesk.SHAPE) == {"ticket_id": "1", "comment": read, "tags": "a b"}
