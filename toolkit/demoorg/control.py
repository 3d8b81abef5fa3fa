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
- ``POST /__emulator/oauth-clients``    ``{"app": "<ConnectedApp fullName>"}`` -> ``{"client_id",
  "client_secret"}``: an OAuth client of that seeded app (password and client-credentials grants)
- ``POST /__emulator/passwords``        ``{"username", "password"}``: a password for a seeded user (so tests
  can log in as the users the seed's truth names)
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
    if action == "oauth-clients" and method == "POST":
        try:
            return 200, add_oauth_client(state, str(payload.get("app") or ""))
        except ValueError as exc:
            raise RestError(400, "INVALID_FIELD", str(exc)) from None
    if action == "passwords" and method == "POST":
        try:
            set_password(state, str(payload.get("username") or ""), str(payload.get("password") or ""))
        except ValueError as exc:
            raise RestError(400, "INVALID_FIELD", str(exc)) from None
        return 200, {"username": payload.get("username")}
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


def add_oauth_client(state: OrgState, app: str) -> dict[str, str]:
    """Register an OAuth client (consumer key and secret) for the seeded connected app ``app``.

    >>> from toolkit.demoorg.seed import build
    >>> st = build(apps=3, ecas=0).state
    >>> app = next(n for (t, n) in st.metadata if t == "ConnectedApp")
    >>> sorted(add_oauth_client(st, app))
    ['client_id', 'client_secret']
    >>> add_oauth_client(st, "Nope")
    Traceback (most recent call last):
    ...
    ValueError: oauth client app cannot be 'Nope'; allowed: the fullName of a seeded ConnectedApp
    """
    import secrets

    if ("ConnectedApp", app) not in state.metadata:
        allowed = "the fullName of a seeded ConnectedApp"
        raise ValueError(f"oauth client app cannot be {app!r}; allowed: {allowed}")
    client_id = "3MVG9" + secrets.token_urlsafe(60).replace("-", "x").replace("_", "y")
    secret = secrets.token_hex(32).upper()
    with state.lock:
        state.oauth_clients[client_id] = {
            "app": app,
            "secret": secret,
            "cert_pem": None,
            "client_credentials_user": None,
        }
    return {"client_id": client_id, "client_secret": secret}


def set_password(state: OrgState, username: str, password: str) -> None:
    """Give the seeded user ``username`` a password (the username-password grant then accepts it)."""
    from .auth import find_user

    user = find_user(state, username)
    if user is None or not password:
        raise ValueError(
            f"password for {username!r} cannot be set; "
            "allowed: a seeded user's username and a non-empty password"
        )
    with state.lock:
        state.passwords[user["Username"]] = password
