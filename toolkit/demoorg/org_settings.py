"""Org-wide settings the demo org serves through ``readMetadata`` (domain notes §1.10), and who holds the
permissions that bypass app gating (``PermissionSet`` permission fields, ``PermissionSetAssignment`` rows).

Types and fullNames are the Metadata API's (metadata-v66.wsdl): ``ConnectedAppSettings``/``ConnectedApp``,
``OauthOidcSettings``/``OauthOidc``, ``SecuritySettings``/``Security`` (continuous IP enforcement is
``SecuritySettings.sessionSettings.enforceIpRangesEveryRequest``: ``SessionSettings`` is not a type of its
own), ``ExternalClientAppSettings``/``ExternalClientApp``. Seeding is deterministic: an odd seed plants a
weak posture, an even seed a strong one (``truth``).
"""

from __future__ import annotations

from typing import Any

from ..model.org_settings import SETTINGS_FULL_NAMES
from .metadata_soap import el
from .models import OrgState

SETTINGS_TYPES = SETTINGS_FULL_NAMES  # metadata type -> the one fullName Salesforce gives it
# the permission fields on PermissionSet ("Permissions" + the permission's API name, Object Reference,
# PermissionSet); named here, not taken from the toolkit, so the two cannot share a guess.
# "Approve Uninstalled Connected Apps" is CanApproveUninstalledApps: the Summer '26 (API 67) field references
# of MutingPermissionSet and PermissionSetLicense list PermissionsCanApproveUninstalledApps and
# MaximumPermissionsCanApproveUninstalledApps (docs/demo-org.md)
USE_ANY_API_CLIENT = "PermissionsUseAnyApiClient"
APPROVE_UNINSTALLED = "PermissionsCanApproveUninstalledApps"


def posture(seed: int) -> dict[str, dict[str, Any]]:
    """The settings of a seed: weak (odd seeds) or strong (even seeds).

    >>> [posture(s)["OauthOidcSettings"]["isPkceRequired"] for s in (1, 2)]
    [False, True]
    """
    strong = seed % 2 == 0
    return {
        "ConnectedAppSettings": {
            "enableAdminApprovedAppsOnly": strong,
            "enableAdminApprovedAppsOnlyForExternalUser": strong,
            "enableSkipUserProvisioningWizardWelcomePage": False,
        },
        "OauthOidcSettings": {
            "blockOAuthUnPwFlow": strong,
            "blockOAuthUsrAgtFlow": True,
            "isPkceRequired": strong,
            "oAuthCdCrdtFlowEnable": not strong,
        },
        "SecuritySettings": {
            "sessionSettings": {"enforceIpRangesEveryRequest": strong, "sessionTimeout": "TwoHours"}
        },
        # WSDL order; a weak org exposes ECA consumer secrets through both APIs
        "ExternalClientAppSettings": {
            "enableClientSecretInRestApiAccess": not strong,
            "enableConsumerSecretApiAccess": not strong,
            "enablePackageEcaOauthFromDevOrg": False,
        },
    }


def seed_settings(state: OrgState, seed: int) -> dict[str, Any]:
    """Plant the settings and the gating permissions; returns the truth (settings, holders per permission)."""
    state.settings = posture(seed)
    strong = seed % 2 == 0
    permsets = state.objects.get("PermissionSet", [])
    for ps in permsets:
        ps[USE_ANY_API_CLIENT] = False
        ps[APPROVE_UNINSTALLED] = False
    named = {ps["Name"]: ps for ps in permsets}
    if not strong and "API_Access" in named:
        named["API_Access"][USE_ANY_API_CLIENT] = True
    if not strong and "Integration_Admin" in named:
        named["Integration_Admin"][APPROVE_UNINSTALLED] = True
    users = state.objects.get("User", [])
    rows = []
    plain = [ps for ps in permsets if not ps.get("IsOwnedByProfile")]
    for i, user in enumerate(users):  # every third user holds one permission set, round robin
        if i % 3 or not plain:
            continue
        ps = plain[(i // 3) % len(plain)]
        rows.append(
            {
                "Id": "0Pa" + ps["Id"][9:15] + user["Id"][-9:],
                "PermissionSetId": ps["Id"],
                "AssigneeId": user["Id"],
            }
        )
    state.objects["PermissionSetAssignment"] = rows
    holders = {
        perm: sum(1 for r in rows if any(p["Id"] == r["PermissionSetId"] and p[perm] for p in permsets))
        for perm in (USE_ANY_API_CLIENT, APPROVE_UNINSTALLED)
    }
    return {"settings": posture(seed), "assignees": holders}


def read_settings(state: OrgState, type_name: str, names: list[str]) -> list[str]:
    """readMetadata records of a settings type: its one fullName, nil for any other name."""
    values = state.settings.get(type_name)
    out = []
    for name in names:
        if values is None or name != SETTINGS_TYPES[type_name]:
            out.append('<records xsi:nil="true"/>')
        else:
            body = el("fullName", name) + _xml(values)
            out.append(f'<records xsi:type="{type_name}">{body}</records>')
    return out


def _xml(values: dict[str, Any]) -> str:
    return "".join(f"<{k}>{_xml(v)}</{k}>" if isinstance(v, dict) else el(k, v) for k, v in values.items())
