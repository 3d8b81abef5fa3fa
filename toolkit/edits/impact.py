"""Who an edit would break: the impact of a plan, from the org's own usage (issue 16).

One row per app × change of the plan, with a verdict:

- ``breaks``: users in the window that the change would refuse (named, with their logins and tokens);
- ``at risk``: clients that must be updated first (flows the change restricts), named by ``LoginSubType``;
- ``no evidence of impact``: the usage the rule needs was read and shows nobody the change would stop;
- ``unknown``: the usage could not be read (the reason says why), never silently "no impact".

Which catalog field is judged by which rule is the one table :data:`RULES`. The reads are one query per
object for the whole plan (never per app), only the objects the plan's rules need, in the window
(``LoginHistory.LoginTime = LAST_N_DAYS:n``), side by side, a large table from one Bulk API 2.0 job; every
call is counted in the org's ledger (``api_calls``). ``LoginHistory.Application`` cannot be filtered, so the
selected apps' rows are picked here.

Two changes that are not plan fields have their own tables, same columns: :func:`revoke_impact` (a token
revocation) and :func:`org_setting_impact` (an org-wide flow block).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import OrgError
from .targets import OrgTarget

if TYPE_CHECKING:
    from ..model.bundle import AppBundle
    from .plan import EditPlan

IMPACT_COLUMNS = [
    "app",
    "field",
    "change",
    "verdict",
    "users",
    "user_ids",
    "names",
    "logins",
    "tokens",
    "evidence",
    "reason",
]
BREAKS, AT_RISK, NONE, UNKNOWN = "breaks", "at risk", "no evidence of impact", "unknown"
DEFAULT_WINDOW_DAYS = 180

# LoginSubType values (Object Reference, LoginHistory) of the flows a setting restricts
PKCE_FLOWS = ("OauthWebServer", "OauthUserAgent", "OauthHybridWebServer", "OauthHybridUserAgent")
REFRESH_FLOWS = ("OauthRefreshToken", "OauthHybridRefreshToken")
_UNIT_DAYS = {"HOURS": 1 / 24, "DAYS": 1.0, "MONTHS": 30.0}  # a month counted as 30 days (a simplification)


@dataclass
class Usage:
    """What the plan's rules read: rows per object, or the reason an object could not be read."""

    window_days: int
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def missing(self, *objects: str) -> str:
        """The reason one of ``objects`` is not available ("" when all were read)."""
        for obj in objects:
            if obj in self.unreadable:
                return f"{obj} not readable: {self.unreadable[obj]}"
        return ""


@dataclass
class _Verdict:
    verdict: str
    users: set[str] = field(default_factory=set)
    logins: int = 0
    tokens: int = 0
    evidence: str = ""
    reason: str = ""


# --- the reads ----------------------------------------------------------------------------------------------
_SOQL = {
    "LoginHistory": "SELECT UserId, Application, LoginTime, LoginSubType, SourceIp, Status FROM LoginHistory "
    "WHERE LoginTime = LAST_N_DAYS:{window}",
    "OauthToken": "SELECT AppName, AppMenuItemId, UserId, CreatedDate, LastUsedDate, UseCount "
    "FROM OauthToken",
    "User": "SELECT Id, Name, ProfileId, IsActive FROM User",
    "LoginIpRange": "SELECT ProfileId, IpStart, IpEnd FROM LoginIpRange",
    "Profile": "SELECT Id, Name FROM Profile",
    "PermissionSet": "SELECT Id, Name, IsOwnedByProfile FROM PermissionSet WHERE IsOwnedByProfile = false",
    "PermissionSetAssignment": "SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment",
}


# rows above which a read comes from one Bulk API 2.0 job (create, poll, results: about 3 calls) rather than
# REST pages of 2,000: the impact counts calls, and LoginHistory holds a row per login of every app
BULK_ABOVE_ROWS = 3 * 2000


