"""Retry policy for org calls: which failures are worth another try, and how long to wait.

Transient faults (HTTP 5xx, connection resets, timeouts) are retried with exponential backoff and full
jitter; ``REQUEST_LIMIT_EXCEEDED`` is retried after a longer wait (or the server's ``Retry-After``); an
expired session gets one re-authentication when the auth mode allows it. Anything else, or a fault that
outlasts the policy, becomes a typed :class:`~toolkit.errors.OrgError` whose text is redacted.

That is the policy of *reads* (and of writes that are idempotent, like ``updateMetadata`` of a whole
document). A write that is not idempotent (a create, a delete, a ``deploy``) is sent again only when the
request surely never reached the org (:attr:`CallFailed.sent` is False: the connection could not be made, or
the org refused it before doing anything: an expired session, a request limit); any other transient fault
means the answer was lost and the call may have landed: :class:`WriteInDoubt`, which the caller settles by
reading (:meth:`toolkit.sources.org.Org.write`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from ..errors import OrgError
from ..redact import redact

log = logging.getLogger("toolkit.sources")
T = TypeVar("T")

# SOAP fault codes / REST errorCodes that a later try can succeed on
_TRANSIENT_CODES = {
    "CONNECTION_RESET",
    "CONNECTION_REFUSED",
    "TIMEOUT",
    "SERVER_UNAVAILABLE",
    "UNKNOWN_EXCEPTION",
    "SERVICE_UNAVAILABLE",
    "QUERY_TIMEOUT",
}
_LIMIT_CODES = {"REQUEST_LIMIT_EXCEEDED", "CONCURRENT_REQUEST_LIMIT_EXCEEDED"}
# readMetadata of one listed-but-unloadable component fails the whole call with this UNKNOWN_EXCEPTION
# (sfdx-hardis PR #2070, jsforce#621): retrying cannot help, splitting the batch can
UNLOADABLE_MARK = "Load of metadata from db failed"
_SESSION_CODES = {"INVALID_SESSION_ID"}


class WriteInDoubt(OrgError):
    """A non-idempotent call got no usable answer (reset, read timeout, 5xx): it may or may not have landed.

    Never sent again blindly: the caller reads to settle it (``Org.write``), or reports it in doubt.
    """


class CallFailed(Exception):
    """One failed HTTP exchange, classified. Internal: :func:`with_retries` turns it into OrgError.

    ``sent`` is False when the request surely never reached the org (the connection could not be made),
    None when it may have.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        sent: bool | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.retry_after = code, message, status, retry_after
        self.sent = sent

    @property
    def unsent(self) -> bool:
        """True when sending the same request again cannot do anything twice: it never reached the org, or
        the org refused it before doing anything (expired session, request limit).

        >>> CallFailed("CONNECTION_RESET", "reset").unsent, CallFailed("REQUEST_LIMIT_EXCEEDED", "").unsent
        (False, True)
        """
        return self.sent is False or self.category in ("session", "limit")

    @property
    def category(self) -> str:
        """``transient``, ``limit``, ``session`` or ``fatal``.

        >>> CallFailed("REQUEST_LIMIT_EXCEEDED", "too many").category
        'limit'
        >>> CallFailed("HTTP_503", "unavailable", status=503).category
        'transient'
        """
        if self.code in _SESSION_CODES or self.status == 401:
            return "session"
        if self.code in _LIMIT_CODES:
            return "limit"
        if UNLOADABLE_MARK in self.message:
            return "fatal"
        if self.code in _TRANSIENT_CODES or (self.status is not None and self.status >= 500):
            return "transient"
        return "fatal"


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries, and how long to wait between them.

    >>> p = RetryPolicy(base=0.1, cap=1.0)
    >>> 0 <= p.backoff(3, random.Random(1)) <= 0.8
    True
    """

    attempts: int = 6  # tries per call, the first one included
    base: float = 0.05  # seconds; the n-th retry waits up to base * 2**n (full jitter)
    cap: float = 5.0
    limit_wait: float = 20.0  # REQUEST_LIMIT_EXCEEDED without Retry-After
    limit_attempts: int = 3  # limit errors tolerated per call before giving up
    # seconds one call may take, its tries and waits included: no retry starts after that (with the
    # default 60 s read timeout, an org that stops answering costs a call two tries, about 2 minutes)
    budget: float = 120.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff (AWS architecture blog): spreads retries of parallel batches."""
        return rng.uniform(0, min(self.cap, self.base * 2**retry))


