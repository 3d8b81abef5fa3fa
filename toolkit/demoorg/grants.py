"""``SetupEntityAccess`` create/delete over REST: pre-authorize a profile or permission set on an app.

Salesforce documents both calls on the object (object reference, SetupEntityAccess: "Supported
Calls: create(), delete(), ..."; domain doc §2.3). Here the rows are derived from each ConnectedApp's
``profileName`` / ``permissionSetName`` elements (see :mod:`toolkit.demoorg.sobjects`), so a create
adds the name to the app's metadata and a delete removes it: ``readMetadata`` and SOQL
stay consistent, as on Salesforce.

Differences: only ``SetupEntityType = 'ConnectedApplication'`` rows can be created (ECA pre-authorizations
live in the ECA policy metadata here); the ``isAdminApproved`` requirement is not checked (⚠️ unverified on
Salesforce, domain doc §2.3).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .exceptions import RestError
from .models import MetadataComponent, OrgState


def _row_id(comp: MetadataComponent, parent_id: str) -> str:
    from .sobjects import setup_entity_access_id  # the Id the derived rows carry

    return setup_entity_access_id(comp.id, parent_id)


def _parent(state: OrgState, parent_id: str) -> tuple[str, str]:
    """("profileName" | "permissionSetName", name) of a PermissionSet Id."""
    for ps in state.objects.get("PermissionSet", []):
        if ps.get("Id") == parent_id:
            if ps.get("IsOwnedByProfile"):
                profiles = {p["Id"]: p["Name"] for p in state.objects.get("Profile", [])}
                return "profileName", str(profiles.get(ps.get("ProfileId"), ""))
            return "permissionSetName", str(ps.get("Name"))
    raise RestError(
        400,
        "INVALID_CROSS_REFERENCE_KEY",
        f"invalid cross reference id: ParentId {parent_id}",
        fields=["ParentId"],
    )


def _set_names(state: OrgState, comp: MetadataComponent, element: str, names: list[str]) -> None:
    doc = comp.doc.set_all(element, names)
    state.metadata[(comp.type_name, comp.full_name)] = dataclasses.replace(comp, doc=doc)


def create_setup_entity_access(state: OrgState, body: bytes) -> tuple[int, Any]:
    """``POST /sobjects/SetupEntityAccess`` ``{"ParentId", "SetupEntityId"}`` -> (201, {"id", "success"})."""
    try:
        values = json.loads(body or b"{}")
    except ValueError:
        raise RestError(400, "JSON_PARSER_ERROR", "The request body is not valid JSON") from None
    missing = [f for f in ("ParentId", "SetupEntityId") if not values.get(f)]
    if missing:
        raise RestError(
            400,
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            fields=missing,
        )
    extra = [k for k in values if k not in ("ParentId", "SetupEntityId", "SetupEntityType")]
    if extra:
        raise RestError(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(extra)}",
            fields=extra,
        )
    if values.get("SetupEntityType", "ConnectedApplication") != "ConnectedApplication":
        raise RestError(
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            "SetupEntityType: the demo org creates ConnectedApplication rows only",
            ["SetupEntityType"],
        )
    with state.lock:
        comp = next(
            (
                c
                for (t, _), c in state.metadata.items()
                if t == "ConnectedApp" and c.id == values["SetupEntityId"]
            ),
            None,
        )
        if comp is None:
            raise RestError(
                400,
                "INVALID_CROSS_REFERENCE_KEY",
                f"invalid cross reference id: SetupEntityId {values['SetupEntityId']}",
                ["SetupEntityId"],
            )
        element, name = _parent(state, values["ParentId"])
        names = comp.doc.get_all(element)
        if name in names:
            raise RestError(
                400,
                "DUPLICATE_VALUE",
                f"duplicate value found: SetupEntityId duplicates value on record with id: "
                f"{_row_id(comp, values['ParentId'])}",
                fields=[],  # Salesforce's shape: [{"message", "errorCode": "DUPLICATE_VALUE", "fields": []}]
            )
        _set_names(state, comp, element, [*names, name])
        return 201, {"id": _row_id(comp, values["ParentId"]), "success": True, "errors": []}


def delete_setup_entity_access(state: OrgState, record_id: str) -> tuple[int, Any]:
    """``DELETE /sobjects/SetupEntityAccess/<id>`` -> 204; 404 when there is no such row."""
    with state.lock:
        for (t, _), comp in list(state.metadata.items()):
            if t != "ConnectedApp" or not record_id.startswith(_row_id(comp, "")[:9]):
                continue
            for ps in state.objects.get("PermissionSet", []):
                if _row_id(comp, str(ps.get("Id"))) == record_id:
                    element, name = _parent(state, str(ps["Id"]))
                    names = comp.doc.get_all(element)
                    if name in names:
                        _set_names(state, comp, element, [n for n in names if n != name])
                        return 204, None
    raise RestError(
        404,
        "ENTITY_IS_DELETED" if record_id.startswith("0J0") else "NOT_FOUND",
        "entity is deleted" if record_id.startswith("0J0") else "The requested resource does not exist",
        fields=[],
    )
