"""Revoke an app's OAuth tokens (IRREVERSIBLE): all, those of inactive users, or those unused for N days.

How Salesforce allows it: ``SELECT ... DeleteToken FROM OauthToken WHERE AppName = '<app>'`` then, for each
token, ``POST /services/oauth2/revoke`` with ``token=<DeleteToken>`` (help "Revoke OAuth Tokens
Programmatically"; domain doc §2.2). ``OauthToken`` supports only ``describeSObjects()`` and ``query()``: it
has no documented ``delete``, so revocation goes through the OAuth revoke endpoint, one call per token.

The delete tokens are secrets: they are registered with :mod:`toolkit.redact` and never written anywhere;
the journal records each revoked token by user, dates and a short fingerprint. A revocation is never part of
a rollback (a revoked token cannot come back; the user authorizes the app again).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from ..errors import OrgError, ToolkitError, shown
from ..redact import register_secret
from ..sources.org import Org
from .journal import Journal

TOKEN_COLUMNS = ["app", "user", "username", "user_active", "last_used", "created", "fingerprint", "status"]


@dataclass(frozen=True)
class TokenFilter:
    """Which tokens: ``all``, ``inactive-users`` or ``unused-days`` (with ``days``).

    >>> parse_token_filter("unused-days=90")
    TokenFilter(mode='unused-days', days=90)
    """

    mode: str
    days: int | None = None

    def describe(self) -> str:
        return {"all": "all tokens", "inactive-users": "tokens of inactive users"}.get(
            self.mode, f"tokens unused for {self.days} days"
        )


def parse_token_filter(text: str | None) -> TokenFilter:
    """``all``, ``inactive-users``, ``unused-days=N`` -> :class:`TokenFilter`; ToolkitError otherwise.

    >>> parse_token_filter("some")
    Traceback (most recent call last):
    toolkit.errors.ToolkitError: --tokens 'some' is not a token selection; allowed: all, inactive-users, \
unused-days=N
    """
    allowed = "allowed: all, inactive-users, unused-days=N"
    if text in ("all", "inactive-users"):
        return TokenFilter(text)
    m = re.fullmatch(r"unused-days[=:](\d+)", text or "")
    if m and len(m.group(1)) <= 6 and 0 < int(m.group(1)) <= 365000:
        return TokenFilter("unused-days", int(m.group(1)))
    if m:
        raise ToolkitError(f"--tokens {shown(text)}: unused-days must be 1..365000 (1,000 years); {allowed}")
    if text is None:
        raise ToolkitError(f"--tokens is required with --revoke-tokens; {allowed}")
    raise ToolkitError(f"--tokens {shown(text)} is not a token selection; {allowed}")


@dataclass
class RevokeResult:
    """Which tokens were revoked (by user and dates), and where the journal is."""

    journal: str
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TOKEN_COLUMNS))
    impact: pd.DataFrame | None = None  # who it broke (:func:`toolkit.edits.impact.revoke_impact`)

    @property
    def exit_code(self) -> int:
        return 0 if (self.table["status"] == "revoked").all() else 3

    def summary(self) -> str:
        counts = self.table["status"].value_counts().to_dict()
        text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no token matched"
        return f"{text} (irreversible); journal: {self.journal}"


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        return None


def token_app_name(org: Org, app: str) -> str:
    """``OauthToken.AppName`` of an app: the label of the connected app / ECA named ``app``, else ``app``."""
    from ..sources import mdapi_client as mdapi

    for type_name in ("ConnectedApp", "ExternalClientApplication"):
        for rec in org.read_metadata(type_name, [app]):
            if mdapi.record_full_name(rec) == app:
                doc = mdapi.record_to_document(rec, type_name, org.instance_url)
                return doc.get("label") or app
    return app


def _require_app(org: Org, app: str) -> None:
    """Refuse a name that is no app of the org and holds no token (a typo must not end in 'nothing to do')."""
    import difflib

    rows = org.list_metadata(["ConnectedApp", "ExternalClientApplication"])
    names = [str(r.get("fullName", "")) for r in rows]
    if app in names:
        return
    close = difflib.get_close_matches(app, names, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ToolkitError(
        f"--revoke-tokens {app!r}: no connected app or external client app of that name in "
        f"{org.instance_url}, and no OAuth token of an app named so{hint}; allowed: an app API name; "
        "nothing was revoked"
    )


def find_tokens(
    org: Org, app: str, which: TokenFilter, *, app_name: str | None = None
) -> list[dict[str, Any]]:
    """The app's tokens matching the filter (``DeleteToken`` included, registered as a secret)."""
    app_name = app_name or token_app_name(org, app)
    rows = org.query(
        "SELECT AppName, UserId, LastUsedDate, CreatedDate, DeleteToken FROM OauthToken "
        f"WHERE AppName = {_literal(app_name)}",
        bulk_ok=False,
    )
    users = {str(u["Id"]): u for u in org.query("SELECT Id, Username, IsActive FROM User", bulk_ok=False)}
    cutoff = datetime.now(UTC) - timedelta(days=which.days or 0)
    out = []
    for r in rows:
        token = str(r.get("DeleteToken") or "")
        if not token:
            continue
        register_secret(token)
        user = users.get(str(r.get("UserId")), {})
        last = _when(r.get("LastUsedDate")) or _when(r.get("CreatedDate"))
        if which.mode == "inactive-users" and user.get("IsActive", True):
            continue
        if which.mode == "unused-days" and last is not None and last > cutoff:
            continue
        out.append(
            {
                "app": app,
                "user": r.get("UserId"),
                "username": user.get("Username"),
                "user_active": user.get("IsActive"),
                "last_used": r.get("LastUsedDate"),
                "created": r.get("CreatedDate"),
                "fingerprint": _fingerprint(token),
                "_token": token,
            }
        )
    return out


