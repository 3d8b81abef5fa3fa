"""What the running user may see: one ``UserPermissionAccess`` query (the current user's permissions, API
41.0+: "API users without PermissionsViewSetup can use this object to check if their own sessions have
access to a feature"), sent with the audit's other reads.

Salesforce answers a user without the permission with fewer rows and no error:

- OauthToken: "Users with the Customize Application permission see all tokens for all users in the org.
  Otherwise, you see only your own tokens." (Object Reference, OauthToken)
- LoginHistory: only users with Manage Users (newer pages: or Monitor Login History) see every user's; "all
  users can retrieve their own login history records" (Object Reference, LoginHistory, API 37.0+)

so such a table is unknown (``AppBundle.unknown`` holds ``"<object> (<reason>)"``), never "unused". When the
permissions cannot be read (an org without the object or a field: ``INVALID_FIELD``), they are unknown: a
problem row says so and the tables are kept as read.
"""

from __future__ import annotations

from typing import Any

from .org import Org

OBJECT = "UserPermissionAccess"
FIELDS = (
    "PermissionsCustomizeApplication",
    "PermissionsManageUsers",
    "PermissionsMonitorLoginHistory",
    "PermissionsViewSetup",
    "PermissionsApiEnabled",
    "PermissionsModifyMetadata",
)
QUERY = f"SELECT {', '.join(FIELDS)} FROM {OBJECT}"
# object -> (any of these permissions shows every user's rows, their labels, what the user sees otherwise)
SEES_ALL = {
    "OauthToken": (("PermissionsCustomizeApplication",), "Customize Application", "their own tokens"),
    "LoginHistory": (
        ("PermissionsManageUsers", "PermissionsMonitorLoginHistory"),
        "Manage Users or Monitor Login History",
        "their own logins",
    ),
}
MISSING = frozenset({"INVALID_TYPE", "INVALID_FIELD", "NOT_FOUND"})
# objects an org may refuse outright (``INSUFFICIENT_ACCESS``) to a user without these permissions: (fields,
# their labels, what the object holds). IdpEventLog: the Object Reference names no permission; the one the
# login history needs is the likeliest (a guess: docs/live-org.md)
READ_NEEDS = {
    "IdpEventLog": (
        ("PermissionsManageUsers", "PermissionsMonitorLoginHistory"),
        "Manage Users or Monitor Login History",
        "SAML sign-ins",
    ),
}
REFUSED = frozenset({"INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_PRIVILEGES"})


def read(org: Org) -> dict[str, Any]:
    """The running user's ``Permissions*`` values (one row)."""
    rows = org.query(QUERY)
    return {k: v for k, v in (rows[0] if rows else {}).items() if k.startswith("Permissions")}


def limited(permissions: dict[str, Any], objects: tuple[str, ...] = tuple(SEES_ALL)) -> dict[str, str]:
    """The ``objects`` this user sees only in part, each with its unknown entry ``"<object> (<reason>)"``.

    >>> limited({"PermissionsCustomizeApplication": False, "PermissionsManageUsers": True})["OauthToken"]
    'OauthToken (the running user lacks Customize Application, so OauthToken shows only their own tokens)'
    >>> limited({"PermissionsCustomizeApplication": True, "PermissionsMonitorLoginHistory": True})
    {}
    """
    out = {}
    for obj in objects:
        fields, label, sees = SEES_ALL[obj]
        if not any(permissions.get(f) is True for f in fields):
            out[obj] = f"{obj} (the running user lacks {label}, so {obj} shows only {sees})"
    return out


def refused(obj: str, kind: str, permissions: dict[str, Any] | None) -> str:
    """The unknown entry ``"<object> (<reason>)"`` of an object the org refused to the running user, naming
    the permission (``permissions``: the user's, None when unknown).

    >>> refused("IdpEventLog", "INSUFFICIENT_ACCESS", {"PermissionsManageUsers": False})[:77]
    'IdpEventLog (the running user lacks Manage Users or Monitor Login History, so'
    >>> refused("IdpEventLog", "INSUFFICIENT_ACCESS", None)[:60]
    'IdpEventLog (the org refused SAML sign-ins to the running us'
    """
    fields, label, holds = READ_NEEDS[obj]
    if permissions is not None and not any(permissions.get(f) is True for f in fields):
        return f"{obj} (the running user lacks {label}, so {holds} cannot be read: {kind})"
    return f"{obj} (the org refused {holds} to the running user: {kind}; reading them takes {label})"
