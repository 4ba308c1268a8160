"""JSON that helpdesk templates produce, read leniently.

Zendesk trigger bodies and Freshdesk automation bodies are templates: a customer's message is
pasted between quotes, and whether quotes and newlines in it are escaped is not documented.
`loads` accepts proper JSON, then raw control characters, then repairs stray quotes and
backslashes inside string values, so a message that breaks the JSON is recovered, not rejected.
The repair knows whether a string is a key or a value: a value ends only where the template's
structure goes on (`}`, `]`, or `,` and the next `"key":`), so quotes in a message followed by
`:` or `, "` stay in the message.

A key may appear once per object. A customer's text that completes the template's JSON
(`…", "ticket_id": "5158", "x": "`) would otherwise choose the ticket, or the comment id, it is
filed under: the parser keeps the last copy of a repeated key. So a repeated key is refused
(`RepeatedKey`), in the body as sent and in the repaired one.
"""

from __future__ import annotations

import json
import re
from typing import Any

_VALID_ESCAPES = set('"\\/bfnrtu')
# A `\u` escape is one only with four hex digits after it: `C:\users` is a path, not an escape.
_UNICODE_ESCAPE = re.compile(r"u[0-9A-Fa-f]{4}")
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_SPACE = re.compile(r"\s*")
# What follows a value that really ends: `, "next_key":` and the start of a JSON value (template
# keys are short and plain). `, "Error": it crashed` is a customer's prose, not the next field;
# `, "group_id":,` (an unquoted placeholder rendered empty) is a broken template, refused as such.
_KEY_AHEAD = re.compile(
    r'\s*"[^"\\\n]{1,100}"\s*:\s*'
    r'(?:["{\[,}\]]|\Z|(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)\s*(?:[,}\]]|\Z))'
)


class RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} appears twice in one object")
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKey(key)
            seen.add(key)
    return result


def loads(raw: str) -> Any:
    try:
        return json.loads(raw, strict=False, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as first_error:
        repaired = repair(raw)
        try:
            return json.loads(repaired, strict=False, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError:
            raise first_error from None


def _skip_space(raw: str, at: int) -> int:
    return _SPACE.match(raw, at).end()


def _closes_value(raw: str, after: int, container: str | None) -> bool:
    """Is the quote just before `after` the end of a value string, judging by what follows?

    In an object a value ends at `}` or at `,` followed by the next `"key":`; in an array at `]`
    or `,`; at the top level at the end of the text. A quote followed by anything else, even by
    `:` or `, "`, is part of the customer's message. (Read in place, never copying the rest of
    the body: a long body has a quote on every line.)
    """
    at = _skip_space(raw, after)
    if at == len(raw):
        return True
    ch = raw[at]
    if container == "{":
        if ch == "}":
            return _closes_container(raw, at + 1)
        return ch == "," and _KEY_AHEAD.match(raw, at + 1) is not None
    if container == "[":
        if ch == "]":
            return _closes_container(raw, at + 1)
        if ch == ",":
            at = _skip_space(raw, at + 1)
            nxt = raw[at:at + 1]
            return nxt in ('"', "{", "[", "") or nxt.isdigit() or nxt in "-tfn"
    return False


def _closes_container(raw: str, at: int) -> bool:
    """After a `}` or `]` that would close the container: is that plausible JSON structure?"""
    at = _skip_space(raw, at)
    if at == len(raw) or raw[at] in "}]":
        return True
    if raw[at] == ",":
        if _KEY_AHEAD.match(raw, at + 1) is not None:
            return True
        nxt = _skip_space(raw, at + 1)
        return raw[nxt:nxt + 1] in ("{", "[")
    return False


def _closes(raw: str, after: int, is_key: bool, stack: list[str]) -> bool:
    """Does the quote just before `after` end the string it is in?"""
    if is_key:
        at = _skip_space(raw, after)
        return raw[at:at + 1] == ":"
    return _closes_value(raw, after, stack[-1] if stack else None)


def repair(raw: str) -> str:
    out: list[str] = []
    stack: list[str] = []  # the open containers, "{" or "["
    expect_key = False  # in an object, before a key
    in_string = is_key = False
    i = 0
    while i < len(raw):
        ch = raw[i]
        if not in_string:
            if ch == '"':
                in_string = True
                is_key = bool(stack) and stack[-1] == "{" and expect_key
            elif ch in "{[":
                stack.append(ch)
                expect_key = ch == "{"
            elif ch in "}]":
                if stack:
                    stack.pop()
                expect_key = False
            elif ch == ":":
                expect_key = False
            elif ch == ",":
                expect_key = bool(stack) and stack[-1] == "{"
            out.append(ch)
        elif ch == "\\":
            nxt = raw[i + 1 : i + 2]
            if nxt == '"' and _closes(raw, i + 2, is_key, stack):
                out.append("\\\\")  # a message ending in a backslash: the quote after it ends the string
                i += 1
                continue
            if nxt and nxt in _VALID_ESCAPES and (nxt != "u" or _UNICODE_ESCAPE.match(raw, i + 1)):
                out.append(ch + nxt)
                i += 2
                continue
            out.append("\\\\")
        elif ch == '"':
            if _closes(raw, i + 1, is_key, stack):
                in_string = False
                out.append(ch)
            else:
                out.append('\\"')
        elif ch in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
        i += 1
    return "".join(out)
