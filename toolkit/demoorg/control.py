"""The emulator's control plane (``/__emulator/...``; every call needs a valid session):

- ``GET  /__emulator/stats``            -> ``{"requests": {op: n}, "queried": {sObject: n}, "api_usage": n,
  "latency_ms": x, ...}`` (``queried``: SOQL queries per object, REST and Bulk API 2.0 query jobs)
- ``POST /__emulator/reset``            -> restore the seeded state (sessions stay valid)
- ``POST /__emulator/latency``          ``{"ms": 50}``
- ``POST /__emulator/expire-sessions``  ``{"token": "..."}`` (one) or ``{}`` (all, including the caller's)
- ``POST /__emulator/sessions``         -> ``{"access_token": "..."}``: a new session for the caller's user
- ``POST /__emulator/faults``           ``{"kind", "operation", "count", "rate", "full_name", "status_code",
  "message", "ms"}``; ``DELETE /__emulator/faults`` clears them; ``GET`` lists them. Test facilities beyond
  Salesforce's own errors: ``slow`` waits ``ms`` before handling the request (a client read timeout below it
  is a timeout whose call still lands), ``drop_response`` handles the request, then resets the connection
  instead of answering (a lost answer after the write landed)
- ``GET  /__emulator/truth``            -> the seeded truth (app names per category...)
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from .exceptions import RestError
from .models import FAULT_KINDS, FaultRule, OrgState


def stats(state: OrgState) -> dict[str, Any]:
    """Request counts by operation and the current emulator settings.

    >>> stats(OrgState(org_id="00D"))["requests"]
    {}
    """
    with state.lock:
        return {
            "requests": dict(state.requests),
            "queried": dict(state.queried),
            "api_usage": state.api_usage,
            "latency_ms": state.latency_ms,
            "faults": [f.to_json() for f in state.faults],
        }


def make_fault(
    kind: str,
    operation: str | None = None,
    count: int | None = None,
    rate: float | None = None,
    full_name: str | None = None,
    status_code: str | None = None,
    message: str | None = None,
    seed: int = 0,
    ms: float | None = None,
) -> FaultRule:
    """Validate and build a fault rule (``ValueError`` names the bad value and what is allowed).

    >>> make_fault("http503", operation="query", count=2).count
    2
    >>> make_fault("boom")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: fault kind cannot be 'boom'; allowed: http500, http503, reset, request_limit, ...
    """
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault kind cannot be {kind!r}; allowed: {', '.join(FAULT_KINDS)}")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError(f"fault count cannot be {count!r}; allowed: a positive integer or null (forever)")
    if rate is not None and not (isinstance(rate, int | float) and 0 < rate <= 1):
        raise ValueError(f"fault rate cannot be {rate!r}; allowed: a number in (0, 1] or null (always)")
    if ms is not None and not (isinstance(ms, int | float) and 0 <= ms <= 600_000):
        raise ValueError(f"fault ms cannot be {ms!r}; allowed: milliseconds from 0 to 600000")
    rule = FaultRule(
        kind=kind,
        operation=operation or None,
        count=count,
        rate=float(rate) if rate is not None else None,
        full_name=full_name,
        rng=random.Random(seed),
    )
    if status_code:
        rule.status_code = status_code
    if message:
        rule.message = message
    if ms is not None:
        rule.ms = float(ms)
    return rule


def handle(
    state: OrgState,
    method: str,
    action: str,
    body: bytes,
    token: str,
    reset: Callable[[], None],
    truth: Callable[[], dict[str, Any]],
) -> tuple[int, Any]:
    """Serve one control call: (HTTP status, JSON body)."""
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        raise RestError(400, "JSON_PARSER_ERROR", "The request body is not valid JSON") from None
    if action == "stats" and method == "GET":
        return 200, stats(state)
    if action == "truth" and method == "GET":
        return 200, truth()
    if action == "reset" and method == "POST":
        reset()
        return 200, {"reset": True}
    if action == "latency" and method == "POST":
        ms = payload.get("ms")
        if not isinstance(ms, int | float) or ms < 0:
            raise RestError(400, "INVALID_FIELD", f"latency ms cannot be {ms!r}; allowed: a number >= 0")
        state.latency_ms = float(ms)
        return 200, {"latency_ms": state.latency_ms}
    if action == "expire-sessions" and method == "POST":
        return 200, {"expired": expire_sessions(state, payload.get("token"))}
    if action == "sessions" and method == "POST":
        # another session for the caller's user: tests expire one client's token and keep their own
        from .auth import new_session

        caller = state.sessions.get(token)
        username = caller.username if caller is not None else ""
        return 200, {"access_token": new_session(state, username).token}
    if action == "faults":
        if method == "GET":
            return 200, {"faults": stats(state)["faults"]}
        if method == "DELETE":
            with state.lock:
                state.faults.clear()
            return 200, {"faults": []}
        if method == "POST":
            try:
                fields: dict[str, Any] = {
                    k: payload.get(k)
                    for k in ("operation", "count", "rate", "full_name", "status_code", "message", "ms")
                }
                rule = make_fault(str(payload.get("kind")), **fields)
            except (ValueError, TypeError) as exc:
                raise RestError(400, "INVALID_FIELD", str(exc)) from None
            with state.lock:
                state.faults.append(rule)
            return 200, {"fault": rule.to_json()}
    raise RestError(404, "NOT_FOUND", "The requested resource does not exist")


def expire_sessions(state: OrgState, token: str | None = None) -> int:
    """Expire one session (``token``) or all of them; returns how many were expired.

    >>> expire_sessions(OrgState(org_id="00D"))
    0
    """
    n = 0
    with state.lock:
        for key, session in state.sessions.items():
            if (token is None or key == token) and not session.expired:
                session.expired = True
                n += 1
    return n
