"""JSON that helpdesk templates produce, read leniently.

Zendesk trigger bodies and Freshdesk automation bodies are templates: a customer's message is
pasted between quotes, and whether quotes and newlines in it are escaped is not documented.
`loads` accepts proper JSON, then raw control characters, then repairs stray quotes and
backslashes inside string values, so a message that breaks the JSON is recovered, not rejected.
The repair knows whether a string is a key or a value: a value ends only where the template's
structure goes on (`}`, `]`, or `,` and the next `"key":`), so quotes in a message followed by
`:` or `, "` stay in the message.

A key may appear once per object: the parser would keep the last copy, so text that completes
the template's JSON (`…", "ticket_id": "5158", "x": "`) would choose the ticket it is filed under.
Given the template's `Shape` (which values hold a customer's text, and each object's keys), a
message's text ends only before a key of the template that has not been given yet: a copy of a
key the template gave before any customer text (`ticket_id` ahead of `comment`), and a key no
template has (`"error":` in a pasted log), are the customer's words, unless that key is an admin's
own (`"subject":"Login broken",` up to the next text is JSON as it stands, and the whole body then
reads: the message ends there). A body that is valid JSON as sent but repeats a key was pasted
unescaped, and is read that way. A key that still repeats is refused (`RepeatedKey`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

_VALID_ESCAPES = set('"\\/bfnrtu')
# A `\u` escape is one only with four hex digits after it: `C:\users` is a path, not an escape.
_UNICODE_ESCAPE = re.compile(r"u[0-9A-Fa-f]{4}")
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
# Every control character (raw in a string, where JSON wants it escaped) as its escape.
_ESCAPED_CONTROLS = {chr(code): _CONTROL_ESCAPES.get(chr(code), f"\\u{code:04x}") for code in range(0x20)}
_CONTROL = re.compile(r"[\x00-\x1f]")
_SPACE = re.compile(r"\s*")
# Runs the repair takes at once instead of a character at a time (a body may be large): inside a
# string, all but a quote and a backslash (control characters escaped); outside, all but structure.
_PLAIN_IN_STRING = re.compile(r'[^"\\]+')
_PLAIN_OUTSIDE = re.compile(r'[^"{}\[\]:,]+')
# What a value's closing quote may be followed by, apart from whitespace ("" is the body's end).
_MAY_FOLLOW_A_VALUE = ("", ",", "}", "]")
# What follows a value that really ends: `, "next_key":` and the start of a JSON value (template
# keys are short and plain). `, "Error": it crashed` is a customer's prose, not the next field;
# `, "group_id":,` (an unquoted placeholder rendered empty) is a broken template, refused as such.
_KEY_AHEAD = re.compile(
    r'\s*"([^"\\\n]{1,100})"\s*:\s*'
    r'(?:["{\[,}\]]|\Z|(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)\s*(?:[,}\]]|\Z))'
)


class RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} appears twice in one object")
        self.key = key


@dataclass(frozen=True)
class Shape:
    """A template's body: the dotted paths of the values that hold a customer's text
    (`requester.name`), and per object path ("" for the top) the keys the template may have."""

    text: frozenset[str] = frozenset()
    keys: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class _Frame:
    kind: str  # "{" or "["
    path: str
    trusted: set[str] = field(default_factory=set)  # keys given before any customer text
    key: str | None = None  # the object's latest key


def strays(data: Any, shape: Shape) -> list[str]:
    """The objects that a customer's text opened to hold the template's own fields.

    Text that keeps the body valid JSON and repeats no key can close its object early, set that
    object's later fields itself (`Refund", "url": "https://other…"}, "x": {"y": "`), and leave
    the template's copies in an object of its own (`x`). Such an object comes after a text value,
    at a path the template has no object at, and holds keys of the template's: their paths.
    """
    known = frozenset().union(*shape.keys.values())
    found: list[str] = []
    after_text = False
    # In document order, without recursion (a body may be nested as deep as the parser allows).
    pending = [_items(data, "")] if isinstance(data, (dict, list)) else []
    while pending:
        entry = next(pending[-1], None)
        if entry is None:
            pending.pop()
            continue
        path, item = entry
        if isinstance(item, dict):
            if after_text and path not in shape.keys and known.intersection(item):
                found.append(path)
            pending.append(_items(item, path))
        elif isinstance(item, list):
            pending.append(_items(item, path))
        elif path in shape.text:
            after_text = True
    return found


def _items(container: dict | list, path: str):
    """(path, value) of a container's values; an array's items share its path."""
    if isinstance(container, dict):
        return ((_child(path, key), value) for key, value in container.items())
    return ((path, value) for value in container)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKey(key)
            seen.add(key)
    return result


def _parse(raw: str) -> Any:
    return json.loads(raw, strict=False, object_pairs_hook=_unique_keys)


def loads(raw: str, shape: Shape | None = None) -> Any:
    try:
        return _parse(raw)
    except RepeatedKey as repeated:
        if shape is None:
            raise
        # No template repeats a key: a customer's text was pasted unescaped and completed the JSON.
        try:
            return _parse(repair(raw, shape))
        except json.JSONDecodeError:
            raise repeated from None
    except json.JSONDecodeError as first_error:
        try:
            return _parse(repair(raw, shape))
        except json.JSONDecodeError:
            raise first_error from None


def _skip_space(raw: str, at: int) -> int:
    return _SPACE.match(raw, at).end()


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _key_follows(raw: str, at: int, frame: _Frame, shape: Shape, is_text: bool) -> bool:
    """Does the next key of `frame`'s object start at `at`? After a customer's text only a key the
    template may have, and has not given yet, does."""
    match = _KEY_AHEAD.match(raw, at)
    if match is None:
        return False
    if not is_text:
        return True
    key = match.group(1)
    known = shape.keys.get(frame.path)
    return key not in frame.trusted and (known is None or key in known)


def _closes_value(raw: str, after: int, stack: list[_Frame], shape: Shape, is_text: bool) -> bool:
    """Is the quote just before `after` the end of a value string, judging by what follows?

    In an object a value ends at `}` or at `,` followed by the next `"key":`; in an array at `]`
    or `,`; at the top level at the end of the text. A quote followed by anything else, even by
    `:` or `, "`, is part of the customer's message. (Read in place, never copying the rest of
    the body: a long body has a quote on every line.)
    """
    at = _skip_space(raw, after)
    if at == len(raw):
        return True
    if not stack:
        return False
    ch = raw[at]
    frame = stack[-1]
    outer = stack[-2] if len(stack) > 1 else None
    if frame.kind == "{":
        if ch == "}":
            return _closes_container(raw, at + 1, outer, shape, is_text)
        return ch == "," and _key_follows(raw, at + 1, frame, shape, is_text)
    if ch == "]":
        return _closes_container(raw, at + 1, outer, shape, is_text)
    if ch == ",":
        at = _skip_space(raw, at + 1)
        nxt = raw[at:at + 1]
        return nxt in ('"', "{", "[", "") or nxt.isdigit() or nxt in "-tfn"
    return False


def _closes_container(raw: str, at: int, outer: _Frame | None, shape: Shape, is_text: bool) -> bool:
    """After a `}` or `]` that would close the container (in `outer`): is that plausible JSON structure?"""
    at = _skip_space(raw, at)
    if outer is None:  # the body's own end: nothing may follow it
        return at == len(raw)
    if at == len(raw) or raw[at] in "}]":
        return True
    if raw[at] == ",":
        if outer.kind == "{":
            return _key_follows(raw, at + 1, outer, shape, is_text)
        if _KEY_AHEAD.match(raw, at + 1) is not None:
            return True
        nxt = _skip_space(raw, at + 1)
        return raw[nxt:nxt + 1] in ("{", "[")
    return False


def _closes(raw: str, after: int, is_key: bool, is_text: bool, stack: list[_Frame], shape: Shape) -> bool:
    """Does the quote just before `after` end the string it is in?"""
    if is_key:
        at = _skip_space(raw, after)
        return raw[at:at + 1] == ":"
    return _closes_value(raw, after, stack, shape, is_text)


@dataclass
class _State:
    """Where a repair is: the text written so far, the open containers, and what is being read."""

    out: list[str] = field(default_factory=list)
    stack: list[_Frame] = field(default_factory=list)  # the open containers
    at: int = 0
    expect_key: bool = False  # in an object, before a key
    in_string: bool = False
    is_key: bool = False
    is_text: bool = False
    texts_begun: bool = False  # from here on a key may be the customer's, never trusted
    key_start: int = 0
    # A message ended at a key no template has: the body up to the next text must be JSON that
    # needs no repair (an admin's own field, not a customer's prose).
    strict: bool = False
    # Reading a trial end of a message: what it writes is used only if the whole then reads.
    trial: bool = False

    def copy(self) -> "_State":
        stack = [_Frame(f.kind, f.path, set(f.trusted), f.key) for f in self.stack]
        return _State(list(self.out), stack, self.at, self.expect_key, self.in_string, self.is_key, self.is_text,
                      self.texts_begun, self.key_start, self.strict, self.trial)


# How many places a message may end at a key no template has are tried per body (each may read the
# rest of the body once).
_TRIES = 4


def _unknown_key_follows(raw: str, after: int, frame: _Frame, shape: Shape) -> bool:
    """After a quote in a message: `, "key":` with a key of none of the template's, and none given
    before the text (a copy of one of those stays the customer's words)?"""
    at = _skip_space(raw, after)
    match = _KEY_AHEAD.match(raw, at + 1) if raw[at:at + 1] == "," else None
    if match is None:
        return False
    known = shape.keys.get(frame.path)
    return known is not None and match.group(1) not in known and match.group(1) not in frame.trusted


def _reads(raw: str) -> bool:
    try:
        _parse(raw)
    except (json.JSONDecodeError, RepeatedKey):
        return False
    return True


def repair(raw: str, shape: Shape | None = None) -> str:
    """`raw` with its stray quotes, backslashes and control characters escaped.

    A message's quote before a key no template has (an admin's own `"subject":`) ends the message
    when the rest of the body, up to the next text, is JSON as it stands and the whole then reads;
    otherwise the key is the customer's words (`"error": "timeout", and…` in a pasted log)."""
    return _repair(raw, shape or Shape(), _State(), [_TRIES])


def _repair(raw: str, shape: Shape, state: _State, tries: list[int]) -> str | None:
    """The repair from `state` on; None when `state.strict` and the body needs a repair before the next text."""
    s = state
    out, stack = s.out, s.stack
    while s.at < len(raw):
        i = s.at
        plain = (_PLAIN_IN_STRING if s.in_string else _PLAIN_OUTSIDE).match(raw, i)
        if plain is not None:
            run = plain.group()
            if s.in_string and _CONTROL.search(run):
                if s.strict:
                    return None
                run = _CONTROL.sub(lambda control: _ESCAPED_CONTROLS[control.group()], run)
            out.append(run)
            s.at = plain.end()
            continue
        ch = raw[i]
        if not s.in_string:
            frame = stack[-1] if stack else None
            if ch == '"':
                s.in_string = True
                s.is_key = frame is not None and frame.kind == "{" and s.expect_key
                s.key_start = i + 1
                s.is_text = (not s.is_key and frame is not None and frame.kind == "{" and frame.key is not None
                             and _child(frame.path, frame.key) in shape.text)
                s.texts_begun = s.texts_begun or s.is_text
                s.strict = s.strict and not s.is_text
            elif ch in "{[":
                if frame is None:
                    path = ""
                elif frame.kind == "{" and frame.key is not None:
                    path = _child(frame.path, frame.key)
                else:
                    path = frame.path
                stack.append(_Frame(ch, path))
                s.expect_key = ch == "{"
            elif ch in "}]":
                if stack:
                    stack.pop()
                if s.trial and not stack and _skip_space(raw, i + 1) < len(raw):
                    # The body's value closed with more after it: no repair of the rest reads.
                    return None
                s.expect_key = False
            elif ch == ":":
                s.expect_key = False
            elif ch == ",":
                s.expect_key = frame is not None and frame.kind == "{"
            out.append(ch)
        elif ch == "\\":
            nxt = raw[i + 1 : i + 2]
            if nxt == '"' and _closes(raw, i + 2, s.is_key, s.is_text, stack, shape):
                if s.strict:
                    return None
                out.append("\\\\")  # a message ending in a backslash: the quote after it ends the string
                s.at += 1
                continue
            if nxt and nxt in _VALID_ESCAPES and (nxt != "u" or _UNICODE_ESCAPE.match(raw, i + 1)):
                out.append(ch + nxt)
                s.at += 2
                continue
            if s.strict:
                return None
            out.append("\\\\")
        elif ch == '"':
            nxt = raw[i + 1:i + 2]
            if not s.is_key and nxt not in _MAY_FOLLOW_A_VALUE and not nxt.isspace():
                # Most quotes in a message: a letter after it, so neither a value's end nor a key's start.
                if s.strict:
                    return None
                out.append('\\"')
            elif _closes(raw, i + 1, s.is_key, s.is_text, stack, shape):
                s.in_string = False
                if s.is_key:
                    key = raw[s.key_start:i]
                    stack[-1].key = key
                    if not s.texts_begun:
                        stack[-1].trusted.add(key)
                out.append(ch)
            else:
                if s.is_text and tries[0] > 0 and _unknown_key_follows(raw, i + 1, stack[-1], shape):
                    tries[0] -= 1
                    trial = s.copy()
                    trial.out.append(ch)
                    trial.in_string, trial.strict, trial.trial, trial.at = False, True, True, i + 1
                    ended = _repair(raw, shape, trial, tries)
                    if ended is not None and _reads(ended):
                        return ended
                if s.strict:
                    return None
                out.append('\\"')
        s.at += 1
    return "".join(out)
