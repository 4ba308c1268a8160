from datetime import datetime, timezone

import pytest

from ticketpulse.webhooks.signing import AuthenticationError, verify_zendesk, zendesk_signature

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
TIMESTAMP = "2025-01-08T14:25:31Z"
BODY = b'{"ticket_id":"5158","comment":"Still broken. I want a refund."}'
# The vector was signed in 2025: verified as of that moment (signatures older than 5 minutes are refused).
VECTOR_SIGNED_AT = datetime(2025, 1, 8, 14, 25, 31, tzinfo=timezone.utc).timestamp()


def test_signature_matches_zendesks_test_vectors():
    assert zendesk_signature(SECRET, TIMESTAMP, BODY) == "50GJHO1pijgPlQ5iJx1qf+9490rAfstqDAxfTN3LVC8="
    assert zendesk_signature(SECRET, TIMESTAMP, b"") == "/rBrGF0FLup8UDKj9yYxAfNjoRqAZ7WRrraQIgQ44hU="


def test_verify_accepts_the_vector_and_rejects_a_changed_body():
    headers = {
        "X-Zendesk-Webhook-Signature": "50GJHO1pijgPlQ5iJx1qf+9490rAfstqDAxfTN3LVC8=",
        "X-Zendesk-Webhook-Signature-Timestamp": TIMESTAMP,
    }
    verify_zendesk(BODY, headers, SECRET, now=VECTOR_SIGNED_AT)
    with pytest.raises(AuthenticationError, match="does not match"):
        verify_zendesk(BODY + b" ", headers, SECRET, now=VECTOR_SIGNED_AT)


def test_verify_refuses_everything_when_no_secret_is_configured():
    with pytest.raises(AuthenticationError, match="ZENDESK_WEBHOOK_SECRET is not set"):
        verify_zendesk(BODY, {}, None)
