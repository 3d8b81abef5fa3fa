"""Org-only audit tables (``usage``, ``tokens``, ``logins``, ``api_calls``, ``org``) and org facts added
to ``apps``.

Inputs come from :func:`toolkit.sources.org_inventory.load_org`: ``inventory.extra["tokens"]`` /
``["logins"]`` are SOQL rows already tagged with their app (``_app``), ``["api"]`` the call ledger.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..model.bundle import Inventory

USAGE_COLUMNS = (
    "app",
    "tokens",
    "users",
    "use_count",
    "last_token_use",
    "inactive_user_tokens",
    "logins",
    "last_login",
    "saml_logins",
    "last_saml_login",
    "last_used",
    "logins_by_flow",
    "used",
)
TOKEN_COLUMNS = (
    "app",
    "app_name",
    "installed",
    "user_id",
    "username",
    "user_active",
    "use_count",
    "last_used",
    "created",
)
# the columns the apps table gets from an org (add_org_columns): SOQL facts, then usage
APPS_SOQL_COLUMNS = ("installed", "join_key", "soql_id", "namespace", "manageable_state", "last_modified")
_USAGE_DETAIL = frozenset({"app", "last_token_use", "last_login", "last_saml_login", "logins_by_flow"})
APPS_USAGE_COLUMNS = tuple(c for c in USAGE_COLUMNS if c not in _USAGE_DETAIL)
# the usage counts: whole numbers, or <NA> where the object could not be read
_COUNTS = ("tokens", "users", "use_count", "inactive_user_tokens", "logins", "saml_logins")
LOGIN_COLUMNS = ("app", "login_type", "login_subtype", "logins", "users", "last_login")
API_COLUMNS = ("kind", "calls", "counted", "detail")


def _ts(values: Any) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype="object"), utc=True, errors="coerce", format="ISO8601")


def tokens_table(inventory: Inventory) -> pd.DataFrame:
    """One row per OAuth token (no token value, no DeleteToken: those are secrets).

    >>> inv = Inventory(extra={"tokens": [{"_app": "A", "AppName": "A", "AppMenuItemId": "0DS1",
    ...     "UserId": "005", "User": {"Username": "u@x", "IsActive": False}, "UseCount": 3,
    ...     "LastUsedDate": "2026-01-01T00:00:00Z"}]})
    >>> tokens_table(inv).loc[0, ["app", "installed", "user_active", "use_count"]].astype(str).tolist()
    ['A', 'True', 'False', '3']
    """
    rows = []
    for r in inventory.extra.get("tokens", []):
        user = r.get("User") or {}
        rows.append(
            {
                "app": r.get("_app") or r.get("AppName"),
                "app_name": r.get("AppName"),
                "installed": bool(r.get("AppMenuItemId")),
                "user_id": r.get("UserId"),
                "username": user.get("Username"),
                "user_active": user.get("IsActive"),
                "use_count": r.get("UseCount"),
                "last_used": r.get("LastUsedDate"),
                "created": r.get("CreatedDate"),
            }
        )
    df = pd.DataFrame(rows, columns=list(TOKEN_COLUMNS))
    df["use_count"] = pd.to_numeric(df["use_count"], errors="coerce").astype("Int64")
    df["user_active"] = df["user_active"].astype("boolean")
    df["installed"] = df["installed"].astype(bool)
    for c in ("last_used", "created"):
        df[c] = _ts(df[c])
    return df


def logins_table(inventory: Inventory) -> pd.DataFrame:
    """Login counts per app and flow (``LoginType``/``LoginSubType``) over the window.

    The rows are the org's ``GROUP BY`` answer (``n`` logins, ``u`` distinct users, ``lastLogin``).

    >>> inv = Inventory(extra={"logins": [{"_app": "A", "LoginType": "Remote Access 2.0",
    ...     "LoginSubType": "OauthClientCredentials", "n": 2, "u": 1, "lastLogin": "2026-01-01T00:00:00Z"}]})
    >>> logins_table(inv).loc[0, ["app", "login_subtype", "logins", "users"]].astype(str).tolist()
    ['A', 'OauthClientCredentials', '2', '1']
    """
    out = pd.DataFrame(
        [
            {
                "app": r.get("_app") or r.get("Application"),
                "login_type": r.get("LoginType") or "",
                "login_subtype": r.get("LoginSubType") or "",
                "logins": r.get("n"),
                "users": r.get("u"),
                "last_login": r.get("lastLogin"),
            }
            for r in inventory.extra.get("logins", [])
        ],
        columns=list(LOGIN_COLUMNS),
    )
    for c in ("logins", "users"):
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0).astype("Int64")
    out["last_login"] = _ts(out["last_login"])
    # two spellings of one app (label and API name) land on the same app: add them up
    out = out.groupby(["app", "login_type", "login_subtype"], as_index=False, dropna=False).agg(
        logins=("logins", "sum"), users=("users", "max"), last_login=("last_login", "max")
    )
    return out[list(LOGIN_COLUMNS)].sort_values(["app", "logins"], ascending=[True, False], ignore_index=True)


def saml_logins_table(inventory: Inventory) -> pd.DataFrame:
    """Successful SAML sign-ins per app (``IdpEventLog`` grouped by ``AppId``, tagged ``_app`` by the join).

    >>> inv = Inventory(extra={"saml_logins": [{"_app": "S", "AppId": "0H4", "n": 3,
    ...     "lastLogin": "2026-01-01T00:00:00Z"}, {"_app": None, "AppId": "0H9", "n": 1}]})
    >>> saml_logins_table(inv).astype(str).values.tolist()
    [['S', '3', '2026-01-01 00:00:00+00:00']]
    """
    rows = [
        {"app": r["_app"], "saml_logins": r.get("n"), "last_saml_login": r.get("lastLogin")}
        for r in inventory.extra.get("saml_logins", [])
        if r.get("_app")
    ]
    out = pd.DataFrame(rows, columns=["app", "saml_logins", "last_saml_login"])
    out["saml_logins"] = pd.to_numeric(out["saml_logins"], errors="coerce").fillna(0).astype("Int64")
    out["last_saml_login"] = _ts(out["last_saml_login"])
    return out.groupby("app", as_index=False).agg(
        saml_logins=("saml_logins", "sum"), last_saml_login=("last_saml_login", "max")
    )


def usage_table(
    inventory: Inventory, tokens: pd.DataFrame | None = None, logins: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per app: tokens, distinct users, use count, last use, tokens of inactive users, logins by flow.

    Every app of the inventory has a row (zeros when unused), so "unused" is a filter, not a guess.

    >>> from toolkit.model.bundle import AppBundle
    >>> inv = Inventory(apps=[AppBundle(name=n, kind="ConnectedApp") for n in "AB"],
    ...     extra={"tokens": [{"_app": "A", "UserId": "005", "UseCount": 2, "User": {"IsActive": False},
    ...                        "LastUsedDate": "2026-01-02T00:00:00Z", "AppMenuItemId": "0DS"}]})
    >>> usage_table(inv)[["app", "tokens", "inactive_user_tokens", "used"]].astype(str).values.tolist()
    [['A', '1', '1', 'True'], ['B', '0', '0', 'False']]
    """
    tokens = tokens_table(inventory) if tokens is None else tokens
    logins = logins_table(inventory) if logins is None else logins
    apps = [b.name for b in inventory.apps]
    apps += [a for a in pd.concat([tokens["app"], logins["app"]]).dropna().unique() if a not in set(apps)]
    base = pd.DataFrame({"app": pd.Series(apps, dtype="object")})
    if not tokens.empty:
        t = (
            tokens.assign(inactive=tokens["user_active"].eq(False).fillna(False).astype(int))
            .groupby("app")
            .agg(
                tokens=("user_id", "size"),
                users=("user_id", "nunique"),
                use_count=("use_count", "sum"),
                last_token_use=("last_used", "max"),
                inactive_user_tokens=("inactive", "sum"),
            )
            .reset_index()
        )
        base = base.merge(t, on="app", how="left")
    if not logins.empty:
        lg = logins.groupby("app").agg(logins=("logins", "sum"), last_login=("last_login", "max"))
        flows = logins.assign(
            flow=logins["login_subtype"].where(logins["login_subtype"] != "", logins["login_type"])
        )
        parts: dict[str, list[str]] = {}
        for app, flow, n in zip(flows["app"], flows["flow"], flows["logins"], strict=True):
            parts.setdefault(app, []).append(f"{flow}={n}")
        by_flow = pd.Series({a: "; ".join(p) for a, p in parts.items()}, dtype="object").rename(
            "logins_by_flow"
        )
        base = base.merge(lg.join(by_flow).reset_index(), on="app", how="left")
    saml = saml_logins_table(inventory)
    if not saml.empty:
        base = base.merge(saml, on="app", how="left")
    for c in USAGE_COLUMNS:
        if c not in base.columns:
            base[c] = None
    for c in _COUNTS:
        base[c] = pd.to_numeric(base[c], errors="coerce").fillna(0).astype("Int64")
    for c in ("last_token_use", "last_login", "last_saml_login"):
        base[c] = _ts(base[c])
    base["last_used"] = base[["last_token_use", "last_login", "last_saml_login"]].max(axis=1)
    # a table that could not be read gives unknown (<NA>) counts, never zeros
    unknown = set(inventory.extra.get("unknown_objects") or ())
    if "OauthToken" in unknown:
        base[["tokens", "users", "use_count", "inactive_user_tokens"]] = pd.NA
        base["last_token_use"] = pd.NaT
    if "User" in unknown:
        base["inactive_user_tokens"] = pd.NA
    if "LoginHistory" in unknown:
        base["logins"] = pd.NA
        base["last_login"] = pd.NaT
        base["logins_by_flow"] = None
    if "IdpEventLog" in unknown:  # only the apps that may be SAML (load_org names them in ``unknown``)
        maybe = base["app"].isin(
            [b.name for b in inventory.apps if any(u.split(" (")[0] == "IdpEventLog" for u in b.unknown)]
        )
        base.loc[maybe, "saml_logins"] = pd.NA
    for c in _COUNTS:
        base[c] = base[c].astype("Int64")  # <NA> assigned above made them object: compare as numbers
    used = (base["tokens"] > 0) | (base["logins"] > 0) | (base["saml_logins"] > 0)  # Kleene: True wins
    base["used"] = used.astype("boolean") if used.isna().any() else used.astype(bool)
    return base[list(USAGE_COLUMNS)]