def revoke_tokens(
    org: Org,
    app: str,
    which: TokenFilter | str,
    *,
    confirm: bool | Callable[[str], bool] = False,
    journal_dir: str | None = None,
    progress: Callable[[str], None] | None = None,
    max_impact: int | None = None,
    window_days: int = 180,
) -> RevokeResult:
    """Revoke the app's tokens that match ``which``; IRREVERSIBLE, so ``confirm`` must say yes.

    ``confirm`` is True, or a callable shown the summary (``"revoke 12 tokens of X ... irreversible"``, with
    how many users would break: those whose token was used in the last ``window_days`` days) that returns
    True to go on. ``max_impact``: refuse, nothing revoked, when more users would break. The journal lists
    every revoked token by user, dates and fingerprint; after the calls the tokens are queried again and each
    one still there is reported ``not revoked``.
    """
    from .impact import revoke_impact, users_breaking

    which = parse_token_filter(which) if isinstance(which, str) else which
    app_name = token_app_name(org, app)
    tokens = find_tokens(org, app, which, app_name=app_name)
    if not tokens and app_name == app:
        _require_app(org, app)
    users = len({t["user"] for t in tokens})
    impact = revoke_impact(app, tokens, which.describe(), window_days)
    broken = users_breaking(impact)
    summary = (
        f"IRREVERSIBLE: revoke {len(tokens)} {which.describe()} of {app} "
        f"(AppName {app_name!r}, {users} users); "
        f"users must authorize the app again; impact: {broken} users would break "
        f"(tokens used in the last {window_days} days)"
    )
    if max_impact is not None and broken > max_impact:
        raise ToolkitError(
            f"--max-impact {max_impact}: {broken} users would break; nothing was revoked ({summary})"
        )
    agreed = confirm(summary) if callable(confirm) else confirm is True
    if not agreed:
        raise ToolkitError(f"{app}: token revocation not confirmed; nothing was revoked ({summary})")
    journal = Journal.create(journal_dir, prefix="revoke")
    public = [{k: v for k, v in t.items() if k != "_token"} for t in tokens]
    journal.append(
        {
            "type": "plan",
            "kind": "revoke",
            "irreversible": True,
            "app": app,
            "filter": which.describe(),
            "tokens": public,
        }
    )
    if progress is not None:
        progress(f"journal: {journal}")
    url = f"{org.instance_url}/services/oauth2/revoke"
    for n, t in enumerate(tokens):
        token = t.pop("_token")

        def call(tok: str = token) -> Any:
            r = org.sf.session.post(url, data={"token": tok}, timeout=60)
            if r.status_code >= 500:
                from ..sources.resilience import CallFailed

                raise CallFailed(f"HTTP_{r.status_code}", "revoke failed", status=r.status_code)
            return r.status_code

        try:
            status = org._retry(call, f"revoke a token of {app}")
            t["status"] = "revoked" if status == 200 else f"refused (HTTP {status})"
        except OrgError as exc:
            t["status"] = f"failed: {exc}"
        journal.append(
            {"type": "revoked", "fingerprint": t["fingerprint"], "user": t["user"], "status": t["status"]}
        )
        if progress is not None and (n + 1) % 50 == 0:
            progress(f"revoke: {n + 1}/{len(tokens)}")
    remaining = {r["fingerprint"] for r in find_tokens(org, app, TokenFilter("all"), app_name=app_name)}
    for t in tokens:
        if t["status"] == "revoked" and t["fingerprint"] in remaining:
            t["status"] = "not revoked (still listed)"
    journal.append(
        {
            "type": "done",
            "phase": "revoke",
            "revoked": sum(t["status"] == "revoked" for t in tokens),
            "total": len(tokens),
        }
    )
    return RevokeResult(str(journal), pd.DataFrame(tokens, columns=TOKEN_COLUMNS), impact)