def read_usage(target: Any, objects: set[str], window_days: int) -> Usage:
    """One query per object in ``objects``, side by side (the audit's OauthToken reader handles the 2,500-row
    cap); a large table comes from a Bulk API 2.0 job (:data:`BULK_ABOVE_ROWS`), or REST pages where Bulk is
    refused."""
    from ..sources.org_inventory import read_tokens

    usage = Usage(window_days)
    if not isinstance(target, OrgTarget):
        for obj in objects:
            usage.unreadable[obj] = "a folder has no usage records (plan against an org)"
        return usage
    from concurrent.futures import ThreadPoolExecutor

    org = target.org

    def read(obj: str) -> None:
        soql = _SOQL[obj].format(window=int(window_days))
        try:
            if obj == "OauthToken":
                usage.rows[obj] = read_tokens(org, soql)
            else:
                usage.rows[obj] = org.query(soql, bulk_above=BULK_ABOVE_ROWS)
        except OrgError as exc:
            usage.unreadable[obj] = exc.kind or str(exc)

    # the objects are independent: read side by side (the org's own limit on parallel calls applies)
    with ThreadPoolExecutor(max_workers=max(1, min(len(objects), org.concurrency))) as pool:
        list(pool.map(read, sorted(objects)))
    return usage


# --- the rules ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """How changes of one catalog field are judged, and what they read."""

    name: str
    objects: frozenset[str]
    judge: Callable[[_Context, AppBundle, str], _Verdict]


class _Context:
    """The usage of the plan indexed once: logins and tokens per app label, users, ranges, grants."""

    def __init__(self, plan: EditPlan, usage: Usage) -> None:
        self.plan, self.usage = plan, usage
        self.users = {u["Id"]: u for u in usage.rows.get("User", [])}
        self.logins: dict[str, list[dict[str, Any]]] = {}
        for row in usage.rows.get("LoginHistory", []):
            if row.get("Status") in (None, "Success"):
                self.logins.setdefault(str(row.get("Application")), []).append(row)
        self.tokens: dict[str, list[dict[str, Any]]] = {}
        for row in usage.rows.get("OauthToken", []):
            self.tokens.setdefault(str(row.get("AppName")), []).append(row)
        self.ranges: dict[str, list[tuple[int, int]]] = {}
        for r in usage.rows.get("LoginIpRange", []):
            span = (_ip(r.get("IpStart")), _ip(r.get("IpEnd")))
            if span[0] is not None and span[1] is not None:
                self.ranges.setdefault(str(r.get("ProfileId")), []).append((span[0], span[1]))
        self.after = {(r["app"], r["field"]): r["after"] for r in plan.rows if r["status"] == "change"}
        self.before = {(r["app"], r["field"]): r["before"] for r in plan.rows if r["status"] == "change"}

    def active(self, user_id: Any) -> bool:
        user = self.users.get(str(user_id))
        return bool(user and user.get("IsActive", True))

    def app_logins(self, app: AppBundle) -> list[dict[str, Any]]:
        return [r for r in self.logins.get(_label(app), []) if self.active(r.get("UserId"))]

    def app_tokens(self, app: AppBundle) -> list[dict[str, Any]]:
        return [r for r in self.tokens.get(_label(app), []) if self.active(r.get("UserId"))]


def _label(app: AppBundle) -> str:
    for type_name in ("ConnectedApp", "ExternalClientApplication"):
        doc = app.doc(type_name)
        if doc is not None:
            return doc.get("label") or app.name
    return app.name


def _ip(text: Any) -> int | None:
    try:
        a, b, c, d = (int(x) for x in str(text).split("."))
    except ValueError:
        return None  # IPv6 or empty: not compared (a simplification)
    return (a << 24) | (b << 16) | (c << 8) | d


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    text = str(value).replace("Z", "+0000")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


