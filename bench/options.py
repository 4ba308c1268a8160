"""What the bench scripts' command lines share: counts that must be at least one, free ports."""

from __future__ import annotations

import argparse
import socket


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


def free_port() -> int:
    """A port nothing listens on now, on loopback: two runs (or a run next to another server) never
    share one, as a fixed default port made them."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
