"""The dashboard quotes customers and its sign-in faces whoever reaches it: a short
DASHBOARD_PASSWORD is refused at start, by name and without its value."""

from __future__ import annotations

import pytest

from ticketpulse.config import MIN_DASHBOARD_PASSWORD_LENGTH, ConfigError, load_environment


def test_a_short_dashboard_password_is_refused_by_name_and_not_quoted(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", "lead123")
    with pytest.raises(ConfigError) as refused:
        load_environment()
    assert "DASHBOARD_PASSWORD: 7 characters; use at least 12" in str(refused.value)
    assert "lead123" not in str(refused.value)


def test_serve_refuses_a_short_dashboard_password_before_it_serves(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_PASSWORD", "lead123")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tp.db'}")
    import socket

    with socket.socket() as busy:  # were the password taken, serve would stop at this port instead
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = runner("serve", "--port", str(busy.getsockname()[1]))
    assert result.code == 2
    assert "DASHBOARD_PASSWORD: 7 characters" in result.err and "lead123" not in result.err
    assert not (tmp_path / "tp.db").exists()


def test_a_password_of_the_minimum_length_and_the_readme_s_are_taken(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PASSWORD", "x" * MIN_DASHBOARD_PASSWORD_LENGTH)
    assert load_environment().dashboard_password == "x" * MIN_DASHBOARD_PASSWORD_LENGTH
    monkeypatch.setenv("DASHBOARD_PASSWORD", "0123456789abcdef" * 2)  # `openssl rand -hex 16`
    assert load_environment().dashboard_password