# ipRelaxation values that enforce the profile's login IP ranges -> the flows they still relax (help "Manage
# OAuth Access Policies for a Connected App"): refresh tokens; for activated devices, web-server/user-agent
# logins after identity verification. BYPASS relaxes every flow.
_IP_RELAXED_FLOWS: dict[str, tuple[str, ...]] = {
    "ENFORCE": (),
    "ENFORCE_RELAXREFRESH": REFRESH_FLOWS,
    "BYPASS_2FACTOR": PKCE_FLOWS,
}


def _ip_rule(ctx: _Context, app: AppBundle, after: str) -> _Verdict:
    why = ctx.usage.missing("LoginHistory", "User", "LoginIpRange")
    if why:
        return _Verdict(UNKNOWN, reason=why)
    if after not in _IP_RELAXED_FLOWS:
        return _Verdict(NONE, evidence=f"{after} relaxes IP restrictions: nobody is refused")
    hits: list[dict[str, Any]] = []
    for row in ctx.app_logins(app):
        if row.get("LoginSubType") in _IP_RELAXED_FLOWS[after]:
            continue  # relaxed for these flows
        user = ctx.users[str(row["UserId"])]
        spans = ctx.ranges.get(str(user.get("ProfileId")))
        ip = _ip(row.get("SourceIp"))
        if spans and ip is not None and not any(a <= ip <= b for a, b in spans):
            hits.append(row)
    users = {str(r["UserId"]) for r in hits}
    evidence = (
        f"{len(hits)} logins in {ctx.usage.window_days} days from outside the login IP ranges of the user's "
        f"profile (LoginHistory.SourceIp vs LoginIpRange), e.g. {hits[0].get('SourceIp')}"
        if hits
        else f"{len(ctx.app_logins(app))} logins in {ctx.usage.window_days} days, all inside the profiles' "
        "ranges or on unrestricted profiles"
    )
    return _Verdict(BREAKS if users else NONE, users, len(hits), 0, evidence)


def _grant_rule(ctx: _Context, app: AppBundle, after: str) -> _Verdict:
    """Admin-approved users only (Help, Manage OAuth Access Policies: "Admin approved users are
    pre-authorized"): connected apps name their profiles and permission sets (``SetupEntityAccess``),
    external client apps list their Ids in the OAuth policy (``commaSeparatedProfile``,
    ``commaSeparatedPermissionSet``)."""
    from ..model.catalog import read_value

    why = ctx.usage.missing("LoginHistory", "OauthToken", "User", "Profile", "PermissionSet")
    why = why or ctx.usage.missing("PermissionSetAssignment")
    if why:
        return _Verdict(UNKNOWN, reason=why)
    permitted = ctx.after.get((app.name, "permitted_users")) or read_value(app, "permitted_users")
    if permitted != "AdminApprovedPreAuthorized":
        return _Verdict(NONE, evidence="all users may self-authorize: grants do not restrict sign-in")
    profiles = _names(ctx.after.get((app.name, "profiles")), read_value(app, "profiles"))
    permsets = _names(ctx.after.get((app.name, "permission_sets")), read_value(app, "permission_sets"))
    profile_ids = _ids_of(ctx.usage.rows["Profile"], profiles)
    permset_ids = _ids_of(ctx.usage.rows["PermissionSet"], permsets)
    covered = {str(u["Id"]) for u in ctx.users.values() if str(u.get("ProfileId"))[:15] in profile_ids}
    covered |= {
        str(a["AssigneeId"])
        for a in ctx.usage.rows["PermissionSetAssignment"]
        if str(a.get("PermissionSetId"))[:15] in permset_ids
    }
    logins = [r for r in ctx.app_logins(app) if str(r["UserId"]) not in covered]
    tokens = [r for r in ctx.app_tokens(app) if str(r["UserId"]) not in covered]
    users = {str(r["UserId"]) for r in logins + tokens}
    grants = ", ".join(sorted(profiles | permsets)) or "no profile or permission set"
    evidence = (
        f"{len(users)} users with tokens or logins in {ctx.usage.window_days} days are not pre-authorized by "
        f"{grants} (User.ProfileId, PermissionSetAssignment)"
    )
    return _Verdict(BREAKS if users else NONE, users, len(logins), len(tokens), evidence)


