"""Property-based fuzzing of the webhook endpoints: authenticated random bodies never give a 5xx."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import fixture_json
from tests.freshdesk_helpers import reply, token_headers
from tests.zendesk_helpers import signed_headers

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# st.text() never draws a surrogate (category Cs); JSON can carry a lone one ("\ud800", and
# json.dumps writes one so), which UTF-8 and the databases cannot.
with_surrogates = st.text(st.characters(categories=["Cs", "Ll", "Zs"]), max_size=20)
EDGE_TIMES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]
json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40),
    st.text(min_size=250, max_size=400), st.text(alphabet="a\x00 \n\"\\<>", max_size=20), with_surrogates,
    st.sampled_from(["", "{{ticket.id}}", "zen:ticket:", "true", "End-user", "<b>x</b>", "1e400", "\x00", "\ud800",
                     *EDGE_TIMES]),
)
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=20)
# Deeper than the JSON parser's recursion limit, well within the body size limit.
depth = st.integers(min_value=900, max_value=60_000)
deeply_nested = st.one_of(
    depth.map(lambda n: b"[" * n),
    depth.map(lambda n: b'{"a":' * n),
    depth.map(lambda n: b"[" * n + b"]" * n),
    depth.map(lambda n: b'{"ticket_id":"1","comment":"x","tags":' + b"[" * n + b"]" * n + b"}"),
)


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield prefix + (key,)
            yield from _paths(child, prefix + (key,))


@st.composite
def mutated(draw, payload: dict):
    """A real payload with some fields replaced by random JSON or removed."""
    data = json.loads(json.dumps(payload))
    paths = list(_paths(data))
    for path in draw(st.lists(st.sampled_from(paths), max_size=4)):
        parent = data
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or path[-1] not in parent:
            continue
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_value)
    return json.dumps(data).encode()


def zendesk_bodies():
    return st.one_of(
        st.binary(max_size=300),
        json_value.map(lambda v: json.dumps(v).encode()),
        mutated(fixture_json("zendesk_comment_added.json")),
        mutated(fixture_json("zendesk_trigger.json")),
        st.text(max_size=200).map(lambda t: ('{"ticket_id":"1","comment":"' + t + '"}').encode("utf-8", "surrogatepass")),
        # Ticket ids are numbers (anything else is a 400), so surrogates go in every other string.
        st.tuples(with_surrogates, with_surrogates, with_surrogates).map(lambda t: json.dumps(
            {"ticket_id": "1", "comment": t[1], "author": t[2], "tags": t[0], "updater_role": "End-user",
             "via": t[0], "updated_at": t[2]}).encode()),
        st.sampled_from(EDGE_TIMES).map(lambda time: json.dumps(fixture_json("zendesk_comment_added.json") | {"time": time}).encode()),
        deeply_nested,
    )


@FUZZ
@given(body=zendesk_bodies())
def test_zendesk_endpoint_never_answers_5xx(client, body):
    response = client.post("/webhooks/zendesk", data=body, headers=signed_headers(body))
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True), body)
    assert response.is_json and ("error" in response.json or "status" in response.json)


def freshdesk_bodies():
    template = '{"ticket":{"id":"1","url":"https://acme.freshdesk.com/helpdesk/tickets/1"},"comment_text":"%s"}'
    hosts = st.one_of(st.text(max_size=300), st.text(alphabet="ab9.-", min_size=100, max_size=300))
    return st.one_of(
        st.binary(max_size=300),
        json_value.map(lambda v: json.dumps(v).encode()),
        mutated(fixture_json("freshdesk_reply.json")),
        mutated(fixture_json("freshdesk_reply_numeric.json")),
        st.text(max_size=200).map(lambda t: (template % t).encode("utf-8", "surrogatepass")),
        hosts.map(lambda host: json.dumps(reply("1", "x") | {"ticket": {"id": "1", "url": f"https://{host}/x"}}).encode()),
        st.tuples(with_surrogates, with_surrogates, with_surrogates).map(
            lambda t: json.dumps(reply("1", t[1], name=t[2], tags=t[0], event=t[0])).encode()),
        deeply_nested,
    )


@FUZZ
@given(body=freshdesk_bodies())
def test_freshdesk_endpoint_never_answers_5xx(client, body):
    response = client.post("/webhooks/freshdesk", data=body, headers=token_headers())
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True), body)
    assert response.is_json and ("error" in response.json or "status" in response.json)
