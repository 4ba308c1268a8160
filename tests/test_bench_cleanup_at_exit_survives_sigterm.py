"""A SIGTERM that arrives while a bench undoes what it made at exit (`timeout` running out as the
run ends, a CI job cancelled then) does not cut that clean-up short: every undo still runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.bench_helpers import ROOT

SCRIPT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from bench import cleanup

    def mark(what):
        with open({marks!r}, "a") as marks:
            marks.write(what + "\\n")

    if {two}:
        cleanup.remember("second", "write the second mark", lambda: mark("second undone"))
    # undone first (newest first): the signal comes while it runs
    cleanup.remember("first", "stop a server", lambda: (os.kill(os.getpid(), signal.SIGTERM), mark("first undone")))
    mark("run ended")
""")


@pytest.mark.parametrize(("two", "undone"), [
    (True, ["first undone", "second undone"]),  # the rest were skipped (SystemExit in an atexit callback)
    (False, ["first undone"]),  # in the last undo: the process was killed in the middle of it
])
def test_a_sigterm_during_the_clean_up_at_exit_leaves_no_undo_undone(tmp_path, two, undone):
    marks = tmp_path / "marks"
    script = SCRIPT.format(root=str(ROOT), marks=str(marks), two=two)

    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert marks.read_text().splitlines() == ["run ended", *undone], done.stderr
