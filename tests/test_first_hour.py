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


def example_config() -> tuple[dict, set[str]]:
    """ticketpulse.example.toml: its values by dotted key, and the keys it shows commented out
    (`# senior_group_id = 360001234567`: no default, an example value)."""
    import re
    import tomllib

    text = (ROOT / "ticketpulse.example.toml").read_text()
    values: dict = {}

    def flatten(table: dict, prefix: str = "") -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                flatten(value, f"{prefix}{key}.")
            else:
                values[f"{prefix}{key}"] = value

    flatten(tomllib.loads(text))
    commented, section = set(), ""
    for line in text.splitlines():
        if header := re.fullmatch(r"\[([\w.]+)\]", line.strip()):
            section = header.group(1) + "."
        elif key := re.match(r"#\s*(\w+)\s*=\s*\S", line):
            commented.add(section + key.group(1))
    return values, commented


def default_keys(model=None, prefix: str = "") -> dict:
    """Every leaf key of the config with its built-in default."""
    from pydantic import BaseModel

    from ticketpulse.config import Config

    model = model if model is not None else Config()
    keys = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            keys |= default_keys(value, f"{prefix}{name}.")
        else:
            keys[f"{prefix}{name}"] = value
    return keys


def test_the_example_config_lists_every_key_with_the_default_the_code_uses():
    values, commented = example_config()
    defaults = default_keys()

    assert set(values) <= set(defaults)  # nothing the code does not read (it also loads: test_cli)
    wrong = {key: (values[key], default) for key, default in defaults.items()
             if key in values and values[key] != default}
    assert not wrong  # (shown, code's default)
    missing = [key for key, default in defaults.items()
               if key not in values and not (default is None and key in commented)]
    assert not missing  # a key with no default is shown commented out, with an example value


def test_the_readme_score_example_prints_what_the_readme_shows(runner):
    import json
    import re
    import shlex

    readme = (ROOT / "README.md").read_text()
    command, shown = re.search(r"^\$ (ticketpulse score .+)\n(\{.+\})$", readme, re.M).groups()
    expected = json.loads(shown.replace(", ...}", "}"))  # the README shows the leading fields

    result = runner(*shlex.split(command)[1:])

    assert result.code == 0, result.err
    printed = json.loads(result.out)
    assert {key: printed[key] for key in expected} == expected


def test_every_metric_ticketpulse_exposes_is_named_in_the_readme():
    from prometheus_client import Counter
    from prometheus_client.metrics import MetricWrapperBase

    import ticketpulse.metrics as metrics

    readme = (ROOT / "README.md").read_text()
    exposed = [metric._name + ("_total" if isinstance(metric, Counter) else "")
               for metric in vars(metrics).values() if isinstance(metric, MetricWrapperBase)]

    assert len(exposed) >= 10
    assert [name for name in exposed if f"`{name}" not in readme] == []


def pipe_with(text: bytes):
    """A config that can be read only once, as `--config <(git show main:ticketpulse.toml)` gives:
    (its /dev/fd path, its read end to close)."""
    import os

    read_end, write_end = os.pipe()
    os.write(write_end, text)
    os.close(write_end)
    return f"/dev/fd/{read_end}", read_end


def test_a_config_that_can_be_read_only_once_is_used_not_replaced_by_the_defaults(runner, monkeypatch):
    import os

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path, read_end = pipe_with(b'[scoring]\nbackend = "openai"\n')
    try:
        result = runner("--config", path, "score", "where is my refund")
    finally:
        os.close(read_end)

    assert result.code == 2, result.out  # the defaults (local) would have scored it
    assert result.err.startswith('ticketpulse: error: OPENAI_API_KEY: not set, and [scoring] backend = "openai"')


def test_the_readme_states_the_conversation_id_rule_the_api_applies():
    import re

    from ticketpulse.escalation.conversations import CONVERSATION_ID, CONVERSATION_ID_RULE

    readme = " ".join((ROOT / "README.md").read_text().replace("`", "").split())

    assert CONVERSATION_ID_RULE in readme  # it left out "starting with a letter or digit"
    assert not CONVERSATION_ID.fullmatch("-chat") and re.search(r"-chat is refused with 400", readme)