def org_table(inventory: Inventory) -> pd.DataFrame:
    """One row per org-wide fact the org-level rules read (:mod:`toolkit.model.org_settings`).

    ``value`` is None both when the element is absent (``known`` True: Salesforce assumes the default) and
    when it could not be read (``known`` False, ``reason`` says why).

    >>> inv = Inventory(extra={"org": [{"setting": "org_pkce_required", "label": "PKCE", "value": False,
    ...     "source": "OauthOidcSettings.isPkceRequired", "known": True, "reason": "", "detail": ""}]})
    >>> org_table(inv).loc[0, ["setting", "value", "known"]].astype(str).tolist()
    ['org_pkce_required', 'False', 'True']
    """
    from ..model.org_settings import ORG_COLUMNS

    frame = pd.DataFrame(inventory.extra.get("org") or [], columns=list(ORG_COLUMNS))
    frame["value"] = frame["value"].astype(object)
    frame["known"] = frame["known"].astype(bool)
    return frame


def api_calls_table(inventory: Inventory) -> pd.DataFrame:
    """Calls made by kind, then TOTAL, the lower bound, retries and the org's daily API usage before/after.

    >>> inv = Inventory(extra={"api": {"calls": {"query": 7, "readMetadata": 5, "versions": 1},
    ...     "retries": {"transient": 2}, "usage_first": 10, "usage_last": 22, "usage_max": 15000,
    ...     "limits_before": {"DailyApiRequests": {"Max": 15000, "Remaining": 14990}}}, "lower_bound": 12})
    >>> api_calls_table(inv).set_index("kind").loc[["TOTAL", "lower_bound"], "calls"].astype(str).tolist()
    ['12', '12']
    """
    from ..sources.ledger import NOT_COUNTED

    api = inventory.extra.get("api") or {}
    calls: dict[str, int] = dict(api.get("calls") or {})
    rows = [
        {"kind": k, "calls": n, "counted": k not in NOT_COUNTED, "detail": ""}
        for k, n in sorted(calls.items())
    ]
    counted = sum(n for k, n in calls.items() if k not in NOT_COUNTED)
    bound = inventory.extra.get("lower_bound")
    rows.append(
        {
            "kind": "TOTAL",
            "calls": counted,
            "counted": True,
            "detail": f"{sum(calls.values())} HTTP requests (versions/login are not counted by Salesforce)",
        }
    )
    if bound:
        rows.append(
            {
                "kind": "lower_bound",
                "calls": bound,
                "counted": True,
                "detail": f"list + ceil(n/10) reads + SOQL pages; ratio {counted / bound:.2f}",
            }
        )
    for cat, n in sorted((api.get("retries") or {}).items()):
        rows.append({"kind": f"retry:{cat}", "calls": n, "counted": False, "detail": "retried after a fault"})
    for what, n in sorted((api.get("extra") or {}).items()):
        rows.append(
            {
                "kind": f"extra:{what}",
                "calls": n,
                "counted": False,
                "detail": "beyond the plan; already in the rows above",
            }
        )
    before = _used_before(api)
    after = api.get("usage_last")
    if before is not None:
        # SOAP answers carry no Sforce-Limit-Info: the last header can predate the last Metadata calls
        after = max(after or 0, before + counted - calls.get("limits", 0))
    mx = api.get("usage_max") or ((api.get("limits_before") or {}).get("DailyApiRequests") or {}).get("Max")
    if before is not None:
        rows.append(
            {
                "kind": "daily_api_usage_before",
                "calls": before,
                "counted": False,
                "detail": f"of {mx} (GET /limits)",
            }
        )
    if after is not None:
        rows.append(
            {
                "kind": "daily_api_usage_after",
                "calls": after,
                "counted": False,
                "detail": f"of {mx} (last Sforce-Limit-Info header, or before + calls made)",
            }
        )
    df = pd.DataFrame(rows, columns=list(API_COLUMNS))
    df["calls"] = df["calls"].astype("Int64")
    return df


