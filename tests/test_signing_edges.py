"""Webhook authentication at its edges: the freshness window's bounds, an empty secret, and the
forms of Freshdesk's shared secret (README "Security")."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from ticketpulse.webhooks.signing import (
    AuthenticationError,
    check_freshness,
    verify_freshdesk,
    verify_zendesk,
    zendesk_signature,
)

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
TIMESTAMP = "2025-01-08T14:25:31Z"
SIGNED_AT = datetime(2025, 1, 8, 14, 25, 31, tzinfo=timezone.utc).timestamp()
BODY = b'{"ticket_id":"5158"}'
FRESHDESK_SECRET = "fd-whk-7Qm2vX9rLp4sT8"


def signed(secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    return {
        "X-Zendesk-Webhook-Signature": zendesk_signature(secret, TIMESTAMP, body),
        "X-Zendesk-Webhook-Signature-Timestamp": TIMESTAMP,
    }


@pytest.mark.parametrize("seconds", [-300, 0, 300])
def test_a_signature_within_five_minutes_either_way_is_fresh(seconds):
    check_freshness(TIMESTAMP, 300, now=SIGNED_AT + seconds)


def test_a_signature_just_over_five_minutes_old_is_refused():
    with pytest.raises(AuthenticationError, match="is 301 s old"):
        check_freshness(TIMESTAMP, 300, now=SIGNED_AT + 301)


def test_a_signature_dated_just_over_five_minutes_ahead_is_refused():
    with pytest.raises(AuthenticationError, match="is 301 s in the future"):
        check_freshness(TIMESTAMP, 300, now=SIGNED_AT - 301)


def test_a_stale_signature_is_refused_even_when_it_matches():
    with pytest.raises(AuthenticationError, match="s old"):
        verify_zendesk(BODY, signed(), SECRET, now=SIGNED_AT + 3600)


def test_the_timestamp_is_part_of_what_is_signed():
    headers = signed()
    headers["X-Zendesk-Webhook-Signature"] = zendesk_signature(SECRET, "", TIMESTAMP.encode() + BODY)
    verify_zendesk(BODY, headers, SECRET, now=SIGNED_AT)  # timestamp + body, as Zendesk signs
    headers["X-Zendesk-Webhook-Signature"] = zendesk_signature(SECRET, "", BODY)
    with pytest.raises(AuthenticationError, match="does not match"):
        verify_zendesk(BODY, headers, SECRET, now=SIGNED_AT)


def test_during_a_rotation_a_request_signed_with_either_secret_is_accepted():
    for secret in ("old-secret", "new-secret"):
        verify_zendesk(BODY, signed(secret), ("old-secret", "new-secret"), now=SIGNED_AT)


def test_an_empty_zendesk_secret_is_no_secret_and_refuses_a_request_signed_with_an_empty_key():
    with pytest.raises(AuthenticationError, match="ZENDESK_WEBHOOK_SECRET is not set"):
        verify_zendesk(BODY, signed(""), "", now=SIGNED_AT)
    with pytest.raises(AuthenticationError, match="ZENDESK_WEBHOOK_SECRET is not set"):
        verify_zendesk(BODY, signed(""), ("", ""), now=SIGNED_AT)


def test_an_empty_freshdesk_secret_is_no_secret_and_refuses_an_empty_token():
    with pytest.raises(AuthenticationError, match="FRESHDESK_WEBHOOK_SECRET is not set"):
        verify_freshdesk(b"{}", {"X-Webhook-Token": ""}, ("",))


def basic(credentials: str, scheme: str = "Basic") -> dict[str, str]:
    return {"Authorization": f"{scheme} {base64.b64encode(credentials.encode()).decode()}"}


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
def test_the_basic_scheme_is_case_insensitive(scheme):
    # RFC 7617: the scheme name is case-insensitive; an automation rule may write it either way.
    verify_freshdesk(b"{}", basic(f"any-user:{FRESHDESK_SECRET}", scheme), FRESHDESK_SECRET)


def test_only_the_basic_password_is_compared_whatever_the_username():
    verify_freshdesk(b"{}", basic(f"someone@example.com:{FRESHDESK_SECRET}"), FRESHDESK_SECRET)
    with pytest.raises(AuthenticationError, match="HTTP Basic password does not match"):
        verify_freshdesk(b"{}", basic(f"{FRESHDESK_SECRET}:wrong"), FRESHDESK_SECRET)


def test_a_basic_username_without_a_password_is_refused():
    with pytest.raises(AuthenticationError, match="missing X-Webhook-Token header or HTTP Basic"):
        verify_freshdesk(b"{}", basic(FRESHDESK_SECRET), FRESHDESK_SECRET)


def test_a_token_header_with_surrounding_whitespace_is_accepted():
    verify_freshdesk(b"{}", {"X-Webhook-Token": f" {FRESHDESK_SECRET} "}, FRESHDESK_SECRET)


def test_a_wrong_token_is_refused_naming_the_header():
    with pytest.raises(AuthenticationError, match="X-Webhook-Token does not match"):
        verify_freshdesk(b"{}", {"X-Webhook-Token": FRESHDESK_SECRET + "x"}, FRESHDESK_SECRET)
