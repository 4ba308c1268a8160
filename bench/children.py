"""The processes a bench starts (gunicorn, `ticketpulse serve`, workers): stopped however the run
ends (bench/cleanup.py), never left running to hold a port or a database after it."""

from __future__ import annotations

import os
import signal
import subprocess

from bench import cleanup

# The pids started in a session of their own (gunicorn: the master and its workers are signalled as
# one group; signalling the group of a child that shares ours would signal the bench itself).
_group_leaders: set[int] = set()


def start(command: list[str], *, own_session: bool = False, **popen) -> subprocess.Popen:
    process = subprocess.Popen(command, start_new_session=own_session, **popen)
    if own_session:
        _group_leaders.add(process.pid)
    cleanup.remember(("process", process.pid), f"stop process {process.pid} ({command[0]})", lambda: stop(process))
    return process


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, and SIGKILL if it has not exited after `timeout` seconds."""
    _signal(process, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal(process, signal.SIGKILL)
        process.wait()
    # only once it has exited: a stop cut short (a second Ctrl-C) is tried again at exit
    cleanup.forget(("process", process.pid))
    _group_leaders.discard(process.pid)


def _signal(process: subprocess.Popen, signum: int) -> None:
    if process.pid in _group_leaders:
        try:
            os.killpg(process.pid, signum)  # its workers too, even when the master has exited
        except ProcessLookupError:  # the whole group has exited already
            pass
    else:
        process.send_signal(signum)  # nothing once it has been waited for
