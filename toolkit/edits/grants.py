"""Pre-authorizations of profiles and permission sets on connected apps of an org (``SetupEntityAccess``).

For a connected app in an org, ``profiles``/``permission_sets`` changes are rows of ``SetupEntityAccess``
(``ParentId`` = the profile's own permission set or the permission set, ``SetupEntityId`` = the
ConnectedApplication Id), created with ``POST /sobjects/SetupEntityAccess`` and removed with ``DELETE``; both
calls are documented on the object (domain doc §2.3). Each call is journaled (an intent before, the row after)
and :func:`rollback_grants` reverses them. External client apps keep pre-authorizations in their OAuth policy
metadata (``commaSeparatedProfile``/``commaSeparatedPermissionSet``, Ids): those are ordinary metadata edits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import OrgError
from ..sources.org import Org
from .journal import Journal

if TYPE_CHECKING:
    from .plan import GrantPlan

GRANT_COLUMNS = ["app", "field", "name", "action", "status", "message"]


def _soql_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def name_ids(org: Org) -> dict[str, dict[str, str]]:
    """``{"profiles": {name: profile Id}, "permission_sets": {name: Id}}`` of an org (for ECA policies)."""
    profiles = org.query("SELECT Id, Name FROM Profile", bulk_ok=False)
    psets = org.query("SELECT Id, Name FROM PermissionSet WHERE IsOwnedByProfile = false", bulk_ok=False)
    return {
        "profiles": {str(r["Name"]): str(r["Id"]) for r in profiles},
        "permission_sets": {str(r["Name"]): str(r["Id"]) for r in psets},
    }


def _parents(org: Org) -> dict[str, dict[str, str]]:
    """Name -> ParentId for SetupEntityAccess: a profile's own permission set, or the permission set."""
    rows = org.query("SELECT Id, Name, IsOwnedByProfile, Profile.Name FROM PermissionSet", bulk_ok=False)
    out: dict[str, dict[str, str]] = {"profiles": {}, "permission_sets": {}}
    for r in rows:
        if r.get("IsOwnedByProfile"):
            name = (r.get("Profile") or {}).get("Name")
            if name:
                out["profiles"][str(name)] = str(r["Id"])
        else:
            out["permission_sets"][str(r["Name"])] = str(r["Id"])
    return out


def _app_ids(org: Org, names: list[str]) -> dict[str, str]:
    """ConnectedApplication Id by app API name (the FileProperties id of the ConnectedApp component)."""
    rows = org.list_metadata(["ConnectedApp"])
    return {r["fullName"]: r["id"] for r in rows if r.get("fullName") in names and r.get("id")}


def _create(org: Org, parent: str, entity: str) -> str:
    def call() -> Any:
        return org.sf.SetupEntityAccess.create({"ParentId": parent, "SetupEntityId": entity})

    result = org._retry(call, "create SetupEntityAccess")
    return str(result.get("id", ""))


def _delete(org: Org, parent: str, entity: str) -> str:
    rows = org.query(
        f"SELECT Id FROM SetupEntityAccess WHERE ParentId = {_soql_literal(parent)} "
        f"AND SetupEntityId = {_soql_literal(entity)}",
        bulk_ok=False,
    )
    if not rows:
        return ""
    row_id = str(rows[0]["Id"])
    org._retry(lambda: org.sf.SetupEntityAccess.delete(row_id), "delete SetupEntityAccess")
    return row_id


def apply_grants(
    org: Org, grants: list[GrantPlan], journal: Journal, progress: Callable[[str], None] | None = None
) -> pd.DataFrame:
    """Create/delete the SetupEntityAccess rows of the plan; every call journaled; one row per grant."""
    parents = _parents(org)
    apps = _app_ids(org, [g.app for g in grants])
    rows: list[dict[str, Any]] = []
    for g in grants:
        entity = apps.get(g.app, "")
        for action, names in (("add", g.add), ("remove", g.remove)):
            for name in names:
                parent = parents[g.field].get(name, "")
                row = {"app": g.app, "field": g.field, "name": name, "action": action}
                if not entity or not parent:
                    what = "app" if not entity else ("profile" if g.field == "profiles" else "permission set")
                    rows.append({**row, "status": "failed", "message": f"no such {what} in the org"})
                    continue
                record = {**row, "parent": parent, "entity": entity}
                journal.append({"type": "grant_intent", **record})
                try:
                    row_id = _create(org, parent, entity) if action == "add" else _delete(org, parent, entity)
                except OrgError as exc:
                    journal.append({"type": "grant_error", **record, "message": str(exc)})
                    rows.append({**row, "status": "in doubt", "message": str(exc)})
                    continue
                journal.append({"type": "grant", **record, "id": row_id})
                rows.append({**row, "status": "applied", "message": row_id})
                if progress is not None:
                    progress(f"grant: {action} {name} on {g.app}")
    return pd.DataFrame(rows, columns=GRANT_COLUMNS)


def rollback_grants(
    org: Org, journal: Journal, progress: Callable[[str], None] | None = None
) -> pd.DataFrame:
    """Reverse every grant the journal announced (intent), newest first; settles in-doubt ones by querying."""
    records = [r for r in journal.records() if r.get("type") == "grant_intent"]
    rows: list[dict[str, Any]] = []
    for rec in reversed(records):
        parent, entity = rec["parent"], rec["entity"]
        present = org.query(
            f"SELECT Id FROM SetupEntityAccess WHERE ParentId = {_soql_literal(parent)} "
            f"AND SetupEntityId = {_soql_literal(entity)}",
            bulk_ok=False,
        )
        row = {
            "app": rec["app"],
            "field": rec["field"],
            "name": rec["name"],
            "action": f"undo {rec['action']}",
        }
        try:
            if rec["action"] == "add" and present:
                _delete(org, parent, entity)
            elif rec["action"] == "remove" and not present:
                _create(org, parent, entity)
            else:
                rows.append({**row, "status": "unchanged", "message": "already as before"})
                continue
        except OrgError as exc:
            rows.append({**row, "status": "failed", "message": str(exc)})
            continue
        journal.append({"type": "grant_rollback", **rec})
        rows.append({**row, "status": "restored", "message": ""})
        if progress is not None:
            progress(f"grant rollback: {row['action']} {rec['name']} on {rec['app']}")
    return pd.DataFrame(rows, columns=GRANT_COLUMNS)
