"""What the running user may see: the permissions of each seeded profile, the rows they hide, and the
``UserPermissionAccess`` row of the session's user.

- OauthToken: "Users with the Customize Application permission see all tokens for all users in the org.
  Otherwise, you see only your own tokens." (Object Reference, OauthToken). No error.
- LoginHistory: only users with Manage Users (newer pages: or Monitor Login History) see every user's
  records; "in API version 37.0 and later, all users can retrieve their own login history records"
  (Object Reference, LoginHistory). No error.
- UserPermissionAccess (API 41.0+): one ``Permissions<Name>`` boolean per permission of the current user;
  "API users without PermissionsViewSetup can use this object to check if their own sessions have access to
  a feature" (Object Reference, UserPermissionAccess).

- IdpEventLog: refused (HTTP 403 ``INSUFFICIENT_ACCESS``) to a user without Manage Users or Monitor Login
  History. **A guess**: the Object Reference names no permission for it; the demo org treats the Identity
  Provider Event Log like the login history (docs/demo-org.md).

Which profile holds which permission is the demo org's own choice (the System Administrator holds them all).
"""

from __future__ import annotations

from typing import Any

from .exceptions import RestError
from .models import OrgState

# the UserPermissionAccess fields the demo org serves (a subset: Salesforce has one per user permission)
PERMISSION_FIELDS = (
    "PermissionsApiEnabled",
    "PermissionsCustomizeApplication",
    "PermissionsManageUsers",
    "PermissionsModifyAllData",
    "PermissionsModifyMetadata",
    "PermissionsMonitorLoginHistory",
    "PermissionsViewSetup",
)
AUDITOR_PROFILE = "Auditor"
_HELD = {
    "System Administrator": set(PERMISSION_FIELDS),
    # Metadata API reads need Modify Metadata (or Modify All Data); edits also need Customize Application
    AUDITOR_PROFILE: {"PermissionsApiEnabled", "PermissionsModifyMetadata", "PermissionsViewSetup"},
}
_DEFAULT = {"PermissionsApiEnabled"}  # the other seeded profiles


def permissions(state: OrgState, user_id: str | None) -> dict[str, bool]:
    """The ``Permissions*`` booleans of a user (None: the system, which sees everything).

    >>> from toolkit.demoorg.seed import build
    >>> st = build(apps=2, ecas=0).state
    >>> permissions(st, st.objects["User"][0]["Id"])["PermissionsCustomizeApplication"]
    True
    >>> permissions(st, st.objects["User"][-1]["Id"])["PermissionsCustomizeApplication"]
    False
    """
    if user_id is None:
        return dict.fromkeys(PERMISSION_FIELDS, True)
    key = str(user_id)[:15]
    user = next((u for u in state.objects.get("User", []) if str(u["Id"])[:15] == key), None)
    profiles = {p["Id"]: p["Name"] for p in state.objects.get("Profile", [])}
    held = _HELD.get(profiles.get(user["ProfileId"], "") if user else "", _DEFAULT)
    return {f: f in held for f in PERMISSION_FIELDS}


def visible(
    state: OrgState, sobject: str, rows: list[dict[str, Any]], viewer: str | None
) -> list[dict[str, Any]]:
    """``rows`` of ``sobject`` as ``viewer`` sees them: its own only, without the permission to see all."""
    if viewer is None or sobject not in ("OauthToken", "LoginHistory"):
        return rows
    perms = permissions(state, viewer)
    if sobject == "OauthToken" and perms["PermissionsCustomizeApplication"]:
        return rows
    if sobject == "LoginHistory" and (
        perms["PermissionsManageUsers"] or perms["PermissionsMonitorLoginHistory"]
    ):
        return rows
    mine = str(viewer)[:15]
    return [r for r in rows if str(r.get("UserId") or "")[:15] == mine]


# objects a user may not read at all without one of these permissions (a guess: see the module doc)
READ_NEEDS = {"IdpEventLog": (("PermissionsManageUsers", "PermissionsMonitorLoginHistory"), "Manage Users")}


def check_readable(state: OrgState, sobject: str, viewer: str | None) -> None:
    """Raise ``INSUFFICIENT_ACCESS`` (HTTP 403: "The request has been refused. Verify that the logged-in
    user has appropriate permissions", REST API Developer Guide, Status Codes and Error Responses) when
    ``viewer`` may not read ``sobject`` at all."""
    needs = READ_NEEDS.get(sobject)
    if viewer is None or needs is None:
        return
    perms = permissions(state, viewer)
    if not any(perms.get(f) for f in needs[0]):
        raise RestError(
            403,
            "INSUFFICIENT_ACCESS",
            "Insufficient Privileges: You do not have the level of access necessary to perform the operation "
            f"you requested. Please contact the owner of the record or your administrator if access is "
            f"necessary. ({sobject})",
        )


def permission_access(state: OrgState, viewer: str | None) -> list[dict[str, Any]]:
    """The one ``UserPermissionAccess`` row: the running user's permissions."""
    return [permissions(state, viewer)]
