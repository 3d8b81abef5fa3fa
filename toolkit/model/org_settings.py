"""The org-wide facts the org-level rules read (domain notes §1.10, §7.2): where each lives, what it is
called, what Salesforce assumes when it is absent. The one place that knows them (like the field catalog
for app settings): the org reader (:mod:`toolkit.sources.org_posture`) and the rules read this table.

Types, fullNames and element names are checked against metadata-v66.wsdl (``ConnectedAppSettings``,
``OauthOidcSettings``, ``SecuritySettings.sessionSettings``, ``ExternalClientAppSettings``: the org's exposure
of external client app consumer secrets through the Metadata API and the REST API). The permission fields on
``PermissionSet`` are not in any WSDL. The Object Reference (PermissionSet) documents one field
``Permissions<PermissionName>`` per permission, varying by org and license: "use describeSObjects()". So the
audit describes ``PermissionSet`` first and queries only the fields the describe lists; a permission whose
field is not there has unknown holders, with the reason. ``PermissionsUseAnyApiClient`` is named by
Salesforce's knowledge articles (it exists only when API Access Control is on); "Approve Uninstalled Connected
Apps" is ``CanApproveUninstalledApps`` (the Summer '26 field references list
``PermissionsCanApproveUninstalledApps`` on MutingPermissionSet; public tools found it missing from
PermissionSet describes in 2025).
"""

from __future__ import annotations

from dataclasses import dataclass

SETTINGS_FULL_NAMES = {
    "ConnectedAppSettings": "ConnectedApp",
    "OauthOidcSettings": "OauthOidc",
    "SecuritySettings": "Security",
    "ExternalClientAppSettings": "ExternalClientApp",
}


@dataclass(frozen=True)
class OrgSetting:
    """One org-wide fact: a Settings element (``type_name`` + ``path``) or a permission's holder count."""

    id: str
    label: str  # as Setup shows it (the Setup checkbox when the metadata element is its inverse: ``setup``)
    type_name: str  # a Settings metadata type, or "PermissionSetAssignment" for holder counts
    path: str  # element path inside the settings record, or the PermissionSet permission field
    default: bool | None = None  # what Salesforce assumes when the element is absent
    setup: str = ""  # where it is set in Setup
    confirmed: bool = True  # the name is in the WSDL or Salesforce's docs

    @property
    def permission(self) -> str:
        """The permission's Setup label, for a holder count ("Approve Uninstalled Connected Apps")."""
        return self.label.removeprefix("Users with ")

    @property
    def source(self) -> str:
        if self.type_name == "PermissionSetAssignment":
            return f"PermissionSetAssignment (PermissionSet.{self.path} = true)"
        return f"{self.type_name}.{self.path.replace('/', '.')}"


_OAUTH = "Setup > OAuth and OpenID Connect Settings"
ORG_SETTINGS: tuple[OrgSetting, ...] = (
    OrgSetting(
        "api_access_control",
        "API Access Control (only admin-approved apps can use the API)",
        "ConnectedAppSettings",
        "enableAdminApprovedAppsOnly",
        False,
        "Setup > API Access Control (enabled by Salesforce Support)",
    ),
    OrgSetting(
        "api_access_control_external",
        "API Access Control for customers and partners",
        "ConnectedAppSettings",
        "enableAdminApprovedAppsOnlyForExternalUser",
        False,
        "Setup > API Access Control (enabled by Salesforce Support)",
    ),
    OrgSetting(
        "block_username_password_flow",
        "Block OAuth username-password flows (Setup: Allow OAuth Username-Password Flows unchecked)",
        "OauthOidcSettings",
        "blockOAuthUnPwFlow",
        False,
        _OAUTH,
    ),
    OrgSetting(
        "block_user_agent_flow",
        "Block OAuth user-agent flows (Setup: Allow OAuth User-Agent Flows unchecked)",
        "OauthOidcSettings",
        "blockOAuthUsrAgtFlow",
        False,
        _OAUTH,
    ),
    OrgSetting(
        "org_pkce_required",
        "Require Proof Key for Code Exchange (PKCE) Extension for Supported Authorization Flows",
        "OauthOidcSettings",
        "isPkceRequired",
        False,
        _OAUTH,
    ),
    OrgSetting(
        "continuous_ip_enforcement",
        "Enforce login IP ranges on every request",
        "SecuritySettings",
        "sessionSettings/enforceIpRangesEveryRequest",
        False,
        "Setup > Session Settings",
    ),
    # Salesforce's controls recommend both off: "External Client App Settings: Metadata Secrets Protection"
    # and "... REST API Secret Masking" (docs/findings.md, GOV-06)
    OrgSetting(
        "eca_secret_metadata_access",
        "Allow access to External Client App consumer secrets via Metadata API",
        "ExternalClientAppSettings",
        "enableConsumerSecretApiAccess",
        False,
        "Setup > External Client App Settings",
    ),
    OrgSetting(
        "eca_secret_rest_access",
        "Allow access to External Client App consumer secrets via REST API",
        "ExternalClientAppSettings",
        "enableClientSecretInRestApiAccess",
        False,
        "Setup > External Client App Settings",
    ),
    OrgSetting(
        "use_any_api_client_users",
        "Users with Use Any API Client",
        "PermissionSetAssignment",
        "PermissionsUseAnyApiClient",
        setup="Setup > Permission Sets / Profiles > System Permissions",
    ),
    OrgSetting(
        "approve_uninstalled_users",
        "Users with Approve Uninstalled Connected Apps",
        "PermissionSetAssignment",
        "PermissionsCanApproveUninstalledApps",
        setup="Setup > Permission Sets / Profiles > System Permissions",
    ),
)
ORG_SETTING = {s.id: s for s in ORG_SETTINGS}
ORG_COLUMNS = ("setting", "label", "value", "source", "known", "reason", "detail")


def org_setting(setting_id: str) -> OrgSetting:
    """One org setting by id.

    >>> org_setting("org_pkce_required").source
    'OauthOidcSettings.isPkceRequired'
    """
    return ORG_SETTING[setting_id]
