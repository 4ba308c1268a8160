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


FRESHDESK_TOKEN_HEADER = "X-Webhook-Token"


def _same_secret(given: str, secret: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


def _basic_password(authorization: str | None) -> str | None:
    """The password of an `Authorization: Basic base64(user:password)` header, else None."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not credentials.strip():
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    _user, separator, password = decoded.partition(":")
    return password if separator else None


def verify_freshdesk(body: bytes, headers: Mapping[str, str], secret: str | None) -> None:
    """Freshdesk signs nothing: the automation rule sends our secret, as a header or as Basic.

    Accepted: `X-Webhook-Token: <secret>`, or HTTP Basic with the secret as the password (any
    username). Compared in constant time. `body` is unused; it keeps the verifiers alike.
    """
    if not secret:
        raise AuthenticationError(
            "FRESHDESK_WEBHOOK_SECRET is not set on the server; unauthenticated webhooks are refused"
        )
    token = headers.get(FRESHDESK_TOKEN_HEADER)
    password = _basic_password(headers.get("Authorization"))
    if token is None and password is None:
        raise AuthenticationError(f"missing {FRESHDESK_TOKEN_HEADER} header or HTTP Basic credentials")
    if token is not None and _same_secret(token.strip(), secret):
        return
    if password is not None and _same_secret(password, secret):
        return
    raise AuthenticationError(
        f"{FRESHDESK_TOKEN_HEADER} does not match" if token is not None else "HTTP Basic password does not match"
    )
