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

from ..errors import ToolkitError
from ..sources.org import Org
from ..sources.resilience import WriteInDoubt
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


def _row(org: Org, parent: str, entity: str) -> str | None:
    """The Id of the SetupEntityAccess row of (parent, entity), None when there is none (a read)."""
    rows = org.query(
        f"SELECT Id FROM SetupEntityAccess WHERE ParentId = {_soql_literal(parent)} "
        f"AND SetupEntityId = {_soql_literal(entity)}",
        bulk_ok=False,
    )
    return str(rows[0]["Id"]) if rows else None


def _create(org: Org, parent: str, entity: str) -> tuple[str, str]:
    """Create the row: (Id, "sent" | "settled"). Not idempotent: a lost answer, or DUPLICATE_VALUE on a
    try whose first answer was lost, is settled by reading the row, never by sending the create again
    blindly (:meth:`Org.write`)."""

    def call() -> str:
        return str(
            org.sf.SetupEntityAccess.create({"ParentId": parent, "SetupEntityId": entity}).get("id", "")
        )

    return org.write(
        call, "create SetupEntityAccess", lambda: _row(org, parent, entity), conflicts=["DUPLICATE_VALUE"]
    )


def _delete(org: Org, parent: str, entity: str, row_id: str | None = None) -> tuple[str, str]:
    """Delete the row, when there is one: (Id or "", how). A lost answer, or ENTITY_IS_DELETED / NOT_FOUND,
    is settled by reading that the row is gone."""
    row_id = row_id if row_id is not None else _row(org, parent, entity)
    if not row_id:
        return "", "absent"
    found = row_id

    def call() -> str:
        org.sf.SetupEntityAccess.delete(found)
        return found

    def gone() -> str | None:
        return found if _row(org, parent, entity) is None else None

    return org.write(call, "delete SetupEntityAccess", gone, conflicts=["ENTITY_IS_DELETED", "NOT_FOUND"])


def _present(org: Org, entities: list[str]) -> dict[tuple[str, str], str]:
    """(ParentId, SetupEntityId) -> row Id of every row of these apps: one read of the state."""
    out: dict[tuple[str, str], str] = {}
    ids = sorted(set(entities))
    for i in range(0, len(ids), 200):
        listed = ", ".join(_soql_literal(e) for e in ids[i : i + 200])
        for r in org.query(
            f"SELECT Id, ParentId, SetupEntityId FROM SetupEntityAccess WHERE SetupEntityId IN ({listed})",
            bulk_ok=False,
        ):
            out[(str(r["ParentId"]), str(r["SetupEntityId"]))] = str(r["Id"])
    return out


def _wanted(grants: list[GrantPlan]) -> list[dict[str, str]]:
    return [
        {"app": g.app, "field": g.field, "name": name, "action": action}
        for g in grants
        for action, names in (("add", g.add), ("remove", g.remove))
        for name in names
    ]