_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_SHOWN_ID = re.compile(r"^(?P<name>.*) \((?P<id>[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)\)$")


def _names(after: Any, before: Any) -> set[str]:
    """The grantees after the change: names, or Ids (external client apps), as the plan shows them.

    >>> sorted(_names("Sales (00e000000000001AAA); Ops", None))
    ['00e000000000001AAA', 'Ops']
    """
    from .plan import NOT_SET

    if after is None:
        items = list(before or [])
    elif after == NOT_SET:
        items = []
    else:
        items = [t.strip() for t in str(after).split(";") if t.strip()]
    out = set()
    for item in items:
        m = _SHOWN_ID.match(str(item))
        out.add(m.group("id") if m else str(item))
    return out


def _ids_of(rows: list[dict[str, Any]], wanted: set[str]) -> set[str]:
    """15-character Ids of the rows named in ``wanted`` by ``Name`` or by Id (15 or 18 characters)."""
    ids = {w[:15] for w in wanted if _ID.fullmatch(w)}
    return {str(r["Id"])[:15] for r in rows if r.get("Name") in wanted or str(r.get("Id"))[:15] in ids}


def _refresh_policy(ctx: _Context, app: AppBundle) -> str | None:
    """The app's refresh token policy after the plan, in the connected app grammar (``kind[:N:UNIT]``): the
    planned ``oauthPolicy.refreshTokenPolicy`` of a connected app, or an external client app's three policy
    fields (``refreshTokenPolicyType``, ``...ValidityPeriod``, ``...ValidityUnit``), planned or current."""
    from ..model.catalog import read_value

    comp = next(
        (c for k, c in ctx.plan.components.items() if c.app == app.name and k[0] == "ConnectedApp"), None
    )
    if comp is not None:
        return comp.after.get("oauthPolicy.refreshTokenPolicy")
    fields = ("refresh_policy", "refresh_n", "refresh_unit")
    kind, n, unit = (ctx.after.get((app.name, f)) or read_value(app, f) for f in fields)
    if kind in ("infinite", "zero"):
        return str(kind)
    return f"{kind}:{n}:{unit}" if kind and n and unit else None


def _refresh_rule(ctx: _Context, app: AppBundle, after: str) -> _Verdict:
    why = ctx.usage.missing("OauthToken", "User")
    if why:
        return _Verdict(UNKNOWN, reason=why)
    policy = _refresh_policy(ctx, app)
    if not policy:
        return _Verdict(UNKNOWN, reason="the new refresh token policy could not be read from the plan")
    kind, _, rest = policy.partition(":")
    since = ctx.usage.now - timedelta(days=ctx.usage.window_days)
    used = [t for t in ctx.app_tokens(app) if (_when(t.get("LastUsedDate")) or since) > since]
    if kind == "infinite":
        return _Verdict(NONE, evidence="tokens stay valid until revoked")
    if kind == "zero":
        hits, what = used, "the refresh token expires immediately"
    else:
        n, _, unit = rest.partition(":")
        try:
            limit = timedelta(days=int(n) * _UNIT_DAYS[unit.upper()])
        except (KeyError, ValueError):
            return _Verdict(UNKNOWN, reason=f"refresh token policy {policy!r} not understood")
        field_name = "CreatedDate" if kind == "specific_lifetime" else "LastUsedDate"
        hits = [t for t in used if ctx.usage.now - (_when(t.get(field_name)) or ctx.usage.now) > limit]
        what = f"{'older' if field_name == 'CreatedDate' else 'idle longer'} than {n} {unit.lower()}"
    users = {str(t["UserId"]) for t in hits}
    evidence = (
        f"{len(hits)} tokens used in {ctx.usage.window_days} days are {what}: users must sign in again"
        if kind != "zero"
        else f"{len(hits)} tokens used in {ctx.usage.window_days} days: {what}, users must sign in again"
    )
    return _Verdict(BREAKS if users else NONE, users, 0, len(hits), evidence)