def classify_exception(exc: BaseException) -> CallFailed | None:
    """Turn a requests / simple-salesforce exception into a :class:`CallFailed`; None if not an org fault.

    >>> classify_exception(requests.ConnectionError("reset")).category
    'transient'
    """
    if isinstance(exc, CallFailed):
        return exc
    if isinstance(exc, requests.exceptions.SSLError):
        # a certificate problem does not go away by retrying
        return CallFailed("TLS_ERROR", f"TLS verification failed: {str(exc)[:200]}")
    if isinstance(exc, requests.ConnectTimeout):
        return CallFailed("TIMEOUT", "could not connect to the org within the connect timeout", sent=False)
    if isinstance(exc, requests.Timeout):
        return CallFailed("TIMEOUT", "the org did not answer within the read timeout")
    if isinstance(exc, requests.ConnectionError) and _could_not_connect(exc):
        return CallFailed("CONNECTION_REFUSED", "could not connect to the org", sent=False)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.ConnectionError):
        return CallFailed("CONNECTION_RESET", "the connection to the org was reset")
    status = getattr(exc, "status", None)
    content = getattr(exc, "content", None)
    if isinstance(status, int):
        code, message = _rest_error(content, status)
        return CallFailed(code, message, status=status)
    return None


def _could_not_connect(exc: BaseException) -> bool:
    """True for a connection that was never made (refused, no route, DNS): the request was not sent.

    requests wraps urllib3's ``NewConnectionError`` in ``MaxRetryError.reason`` inside ``ConnectionError``.

    >>> _could_not_connect(requests.ConnectionError("reset by peer"))
    False
    """
    seen: list[BaseException] = [exc]
    while seen:
        e = seen.pop()
        if isinstance(e, NewConnectionError):
            return True
        linked = (*getattr(e, "args", ()), getattr(e, "reason", None))
        seen.extend(a for a in linked if isinstance(a, BaseException))
    return False


def _rest_error(content: Any, status: int) -> tuple[str, str]:
    """errorCode and message of a REST error body (a JSON list of {message, errorCode})."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        return str(first.get("errorCode") or f"HTTP_{status}"), str(first.get("message") or "")
    if isinstance(content, dict):
        return str(content.get("errorCode") or content.get("error") or f"HTTP_{status}"), str(
            content.get("message") or content.get("error_description") or ""
        )
    return f"HTTP_{status}", str(content or "")[:200]


def with_retries(
    fn: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    reauth: Callable[[], bool] | None = None,
    on_retry: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    secrets: tuple[str, ...] = (),
    notify: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    idempotent: bool = True,
) -> T:
    """Call ``fn`` until it succeeds, retrying what :class:`RetryPolicy` says is worth retrying.

    ``idempotent=False`` (a create, a delete, a deploy): a transient fault is retried only when the request
    surely never reached the org (:attr:`CallFailed.unsent`); otherwise :class:`WriteInDoubt` is raised at
    once, for the caller to settle by reading.

    ``reauth`` is called at most once, on an expired session; it returns False when the auth mode cannot
    log in again. ``on_retry(category)`` lets the caller count retries, ``notify(message)`` tell a person.
    No retry starts once ``policy.budget`` seconds have passed since the first try (waits included).

    >>> calls = []
    >>> def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise requests.ConnectionError("reset by peer")
    ...     return "ok"
    >>> with_retries(flaky, what="query ConnectedApplication", policy=RetryPolicy(), sleep=lambda s: None)
    'ok'
    """
    rng = rng or random.Random()
    started = clock()
    tries = limits = 0
    reauthed = False
    while True:
        tries += 1
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below; unknown errors re-raised as they are
            failure = classify_exception(exc)
            if failure is None:
                raise
        category = failure.category
        detail = redact(failure.message, secrets)[:300]
        if not idempotent and category == "transient" and not failure.unsent:
            raise WriteInDoubt(
                failure.code, f"{what}: the answer was lost ({detail}); the call may have landed"
            ) from None
        if category == "session":
            if reauthed or reauth is None or not reauth():
                raise OrgError(
                    "INVALID_SESSION_ID",
                    f"{what}: the session expired and this connection cannot "
                    "log in again (access-token mode); connect again with a fresh token",
                ) from None
            reauthed = True
            tries -= 1  # a re-login is not a failed try
            _note(on_retry, "reauth")
            continue
        if category == "fatal":
            raise OrgError(failure.code, f"{what}: {detail or 'the org refused the call'}") from None
        if category == "limit":
            limits += 1
            if limits >= policy.limit_attempts:
                raise OrgError(
                    failure.code,
                    f"{what}: the org's API request limit is exceeded ({detail}); "
                    f"gave up after {limits} waits",
                ) from None
            wait = failure.retry_after if failure.retry_after is not None else policy.limit_wait
        else:
            if tries >= policy.attempts:
                raise OrgError(
                    failure.code, f"{what}: still failing after {tries} tries ({detail})"
                ) from None
            wait = policy.backoff(tries, rng)
        elapsed = clock() - started
        if elapsed + wait >= policy.budget:
            raise OrgError(
                failure.code,
                f"{what}: gave up after {tries} tries in {elapsed:.1f} s "
                f"(time budget {policy.budget:g} s) ({detail})",
            ) from None
        _note(on_retry, category)
        message = f"retrying {what} after {failure.code} (try {tries + 1}, waiting {wait:.1f} s)"
        log.info("%s", message)
        if notify is not None:
            notify(message)
        sleep(wait)


def _note(on_retry: Callable[[str], None] | None, category: str) -> None:
    if on_retry is not None:
        on_retry(category)
