"""A new admin's first hour: what the README, the example config, `--help` and `check-config`
tell them is what ticketpulse does."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT = (
    "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_BASE_URL", "ZENDESK_WEBHOOK_SECRET",
    "FRESHDESK_DOMAIN", "FRESHDESK_API_KEY", "FRESHDESK_BASE_URL", "FRESHDESK_WEBHOOK_SECRET",
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "TICKETPULSE_CONFIG", "TICKETPULSE_LOG_FORMAT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./ticketpulse.toml
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'first-hour.db'}")


def helpdesk_line(out: str, helpdesk: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith(f"{helpdesk}: ")]
    return line


def test_check_config_names_the_group_a_severity_moves_to_when_no_senior_group_is_set(runner, tmp_path):
    config = tmp_path / "ticketpulse.toml"
    config.write_text("[zendesk.groups]\ncritical = 360009999999\n"
                      "[freshdesk]\nsenior_group_id = 43000123456\n[freshdesk.groups]\nhigh = 43000999999\n")

    result = runner("--config", str(config), "check-config")

    assert result.code == 0, result.err
    zendesk = helpdesk_line(result.out, "zendesk")
    assert "escalations keep the group" not in zendesk  # a critical escalation moves
    assert zendesk.endswith("senior group not set (critical: 360009999999; low, medium, high keep the group)")
    assert helpdesk_line(result.out, "freshdesk").endswith("senior group 43000123456 (high: 43000999999)")


def test_check_config_without_groups_still_says_escalations_keep_the_group(runner):
    result = runner("check-config")

    assert result.code == 0, result.err
    assert helpdesk_line(result.out, "zendesk").endswith("senior group not set (escalations keep the group)")


def help_example(command: str) -> list[str]:
    """The example at the end of `ticketpulse COMMAND --help`, as argv."""
    import shlex

    from ticketpulse.cli import EXAMPLES

    return shlex.split(EXAMPLES[command])


def test_the_eval_help_example_runs_on_a_file_with_the_columns_it_names(runner, tmp_path):
    argv = help_example("eval")
    labelled = next(arg for arg in argv if arg.endswith((".csv", ".tsv")))
    (tmp_path / labelled).write_text((ROOT / "tests/fixtures/eval_small.tsv").read_text())

    result = runner(*argv[1:])

    assert result.code == 0, result.err  # it named a folder `--goemotions` refuses: "no goemotions/ under ..."
    assert "target: frustration   n=12   positives=6" in result.out
    assert "at frustration_threshold (frustration >= 0.75)" in result.out
