"""`ticketpulse check-config` refuses what `serve` refuses, and `--online` asks the real endpoints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk

ROOT = Path(__file__).resolve().parents[1]
HELPDESK_VARIABLES = (
    "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_BASE_URL", "ZENDESK_WEBHOOK_SECRET",
    "FRESHDESK_DOMAIN", "FRESHDESK_API_KEY", "FRESHDESK_BASE_URL", "FRESHDESK_WEBHOOK_SECRET",
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "TICKETPULSE_CONFIG", "TICKETPULSE_LOG_FORMAT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in HELPDESK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./ticketpulse.toml
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'check.db'}")


def one_line_error(result, code: int = 2) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    [line] = result.err.strip().splitlines()
    assert line.startswith("ticketpulse: error: ")
    return line


def openai_config(tmp_path) -> str:
    path = tmp_path / "openai.toml"
    path.write_text('[scoring]\nbackend = "openai"\n')
    return str(path)


def serve_refusal(tmp_path, config: str, env: dict) -> str:
    """What `ticketpulse serve` says when it refuses to start (it must, before serving)."""
    process = subprocess.run(
        [sys.executable, "-m", "ticketpulse.cli", "--config", config, "serve", "--port", "1"],
        cwd=tmp_path, env={k: v for k, v in os.environ.items() if k not in HELPDESK_VARIABLES} | env,
        capture_output=True, text=True, timeout=60,
    )
    assert process.returncode == 2, process.stderr
    return process.stderr.strip().splitlines()[-1]


def test_openai_backend_without_a_key_is_refused_as_serve_refuses_it(runner, tmp_path):
    config = openai_config(tmp_path)

    line = one_line_error(runner("--config", config, "check-config"))

    assert "OPENAI_API_KEY: not set" in line and 'backend = "openai"' in line
    assert serve_refusal(tmp_path, config, {}) == line


def test_partial_zendesk_credentials_name_the_missing_variable(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("ZENDESK_EMAIL", "bot@example.com")

    line = one_line_error(runner("check-config"))

    assert "ZENDESK_API_TOKEN: not set, but ZENDESK_EMAIL is" in line
    assert "ZENDESK_SUBDOMAIN: not set" in line
    assert serve_refusal(tmp_path, str(ROOT / "ticketpulse.example.toml"), {"ZENDESK_EMAIL": "bot@example.com"}) == line


def test_freshdesk_key_without_a_domain_names_the_domain(runner, monkeypatch):
    monkeypatch.setenv("FRESHDESK_API_KEY", "fd-key")
    assert "FRESHDESK_DOMAIN: not set (nor FRESHDESK_BASE_URL), but FRESHDESK_API_KEY is" in one_line_error(
        runner("check-config"))


@pytest.mark.parametrize("given", ["https://acme.zendesk.com", "https://acme.zendesk.com/", "acme.zendesk.com", "ACME"])
def test_a_subdomain_given_as_a_url_is_taken_as_the_subdomain_never_doubled(runner, monkeypatch, given):
    monkeypatch.setenv("ZENDESK_SUBDOMAIN", given)
    monkeypatch.setenv("ZENDESK_EMAIL", "bot@example.com")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "zd-token")

    result = runner("check-config")

    assert result.code == 0, result.err
    assert "zendesk: live at https://acme.zendesk.com as bot@example.com;" in result.out
    assert "https://https://" not in result.out and ".zendesk.com.zendesk.com" not in result.out


def test_a_subdomain_on_another_host_is_refused_pointing_at_the_base_url(runner, monkeypatch):
    monkeypatch.setenv("ZENDESK_SUBDOMAIN", "https://support.acme.com")
    line = one_line_error(runner("check-config"))
    assert "ZENDESK_SUBDOMAIN: 'https://support.acme.com' is not a Zendesk subdomain" in line
    assert "ZENDESK_BASE_URL" in line


def test_a_freshdesk_domain_given_as_a_url_is_its_host(runner, monkeypatch):
    monkeypatch.setenv("FRESHDESK_DOMAIN", "https://acme.freshdesk.com/a/tickets")
    monkeypatch.setenv("FRESHDESK_API_KEY", "fd-key")

    result = runner("check-config")

    assert result.code == 0, result.err
    assert "freshdesk: live at https://acme.freshdesk.com;" in result.out


def test_webhook_secrets_are_reported_set_or_not_and_never_printed(runner, monkeypatch):
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", "zd-very-secret")

    result = runner("check-config")

    assert result.code == 0
    assert "zendesk webhook: ZENDESK_WEBHOOK_SECRET is set" in result.out
    assert "freshdesk webhook: FRESHDESK_WEBHOOK_SECRET is NOT set: every POST /webhooks/freshdesk is refused (401)" in result.out
    assert "zd-very-secret" not in result.out + result.err


def test_without_credentials_it_says_dry_run_and_which_variables_go_live(runner):
    result = runner("check-config")
    assert "zendesk: dry-run (no API credentials; set ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN" in result.out
    assert "scoring backend: local (offline)" in result.out


def config_file(tmp_path, text: str) -> str:
    path = tmp_path / "ticketpulse.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("section", ["zendesk", "freshdesk", "zendesk.groups"])
@pytest.mark.parametrize("value, problem", [
    ("true", "a valid integer"),  # never group 1
    ("0", "greater than or equal to 1"),  # never "not set"
    ("-5", "greater than or equal to 1"),
    ('"360001234567"', "a valid integer"),
])
def test_a_group_id_must_be_a_positive_64_bit_integer(runner, tmp_path, section, value, problem):
    key = "critical" if section == "zendesk.groups" else "senior_group_id"
    config = config_file(tmp_path, f"[{section}]\n{key} = {value}\n")

    line = one_line_error(runner("--config", config, "check-config"))

    assert f"{section}.{key}: Input should be {problem}" in line


def test_a_group_id_over_the_helpdesks_64_bits_is_refused_and_the_largest_taken(runner, tmp_path):
    largest = config_file(tmp_path, "[freshdesk]\nsenior_group_id = 9223372036854775807\n")
    assert "freshdesk: dry-run" in runner("--config", largest, "check-config").out

    over = config_file(tmp_path, "[freshdesk]\nsenior_group_id = 99999999999999999999999\n")
    line = one_line_error(runner("--config", over, "check-config"))
    assert "freshdesk.senior_group_id: Input should be less than or equal to 9223372036854775807" in line


@pytest.mark.parametrize("key, expected", [("frustration_threshold", "a valid number"),
                                           ("trend_delta", "a valid number"),
                                           ("trend_window", "a valid integer"),
                                           ("consecutive_negative_messages", "a valid integer")])
def test_a_boolean_for_a_number_is_refused_naming_that_key(runner, tmp_path, key, expected):
    config = config_file(tmp_path, f"[thresholds]\n{key} = true\n")

    line = one_line_error(runner("--config", config, "check-config"))

    assert line.endswith(f"thresholds.{key}: Input should be {expected}")  # not a complaint about another key


def test_a_whole_number_written_with_a_decimal_point_is_taken_for_an_integer_key(runner, tmp_path):
    config = config_file(tmp_path, "[thresholds]\ntrend_window = 4.0\n[worker]\nmax_attempts = 12.0\n"
                                   "[zendesk]\nsenior_group_id = 12345.0\n[zendesk.groups]\ncritical = 777.0\n")
    result = runner("--config", config, "check-config")
    assert result.code == 0, result.err
    assert "senior group 12345" in result.out

    config = config_file(tmp_path, "[thresholds]\ntrend_window = 4.5\n")
    assert one_line_error(runner("--config", config, "check-config")).endswith("thresholds.trend_window: Input should be a valid integer")


@pytest.mark.parametrize("tags, first, second", [
    ('escalated = "sentiment_false_alarm"', "escalated", "false_alarm"),
    ('false_alarm = "sentiment_severity_low"', "false_alarm", "severity_prefix + 'low'"),
    ('escalated = "Sentiment_Severity_High"', "escalated", "severity_prefix + 'high'"),
])
def test_two_tag_roles_on_one_tag_are_refused_naming_both_keys(runner, tmp_path, tags, first, second):
    config = config_file(tmp_path, f"[tags]\n{tags}\n")

    line = one_line_error(runner("--config", config, "check-config"))

    assert f"tags: {first} and {second} are the same tag " in line


@pytest.mark.parametrize("variable", ["ZENDESK_BASE_URL", "FRESHDESK_BASE_URL", "OPENAI_BASE_URL"])
@pytest.mark.parametrize("url", ["notaurl", "http://[::1", "ftp://acme.example.com", "https://", "http://acme:99999"])
def test_an_api_base_url_that_is_not_an_http_url_is_refused_naming_the_variable(runner, monkeypatch, variable, url):
    monkeypatch.setenv("ZENDESK_EMAIL", "bot@example.com")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "zd-token")
    monkeypatch.setenv("FRESHDESK_API_KEY", "fd-key")
    monkeypatch.setenv("ZENDESK_SUBDOMAIN", "acme")
    monkeypatch.setenv("FRESHDESK_DOMAIN", "acme")
    monkeypatch.setenv(variable, url)

    line = one_line_error(runner("check-config"))

    assert f"environment: {variable}: {url!r} is not a URL like https://" in line


def test_an_api_base_url_is_taken_without_the_spaces_around_it(runner, monkeypatch):
    monkeypatch.setenv("ZENDESK_BASE_URL", " https://support.acme.com/ ")
    monkeypatch.setenv("ZENDESK_EMAIL", "bot@example.com")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "zd-token")

    assert "zendesk: live at https://support.acme.com as bot@example.com;" in runner("check-config").out


# -- --online -------------------------------------------------------------------------------------


@pytest.fixture
def live_helpdesks(monkeypatch, fake_openai, openai_live, tmp_path):
    zendesk, freshdesk = FakeZendesk(), FakeFreshdesk()
    with LiveServer(zendesk.app()) as zd, LiveServer(freshdesk.app()) as fd:
        monkeypatch.setenv("ZENDESK_BASE_URL", zd.url)
        monkeypatch.setenv("ZENDESK_EMAIL", zendesk.email)
        monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.token)
        monkeypatch.setenv("FRESHDESK_BASE_URL", fd.url)
        monkeypatch.setenv("FRESHDESK_API_KEY", freshdesk.api_key)
        monkeypatch.setenv("OPENAI_BASE_URL", openai_live[1].url + "/v1")
        yield zendesk, freshdesk, fake_openai


def test_online_reaches_each_api_with_the_credentials(runner, live_helpdesks, tmp_path):
    zendesk, freshdesk, model = live_helpdesks

    result = runner("--config", openai_config(tmp_path), "check-config", "--online")

    assert result.code == 0, result.out + result.err
    assert "zendesk: OK: authenticated as Ticketpulse Bot <bot@example.com>, role admin" in result.out
    assert "freshdesk: OK: authenticated as Ticketpulse Bot <bot@example.com>" in result.out
    assert "llm: OK: " in result.out and "answered with model gpt-4o-mini" in result.out
    assert [r.path for r in zendesk.requests] == ["/api/v2/users/me"]
    assert [r.path for r in freshdesk.requests] == ["/api/v2/agents/me"]
    assert model.bodies[-1]["model"] == "gpt-4o-mini" and model.bodies[-1]["max_tokens"] == 1


def test_online_reports_refused_credentials_and_exits_1(runner, live_helpdesks, monkeypatch):
    zendesk, _freshdesk, _model = live_helpdesks
    monkeypatch.setenv("ZENDESK_API_TOKEN", "wrong-token")
    monkeypatch.setenv("FRESHDESK_API_KEY", "wrong-key")

    result = runner("check-config", "--online")

    assert result.code == 1
    assert "zendesk: FAILED: GET " in result.out and "/api/v2/users/me -> 401: Couldn't authenticate you" in result.out
    assert "freshdesk: FAILED: " in result.out and "-> 401" in result.out
    assert result.err.strip() == "ticketpulse: error: online check failed for zendesk, freshdesk"
    assert "wrong-token" not in result.out + result.err


def test_online_refuses_an_end_user_token(runner, live_helpdesks):
    zendesk, _freshdesk, _model = live_helpdesks
    zendesk.user["role"] = "end-user"

    result = runner("check-config", "--online")

    assert result.code == 1
    assert "an end-user cannot update tickets" in result.out


def test_online_names_an_unreachable_api(runner, monkeypatch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("FRESHDESK_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("FRESHDESK_API_KEY", "fd-key")

    result = runner("check-config", "--online")

    assert result.code == 1
    [line] = [line for line in result.out.splitlines() if line.startswith("freshdesk: FAILED")]
    assert f"127.0.0.1:{port}" in line


def test_online_reports_a_model_the_server_does_not_serve(runner, live_helpdesks, tmp_path):
    _zendesk, _freshdesk, model = live_helpdesks
    model.script(model.error(404, "The model `gpt-4o-mini` does not exist"))

    result = runner("--config", openai_config(tmp_path), "check-config", "--online")

    assert result.code == 1
    assert "llm: FAILED: " in result.out and "answered 404 for model gpt-4o-mini" in result.out


def test_config_and_environment_errors_name_the_key_and_the_variable(monkeypatch):
    from ticketpulse.config import ConfigError, load_environment, parse_config

    with pytest.raises(ConfigError, match=r"thresholds\.frustration_treshold: unknown key"):
        parse_config({"thresholds": {"frustration_treshold": 0.8}})
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ConfigError, match=r"environment: PORT: "):
        load_environment()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true",
                                 "sqlite:///file:tp?mode=memory&uri=true"])
def test_an_in_memory_sqlite_database_is_refused_before_serving(runner, tmp_path, monkeypatch, url):
    # each connection would get its own empty database: webhooks stored where the worker never looks
    monkeypatch.setenv("DATABASE_URL", url)

    line = one_line_error(runner("check-config"))

    assert "DATABASE_URL: an in-memory SQLite database is private to each connection" in line
    assert "sqlite:///ticketpulse.db" in line
    assert serve_refusal(tmp_path, str(ROOT / "ticketpulse.example.toml"), {"DATABASE_URL": url}) == line


@pytest.mark.parametrize("blank", [" ", " , ", ","])
def test_a_blank_webhook_secret_is_reported_not_set(runner, monkeypatch, blank):
    """The server refuses every delivery with a blank secret: check-config must not call it set."""
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", blank)

    result = runner("check-config")

    assert result.code == 0, result.err
    assert "zendesk webhook: ZENDESK_WEBHOOK_SECRET is NOT set: every POST /webhooks/zendesk is refused (401)" in result.out
    # and serve warns at start, as for an unset one
    from ticketpulse.config import load_environment
    from ticketpulse.webhooks.refusals import missing_webhook_secrets

    assert any(w.startswith("ZENDESK_WEBHOOK_SECRET is not set") for w in missing_webhook_secrets(load_environment()))


def test_credentials_pasted_with_their_newline_are_accepted(runner, live_helpdesks, tmp_path, monkeypatch):
    """A Kubernetes secret made from a file ends in a newline; the APIs must not see it."""
    zendesk, freshdesk, model = live_helpdesks
    monkeypatch.setenv("ZENDESK_EMAIL", zendesk.email + "\n")
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.token + "\n")
    monkeypatch.setenv("FRESHDESK_API_KEY", f" {freshdesk.api_key}\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key\n")

    result = runner("--config", openai_config(tmp_path), "check-config", "--online")

    assert result.code == 0, result.out + result.err
    assert f"zendesk: live at {os.environ['ZENDESK_BASE_URL']} as {zendesk.email};" in result.out
    assert "zendesk: OK: " in result.out and "freshdesk: OK: " in result.out and "llm: OK: " in result.out


def test_a_database_url_pasted_with_its_newline_is_the_same_database(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tp.db'}\n")

    assert runner("db", "upgrade").code == 0
    assert runner("jobs").out == "no pending or failed jobs\n"
    assert not [path.name for path in tmp_path.iterdir() if "\n" in path.name]  # no "tp.db\n" beside it


def test_a_config_file_saved_as_utf8_with_a_bom_is_read(runner, tmp_path):
    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf[thresholds]\r\nfrustration_threshold = 0.8\r\n")

    result = runner("--config", str(path), "check-config")

    assert result.code == 0, result.err
    from ticketpulse.config import load_config

    assert load_config(path).thresholds.frustration_threshold == 0.8


@pytest.mark.parametrize("model", ["", "  "])
def test_a_blank_model_name_is_refused_naming_the_key(runner, tmp_path, model):
    path = tmp_path / "blank-model.toml"
    path.write_text(f'[scoring]\nbackend = "openai"\n[scoring.openai]\nmodel = "{model}"\n')

    line = one_line_error(runner("--config", str(path), "check-config"))

    assert line == f"ticketpulse: error: {path}: scoring.openai.model: empty; give the model's name (on Azure, the deployment's), e.g. gpt-4o-mini"


@pytest.mark.parametrize("given, status", [("lead-password-1\n", 200), ("  \n", 403)])
def test_a_dashboard_password_pasted_with_its_newline_is_the_password_typed(monkeypatch, config, engine, given, status):
    """A password from a secret file ends in a newline no browser can type; a blank one is not set."""
    import base64

    from ticketpulse.config import load_environment
    from ticketpulse.webhooks import create_app

    monkeypatch.setenv("DASHBOARD_PASSWORD", given)
    app = create_app({"TESTING": True, "TICKETPULSE": config, "ENVIRONMENT": load_environment(), "ENGINE": engine})
    login = base64.b64encode(b"lead:lead-password-1").decode()

    response = app.test_client().get("/dashboard/", headers={"Authorization": f"Basic {login}"})

    assert response.status_code == status


def test_check_config_says_whether_zendesk_account_id_is_set_for_trigger_webhooks(runner, monkeypatch):
    monkeypatch.delenv("ZENDESK_ACCOUNT_ID", raising=False)
    unset = runner("check-config")
    monkeypatch.setenv("ZENDESK_ACCOUNT_ID", "9876543")
    configured = runner("check-config")

    assert unset.code == 0 and configured.code == 0
    assert ("zendesk account: ZENDESK_ACCOUNT_ID is not set: a trigger-connected webhook's comments are filed under "
            "account 'default'") in unset.out
    assert "zendesk account: ZENDESK_ACCOUNT_ID=9876543 (for trigger-connected webhooks)" in configured.out


def test_a_model_name_longer_than_a_score_can_record_is_refused_naming_the_key(runner, tmp_path):
    path = tmp_path / "long-model.toml"
    path.write_text(f'[scoring]\nbackend = "openai"\n[scoring.openai]\nmodel = "{"m" * 201}"\n')

    line = one_line_error(runner("--config", str(path), "check-config"))

    assert line.startswith(f"ticketpulse: error: {path}: scoring.openai.model: ")
    assert "200" in line
