"""Org-level rules (``applies_to="org"``): they read the ``org`` table of an org audit (org-wide Settings and
who holds the permissions that bypass app gating, :mod:`toolkit.model.org_settings`), one finding per org.

A folder audit has no ``org`` table: these rules are not run there (``findings(...).attrs["not_run"]``: "needs
an org audit"). A value the audit could not read gives "cannot check" with the reason, never a pass.
Not here: TOK-03 (no API tells whether the 30-day idle refresh-token limit is on) and USE-04 (needs the
event log files, ``ApiTotalUsageEventLog``, which the audit does not read).
"""

from __future__ import annotations

from ..model.org_settings import org_setting
from .model import CannotCheck, OrgFacts, Outcome, Remedy, Rule

_OAUTH_SETTINGS = "Setup > OAuth and OpenID Connect Settings"
_SUPPORT = "Ask Salesforce Support to enable API Access Control, then Setup > API Access Control"
_PERMS = "Setup > Permission Sets (and Profiles) > System Permissions"
GATING = ("use_any_api_client_users", "approve_uninstalled_users")
POSTURE = {
    "block_username_password_flow": True,
    "block_user_agent_flow": True,
    "org_pkce_required": True,
    "continuous_ip_enforcement": True,
}
ECA_SECRETS = {"eca_secret_metadata_access": False, "eca_secret_rest_access": False}
_ECA_SETTINGS = "Setup > External Client App Settings"


def _gating(f: OrgFacts) -> Outcome | CannotCheck | None:
    held = [(s, f.values.get(s)) for s in GATING if s not in f.unknown]
    bad = [f"{org_setting(s).label}: {n}" for s, n in held if n]
    if bad:
        # a permission whose holders could not be read is said to be unknown, never left out (not "none")
        bad += [f"{org_setting(s).label}: unknown (org table: {s})" for s in GATING if s in f.unknown]
        return Outcome("; ".join(bad), "no holder without a documented justification (ignore with a reason)")
    missing = [f"{s}: {f.unknown[s]}" for s in GATING if s in f.unknown]
    return CannotCheck("; ".join(missing)) if missing else None


def _api_access_control(f: OrgFacts) -> Outcome | CannotCheck | None:
    return f.weak({"api_access_control": True})


def _posture(f: OrgFacts) -> Outcome | CannotCheck | None:
    return f.weak(POSTURE)


def _eca_secrets(f: OrgFacts) -> Outcome | CannotCheck | None:
    return f.weak(ECA_SECRETS)


def _continuous_ip(f: OrgFacts) -> Outcome | CannotCheck | None:
    if not f.relaxed_apps:
        return None  # no app relaxes IP restrictions: nothing interacts
    on = f.weak({"continuous_ip_enforcement": False})
    if on is None or isinstance(on, CannotCheck):
        return on  # off: relaxed apps keep their access (GOV-05 reports the setting itself)
    shown = ", ".join(f.relaxed_apps[:5]) + (" ..." if len(f.relaxed_apps) > 5 else "")
    return Outcome(
        f"on; {len(f.relaxed_apps)} app(s) relax IP restrictions: {shown}",
        "relaxed apps reviewed (they lose some access under continuous IP enforcement)",
    )


ORG_RULES: tuple[Rule, ...] = (
    Rule(
        "ACC-05",
        "Users who bypass app gating",
        "medium",
        "'Use Any API Client' lets a user use apps that are not approved when API Access Control is on; "
        "'Approve Uninstalled Connected Apps' lets a user use apps nobody installed (Sept 2025 restriction). "
        "Every holder needs a documented justification.",
        "SBS-ACS-006, SBS-PERM-003; KB 005228838 https://help.salesforce.com/s/articleView?id=005228838 , "
        "KB 005132365 https://help.salesforce.com/s/articleView?id=005132365",
        GATING,
        applies_to="org",
        remedy=Remedy(
            (), _PERMS, "remove the permission from the permission sets that hold it, or justify it"
        ),
        field="use_any_api_client_users",
        org_check=_gating,
        needs=("org",),
    ),
    Rule(
        "ACC-06",
        "API Access Control off",
        "info",
        "Without API Access Control any connected app can call the API for a user who authorises it; with "
        "it, only admin-approved (installed) apps can. Enabling it needs Salesforce Support and blocks "
        "apps that are not installed: plan it.",
        "Metadata API ConnectedAppSettings.enableAdminApprovedAppsOnly "
        "https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/"
        "meta_connectedappsettings.htm ; "
        "help 'API Access Control' "
        "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.security_api_access_control_about.htm",
        ("api_access_control",),
        applies_to="org",
        remedy=Remedy((), _SUPPORT, "enable API Access Control (through Salesforce Support)"),
        org_check=_api_access_control,
        needs=("org",),
    ),
    Rule(
        "NET-03",
        "Continuous IP enforcement with relaxed apps",
        "info",
        "With 'Enforce login IP ranges on every request' on, apps that relax IP restrictions lose some "
        "access: review them (SAML-only apps are not affected).",
        "Help 'IP Relaxation and Continuous IP Enforcement' "
        "https://help.salesforce.com/s/articleView?id=xcloud.connected_app_continuous_ip.htm",
        ("continuous_ip_enforcement", "ip_relaxation"),
        applies_to="org",
        remedy=Remedy(
            (),
            "Setup > App Manager > the app > Manage > Edit Policies > IP Relaxation",
            "review the apps that relax IP restrictions",
        ),
        field="continuous_ip_enforcement",
        org_check=_continuous_ip,
        needs=("org",),
    ),
    Rule(
        "GOV-05",
        "Org-wide OAuth posture weak",
        "medium",
        "Org-wide blocks of the username-password and user-agent flows, org-wide PKCE and continuous IP "
        "enforcement protect every app at once, including apps installed from elsewhere.",
        "Metadata API OauthOidcSettings, SecuritySettings.sessionSettings; sf-connected-app-compliance; "
        "Help 'Disable the Username-Password Flow' "
        "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.remoteaccess_disable_username_password_flow_ca.htm",
        tuple(POSTURE),
        applies_to="org",
        remedy=Remedy(
            (),
            f"{_OAUTH_SETTINGS}; Setup > Session Settings",
            "block the username-password and user-agent flows, require PKCE, enforce login IP "
            "ranges on every request",
        ),
        field="org_pkce_required",
        org_check=_posture,
        needs=("org",),
    ),
    Rule(
        "GOV-06",
        "External client app consumer secrets exposed through the API",
        "high",
        "With 'Allow access to External Client App consumer secrets via Metadata API' or '... via REST API' "
        "on, a user with the matching permission can read every external client app's consumer secret "
        "through the API; Salesforce's controls recommend both off.",
        "Metadata API ExternalClientAppSettings "
        "https://developer.salesforce.com/docs/atlas.en-us.260.0.api_meta.meta/api_meta/"
        "meta_externalclientappsettings.htm ; "
        "Help 'Metadata Secrets Protection' https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud."
        "shr_external_client_app_settings_metadata_secrets_protection.htm ; "
        "Help 'REST API Secret Masking' https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud."
        "shr_external_client_app_settings_rest_api_secret_masking.htm",
        tuple(ECA_SECRETS),
        applies_to="org",
        remedy=Remedy(
            (),
            _ECA_SETTINGS,
            "turn off access to consumer secrets via the Metadata API and via the REST API",
        ),
        field="eca_secret_metadata_access",
        org_check=_eca_secrets,
        needs=("org",),
    ),
)
