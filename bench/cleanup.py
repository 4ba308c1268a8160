"""What a bench run made outside itself (PostgreSQL databases, child processes) is undone however
the run ends: on exit, on an exception, on Ctrl-C and on SIGTERM (`timeout 60 bench/...`, a CI job
cancelled). kill -9 cannot be caught: its databases are left (`bench/databases.py --drop-stale`
drops them), and so are its children (gunicorn runs in a session of its own)."""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import Callable, Hashable

# What to undo, by key, oldest first: undone newest first at exit, so a server started on a
# database is stopped before the database is dropped.
_undo: dict[Hashable, tuple[str, Callable[[], None]]] = {}
_ending = False


def remember(key: Hashable, what: str, undo: Callable[[], None]) -> None:
    """`undo()` runs at exit unless `forget(key)` came first; `what` names it if it fails."""
    _undo.pop(key, None)  # made again: undone in its new place in the order
    _undo[key] = (what, undo)
    _exit_on_sigterm()


def forget(key: Hashable) -> None:
    _undo.pop(key, None)


@atexit.register
def _undo_the_rest() -> None:
    global _ending
    _ending = True  # a SIGTERM now (`timeout` running out as the run ends) would cut the clean-up short
    for key in reversed(list(_undo)):
        what, undo = _undo.pop(key)
        try:
            undo()
        except Exception as exc:  # the server gone: say what is left, the other undos still tried
            print(f"bench: could not {what}: {exc}", file=sys.stderr, flush=True)


def _exit_on_sigterm() -> None:
    """Python's default SIGTERM ends the process at once, no `finally` or atexit run: turned into
    SystemExit while there is something to undo. Another handler someone set is kept."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum: int, frame) -> None:
    global _ending
    if _ending:  # a second SIGTERM, or one during the clean-up at exit, does not cut it short
        return
    if not _undo:  # nothing of ours to undo: end as the default would (a test process, say)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    _ending = True
    raise SystemExit(128 + signum)  # the exit status a shell shows for a SIGTERM