def test_with_only_the_subdomain_or_domain_set_check_config_says_dry_run_and_asks_only_for_what_is_missing(
        runner, monkeypatch):
    monkeypatch.setenv("ZENDESK_SUBDOMAIN", "acme")
    monkeypatch.setenv("FRESHDESK_DOMAIN", "acme")

    result = runner("check-config")

    assert result.code == 0, result.err  # not refused as partial credentials: dry-run, with dashboard links
    assert helpdesk_line(result.out, "zendesk").startswith(
        "zendesk: dry-run (no API credentials; set ZENDESK_EMAIL and ZENDESK_API_TOKEN to go live);")
    assert helpdesk_line(result.out, "freshdesk").startswith(
        "freshdesk: dry-run (no API credentials; set FRESHDESK_API_KEY to go live);")


def test_with_no_credentials_check_config_asks_for_all_of_them(runner):
    result = runner("check-config")

    assert "set ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN to go live" in helpdesk_line(result.out, "zendesk")
    assert "set FRESHDESK_DOMAIN and FRESHDESK_API_KEY to go live" in helpdesk_line(result.out, "freshdesk")


def test_the_worker_help_and_the_readme_say_the_metrics_port_listens_on_every_interface(runner):
    """`serve` listens on 127.0.0.1 unless told otherwise; the worker's metrics port does not."""
    from ticketpulse.cli import METRICS_HOST

    help_text = " ".join(runner("worker", "--help").out.split())
    readme = (ROOT / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| `ticketpulse worker")]

    assert METRICS_HOST == "0.0.0.0"
    assert f"on every interface ({METRICS_HOST}" in help_text
    assert f"listens on every interface, `{METRICS_HOST}`" in row


def test_eval_scores_offline_whatever_the_backend_and_its_help_and_the_readme_say_so(runner, tmp_path):
    config = tmp_path / "cascade.toml"
    config.write_text('[scoring]\nbackend = "cascade"\n')  # no OPENAI_API_KEY: building it would be refused
    (tmp_path / "labelled.tsv").write_text((ROOT / "tests/fixtures/eval_small.tsv").read_text())

    result = runner("--config", str(config), "eval", "labelled.tsv", "--label-column", "label", "--positive", "frustrated")

    assert result.code == 0, result.err  # the offline scorer, not the configured cascade
    assert "measure the offline scorer (whatever [scoring] backend says)" in " ".join(runner("--help").out.split())
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "measure the offline scorer (whatever `[scoring] backend` says)" in readme
    assert "`eval` always scores with the offline scorer" in readme


def test_eval_help_and_the_readme_name_the_conversation_replay(runner):
    help_text = " ".join(runner("--help").out.split())
    assert "or the decisions on labelled conversations (--conversations, --labels)" in help_text
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "| `ticketpulse eval --conversations FILE --labels FILE` |" in readme


def test_a_read_only_postgresql_exits_1_saying_the_database_cannot_be_used(runner, postgres_url, monkeypatch):
    """A standby after a failover (or default_transaction_read_only): one line like an unwritable
    SQLite file, not 'unexpected InternalError'."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    read_only = make_url(postgres_url).update_query_dict({"options": "-c default_transaction_read_only=on"})
    monkeypatch.setenv("DATABASE_URL", read_only.render_as_string(hide_password=False))
    engine = create_engine(postgres_url)
    try:
        from tests.dashboard_seed import Esc, Msg, SeedTicket, seed
        from ticketpulse.models import make_session_factory, utcnow

        with make_session_factory(engine).begin() as session:
            seed(session, SeedTicket("zendesk", "5158", utcnow(), messages=[Msg(0, -0.8, 0.95)],
                                     escalations=[Esc(0, "critical", "critical_frustration", status="failed")]))
    finally:
        engine.dispose()

    result = runner("jobs", "retry", "--all")

    assert result.code == 1, (result.out, result.err)
    [line] = result.err.strip().splitlines()
    assert line.startswith("ticketpulse: error: cannot use the database postgresql"), line
    assert line.endswith(": cannot execute UPDATE in a read-only transaction"), line


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@pytest.mark.parametrize("url", ["https://tp.example.com?x=1", "https://tp.example.com/#top"])
def test_setup_refuses_a_url_with_a_query_or_fragment_that_the_webhook_path_would_land_in(runner, helpdesk, url):
    result = runner("setup", helpdesk, "--url", url)

    assert result.code == 2, result.err  # was https://tp.example.com?x=1/webhooks/freshdesk in the rule
    last = result.err.strip().splitlines()[-1]
    assert last == (f"ticketpulse setup {helpdesk}: error: argument --url: {url!r} has a ?query or #fragment; "
                    "give ticketpulse's base URL, like https://ticketpulse.example.com (/webhooks/<helpdesk> is added to it)")


def test_every_environment_variable_ticketpulse_or_its_tests_read_is_named_in_the_readme():
    import re

    from ticketpulse.config import Environment
    from ticketpulse.logs import LOG_FORMAT_VARIABLE

    read = re.compile(r'environ\.get\("([A-Z0-9_]+)"|environ\["([A-Z0-9_]+)"\](?!\s*=[^=])|getenv\("([A-Z0-9_]+)"')
    folders = ("ticketpulse", "webhooks", "escalation", "integrations", "sentiment", "models", "migrations", "tests")
    names = {LOG_FORMAT_VARIABLE, *(field.upper() for field in Environment.model_fields)}
    for folder in folders:
        for source in (ROOT / folder).rglob("*.py"):
            names |= {name for match in read.findall(source.read_text()) for name in match if name}
    readme = (ROOT / "README.md").read_text()

    assert {"TEST_DATABASE_URL", "XDG_CACHE_HOME", "DATABASE_URL"} <= names
    assert sorted(name for name in names if not re.search(rf"[`$]{name}\b", readme)) == []


