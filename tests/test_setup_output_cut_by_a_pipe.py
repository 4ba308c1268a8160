"""`ticketpulse setup ... | head -1`: the reader closing the pipe must not stop the setup half-way.

main() turns a BrokenPipeError into exit 0 (right for `score | head`). Raised by setup's next
line, it stopped the setup between two of its writes, the webhook made and its trigger not, and
said success; the secret line was never printed. Setup now finishes its work, discards what it
prints after the cut, and says on stderr what was cut (exit 1). Real pipes, in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fakes.freshdesk import FakeFreshdesk
from tests.fakes.server import LiveServer
from tests.fakes.zendesk import FakeZendesk
from tests.test_setup import ticketpulse_server
from ticketpulse.integrations.setup import TRIGGER_TITLE

CREDENTIALS = ("ZENDESK_SUBDOMAIN", "ZENDESK_BASE_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_WEBHOOK_SECRET",
               "FRESHDESK_DOMAIN", "FRESHDESK_BASE_URL", "FRESHDESK_API_KEY", "FRESHDESK_WEBHOOK_SECRET",
               "TICKETPULSE_CONFIG", "PYTHONUNBUFFERED")  # buffered, as stdout to a pipe is by default


def environment(**variables: str) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in CREDENTIALS} | variables


def run_reading_lines(args: list[str], env: dict, cwd, lines: int) -> tuple[int, list[str], str]:
    """Run `ticketpulse ARGS | head -LINES`: read that many lines, then close the pipe. Returns the
    exit code, the lines read and stderr."""
    process = subprocess.Popen([sys.executable, "-m", "ticketpulse.cli", *args], cwd=cwd, env=env, text=True,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        read = [process.stdout.readline() for _ in range(lines)]
        process.stdout.close()
        err = process.stderr.read()
        return process.wait(timeout=60), read, err
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def zendesk():
    # Each answer takes a while, so that the pipe is closed before the setup's next line.
    fake = FakeZendesk(latency=0.05)
    with LiveServer(fake.app()) as live:
        fake.url = live.url
        yield fake


def zendesk_environment(zendesk, **variables: str) -> dict[str, str]:
    return environment(ZENDESK_BASE_URL=zendesk.url, ZENDESK_EMAIL=zendesk.email, ZENDESK_API_TOKEN=zendesk.token,
                       **variables)


# Unbuffered (as in many container images) the next line raised at once; buffered, at the exit's
# flush (exit 120) or once the buffer filled.
@pytest.mark.parametrize("unbuffered", [{}, {"PYTHONUNBUFFERED": "1"}], ids=["buffered", "unbuffered"])
def test_setup_zendesk_trigger_cut_after_its_first_line_sets_up_both_and_says_the_secret_was_lost(
        zendesk, tmp_path, unbuffered):
    code, read, err = run_reading_lines(["setup", "zendesk", "--url", "https://tp.example.com", "--trigger"],
                                        zendesk_environment(zendesk, **unbuffered), tmp_path, lines=1)

    assert read[0].startswith("zendesk: ") and "authenticated as" in read[0]
    [webhook] = zendesk.webhooks.values()
    [trigger] = zendesk.triggers.values()  # the work after the cut was done: the trigger too
    assert trigger["title"] == TRIGGER_TITLE
    assert trigger["actions"][0]["value"][0] == webhook["id"]
    assert len(zendesk.test_sends) == 1  # and the round trip tried
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith("ticketpulse: error: setup zendesk: its output was cut: the reader closed the pipe after ")
    assert "the setup ran to its end, not all of it verified" in line.lower()
    assert "the ZENDESK_WEBHOOK_SECRET= line among it" in line
    assert zendesk.webhook_secrets[webhook["id"]] not in err  # printed to stdout only, never elsewhere


def test_setup_zendesk_verified_but_cut_exits_1_saying_it_verified(zendesk, tmp_path):
    with ticketpulse_server(tmp_path, "the-secret") as server:
        zendesk.webhooks["01OURS"] = {
            "id": "01OURS", "name": "ticketpulse", "status": "active", "endpoint": f"{server.url}/webhooks/zendesk",
            "http_method": "POST", "request_format": "json", "subscriptions": ["zen:event-type:ticket.comment_added",
                                                                              "zen:event-type:ticket.tags_changed"],
            "description": "ticketpulse: scores customer comments and escalates frustrated customers"}
        zendesk.webhook_secrets["01OURS"] = "the-secret"
        code, read, err = run_reading_lines(["setup", "zendesk", "--url", server.url],
                                            zendesk_environment(zendesk, ZENDESK_WEBHOOK_SECRET="the-secret"),
                                            tmp_path, lines=1)

    assert code == 1, err
    assert "The setup ran to its end and verified it all" in err
    assert "WEBHOOK_SECRET= line" not in err  # it printed none: the environment has it already
    assert len(zendesk.webhooks) == 1


def test_setup_freshdesk_cut_says_its_generated_secret_was_lost(tmp_path):
    fake = FakeFreshdesk()
    with LiveServer(fake.app()) as live:
        env = environment(FRESHDESK_BASE_URL=live.url, FRESHDESK_API_KEY=fake.api_key)
        code, read, err = run_reading_lines(["setup", "freshdesk", "--url", "https://tp.example.com"], env, tmp_path,
                                            lines=0)

    assert code == 1
    assert "the FRESHDESK_WEBHOOK_SECRET= line" in err


def test_setup_read_to_its_end_through_a_pipe_exits_as_before(zendesk, tmp_path):
    process = subprocess.run([sys.executable, "-m", "ticketpulse.cli", "setup", "zendesk", "--url",
                              "https://tp.example.com"], cwd=tmp_path, env=zendesk_environment(zendesk),
                             capture_output=True, text=True, timeout=60)

    assert process.returncode == 1  # nothing answers at tp.example.com: not verified, as without the pipe
    assert "ZENDESK_WEBHOOK_SECRET=" in process.stdout
    assert "cut" not in process.stderr


def test_score_cut_by_head_still_exits_0(tmp_path):
    code, read, err = run_reading_lines(["score", "Still broken. Third time asking!!!"], environment(), tmp_path, lines=0)
    assert (code, err) == (0, "")


def test_a_command_whose_reader_closed_before_its_buffered_output_exits_0_without_a_traceback(tmp_path):
    """`ticketpulse check-config | true`: its lines were buffered until exit, and the flush there
    failed: Python's 'Exception ignored ... BrokenPipeError' and exit 120."""
    code, read, err = run_reading_lines(["check-config"], environment(), tmp_path, lines=0)
    assert (code, err) == (0, "")
