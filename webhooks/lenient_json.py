"""JSON that helpdesk templates produce, read leniently.

Zendesk trigger bodies and Freshdesk automation bodies are templates: a customer's message is
pasted between quotes, and whether quotes and newlines in it are escaped is not documented.
`loads` accepts proper JSON, then raw control characters, then repairs stray quotes and
backslashes inside string values, so a message that breaks the JSON is recovered, not rejected.
"""

from __future__ import annotations

import json
from typing import Any

_VALID_ESCAPES = set('"\\/bfnrtu')
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def loads(raw: str) -> Any:
    try:
        return json.loads(raw, strict=False)
    except json.JSONDecodeError as first_error:
        repaired = repair(raw)
        try:
            return json.loads(repaired, strict=False)
        except json.JSONDecodeError:
            raise first_error from None


def _closes_string(raw: str, after: int) -> bool:
    """Is the quote just before `after` the end of a string token, judging by what follows?"""
    rest = raw[after:].lstrip()
    if not rest:
        return True
    if rest[0] in ":}]":
        return True
    if rest[0] == ",":
        nxt = rest[1:].lstrip()[:1]
        return nxt in ('"', "{", "[", "") or nxt.isdigit() or nxt in "-tfn"
    return False


def repair(raw: str) -> str:
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(raw):
        ch = raw[i]
        if not in_string:
            if ch == '"':
                in_string = True
            out.append(ch)
        elif ch == "\\":
            nxt = raw[i + 1 : i + 2]
            if nxt and nxt in _VALID_ESCAPES:
                out.append(ch + nxt)
                i += 2
                continue
            out.append("\\\\")
        elif ch == '"':
            if _closes_string(raw, i + 1):
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
