"""Webhook authentication: Zendesk's HMAC signature, Freshdesk's shared secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Mapping

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"


class AuthenticationError(Exception):
    """The request is not from the helpdesk; answered with 401 and this message."""


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + body)), as Zendesk signs its webhooks."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def verify_zendesk(body: bytes, headers: Mapping[str, str], secret: str | None) -> None:
    if not secret:
        raise AuthenticationError(
            "ZENDESK_WEBHOOK_SECRET is not set on the server; unsigned webhooks are refused"
        )
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise AuthenticationError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    expected = zendesk_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace")):
        raise AuthenticationError("webhook signature does not match")
