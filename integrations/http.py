"""The one HTTP policy for every outbound call.

Timeouts on every request; short in-call retries on connection errors, timeouts, 5xx and 429,
waiting `Retry-After` when the server sends one, else `ticketpulse.retry.backoff`; errors typed
as the Helpdesk port's transient (try again later) or permanent (will never succeed). A wait
longer than `max_wait` is not slept here: the transient error carries it, and the worker
reschedules.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import requests
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt

from ticketpulse import retry as retry_policy
from ticketpulse.escalation.helpdesk import ConflictError, HelpdeskError, PermanentError, TransientError

log = logging.getLogger("ticketpulse.http")

def _error_detail(response: requests.Response) -> str:
    if not response.content:  # Freshdesk's 404 for an unknown ticket: the status's own name
        try:
            return HTTPStatus(response.status_code).phrase
        except ValueError:
            return "no answer body"
    try:
        body = response.json()
    except ValueError:  # a proxy's page: on one line, as a CLI shows only the first
        return " ".join(response.text[:300].split())
    if isinstance(body, dict):
        errors = body.get("errors") or body.get("details")
        if isinstance(errors, dict):  # Zendesk's 422: {"details": {field: [{"description": ...}]}}
            errors = _zendesk_details(errors)
        description = body.get("description") or body.get("error") or body.get("message") or ""
        if isinstance(description, dict):
            description = description.get("message") or description.get("title") or str(description)
        if isinstance(errors, list):
            fields = "; ".join(_error_item(item) for item in errors if isinstance(item, dict))
            return f"{description} ({fields})" if fields and description else fields or str(description)
        return str(description or body)[:300]
    return str(body)[:300]


def _error_item(item: dict[str, Any]) -> str:
    """Freshdesk: field + message; Zendesk's webhooks API: source.pointer + title/detail, the
    pointer only when the error is about one field (an account limit is not)."""
    source = item.get("source")
    where = item.get("field") or (source.get("pointer") if isinstance(source, dict) else None)
    what = item.get("message") or item.get("detail") or item.get("title") or item.get("code", "")
    return f"{where}: {what}" if where else str(what)


def _zendesk_details(details: dict[str, Any]) -> list[dict[str, Any]]:
    """Zendesk's validation details as the list of {field, message} the other APIs give."""
    return [
        {"field": name, "message": item.get("description") or item.get("error") or ""}
        for name, items in details.items()
        for item in (items if isinstance(items, list) else [items])
        if isinstance(item, dict)
    ]


def classify(response: requests.Response) -> HelpdeskError:
    """The error for a helpdesk's answer that is no success, naming the request it answers."""
    status = response.status_code
    method = response.request.method
    message = f"{method} {response.url} -> {status}: {_error_detail(response)}"
    if 300 <= status < 400:
        error: HelpdeskError = PermanentError(_redirect_message(response), status=status)
    elif status == 409:
        error = ConflictError(message, status=status)
    elif retry_policy.is_transient_status(status):
        error = TransientError(message, status=status, retry_after=retry_policy.retry_after(response.headers))
    else:
        error = PermanentError(message, status=status)
    return answering(error, method, response.url)


def answering(error: HelpdeskError, method: str | None, url: str | None) -> HelpdeskError:
    """`error` with the request it is the answer to as `method` and `url` (None: not known), for
    the escalation row to tell which write it answers (pipeline.settled_writes)."""
    error.method, error.url = method, url
    return error


def explained(exc: HelpdeskError, meaning: str | None) -> HelpdeskError:
    """`exc` with what it means for the admin after its message (the same type, status, wait
    and request), or `exc` itself when there is nothing to add."""
    if not meaning:
        return exc
    wait = {"retry_after": exc.retry_after} if isinstance(exc, TransientError) else {}
    said = str(exc)
    again = type(exc)(f"{said}{' ' if said.endswith(('.', '!')) else '. '}{meaning}", status=exc.status, **wait)
    return answering(again, exc.method, exc.url)


def ticket_gone(helpdesk: str, ticket: str, account_variable: str) -> str:
    """What a 404 on a ticket's own address means: it is not there, and asking again will not help."""
    return (f"{helpdesk} has no ticket {ticket} (deleted, or not on this account: check {account_variable}); "
            "not retried, as every try would get the same 404")


def update_refused(helpdesk: str) -> str:
    """What a validation error on a ticket update means: nothing was written, and the same body
    would be refused again."""
    return f"{helpdesk} changed nothing on the ticket; not retried, as the same update would be refused again"


