"""Reading webhook fields at their edges (webhooks/payload.py): what is a placeholder, a false,
an id, a tag, a time too far ahead."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ticketpulse.webhooks.payload import (
    PayloadError,
    boolean,
    id_number,
    identifier,
    is_placeholder,
    tag_list,
    text,
    timestamp,
)


@pytest.mark.parametrize("value", ["{{ticket.latest_comment.id}}", "{{ticket.tags}}"])
def test_an_unrendered_placeholder_reads_as_absent(value):
    assert is_placeholder(value)
    assert text({"comment": value}, "comment") is None


@pytest.mark.parametrize("value", ["see {a: {b: 1}}", "{{ not closed", "use {{name}} then}} x"])
def test_text_that_only_starts_or_ends_like_a_placeholder_is_kept(value):
    assert not is_placeholder(value)
    assert text({"comment": value}, "comment") == value


@pytest.mark.parametrize("value, expected", [("0", False), ("1", True), ("no", False), ("TRUE", True), (0, False)])
def test_the_usual_spellings_of_true_and_false_are_read(value, expected):
    assert boolean({"is_public": value}, "is_public") is expected


def test_a_boolean_where_an_id_belongs_is_refused_naming_the_field():
    with pytest.raises(PayloadError, match="comment.id: expected an id, got a boolean"):
        identifier({"comment": {"id": True}}, "comment.id")


def test_an_id_sent_as_a_whole_float_is_the_integer():
    assert identifier({"id": 48213.0}, "id") == "48213"


@pytest.mark.parametrize("value, expected", [("0377", "377"), ("377", "377"), ("000", "0")])
def test_a_numeric_id_has_one_spelling(value, expected):
    assert id_number(value, "comment.id") == expected


def test_a_tag_list_keeps_scalar_tags_and_drops_nested_lists_and_objects():
    assert tag_list({"tags": ["vip", ["nested"], {"a": 1}, 7, " "]}, "tags") == ["vip", "7"]


def test_a_tag_string_is_split_on_commas_and_spaces():
    assert tag_list({"tags": "vip,billing urgent"}, "tags") == ["vip", "billing", "urgent"]


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_time_a_few_minutes_ahead_is_believed_and_one_an_hour_ahead_is_not():
    now = datetime.now(timezone.utc)
    assert timestamp({"at": _iso(now + timedelta(minutes=4))}, "at") is not None
    assert timestamp({"at": _iso(now + timedelta(hours=1))}, "at") is None
    assert timestamp({"at": _iso(now + timedelta(days=2))}, "at") is None
