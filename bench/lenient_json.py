"""Time the lenient JSON reader on large trigger bodies whose comment was pasted unescaped.

    python bench/lenient_json.py [--kb 256] [--runs 5]

Each shape is a Zendesk trigger body (the README's template) whose `comment` is about `--kb`
kilobytes of one kind of text that breaks the JSON, so every body goes through the repair: many
quotes (a reply quoting word after word), long plain text (one stray quote, then prose), many
braces (pasted JSON), many backslashes (Windows paths), many newlines (a pasted log). Prints the
best of `--runs` per shape, in milliseconds, and checks that the comment was read back whole.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.options import positive_int  # noqa: E402

from ticketpulse.webhooks import lenient_json  # noqa: E402
from ticketpulse.webhooks.zendesk import SHAPE  # noqa: E402

_BEFORE = '{"ticket_id":"5158","comment_id":"991","updated_at":"2026-12-08T00:00:00Z","comment":"'
_AFTER = '","is_public":"true","author":"Dana","author_id":"42","tags":"vip billing"}'

SHAPES = {
    "many quotes": 'He said "no refund", and then "we will see". ',
    "long plain text": "The router keeps dropping the connection every few minutes and nobody calls back. ",
    "many braces": 'The app showed {"code":"E42","detail":{"retry":[1,2]}} then crashed. ',
    "many backslashes": "Saved under C:\\users\\dana\\Quarterly\\q3 and D:\\dumps\\x. ",
    "many newlines": 'line "12": timeout\n\tat worker.run\n',
}


def comment(unit: str, kb: int) -> str:
    text = unit * (kb * 1024 // len(unit) + 1)
    # One stray quote up front, so that even the plain text is not valid JSON as sent.
    return 'Quote: "' + text[: kb * 1024]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=positive_int, default=256)
    parser.add_argument("--runs", type=positive_int, default=5)
    args = parser.parse_args()
    for name, unit in SHAPES.items():
        text = comment(unit, args.kb)
        raw = _BEFORE + text + _AFTER
        best = float("inf")
        for _ in range(args.runs):
            started = time.perf_counter()
            data = lenient_json.loads(raw, SHAPE)
            best = min(best, time.perf_counter() - started)
        if data["comment"] != text or data["tags"] != "vip billing":
            raise SystemExit(f"{name}: the comment was not read back whole")
        print(f"{name:18} {len(raw) / 1024:6.0f} KB  {best * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