def _used_before(api: dict[str, Any]) -> int | None:
    daily = (api.get("limits_before") or {}).get("DailyApiRequests") or {}
    if "Max" in daily and "Remaining" in daily:
        return int(daily["Max"]) - int(daily["Remaining"])
    return None


def add_org_columns(apps: pd.DataFrame, inventory: Inventory, usage: pd.DataFrame) -> pd.DataFrame:
    """``apps`` plus what only an org knows: installed, join key, usage summary and the ``partial`` flag.

    >>> from toolkit.model.bundle import AppBundle
    >>> inv = Inventory(apps=[AppBundle(name="A", kind="ConnectedApp", soql={"installed": True})],
    ...                 partial=True, partial_reason="query OauthToken failed")
    >>> out = add_org_columns(pd.DataFrame({"name": ["A"]}), inv, usage_table(inv))
    >>> out.loc[0, ["installed", "partial", "tokens"]].astype(str).tolist()
    ['True', 'True', '0']
    """
    extra = pd.DataFrame(
        [
            {
                "name": b.name,
                "installed": b.soql.get("installed"),
                "join_key": b.soql.get("join_key"),
                "soql_id": (
                    b.soql.get("ConnectedApplication") or b.soql.get("ExternalClientApplication") or {}
                ).get("Id"),
                "namespace": b.file_properties.get("namespacePrefix")
                or (b.soql.get("AppMenuItem") or {}).get("NamespacePrefix")
                or None,
                "manageable_state": b.file_properties.get("manageableState") or None,
                "last_modified": b.file_properties.get("lastModifiedDate") or None,
                # final: the usage queries end after the apps table was first built
                "unknown": "; ".join(b.unknown),
            }
            for b in inventory.apps
        ],
        columns=["name", *APPS_SOQL_COLUMNS, "unknown"],
    )
    extra["last_modified"] = _ts(extra["last_modified"])
    extra = extra.drop_duplicates("name")
    u = usage.rename(columns={"app": "name"})[["name", *APPS_USAGE_COLUMNS]]
    position = list(apps.columns).index("unknown") if "unknown" in apps.columns else None
    out = apps.drop(columns=[c for c in extra.columns if c != "name" and c in apps.columns])
    out = out.merge(extra, on="name", how="left").merge(u, on="name", how="left")
    if position is not None:  # keep the column where build_tables put it
        out.insert(position, "unknown", out.pop("unknown").fillna(""))
    out["installed"] = out["installed"].astype("boolean")
    out["partial"] = bool(inventory.partial)
    out["partial_reason"] = inventory.partial_reason or ""
    return out