def _flow_rule(flows: tuple[str, ...], what: str) -> Callable[[_Context, AppBundle, str], _Verdict]:
    def judge(ctx: _Context, app: AppBundle, after: str) -> _Verdict:
        why = ctx.usage.missing("LoginHistory", "User")
        if why:
            return _Verdict(UNKNOWN, reason=why)
        if after.lower() != "true":
            return _Verdict(NONE, evidence=f"turning {what} off restricts no flow")
        hits = [r for r in ctx.app_logins(app) if r.get("LoginSubType") in flows]
        users = {str(r["UserId"]) for r in hits}
        if not hits:
            return _Verdict(NONE, evidence=f"no {'/'.join(flows)} login in {ctx.usage.window_days} days")
        parts = []
        for sub in flows:
            mine = [r for r in hits if r.get("LoginSubType") == sub]
            if mine:
                last = max(str(r.get("LoginTime")) for r in mine)[:10]
                parts.append(
                    f"{sub}: {len(mine)} logins by {len({r['UserId'] for r in mine})} users, last {last}"
                )
        evidence = f"clients must support {what} first; " + "; ".join(parts)
        return _Verdict(AT_RISK, users, len(hits), 0, evidence)

    return judge


def _session_rule(field_id: str) -> Callable[[_Context, AppBundle, str], _Verdict]:
    """Session policy (help "Manage Session Policies for a Connected App"): requiring a high-assurance
    session, blocking instead of raising the session level, or a shorter timeout puts every user who signed
    in through the app in the window at risk (they must verify, or sign in more often); the opposite changes
    restrict nobody."""

    def judge(ctx: _Context, app: AppBundle, after: str) -> _Verdict:
        from ..model.catalog import read_value

        why = ctx.usage.missing("LoginHistory", "User")
        if why:
            return _Verdict(UNKNOWN, reason=why)
        level = ctx.after.get((app.name, "session_level")) or read_value(app, "session_level")
        if field_id == "session_level":
            restricts = after == "HIGH_ASSURANCE"
            what = "a high-assurance session is required: users must verify their identity (MFA)"
        elif field_id == "policy_action":
            restricts = after.lower() == "block" and level == "HIGH_ASSURANCE"
            what = "sessions that are not high assurance are blocked instead of raised"
        else:
            before = _minutes(ctx.before.get((app.name, field_id)))
            new = _minutes(after)
            restricts = new is not None and (before is None or new < before)
            what = f"sessions end after {after} minutes: users sign in more often"
        if not restricts:
            return _Verdict(NONE, evidence=f"{after} restricts no session of the app's users")
        logins = ctx.app_logins(app)
        users = {str(r["UserId"]) for r in logins}
        if not users:
            return _Verdict(NONE, evidence=f"no login in {ctx.usage.window_days} days")
        evidence = f"{what}; {len(logins)} logins by {len(users)} users in {ctx.usage.window_days} days"
        return _Verdict(AT_RISK, users, len(logins), 0, evidence)

    return judge