@pytest.mark.parametrize("command", [["serve", "--port"], ["worker", "--metrics-port"]])
def test_serve_and_worker_refuse_a_config_pipe_they_could_not_reread_instead_of_reverting_to_the_defaults(
        runner, tmp_path, command):
    import os
    import socket

    path, read_end = pipe_with(b"[thresholds]\nfrustration_threshold = 0.8\n")
    with socket.socket() as busy:  # were the pipe taken, the command would stop at this port, not run on
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        try:
            result = runner("--config", path, *command, str(busy.getsockname()[1]))
        finally:
            os.close(read_end)

    assert result.code == 2, result.err  # serve ran, and a second later reloaded 0.8 -> 0.75 from the drained pipe
    assert result.err.strip() == (f"ticketpulse: error: /dev/fd/{read_end}: not a regular file (a pipe?); a running "
                                  "ticketpulse rereads its config when it changes, so give it a file")
    assert not (tmp_path / "first-hour.db").exists()  # refused before migrating or binding


def test_check_config_refuses_a_config_pipe_as_serve_does(runner):
    import os

    path, read_end = pipe_with(b"[thresholds]\nfrustration_threshold = 0.8\n")
    try:
        result = runner("--config", path, "check-config")
    finally:
        os.close(read_end)

    assert result.code == 2, result.out  # it said "config OK", and serve then refused the same file
    assert result.err.strip().startswith(f"ticketpulse: error: {path}: not a regular file (a pipe?)")


@pytest.mark.parametrize("helpdesk, domain, expected", [
    ("zendesk", ("ZENDESK_SUBDOMAIN", "acme"), "set ZENDESK_EMAIL and ZENDESK_API_TOKEN (an admin's API token) first"),
    ("freshdesk", ("FRESHDESK_DOMAIN", "acme"), "set FRESHDESK_API_KEY first"),
])
def test_setup_with_only_the_subdomain_set_asks_for_what_is_missing(runner, monkeypatch, helpdesk, domain, expected):
    monkeypatch.setenv(*domain)

    result = runner("setup", helpdesk, "--url", "https://ticketpulse.example.com")

    assert result.code == 2
    assert result.err.strip() == f"ticketpulse: error: setup {helpdesk}: {expected}"  # not "set {domain[0]}"


def test_the_readme_names_every_database_state_healthz_answers():
    import re

    source = (ROOT / "webhooks/health.py").read_text()
    states = set(re.findall(r'database="(\w+)"', source))
    readme = (ROOT / "README.md").read_text()
    [bullet] = re.findall(r"^- `GET /healthz`.*?(?=^- )", readme, re.M | re.S)

    assert {"ok", "unreachable", "not_migrated", "unwritable"} <= states
    assert sorted(state for state in states if f"`{state}`" not in bullet and f'"{state}"' not in bullet) == []
