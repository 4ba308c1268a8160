"""What the bench scripts' command lines share: counts that must be at least one."""

from __future__ import annotations

import argparse


def positive_int(value: str) -> int:
    """--rounds, --runs, --tickets: 0 measured nothing, then crashed on a median of no values (or
    waited out a timeout for work that never came)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {number} (it would measure nothing)")
    return number