def _minutes(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _other_rule(ctx: _Context, app: AppBundle, after: str) -> _Verdict:
    why = ctx.usage.missing("LoginHistory")
    if why:
        return _Verdict(UNKNOWN, reason=why)
    n = len(ctx.app_logins(app))
    return _Verdict(
        NONE, evidence=f"{n} logins in {ctx.usage.window_days} days; the change restricts no sign-in"
    )


_GRANT_OBJECTS = frozenset(
    {"LoginHistory", "OauthToken", "User", "Profile", "PermissionSet", "PermissionSetAssignment"}
)
# catalog field id (toolkit/model/catalog.py) -> the rule that judges its changes
RULES: dict[str, Rule] = {
    "ip_relaxation": Rule("ip restrictions", frozenset({"LoginHistory", "User", "LoginIpRange"}), _ip_rule),
    "permitted_users": Rule("pre-authorized users", _GRANT_OBJECTS, _grant_rule),
    "profiles": Rule("pre-authorized users", _GRANT_OBJECTS, _grant_rule),
    "permission_sets": Rule("pre-authorized users", _GRANT_OBJECTS, _grant_rule),
    "refresh_policy": Rule("refresh token policy", frozenset({"OauthToken", "User"}), _refresh_rule),
    "refresh_n": Rule("refresh token policy", frozenset({"OauthToken", "User"}), _refresh_rule),
    "refresh_unit": Rule("refresh token policy", frozenset({"OauthToken", "User"}), _refresh_rule),
    "pkce": Rule("flows", frozenset({"LoginHistory", "User"}), _flow_rule(PKCE_FLOWS, "PKCE")),
    "rtr": Rule(
        "flows", frozenset({"LoginHistory", "User"}), _flow_rule(REFRESH_FLOWS, "refresh token rotation")
    ),
}
_LOGINS = frozenset({"LoginHistory", "User"})
for _field in ("session_level", "policy_action", "session_timeout"):
    RULES[_field] = Rule("session policy", _LOGINS, _session_rule(_field))
OTHER = Rule("other", frozenset({"LoginHistory", "User"}), _other_rule)


def impact(plan: EditPlan, window_days: int = DEFAULT_WINDOW_DAYS) -> pd.DataFrame:
    """The impact of ``plan``: one row per app × change (:data:`IMPACT_COLUMNS`)."""
    rows = [r for r in plan.rows if r["status"] in ("change", "no-op")]
    needed: set[str] = set()
    for r in rows:
        if r["status"] == "change":
            needed |= RULES.get(r["field"], OTHER).objects
    usage = read_usage(plan.target, needed, window_days) if needed else Usage(window_days)
    ctx = _Context(plan, usage)
    apps = {a.name: a for a in plan.apps}
    out = []
    for r in rows:
        change = f"{r['label']} = {r['after']}"
        app = apps.get(r["app"])
        if r["status"] == "no-op" or app is None:
            v = _Verdict(NONE, evidence="already set: nothing changes")
        else:
            v = RULES.get(r["field"], OTHER).judge(ctx, app, str(r["after"]))
        names = {i: str(ctx.users.get(i, {}).get("Name") or i) for i in v.users}
        out.append(_row(r["app"], r["field"], change, v, names))
    return pd.DataFrame(out, columns=IMPACT_COLUMNS)


def window_start(now: datetime, window_days: int) -> datetime:
    """Midnight (UTC) ``window_days`` days before ``now``: where ``LAST_N_DAYS:n`` starts.

    >>> window_start(datetime(2026, 3, 2, 15, 30, tzinfo=UTC), 1).isoformat()
    '2026-03-01T00:00:00+00:00'
    """
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=window_days)


def _row(app: str, field_id: str, change: str, v: _Verdict, names: dict[str, str]) -> dict[str, Any]:
    ids = sorted(v.users)
    return {
        "app": app,
        "field": field_id,
        "change": change,
        "verdict": v.verdict,
        "users": len(ids),
        "user_ids": ids,
        "names": [names.get(i) or i for i in ids],
        "logins": v.logins,
        "tokens": v.tokens,
        "evidence": v.evidence,
        "reason": v.reason,
    }