def _redirect_message(response: requests.Response) -> str:
    """Redirects are not followed: requests would turn a PUT into a GET (302) or drop its body
    (301), and the update would look done. The address the server names is the one to configure."""
    where = response.headers.get("Location") or "an address it did not name"
    return (f"{response.request.method} {response.url} -> {response.status_code}: redirected to {where}; "
            "set the helpdesk's base URL to the address the API answers on")


def expect_object(body: Any, key: str | None, where: str) -> dict[str, Any]:
    """The JSON object a call must answer with (under `key`); a 2xx with another shape is an
    error worth retrying later (a proxy's page, a half-deployed API), not a crash."""
    value = body.get(key) if key is not None and isinstance(body, dict) else body
    if not isinstance(value, dict):
        shown = f'"{key}"' if key else "a JSON object"
        raise TransientError(f"{where}: expected {shown} in the answer, got {type(value).__name__}")
    return value


def expect_strings(body: dict[str, Any], key: str, where: str) -> list[str]:
    """The list of strings an object must carry under `key` (a ticket's tags). Updates replace
    the whole list with one built from it, so nothing is guessed: a string is not split into
    characters, an item of another type is not dropped (sending fewer would delete tags), a
    missing list is not taken as empty (null is: no tags). The same answer comes again: failed,
    not retried."""
    value = body.get(key)
    if value is None and key in body:
        return []
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    if isinstance(value, list):
        kinds = sorted({type(item).__name__ for item in value if not isinstance(item, str)})
        shown = f"a list with {', '.join(kinds)} items"
    else:
        shown = "nothing" if key not in body else type(value).__name__
    raise PermanentError(f'{where}: expected "{key}" as a list of strings, got {shown}')


def api_root(base_url: str) -> str:
    """The account's address the client adds `/api/v2/...` to. Both helpdesks document their
    base URL as `https://acme.<helpdesk>.com/api/v2`, so that is taken too (not `/api/v2/api/v2`,
    a 404 on every call)."""
    root = base_url.strip().rstrip("/")
    return root.removesuffix("/api/v2").rstrip("/")


def path_segment(value: str) -> str:
    """An id as one URL path segment: never a way to reach another endpoint."""
    return quote(str(value), safe="")


class HttpPolicy:
    """Timeouts and retries; one instance per API client."""

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (5.0, 20.0),
        attempts: int = 3,
        max_wait: float = 30.0,
        backoff: float = 0.5,
        session: requests.Session | None = None,
    ) -> None:
        self.timeout = timeout
        self.attempts = attempts
        self.max_wait = max_wait
        self.backoff = backoff
        self.session = session or requests.Session()

    def _should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, ConflictError) or not isinstance(exc, TransientError):
            return False  # conflicts need a fresh read first: the caller retries them
        return exc.retry_after is None or exc.retry_after <= self.max_wait

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return exc.retry_after
        return retry_policy.backoff(state.attempt_number, base=self.backoff, cap=self.max_wait)

    def request(self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        """The response's JSON body ({} when empty).

        `idempotent=False` (e.g. a POST that creates something): retried in-call only on 429,
        which the server did not process; after a timeout or a 5xx the request may have taken
        effect, so the caller must look before sending it again.
        """
        return self.exchange(method, url, idempotent=idempotent, **kwargs)[0]

    def exchange(
        self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any
    ) -> tuple[Any, requests.Response]:
        """The JSON body and the response itself, for its headers (e.g. `Link` when paging)."""

        def should_retry(exc: BaseException) -> bool:
            return self._should_retry(exc) and (idempotent or getattr(exc, "status", None) == 429)

        call = retry(
            retry=retry_if_exception(should_retry),
            wait=self._wait,
            stop=stop_after_attempt(self.attempts),
            reraise=True,
            before_sleep=lambda state: log.warning(
                "retrying %s %s after %s", method, url, state.outcome.exception()
            ),
        )(self._send)
        return call(method, url, **kwargs)

    def _send(self, method: str, url: str, **kwargs: Any) -> tuple[Any, requests.Response]:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)  # see _redirect_message
        try:
            response = self.session.request(method, url, **kwargs)
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,  # the connection dropped mid-answer
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise TransientError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
        except requests.RequestException as exc:
            raise PermanentError(f"{method} {url}: {exc}") from exc
        except UnicodeEncodeError as exc:  # HTTP Basic is latin-1: a pasted zero-width space, "…"
            character = exc.object[exc.start:exc.end]
            raise PermanentError(
                f"{method} {url}: the API credentials hold {character!r}, which HTTP cannot send: "
                "copy the email, token or key again"
            ) from None
        if response.status_code >= 300:
            raise classify(response)
        if not response.content:
            return {}, response
        try:
            return response.json(), response
        except ValueError:
            raise TransientError(f"{method} {url}: response is not JSON", status=response.status_code) from None