def name_grants(grants: pd.DataFrame, inventory: Inventory) -> pd.DataFrame:
    """ECA grants read from metadata hold Ids; show the profile/permission set name, keep the Id beside it.

    Connected apps name their grants already (``profileName``/``permissionSetName``); an Id the org does not
    know stays as it is (and says so in ``id``).

    >>> g = pd.DataFrame({"app": ["E"], "kind": ["ExternalClientApplication"], "grant_type": ["Profile"],
    ...                   "name": ["00e000000000001AAA"], "source": ["metadata"]})
    >>> inv = Inventory(extra={"names_by_id": {"00e000000000001": "Sales User"}})
    >>> name_grants(g, inv)[["name", "id"]].values.tolist()
    [['Sales User', '00e000000000001AAA']]
    """
    names: dict[str, str] = inventory.extra.get("names_by_id") or {}
    out = grants.copy()
    if "id" not in out.columns:
        out["id"] = pd.Series([None] * len(out), index=out.index, dtype="object")
    if out.empty or not names or "name" not in out.columns:
        return out
    mask = (out["kind"] == "ExternalClientApplication") & (out["source"] == "metadata") & out["name"].notna()
    ids = out.loc[mask, "name"].astype(str)
    out.loc[mask, "id"] = ids
    out.loc[mask, "name"] = [names.get(i[:15], i) for i in ids]
    return out