def revoke_impact(
    app: str, tokens: list[dict[str, Any]], what: str, window_days: int = DEFAULT_WINDOW_DAYS
) -> pd.DataFrame:
    """Who a token revocation (``--revoke-tokens``) breaks: the active users whose revoked token was used in
    the window must authorize the app again (help "Revoke OAuth Tokens Programmatically"); tokens of
    inactive users or unused in the window stop nobody. ``tokens``: :func:`toolkit.edits.tokens.find_tokens`
    rows (no other read)."""
    since = window_start(datetime.now(UTC), window_days)
    hits = []
    for t in tokens:
        last = _when(t.get("last_used"))
        if t.get("user_active") is not False and last is not None and last >= since:
            hits.append(t)
    users = {str(t["user"]) for t in hits}
    evidence = (
        f"{len(hits)} of the {len(tokens)} tokens revoked were used in {window_days} days by active users: "
        "they must authorize the app again"
    )
    v = _Verdict(BREAKS if users else NONE, users, 0, len(hits), evidence)
    names = {str(t["user"]): str(t.get("username") or t["user"]) for t in tokens}
    return pd.DataFrame([_row(app, "tokens", f"revoke {what}", v, names)], columns=IMPACT_COLUMNS)


# org-wide flow blocks (toolkit/model/org_settings.py ids) -> the LoginSubType values they stop
ORG_FLOW_BLOCKS = {
    "block_username_password_flow": (("OauthUsernamePassword",), "the OAuth username-password flow"),
    "block_user_agent_flow": (("OauthUserAgent", "OauthHybridUserAgent"), "the OAuth user-agent flow"),
}


def org_setting_impact(org: Any, setting: str, window_days: int = DEFAULT_WINDOW_DAYS) -> pd.DataFrame:
    """Who an org-wide flow block would stop (Setup > OAuth and OpenID Connect Settings, "Allow OAuth
    Username-Password Flows" / "Allow OAuth User-Agent Flows" unchecked): one row per app (its
    ``LoginHistory.Application``) with logins of that flow in the window, ``at risk`` naming the clients to
    move to another flow first. Two queries (``LoginHistory``, ``User``) whatever the number of apps."""
    from ..errors import ToolkitError

    if setting not in ORG_FLOW_BLOCKS:
        allowed = ", ".join(ORG_FLOW_BLOCKS)
        raise ToolkitError(f"org setting {setting!r} has no impact rule; allowed: {allowed}")
    flows, what = ORG_FLOW_BLOCKS[setting]
    usage = read_usage(OrgTarget(org), {"LoginHistory", "User"}, window_days)
    users = {str(u["Id"]): u for u in usage.rows.get("User", [])}
    names = {i: str(u.get("Name") or i) for i, u in users.items()}
    change = f"{setting} = true"
    why = usage.missing("LoginHistory", "User")
    if why:
        row = _row("(all apps)", setting, change, _Verdict(UNKNOWN, reason=why), names)
        return pd.DataFrame([row], columns=IMPACT_COLUMNS)
    by_app: dict[str, list[dict[str, Any]]] = {}
    for r in usage.rows.get("LoginHistory", []):
        user = users.get(str(r.get("UserId"))) or {}
        if r.get("Status") in (None, "Success") and r.get("LoginSubType") in flows and user.get("IsActive"):
            by_app.setdefault(str(r.get("Application")), []).append(r)
    out = []
    for app in sorted(by_app):
        hits = by_app[app]
        ids = {str(r["UserId"]) for r in hits}
        last = max(str(r.get("LoginTime")) for r in hits)[:10]
        evidence = (
            f"blocking {what} stops {len(hits)} logins by {len(ids)} users in {window_days} days "
            f"(LoginHistory.LoginSubType {'/'.join(flows)}), last {last}: "
            "move these clients to another flow first"
        )
        out.append(_row(app, setting, change, _Verdict(AT_RISK, ids, len(hits), 0, evidence), names))
    return pd.DataFrame(out, columns=IMPACT_COLUMNS)


def users_breaking(table: pd.DataFrame) -> int:
    """Distinct users the ``breaks`` rows name (the ``--max-impact`` gate counts these)."""
    broken = table[table["verdict"] == BREAKS] if len(table) else table
    return len({u for ids in broken.get("user_ids", []) for u in ids})
