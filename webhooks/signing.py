"""Webhook authentication: Zendesk's HMAC signature, Freshdesk's shared secret.

Each verifier takes the secrets currently valid: one, or two during a rotation (old and new).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timezone
from typing import Mapping, Sequence

from ticketpulse.webhooks.request_input import same_secret

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
# Standard Webhooks' window: a captured request is worthless after it, and Zendesk's own retries
# (a few within about a minute, see README "Security") fall well inside it.
DEFAULT_TOLERANCE_SECONDS = 300


class AuthenticationError(Exception):
    """The request is not from the helpdesk; answered with 401 and this message."""


def _secrets(secrets: str | Sequence[str] | None) -> tuple[str, ...]:
    if isinstance(secrets, str):
        secrets = (secrets,)
    return tuple(secret for secret in secrets or () if secret)


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + body)), as Zendesk signs its webhooks."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def _signed_time(timestamp: str) -> datetime:
    """The signature timestamp (ISO-8601, e.g. 2021-03-25T05:09:27Z) as aware UTC."""
    shown = timestamp if len(timestamp) <= 40 else timestamp[:40] + "..."
    try:
        signed = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        raise AuthenticationError(f"{TIMESTAMP_HEADER} is not an ISO-8601 time: {shown!r}") from None
    return signed.replace(tzinfo=timezone.utc) if signed.tzinfo is None else signed


def check_freshness(timestamp: str, tolerance_seconds: float, now: float | None = None) -> None:
    """Refuse a signed timestamp outside now ± tolerance: a replayed capture, or a wrong clock."""
    signed = _signed_time(timestamp)
    try:
        age = (now if now is not None else time.time()) - signed.timestamp()
    except (OverflowError, OSError, ValueError):  # year 1 or 9999 at the edge of the platform
        age = float("inf")
    if age > tolerance_seconds:
        raise AuthenticationError(
            f"{TIMESTAMP_HEADER} {timestamp} is {age:.0f} s old; signed requests are accepted for "
            f"{tolerance_seconds:g} s (a replay, or a clock that is wrong)"
        )
    if -age > tolerance_seconds:
        raise AuthenticationError(
            f"{TIMESTAMP_HEADER} {timestamp} is {-age:.0f} s in the future; at most {tolerance_seconds:g} s "
            "of clock difference is accepted"
        )


def verify_zendesk(
    body: bytes,
    headers: Mapping[str, str],
    secrets: str | Sequence[str] | None,
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """The signature matches one of the secrets, and its timestamp is fresh (`now`: Unix time)."""
    secrets = _secrets(secrets)
    if not secrets:
        raise AuthenticationError(
            "ZENDESK_WEBHOOK_SECRET is not set on the server; unsigned webhooks are refused"
        )
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise AuthenticationError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    given = signature.strip()
    # Every secret is tried (no early exit): the time taken does not tell which one matched.
    matches = [same_secret(given, zendesk_signature(secret, timestamp, body)) for secret in secrets]
    if not any(matches):
        raise AuthenticationError("webhook signature does not match")
    # Checked once the signature is known to be Zendesk's: the timestamp is part of what it signs.
    check_freshness(timestamp, tolerance_seconds, now)


FRESHDESK_TOKEN_HEADER = "X-Webhook-Token"


def _same_secret(given: str, secrets: tuple[str, ...]) -> bool:
    matches = [same_secret(given, secret) for secret in secrets]  # every one tried, as above
    return any(matches)


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


def verify_freshdesk(body: bytes, headers: Mapping[str, str], secrets: str | Sequence[str] | None) -> None:
    """Freshdesk signs nothing: the automation rule sends our secret, as a header or as Basic.

    Accepted: `X-Webhook-Token: <secret>`, or HTTP Basic with the secret as the password (any
    username). Compared in constant time. `body` is unused; it keeps the verifiers alike.
    """
    secrets = _secrets(secrets)
    if not secrets:
        raise AuthenticationError(
            "FRESHDESK_WEBHOOK_SECRET is not set on the server; unauthenticated webhooks are refused"
        )
    token = headers.get(FRESHDESK_TOKEN_HEADER)
    password = _basic_password(headers.get("Authorization"))
    if token is None and password is None:
        raise AuthenticationError(f"missing {FRESHDESK_TOKEN_HEADER} header or HTTP Basic credentials")
    if token is not None and _same_secret(token.strip(), secrets):
        return
    if password is not None and _same_secret(password, secrets):
        return
    raise AuthenticationError(
        f"{FRESHDESK_TOKEN_HEADER} does not match" if token is not None else "HTTP Basic password does not match"
    )
