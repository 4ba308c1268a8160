import json

import pytest

from ticketpulse.webhooks.lenient_json import RepeatedKey, Shape, loads


def test_valid_json_is_read_as_is():
    assert loads('{"a": "x \\"quoted\\"", "b": [1, 2]}') == {"a": 'x "quoted"', "b": [1, 2]}


def test_raw_newlines_and_tabs_inside_strings_are_accepted():
    assert loads('{"comment": "line one\nline\ttwo"}') == {"comment": "line one\nline\ttwo"}


def test_unescaped_quotes_in_a_value_are_recovered():
    raw = '{"ticket_id":"5","comment":"He said "no refund", again. "Really"?","tags":"a b"}'
    assert loads(raw) == {"ticket_id": "5", "comment": 'He said "no refund", again. "Really"?', "tags": "a b"}


def test_stray_backslashes_are_kept_literally():
    assert loads('{"path":"C:\\Users\\dana","n":{"x":"1"}}') == {"path": "C:\\Users\\dana", "n": {"x": "1"}}


def test_a_message_ending_in_a_backslash_does_not_swallow_the_next_field():
    assert loads('{"comment":"back\\slash \\","is_public":"true"}') == {"comment": "back\\slash \\", "is_public": "true"}


def test_hopeless_input_still_raises_a_json_error():
    with pytest.raises(json.JSONDecodeError):
        loads("{not json at all")


def test_a_quote_followed_by_comma_and_quote_stays_in_the_message():
    raw = '{"comment_text":"You wrote "it shipped", "on time". No.","ticket":{"id":"7"}}'
    assert loads(raw) == {"comment_text": 'You wrote "it shipped", "on time". No.', "ticket": {"id": "7"}}


def test_a_quote_followed_by_a_colon_stays_in_the_message():
    raw = '{"comment_text":"Tracking says "error": 404 and "status":"lost"","n":"1"}'
    assert loads(raw) == {"comment_text": 'Tracking says "error": 404 and "status":"lost"', "n": "1"}


def test_json_pasted_by_a_customer_inside_a_value_is_recovered():
    raw = '{"comment_text":"The app showed {"code":"E42"}, then crashed","tags":"x"}'
    assert loads(raw) == {"comment_text": 'The app showed {"code":"E42"}, then crashed', "tags": "x"}


def test_the_last_value_of_a_nested_object_ends_at_its_brace():
    raw = '{"ticket":{"id":"7","subject":"Refund "now""},\n "requester":{"name":"Jane "JD" Doe"}}'
    assert loads(raw) == {"ticket": {"id": "7", "subject": 'Refund "now"'}, "requester": {"name": 'Jane "JD" Doe'}}


@pytest.mark.parametrize("raw", [
    '{"ticket_id":"8100","comment":"hi", "ticket_id": "5158", "x": ""}',  # valid JSON as sent
    '{"ticket_id":"8100","comment":"he said "no", "ticket_id": "5158", "x": ""}',  # only once repaired
    '{"ticket":{"id":"1","id":"2"}}',  # nested
])
def test_a_repeated_key_is_refused_not_resolved_to_its_last_copy(raw):
    with pytest.raises(RepeatedKey, match="'(ticket_)?id' appears twice"):
        loads(raw)


def test_a_backslash_u_without_four_hex_digits_is_a_literal_backslash():
    raw = '{"comment":"log in C:\\users\\dana and \\u00e9","is_public":"true"}'
    assert loads(raw) == {"comment": "log in C:\\users\\dana and \u00e9", "is_public": "true"}


@pytest.mark.parametrize("message", [
    'I clicked "Save", "Error": it crashed',
    'Error "E42", "E43": see the log',
])
def test_a_quoted_phrase_followed_by_prose_after_a_colon_stays_in_the_message(message):
    # `, "Error":` looks like the next key, but what follows it is no JSON value: it is prose.
    raw = '{"comment":"' + message + '","is_public":"true"}'
    assert loads(raw) == {"comment": message, "is_public": "true"}


def test_an_unquoted_placeholder_rendered_empty_is_refused_not_read_into_the_field_before_it():
    # A template's `"group_id":{{ticket.group.id}}` rendered empty: broken JSON, not a value.
    with pytest.raises(json.JSONDecodeError):
        loads('{"requester_id":"301","group_id":,"tags":"x"}')


SHAPE = Shape(text=frozenset({"comment"}), keys={"": frozenset({"ticket_id", "comment", "tags"})})


@pytest.mark.parametrize("message", [
    'see {"ticket_id": "5", "error": "x"} here',  # a copy of a key given before the text
    'it said "error": "timeout", "retry": "no", then nothing',  # keys no template has
])
def test_with_the_templates_shape_a_message_ends_only_before_a_template_key(message):
    raw = '{"ticket_id":"1","comment":"' + message + '","tags":"a"}'
    assert loads(raw, SHAPE) == {"ticket_id": "1", "comment": message, "tags": "a"}


def test_a_key_given_after_the_text_began_may_be_the_texts_and_still_repeats():
    # The template's ticket_id after the text: which copy is the text's cannot be told.
    raw = '{"comment":"ok", "ticket_id": "5", "x": "y","ticket_id":"1"}'
    with pytest.raises(RepeatedKey, match="'ticket_id' appears twice"):
        loads(raw, SHAPE)
