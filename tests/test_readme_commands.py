"""README's shell snippets work as written after its first command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ticketpulse.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SH_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)
ACTIVATE = ". .venv/bin/activate"


def commands(program: str) -> list[str]:
    """Lines of ```sh blocks that run `program` (a `$ ` prompt, a trailing comment and `export`s aside)."""
    found = []
    for block in SH_BLOCKS:
        for line in block.splitlines():
            line = line.removeprefix("$ ").strip()
            if line.startswith(f"{program} "):
                found.append(shlex.split(line, comments=True))
    return found


def test_the_venv_is_activated_before_any_snippet_calls_ticketpulse_or_gunicorn_bare():
    activated = README.index(ACTIVATE)
    first_bare = min(README.index(f"```sh\n{line}") for line in ("ticketpulse ", "gunicorn ") if f"```sh\n{line}" in README)
    assert activated < first_bare
    assert README.index(".venv/bin/ticketpulse serve") < activated  # the first command needs no activation


@pytest.mark.parametrize("argv", commands("ticketpulse"), ids=" ".join)
def test_every_ticketpulse_snippet_is_a_valid_command_line(argv):
    build_parser().parse_args(argv[1:])  # argparse exits 2 on anything it does not know


def test_the_gunicorn_snippets_name_the_app_factory():
    assert commands("gunicorn")
    for argv in commands("gunicorn"):
        assert argv[-1] == "ticketpulse.webhooks:create_app()"