def apply_grants(
    org: Org,
    grants: list[GrantPlan],
    journal: Journal,
    progress: Callable[[str], None] | None = None,
    *,
    phase: str = "apply",
) -> pd.DataFrame:
    """Create/delete the SetupEntityAccess rows of the plan; one row per grant. Never raises an org error.

    The rows are read first (one query): a grant already as intended is ``already applied`` and not sent.
    Each call is journaled: ``grant_intent`` before, ``grant`` after with ``status`` (``applied``,
    ``already applied``, ``failed``, ``in doubt``), ``message``, ``id`` and ``settled`` (true when a lost
    answer was settled by reading). A failure of the reads leaves the grants ``failed`` (nothing sent) and
    the result partial; it never raises out of the apply.
    """
    wanted = _wanted(grants)
    rows: list[dict[str, Any]] = []

    def done(
        w: dict[str, Any],
        record: dict[str, Any],
        status: str,
        message: str,
        row_id: str | None,
        settled: bool,
    ) -> None:
        journal.append(
            {
                "type": "grant",
                "phase": phase,
                **record,
                "status": status,
                "message": message,
                "id": row_id or "",
                "settled": settled,
            }
        )
        rows.append({**w, "status": status, "message": message})

    try:
        with org.operation():
            parents = _parents(org)
            apps = _app_ids(org, [g.app for g in grants])
            present = _present(org, list(apps.values()))
    except ToolkitError as exc:
        for w in wanted:
            row = {**w, "status": "failed", "message": f"not sent: the grants could not be read: {exc}"}
            journal.append({"type": "grant", "phase": phase, **row, "parent": "", "entity": "", "id": ""})
            rows.append(row)
        return pd.DataFrame(rows, columns=GRANT_COLUMNS)
    for w in wanted:
        entity = apps.get(w["app"], "")
        parent = parents.get(w["field"], {}).get(w["name"], "")
        if not entity or not parent:
            what = "app" if not entity else ("profile" if w["field"] == "profiles" else "permission set")
            row = {**w, "status": "failed", "message": f"no such {what} in the org"}
            journal.append(
                {"type": "grant", "phase": phase, **row, "parent": parent, "entity": entity, "id": ""}
            )
            rows.append(row)
            continue
        record = {**w, "parent": parent, "entity": entity}
        row_id = present.get((parent, entity))
        if (row_id is not None) == (w["action"] == "add"):
            done(w, record, "already applied", "already as intended; nothing sent", row_id, True)
            continue
        journal.append({"type": "grant_intent", "phase": phase, **record})
        settled = False
        try:
            with org.operation():
                if w["action"] == "add":
                    row_id, how = _create(org, parent, entity)
                else:
                    row_id, how = _delete(org, parent, entity, row_id)
            settled = how != "sent"
            status, message = (
                "applied",
                (row_id or "") + (" (the answer was lost; settled by reading)" if settled else ""),
            )
        except WriteInDoubt as exc:
            status, message = "in doubt", f"{exc}; resume or rollback settles it by reading"
        except ToolkitError as exc:
            status, message = "failed", str(exc)
        done(w, record, status, message, row_id, settled)
        if progress is not None:
            progress(f"grant: {w['action']} {w['name']} on {w['app']}: {status}")
    return pd.DataFrame(rows, columns=GRANT_COLUMNS)


def open_grants(journal: Journal, planned: list[dict[str, Any]]) -> list[GrantPlan]:
    """The planned grants (the plan record's ``grants``) the journal does not show done (``grant`` record
    with status applied / already applied): what a resume still has to apply or settle."""
    from .plan import GrantPlan

    done = {
        (r.get("app"), r.get("field"), r.get("name"), r.get("action"))
        for r in journal.records()
        if r.get("type") == "grant" and r.get("status", "applied") in ("applied", "already applied")
    }
    out: list[GrantPlan] = []
    for g in planned:
        app, fld = str(g.get("app", "")), str(g.get("field", ""))
        add = [n for n in g.get("add", []) if (app, fld, n, "add") not in done]
        remove = [n for n in g.get("remove", []) if (app, fld, n, "remove") not in done]
        if add or remove:
            out.append(GrantPlan(app=app, field=fld, add=add, remove=remove))
    return out


def rollback_grants(
    org: Org, journal: Journal, progress: Callable[[str], None] | None = None
) -> pd.DataFrame:
    """Reverse every grant the journal announced (intent), newest first, once each; reads the row first,
    so in-doubt ones settle (a create that never landed is ``unchanged``)."""
    seen: set[tuple[str, str, str]] = set()
    records = []
    for r in reversed([r for r in journal.records() if r.get("type") == "grant_intent"]):
        k = (str(r["action"]), str(r["parent"]), str(r["entity"]))
        if k not in seen:
            seen.add(k)
            records.append(r)
    rows: list[dict[str, Any]] = []
    for rec in records:
        parent, entity = rec["parent"], rec["entity"]
        row = {
            "app": rec["app"],
            "field": rec["field"],
            "name": rec["name"],
            "action": f"undo {rec['action']}",
        }
        try:
            with org.operation():
                present = _row(org, parent, entity)
                if rec["action"] == "add" and present:
                    _delete(org, parent, entity, present)
                elif rec["action"] == "remove" and not present:
                    _create(org, parent, entity)
                else:
                    rows.append({**row, "status": "unchanged", "message": "already as before"})
                    continue
        except WriteInDoubt as exc:
            rows.append({**row, "status": "in doubt", "message": f"{exc}; roll back again to settle it"})
            continue
        except ToolkitError as exc:
            rows.append({**row, "status": "failed", "message": str(exc)})
            continue
        journal.append({"type": "grant_rollback", **rec, "status": "restored"})
        rows.append({**row, "status": "restored", "message": ""})
        if progress is not None:
            progress(f"grant rollback: {row['action']} {rec['name']} on {rec['app']}")
    return pd.DataFrame(rows, columns=GRANT_COLUMNS)
