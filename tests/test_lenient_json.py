import json

import pytest

from webhooks.lenient_json import loads


def test_valid_json_is_read_as_is():
    assert loads('{"a": "x \\"quoted\\"", "b": [1, 2]}') == {"a": 'x "quoted"', "b": [1, 2]}


def test_raw_newlines_and_tabs_inside_strings_are_accepted():
    assert loads('{"comment": "line one\nline\ttwo"}') == {"comment": "line one\nline\ttwo"}


def test_unescaped_quotes_in_a_value_are_recovered():
    raw = '{"ticket_id":"5","comment":"He said "no refund", again. "Really"?","tags":"a b"}'
    assert loads(raw) == {"ticket_id": "5", "comment": 'He said "no refund", again. "Really"?', "tags": "a b"}


def test_stray_backslashes_are_kept_literally():
    assert loads('{"path":"C:\\Users\\dana","n":{"x":"1"}}') == {"path": "C:\\Users\\dana", "n": {"x": "1"}}


def test_hopeless_input_still_raises_a_json_error():
    with pytest.raises(json.JSONDecodeError):
        loads("{not json at all")
