"""The rules, as data. Ids follow the domain notes (``../shared/docs/salesforce-domain.md`` §7.2).

Corrections applied from Salesforce's documentation (see docs/findings.md): ACC-04 does not call a token of an
external client app a phantom (ECAs have no AppMenuItem); MOB-05 is dropped (a required secret does not mean
an embedded one); OAU-09 follows Code Analyzer's ``UseHttpsCallbackUrl`` (https or a custom scheme). Added:
OAU-14 device flow, OAU-15 no digital signature on server-to-server apps, OAU-16 tokens older than the
app's last change (when it became admin-approved), ACC-07 uninstalled apps in use (Sept 2025 restriction),
ACC-02 admin-approved apps nobody can use. MSDK-* rules form the "Mobile SDK ready" baseline.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from ..model import catalog
from .model import AppFacts, CannotCheck, Outcome, Remedy, Rule
from .org_rules import ORG_RULES

RECOMMENDED = "Salesforce recommended"
MOBILE_SDK = "Mobile SDK ready"

_HELP = "Salesforce Help security control"
_MOBILE_HELP = (
    "Help: Create a Connected App for Mobile App Integration "
    "https://help.salesforce.com/s/articleView?id=xcloud.connected_app_create_mobile.htm"
)
_PASSCODES = "https://developer.salesforce.com/docs/platform/mobile-sdk/guide/android-passcodes.html"
_APP = "Setup > App Manager > the app > Edit"
_POLICIES = "Setup > App Manager > the app > Manage > Edit Policies"
_ECA = "Setup > External Client App Manager > the app > Edit Settings / Edit Policies"
_USAGE = "Setup > Connected Apps OAuth Usage"
# LoginHistory.LoginSubType values of each flow, from the documented picklist (Object Reference, LoginHistory:
# https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_loginhistory.htm).
# It has no JWT-bearer value: JWT-bearer use cannot be told from the sub-type.
USERNAME_PASSWORD_FLOWS = ("OauthUsernamePassword",)
USER_AGENT_FLOWS = ("OauthUserAgent", "OauthUserAgentIdToken", "OauthHybridUserAgent")
_SERVER_FLOWS = ("OauthClientCredentials",)
# the authorization code flows PKCE protects (RFC 7636 §1): web server, and its hybrid variant
AUTH_CODE_FLOWS = ("OauthWebServer", "OauthHybridWebServer")
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _set(*pairs: tuple[str, Any]) -> tuple[tuple[str, Any, str], ...]:
    return tuple((f, v, "=") for f, v in pairs)


# Sources named in the rules' basis (every basis names a URL or an RFC section: tests/test_rules.py)
_U_OAUTH_POLICIES = "https://help.salesforce.com/s/articleView?id=xcloud.connected_app_manage_oauth.htm"
_U_SESSION = "https://help.salesforce.com/s/articleView?id=xcloud.connected_app_manage_session_policies.htm"
_U_IP_RANGES = "https://help.salesforce.com/s/articleView?id=xcloud.connected_app_edit_ip_ranges.htm"
_U_MIGRATE = (
    "https://help.salesforce.com/s/articleView?id=xcloud.migrate_connected_app_to_external_client_app.htm"
)
_U_MIGRATION = "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.connected_app_to_external_client_app_migration.htm"
_U_ECA = "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_external_client_apps.htm"
_U_KB_UNINSTALLED = "https://help.salesforce.com/s/articleView?id=005132365"
_U_CODE_CRED = (
    "https://help.salesforce.com/s/articleView?id=xcloud.shr_oauth_flow_enablement_enable_authorization_"
    "code_and_credentials_flow.htm"
)
_U_REFRESH = "https://help.salesforce.com/apex/HTViewHelpDoc?id=remoteaccess_oauth_refresh_token_flow.htm"
_U_JWT = "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_jwt_flow.htm"
_U_DEVICE = "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_device_flow.htm"
_U_CLI = (
    "https://developer.salesforce.com/docs/atlas.en-us.258.0.sfdx_dev.meta/sfdx_dev/"
    "sfdx_dev_auth_default_conn_app.htm"
)
_U_IDLE = "https://help.salesforce.com/s/articleView?id=xcloud.connected_app_limit_idle_ttl.htm"
_U_CODE_ANALYZER = (
    "https://developer.salesforce.com/docs/platform/salesforce-code-analyzer/guide/rules-pmd-appexchange.html"
)
_U_LOGIN_HISTORY = (
    "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/"
    "sforce_api_objects_loginhistory.htm"
)
_U_OAUTH_TOKEN = (
    "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/"
    "sforce_api_objects_oauthtoken.htm"
)
_U_APP_MENU = (
    "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/"
    "sforce_api_objects_appmenuitem.htm"
)
_U_CA_META = "https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_connectedapp.htm"
_U_PIN_TIMEOUT = (
    "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_manage_mobile_policies_for_a_connected_app_"
    "mobile_pin_timeout.htm"
)
_U_SCREEN_LOCK = (
    "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_external_client_apps_mobile_app_settings_"
    "mobile_screen_lock.htm"
)
_U_BIOMETRIC = (
    "https://developer.salesforce.com/docs/atlas.en-us.mobile_sdk.meta/mobile_sdk/biometric_auth.htm"
)
_U_SAML_SHA256 = (
    "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_web_app_settings_signing_algorithm_for_saml_"
    "messages_select_sha256.htm"
)
_U_ECA_SAML = (
    "https://developer.salesforce.com/docs/atlas.en-us.256.0.api_meta.meta/api_meta/"
    "meta_extlclntappsamlconfigurablepolicies.htm"
)
_U_PUSH_SECURITY = (
    "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_push_notification_settings_and_policies_for_"
    "mobile_mobile_push_security.htm"
)
_U_UNC6040 = (
    "https://cloud.google.com/blog/topics/threat-intelligence/unc6040-proactive-hardening-recommendations"
)


# --- applicability ------------------------------------------------------------------------------------------
def _opaque(f: AppFacts) -> bool:
    return str(f.row.get("coverage")) in ("tokens_only", "unreadable", "soql_only", "metadata_unknown")


def scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


Test = Callable[[AppFacts], "bool | None"]


def _memo(test: Test) -> Test:
    """Applicability tests run for many rules of one app: computed once per app."""

    def cached(f: AppFacts) -> bool | None:
        name = test.__name__
        if name not in f.memo:
            f.memo[name] = test(f)
        value: bool | None = f.memo[name]
        return value

    cached.__name__ = test.__name__
    cached.__doc__ = test.__doc__
    return cached


@_memo
def is_mobile(f: AppFacts) -> bool | None:
    """MOB-00: a mobile app (mobile settings, a mobile start URL, a PIN, or a custom-scheme callback).

    None when the audit cannot tell (no metadata was readable).
    """
    if f.value("platform") or f.value("has_mobile_config") or f.value("mobile_start_url"):
        return True
    if f.value("mobile_plugin") or f.value("pin_length") is not None:
        return True
    if any(scheme(u) not in ("http", "https", "") for u in f.callbacks):
        return True
    return None if _opaque(f) else False


@_memo
def has_oauth(f: AppFacts) -> bool | None:
    if f.value("has_oauth") or f.value("oauth_plugin"):
        return True
    return None if _opaque(f) else False


@_memo
def has_saml(f: AppFacts) -> bool | None:
    """A SAML app (a connected app's samlConfig, an ECA's SAML policies); None when the audit cannot tell."""
    if f.value("has_saml") or f.value("saml_acs_url") or f.value("saml_entity_id"):
        return True
    return None if _opaque(f) else False


@_memo
def sends_push(f: AppFacts) -> bool | None:
    """An app that may send push notifications: an ECA with push settings or the push plugin on; a mobile
    connected app (its push settings are not in metadata: Setup only)."""
    if f.kind == catalog.ECA:
        if f.value("has_push") or f.value("push_plugin") or f.value("push_full_content"):
            return True
        return None if _opaque(f) else False
    return True if f.value("push_full_content") else is_mobile(f)


@_memo
def interactive(f: AppFacts) -> bool | None:
    """OAuth with a callback a browser or a device comes back to (not a pure JWT/client-credentials app)."""
    oauth = has_oauth(f)
    if not oauth:
        return oauth
    browser = bool(f.callbacks) and not all(urlsplit(u).hostname in LOOPBACK for u in f.callbacks)
    if f.value("client_credentials") or f.value("has_certificate"):
        # a server-to-server integration (client credentials, JWT bearer), unless LoginHistory shows users
        # signing in through the authorization code flow: then that flow is in use and PKCE applies
        return browser and logins_of(f, AUTH_CODE_FLOWS) > 0
    return browser


@_memo
def confidential(f: AppFacts) -> bool | None:
    """A web app with https callbacks only (it can keep a secret)."""
    inter = interactive(f)
    if not inter:
        return inter
    return all(scheme(u) == "https" for u in f.callbacks)


def _refresh_scope(f: AppFacts) -> bool:
    return bool(f.scopes & {"RefreshToken", "OfflineAccess"})


def _and(*tests: Any) -> Any:
    def when(f: AppFacts) -> bool | None:
        seen: bool | None = True
        for test in tests:
            value = test(f)
            if value is False:
                return False
            if value is None:
                seen = None
        return seen

    return when


# --- custom checks ------------------------------------------------------------------------------------------
def _grants(f: AppFacts) -> Outcome | None:
    if f.grants:
        return None
    return Outcome("no profile or permission set", "at least one", "admin-approved, but nobody is assigned")


_BROAD = ("System Administrator", "Standard User")


def _broad(f: AppFacts) -> Outcome | None:
    broad = [g for g in f.grants if g in _BROAD]
    if len(f.grants) > 10 or broad:
        seen = ", ".join(broad) if broad else f"{len(f.grants)} assignments"
        return Outcome(seen, "<= 10 assignments, no org-wide profiles", "pre-authorised too widely")
    return None


def _phantom(f: AppFacts) -> Outcome | None:
    if f.row.get("coverage") != "tokens_only" or f.name in f.eca_names:
        return None  # an ECA's tokens have no AppMenuItem by design: not a phantom
    return Outcome("used, not installed", "installed", "OAuth tokens or logins of an app not installed here")


def _uninstalled(f: AppFacts) -> Outcome | None:
    if f.value("installed") is False and f.value("used") and f.row.get("coverage") != "tokens_only":
        return Outcome("not installed", "installed", "in use but not installed: blocked since Sept 2025")
    return None


def _public_no_pkce(f: AppFacts) -> Outcome | None:
    if f.effective("secret_web_server") is False and not f.effective("pkce"):
        return Outcome("secret optional, PKCE off", "PKCE required", "public client without PKCE")
    return None


def _full_scope(f: AppFacts) -> Outcome | None:
    return Outcome("Full", "no Full scope", "Full scope grants everything") if "Full" in f.scopes else None


def _client_credentials(f: AppFacts) -> Outcome | None:
    if not f.value("client_credentials"):
        return None
    user = f.value("run_as")
    who = f"runs as {user}" if user else "no run-as user set"
    why = (
        f"client credentials flow enabled ({who}); Salesforce rates it Critical for connected apps and High "
        "for external client apps (reported at the higher): replace it with the JWT bearer flow"
    )
    return Outcome(user or "(no run-as user)", "disabled (JWT bearer instead)", why)


# the permissions that make a client-credentials run-as user an administrator (Salesforce's control: "higher
# risk when" the run-as user has broad permissions), as ``run_as_permissions`` would list them
ADMIN_PERMISSIONS = ("ModifyAllData", "CustomizeApplication", "ManageUsers", "ViewAllData", "AuthorApex")
_RUN_AS_UNREAD = (
    "the audit does not read the run-as user's permissions (PermissionSet.Permissions* of the user's profile "
    "and permission sets): check {user} in Setup > Users for Modify All Data, Customize Application, Manage "
    "Users, View All Data, Author Apex"
)


def _run_as_admin(f: AppFacts) -> Outcome | CannotCheck | None:
    user = f.value("run_as")
    if not f.value("client_credentials") or not user:
        return None  # no flow, or no run-as user (OAU-07 says so)
    held = f.value("run_as_permissions")
    if held is None:
        return CannotCheck(_RUN_AS_UNREAD.format(user=user))
    admin = [p for p in ADMIN_PERMISSIONS if p in str(held).split("; ")]
    if admin:
        return Outcome(
            f"{user}: {', '.join(admin)}",
            "an API-only integration user with the least permissions",
            "client credentials flow runs as a user with administrator permissions",
        )
    return None


# Not here: the Authorization Code and Credentials Flow (Salesforce's control recommends enabling it) and
# named-user JWT access tokens (listed among the ECA security controls). The guest-user variant is the risk,
# and a code-credential flow that accepts credentials in the URL (not POST only).
_RISKY = ("token_exchange", "introspect_all", "guest_code_credential")
# The guest flag is checked when read but not in ``reads``: a connected app's is SOQL-only (a field the Object
# Reference marks "reserved for future use"), and a folder would make the whole rule "cannot check".
_OAU08_READS = ("token_exchange", "introspect_all", "code_credential", "code_credential_post_only")


def _risky_flows(f: AppFacts) -> Outcome | None:
    on = [catalog.field(i).label for i in _RISKY if f.value(i)]
    if f.value("code_credential") and not f.value("code_credential_post_only"):
        on.append(f"{catalog.field('code_credential').label} without POST only")
    return Outcome("; ".join(on), "off unless justified", "high-risk flows enabled") if on else None


def native_loopback(url: str) -> bool:
    """An http loopback redirect (localhost, 127.0.0.1, [::1], any port): RFC 8252 §7.3 allows it for
    native apps (RFC 9700 §2.1 keeps its port exception)."""
    try:
        return scheme(url) == "http" and urlsplit(url).hostname in LOOPBACK
    except ValueError:
        return False


def _http_callbacks(f: AppFacts) -> Outcome | None:
    bad = [u for u in f.callbacks if scheme(u) == "http" and not native_loopback(u)]
    return Outcome("; ".join(bad), "https or a custom scheme", "plain-http callback URL") if bad else None


def _stale(url: str) -> bool:
    if native_loopback(url):
        return False
    return urlsplit(url).hostname in LOOPBACK or "*" in url or "__INSERT" in url.upper()


def _stale_callbacks(f: AppFacts) -> Outcome | None:
    bad = [u for u in f.callbacks if _stale(u)]
    return Outcome("; ".join(bad), "no loopback, wildcard or placeholder", "stale callback") if bad else None


def _expiry(f: AppFacts, field_id: str, what: str) -> Outcome | CannotCheck | None:
    """A certificate field's expiry (the ``has_<id>`` and ``<id>_expires`` columns of the audit)."""
    if not f.value(f"has_{field_id}"):
        return None
    expires = f.value(f"{field_id}_expires")
    if expires is None:
        return CannotCheck(f"the {what} could not be parsed")
    expires = expires.date() if hasattr(expires, "date") and not isinstance(expires, date) else expires
    if isinstance(expires, str):
        expires = date.fromisoformat(expires[:10])
    today = f.today or date.today()
    if expires < today + timedelta(days=30):
        state = "expired" if expires < today else "expires within 30 days"
        return Outcome(str(expires), "valid for more than 30 days", f"{what} {state}")
    return None


def _certificate(f: AppFacts) -> Outcome | CannotCheck | None:
    return _expiry(f, "certificate", "certificate")


_SAML_CERTIFICATES = (
    ("saml_certificate", "SAML request-signature certificate"),
    ("saml_encryption_certificate", "SAML encryption certificate"),
)


def _saml_certificates(f: AppFacts) -> Outcome | CannotCheck | None:
    """Both SAML certificates: every failing one in one finding; else "cannot check" if one is unreadable."""
    results = [_expiry(f, fid, what) for fid, what in _SAML_CERTIFICATES]
    failed = [r for r in results if isinstance(r, Outcome)]
    if failed:
        return Outcome(
            "; ".join(str(r.observed) for r in failed),
            "valid for more than 30 days",
            "; ".join(r.message for r in failed),
        )
    return next((r for r in results if isinstance(r, CannotCheck)), None)


def logins_of(f: AppFacts, flows: tuple[str, ...]) -> int:
    """Logins of the app in the window through any of ``flows`` (LoginSubType values)."""
    return sum(f.logins_by_flow.get(s, 0) for s in flows)


def _flow(flows: tuple[str, ...], label: str) -> Any:
    def check(f: AppFacts) -> Outcome | None:
        n = logins_of(f, flows)
        return Outcome(f"{n} logins", "none", f"{label} in use") if n else None

    return check


def _no_signature(f: AppFacts) -> Outcome | None:
    server = f.value("client_credentials") or logins_of(f, _SERVER_FLOWS)
    if server and not f.value("has_certificate"):
        why = "server-to-server app without a certificate"
        if f.value("client_credentials"):
            why += (
                "; a certificate does not secure the client credentials flow (it still uses the secret): "
                "move to the JWT bearer flow (OAU-07)"
            )
        return Outcome("no certificate", "Use Digital Signatures", why)
    return None


def _tokens_before_change(f: AppFacts) -> Outcome | CannotCheck | None:
    if f.value("permitted_users") != "AdminApprovedPreAuthorized":
        return None
    if f.value("last_modified") is None:
        return CannotCheck("the audit has no modification date for this app")
    if f.tokens_before_change:
        return Outcome(
            f"{f.tokens_before_change} tokens",
            "none older than the app's last change",
            "tokens issued before the app's last change (when it became admin-approved?)",
        )
    return None


_UNIT_DAYS = {"HOURS": 1 / 24, "DAYS": 1, "MONTHS": 30}


def _refresh_infinite(f: AppFacts) -> Outcome | None:
    policy = f.value("refresh_policy")
    if policy in (None, "infinite"):
        return Outcome(policy or "not set (valid until revoked)", "a lifetime", "refresh token never expires")
    return None


def _refresh_long(f: AppFacts) -> Outcome | None:
    policy, n, unit = f.value("refresh_policy"), f.value("refresh_n"), f.value("refresh_unit")
    if policy not in ("specific_lifetime", "specific_inactivity") or n is None:
        return None
    days = float(n) * _UNIT_DAYS.get(str(unit).upper(), 1)
    limit = 90 if policy == "specific_lifetime" else 30
    if days > limit:
        return Outcome(f"{policy}:{n}:{unit}", f"<= {limit} days", "refresh token lives too long")
    return None


def _ip_relaxed(f: AppFacts) -> Outcome | None:
    value = f.value("ip_relaxation")
    if value in ("ENFORCE_RELAXREFRESH", "BYPASS_2FACTOR"):
        return Outcome(value, "ENFORCE", "IP restrictions relaxed")
    return None


def _wide_ranges(f: AppFacts) -> Outcome | None:
    wide = []
    for start, end in f.ip_ranges:
        try:
            size = int(ipaddress.ip_address(end)) - int(ipaddress.ip_address(start)) + 1
        except ValueError:
            continue
        if size > 65536:
            wide.append(f"{start}-{end}")
    return Outcome("; ".join(wide), "no range wider than /16", "IP range too wide") if wide else None


def _biometric(f: AppFacts) -> Outcome | CannotCheck | None:
    if str(f.attributes.get("ENABLE_BIOMETRIC_AUTHENTICATION", "")).strip('"').lower() != "true":
        return None
    timeout = str(f.attributes.get("BIOMETRIC_AUTHENTICATION_TIMEOUT", "15")).strip('"')
    lock = f.value("lock_after")
    if lock is None:
        return None
    if str(timeout) != str(int(lock)):
        return Outcome(
            f"biometric {timeout} min, lock {int(lock)} min",
            "the same value",
            "biometric timeout differs from Lock App After",
        )
    return None


def _mobile_relaxed(f: AppFacts) -> Outcome | None:
    if f.value("ip_relaxation") == "BYPASS" and f.value("refresh_policy") in (None, "infinite"):
        return Outcome(
            "BYPASS + infinite refresh",
            "ENFORCE or a refresh lifetime",
            "mobile app with relaxed IP and a never-expiring refresh token",
        )
    return None


def _http_install(f: AppFacts) -> Outcome | None:
    url = f.value("install_url")
    return Outcome(url, "https", "App Binary URL over plain http") if url and scheme(url) == "http" else None


# a connected app's push settings are Setup only; its SOQL bit is "for internal use only" (Object Reference)
# and the audit's ConnectedApplication query does not select it: unknown, never a pass
_CA_PUSH_UNKNOWN = (
    "Full Content Push Notifications of a connected app is set in Setup only: no Metadata API element (WSDL "
    "v66), and ConnectedApplication.OptionsFullContentPushNotifications is 'for internal use only' (the "
    "audit does not query it)"
)


def _full_content(f: AppFacts) -> Outcome | CannotCheck | None:
    value = f.value("push_full_content")
    if value is True:
        return Outcome(
            "true",
            "!= true (message previews masked)",
            "push notifications carry their full content (readable on a locked device unless masked)",
        )
    if value is None and f.kind == catalog.CA:
        return CannotCheck(_CA_PUSH_UNKNOWN)
    return None


# Salesforce's own connected apps, which an org has whether or not anyone uses them: never "unused" (USE-01).
# The list sfdx-hardis ships as ``allowedInactiveConnectedApps`` (ConnectedApplication.Name values), in
# src/commands/hardis/org/diagnose/unused-connected-apps.ts, https://github.com/hardisgroupcom/sfdx-hardis
SALESFORCE_OWNED_APPS = frozenset(
    {
        "Ant Migration Tool",
        "Chatter Desktop",
        "Chatter Mobile for BlackBerry",
        "Force.com IDE",
        "OIQ_Integration",
        "Salesforce CLI",
        "Salesforce Files",
        "Salesforce Mobile Dashboards",
        "Salesforce Touch",
        "Salesforce for Outlook",
        "SalesforceA",
        "SalesforceA for Android",
        "SalesforceA for iOS",
        "SalesforceDX Namespace Registry",
        "SalesforceIQ",
    }
)
_OWNED = frozenset(n.lower() for n in SALESFORCE_OWNED_APPS)
_U_HARDIS_UNUSED = (
    "https://github.com/hardisgroupcom/sfdx-hardis/blob/main/src/commands/hardis/org/diagnose/"
    "unused-connected-apps.ts"
)


def salesforce_owned(f: AppFacts) -> bool:
    """One of Salesforce's own apps (:data:`SALESFORCE_OWNED_APPS`, by name or label), installed rather than
    created here: a local app with such a name is not Salesforce's (GOV-02 flags it), so it stays checked."""
    names = {str(f.name).lower(), str(f.value("label") or "").lower()}
    installed = bool(f.value("namespace")) or f.row.get("coverage") == "soql_only"
    return installed and bool(names & _OWNED)


def _unused(f: AppFacts) -> Outcome | None:
    if f.value("used") is False and f.row.get("coverage") != "tokens_only" and not salesforce_owned(f):
        return Outcome("no token, login or SAML sign-in in the window", "used", "unused app")
    return None


def _inactive(f: AppFacts) -> Outcome | None:
    n = f.value("inactive_user_tokens") or 0
    return Outcome(f"{n} tokens", "0", "tokens held by inactive users") if n else None


def _stale_tokens(f: AppFacts) -> Outcome | None:
    n = f.stale_tokens
    return Outcome(f"{n} tokens", "used within 90 days", "stale tokens") if n else None


_MIMIC = ("data loader", "dataloader", "salesforce cli", "workbench", "salesforce inspector")


def _mimic(f: AppFacts) -> Outcome | None:
    label = str(f.value("label") or f.name).lower()
    if f.value("namespace") is None and any(m in label for m in _MIMIC):
        return Outcome(
            f.value("label"),
            "a name that does not mimic a Salesforce tool",
            "local app named like a Salesforce tool (UNC6040 used a fake Data Loader)",
        )
    return None


def _packaged(f: AppFacts) -> Outcome | None:
    ns = f.value("namespace")
    return Outcome(ns, "a vendor due-diligence record", "third-party (packaged) app") if ns else None


def _migration(f: AppFacts) -> Outcome | None:
    from .readiness import lost_settings, migration_caveats, readiness_of

    eligible, _reasons, _plan = readiness_of(f)
    if not eligible:
        return None
    lost = lost_settings(f)
    observed = f"eligible, settings lost: {', '.join(lost)}" if lost else "eligible"
    caveats = "; ".join(migration_caveats(is_mobile(f)))
    why = f"can be migrated to an external client app: {caveats}"
    return Outcome(observed, "an external client app", why)


def _callback_registered(f: AppFacts) -> Outcome | None:
    if any(scheme(u) not in ("http", "https") for u in f.callbacks):
        return None
    return Outcome(
        "; ".join(f.callbacks) or "(none)",
        "a custom-scheme callback (myapp://...)",
        "no mobile callback registered",
    )


_SDK_SCOPES = {"Api": "api", "RefreshToken": "refresh_token", "Web": "web"}


def _sdk_scopes(f: AppFacts) -> Outcome | None:
    have = f.scopes | ({"RefreshToken"} if "OfflineAccess" in f.scopes else set())
    missing = [s for s in _SDK_SCOPES if s not in have]
    if missing:
        return Outcome(
            "; ".join(sorted(f.scopes)) or "(none)",
            "Api, RefreshToken, Web",
            f"missing scopes: {', '.join(missing)}",
        )
    return None


def _mobile_start(f: AppFacts) -> Outcome | None:
    if f.value("mobile_start_url") or f.value("start_url") or f.value("canvas_url"):
        return None  # mobile users go to the Start URL; a canvas app can skip both
    return Outcome(None, "a Mobile Start URL, a Start URL, or a canvas app", "no mobile start URL")


def _pin_protect(f: AppFacts) -> Outcome | None:
    if f.kind == catalog.ECA:
        ok = f.value("screen_lock") is True
    else:
        ok = f.value("pin_length") is not None
    return None if ok else Outcome("not set", "PIN protect on", "PIN protect is off")


# Salesforce: clients must implement PKCE / rotation before the switch ("may require some limited downtime"),
# and partner apps "won't be permitted to disable" PKCE afterwards (packaging guide, KB 005316703).
_PKCE_FIX = (
    "set Require Proof Key for Code Exchange (PKCE) to Yes (checked); clients must change first (send a "
    "code_verifier; expect downtime); partner apps cannot switch PKCE off again"
)
_RTR_FIX = (
    "set Enable Refresh Token Rotation to Yes (checked); clients must change first (keep the new refresh "
    "token of each refresh; expect downtime)"
)
_PKCE_SOURCES = (
    "https://developer.salesforce.com/docs/atlas.en-us.packagingGuide.meta/packagingGuide/secure_code_ac_eca.htm"
    " ; https://help.salesforce.com/s/articleView?id=005316703"
)


# --- the rules ----------------------------------------------------------------------------------------------
RULES: tuple[Rule, ...] = (
    # access / authorisation
    Rule(
        id="ACC-01",
        title="Users may self-authorise",
        severity="high",
        rationale="Any user can authorise the app; pre-approval by profile or permission set limits who can.",
        basis=f"{_HELP} 'Manage Profiles' {_U_OAUTH_POLICIES} ; SBS-OAUTH-002",
        reads=("permitted_users",),
        remedy=Remedy(
            changes=_set(("permitted_users", "AdminApprovedPreAuthorized")),
            setup=_POLICIES,
            text="set Permitted Users to 'Admin approved users are pre-authorized', then assign "
            "profiles or permission sets",
        ),
        expect="== AdminApprovedPreAuthorized",
        when=has_oauth,
    ),
    Rule(
        id="ACC-02",
        title="Admin-approved app nobody can use",
        severity="medium",
        rationale="Admin-approved, but no profile or permission set is assigned: nobody can use it.",
        basis=f"Help 'Manage OAuth Access Policies' {_U_OAUTH_POLICIES} ; Salesforce Inspector org analyzer; "
        "sfdx-hardis 'Not accessible'",
        reads=("permitted_users", "profiles"),
        remedy=Remedy(
            changes=(),
            setup=f"{_POLICIES} > Manage Profiles / Manage Permission Sets",
            text="assign the profiles or permission sets that should use it (or delete the app)",
        ),
        field="profiles",
        when=lambda f: f.value("permitted_users") == "AdminApprovedPreAuthorized",
        check=_grants,
    ),
    Rule(
        id="ACC-03",
        title="Pre-authorised too widely",
        severity="medium",
        rationale=(
            "More than 10 assignments, or org-wide profiles such as System Administrator or Standard User."
        ),
        basis=f"{_HELP} 'Manage Profiles' {_U_OAUTH_POLICIES} ; Salesforce Inspector analyzer threshold",
        reads=("profiles", "permission_sets"),
        remedy=Remedy(
            changes=(), setup=f"{_POLICIES} > Manage Profiles", text="narrow the profiles and permission sets"
        ),
        check=_broad,
    ),
    Rule(
        id="ACC-04",
        title="Used but not installed (phantom)",
        severity="high",
        rationale="OAuth tokens or logins of an app with no installed record (not an external client app).",
        basis=f"SBS-OAUTH-001; KB 005132365 {_U_KB_UNINSTALLED} ; AppMenuItem {_U_APP_MENU}",
        reads=("tokens",),
        applies_to="ConnectedApp",
        remedy=Remedy(changes=(), setup=f"{_USAGE} > Install, or revoke its tokens"),
        field="label",
        check=_phantom,
        needs=("tokens",),
    ),
    Rule(
        id="ACC-07",
        title="Uninstalled app in use",
        severity="high",
        rationale="Since September 2025 uninstalled connected apps are blocked for users without 'Approve "
        "Uninstalled Connected Apps'.",
        basis=f"KB 005132365 {_U_KB_UNINSTALLED}",
        reads=("installed", "used"),
        remedy=Remedy(changes=(), setup=f"{_USAGE} > Install"),
        field="label",
        check=_uninstalled,
        needs=("installed",),
    ),
    # OAuth configuration
    Rule(
        id="OAU-01",
        title="PKCE not required",
        severity="medium",
        rationale="Proof Key for Code Exchange protects the authorization code flow; required for ISV apps.",
        basis=f"ISV PKCE requirement (May 2026) {_PKCE_SOURCES} ; Help 'External Client Apps' {_U_ECA}",
        reads=("pkce", "callback_urls"),
        remedy=Remedy(changes=_set(("pkce", True)), setup=_APP, text=_PKCE_FIX),
        expect="== true",
        when=interactive,
    ),
    Rule(
        id="OAU-02",
        title="Refresh token rotation off",
        severity="high",
        rationale="Rotation makes a stolen refresh token usable once at most.",
        basis=f"{_HELP} 'Enable Refresh Token Rotation' (CVSS 9-10); Help 'Refresh Token Flow' {_U_REFRESH} "
        f"; "
        f"{_PKCE_SOURCES}",
        reads=("rtr", "scopes"),
        remedy=Remedy(changes=_set(("rtr", True)), setup=_APP, text=_RTR_FIX),
        expect="== true",
        when=_refresh_scope,
    ),
    Rule(
        id="OAU-03",
        title="Secret not required for the web server flow",
        severity="high",
        rationale="A confidential web app (https callbacks) should authenticate with its secret.",
        basis=(
            f"{_HELP} 'Require Secret for Web Server Flow' (CVSS 9-10); Help 'External Client Apps' {_U_ECA}"
        ),
        reads=("secret_web_server", "callback_urls"),
        remedy=Remedy(changes=_set(("secret_web_server", True)), setup=_APP),
        expect="== true",
        when=confidential,
    ),
    Rule(
        id="OAU-04",
        title="Public client without PKCE",
        severity="high",
        rationale="Secret optional and PKCE off: an intercepted code can be redeemed by anyone.",
        basis=f"{_HELP} 'Authorization Code and Credentials Flow' {_U_CODE_CRED} ; {_PKCE_SOURCES}",
        reads=("secret_web_server", "pkce"),
        remedy=Remedy(changes=_set(("pkce", True)), setup=_APP, text=_PKCE_FIX),
        field="pkce",
        when=has_oauth,
        check=_public_no_pkce,
    ),
    Rule(
        id="OAU-05",
        title="Secret not required for the refresh token flow",
        severity="medium",
        rationale="A confidential client should present its secret when it refreshes.",
        basis=f"Help 'External Client Apps' {_U_ECA} ; Help 'Refresh Token Flow' {_U_REFRESH}",
        reads=("secret_refresh", "secret_web_server", "scopes"),
        remedy=Remedy(changes=_set(("secret_refresh", True)), setup=_APP),
        expect="== true",
        when=_and(
            confidential, lambda f: f.effective("secret_web_server") is not False and _refresh_scope(f)
        ),
    ),
    Rule(
        id="OAU-06",
        title="Full scope",
        severity="high",
        rationale="'Full' grants every permission of the user; least privilege asks for the scopes needed.",
        basis=f"Code Analyzer pmd-appexchange LimitConnectedAppScope {_U_CODE_ANALYZER}",
        reads=("scopes",),
        remedy=Remedy(
            changes=(("scopes", "Full", "-="),),
            setup=_APP,
            text="remove Full from Selected OAuth Scopes (add the scopes the app needs)",
        ),
        check=_full_scope,
    ),
    Rule(
        id="OAU-07",
        title="Client credentials flow enabled",
        severity="critical",
        rationale="Salesforce's control: disable it (Critical for connected apps, High for external client "
        "apps; the "
        "engine has one severity per rule: the higher) and replace it with the JWT bearer flow.",
        basis="Help 'Disable Client Credentials Flow' "
        "https://help.salesforce.com/s/articleView?id=xcloud.shr_api_enable_oauth_settings_disable_client_"
        "credentials_flow.htm ; ECA control "
        "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_oauth_flow_enablement_disable_client_"
        "credentials_flow.htm",
        reads=("client_credentials", "run_as"),
        remedy=Remedy(
            changes=(),
            setup=_APP,
            text="replace the client credentials flow with the JWT bearer flow, then disable it",
        ),
        field="client_credentials",
        check=_client_credentials,
    ),
    Rule(
        id="OAU-17",
        title="Client credentials run as an administrator",
        severity="high",
        rationale="Every client-credentials token acts as the run-as user; Salesforce's control rates the "
        "flow higher "
        "risk when that user holds broad permissions: use an API-only integration user with the least "
        "permissions.",
        basis="ECA control 'Disable Client Credentials Flow' (Higher Risk When) "
        "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_oauth_flow_enablement_disable_client_"
        "credentials_flow.htm ; Help 'Configure Client Credentials Flow Policies' "
        "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_configure_oauth_policies_configure_"
        "client_credential_flow_policies.htm",
        reads=("client_credentials", "run_as"),
        remedy=Remedy(
            changes=(),
            setup=_POLICIES,
            text="run the flow as an API-only integration user without Modify All Data, Customize "
            "Application or "
            "Manage Users (or replace the flow with JWT bearer: OAU-07)",
        ),
        field="run_as",
        check=_run_as_admin,
    ),
    Rule(
        id="OAU-08",
        title="High-risk flows enabled",
        severity="medium",
        rationale="Token exchange, introspect-all and the guest-user code-and-credentials flow need a "
        "justification; "
        "the code-and-credentials flow itself is recommended, with credentials in a POST body only.",
        basis="Help 'Enable Authorization Code and Credentials Flow' "
        "https://help.salesforce.com/s/articleView?id=xcloud.shr_oauth_flow_enablement_enable_authorization_"
        "code_and_credentials_flow.htm ; Help 'External Client Apps' (named-user JWT is a security control) "
        "https://help.salesforce.com/apex/HTViewHelpDoc?id=xcloud.shr_external_client_apps.htm ; "
        "sf-connected-app-compliance no_guest_code_credential_flow",
        reads=_OAU08_READS,
        remedy=Remedy(
            changes=_set(
                ("token_exchange", False), ("introspect_all", False), ("code_credential_post_only", True)
            ),
            setup=_APP,
            text="switch off Token Exchange and Introspect All Tokens unless justified; keep the "
            "Authorization Code and Credentials Flow on, POST only; switch off its guest-user variant "
            "(connected apps: Setup)",
        ),
        field="token_exchange",
        check=_risky_flows,
    ),
    Rule(
        id="OAU-09",
        title="Insecure callback URL",
        severity="high",
        rationale="Callbacks must use https or a custom scheme (an http loopback redirect of a native app "
        "is allowed); "
        "the app's client must change with it.",
        basis="Code Analyzer UseHttpsCallbackUrl; RFC 8252 §7.3 (loopback redirects) "
        "https://www.rfc-editor.org/rfc/rfc8252#section-7.3",
        reads=("callback_urls",),
        remedy=Remedy(changes=(), setup=_APP, text="use https (or a custom scheme) here and in the client"),
        check=_http_callbacks,
    ),
    Rule(
        id="OAU-10",
        title="Certificate expired or expiring",
        severity="high",
        rationale="JWT bearer and digital-signature clients stop working when the certificate expires.",
        basis=f"operational: the JWT bearer flow signs with the certificate {_U_JWT}",
        reads=("certificate",),
        remedy=Remedy(changes=(), setup=_APP, text="upload a new certificate (Use Digital Signatures)"),
        check=_certificate,
    ),
    Rule(
        id="OAU-11",
        title="Username-password flow in use",
        severity="high",
        rationale="The flow sends passwords to the client and blocks migration to an external client app.",
        basis=f"Help 'Migrate a Connected App to an External Client App' {_U_MIGRATE} ; "
        f"OauthOidcSettings.blockOAuthUnPwFlow; LoginHistory.LoginSubType {_U_LOGIN_HISTORY}",
        reads=("logins",),
        remedy=Remedy(
            changes=(), setup="the client", text="move the client to JWT bearer or web server + PKCE"
        ),
        field="label",
        check=_flow(USERNAME_PASSWORD_FLOWS, "username-password flow"),
        needs=("logins",),
    ),
    Rule(
        id="OAU-12",
        title="User-agent (implicit) flow in use",
        severity="medium",
        rationale="Tokens in the URL fragment; the OAuth BCP deprecates the implicit flow.",
        basis="OAuth 2.0 Security BCP, RFC 9700 §2.1.2 https://www.rfc-editor.org/rfc/rfc9700#section-2.1.2 "
        "; "
        "OauthOidcSettings.blockOAuthUsrAgtFlow",
        reads=("logins",),
        remedy=Remedy(
            changes=(), setup="the client", text="move the client to the web server flow with PKCE"
        ),
        field="label",
        check=_flow(USER_AGENT_FLOWS, "user-agent flow"),
        needs=("logins",),
    ),
    Rule(
        id="OAU-13",
        title="Loopback, wildcard or placeholder callback",
        severity="low",
        rationale="Https callbacks to localhost, wildcards or template placeholders are leftovers; an http "
        "loopback "
        "redirect (any port) is a native app's, allowed by RFC 8252 §7.3.",
        basis="RFC 8252 §7.3 https://www.rfc-editor.org/rfc/rfc8252#section-7.3 ; RFC 9700 §2.1 "
        "https://www.rfc-editor.org/rfc/rfc9700#section-2.1 ; sample statistics (domain notes §7.2)",
        reads=("callback_urls",),
        remedy=Remedy(changes=(), setup=_APP, text="remove the stale callback"),
        check=_stale_callbacks,
    ),
    Rule(
        id="OAU-14",
        title="Device flow enabled",
        severity="medium",
        rationale=(
            "The device flow lets a user authorise a device by code: phishable, enable only for devices."
        ),
        basis=f"Help 'OAuth 2.0 Device Flow' {_U_DEVICE}",
        reads=("device_flow",),
        applies_to="ExternalClientApplication",
        remedy=Remedy(changes=_set(("device_flow", False)), setup=_ECA),
        expect="!= true",
    ),
    Rule(
        id="OAU-15",
        title="Server-to-server app without digital signatures",
        severity="medium",
        rationale=(
            "A server-to-server integration should use the JWT bearer flow, which signs with a certificate."
        ),
        basis="Help 'OAuth 2.0 JWT Bearer Flow' "
        "https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_jwt_flow.htm ; "
        "Help 'Disable Client Credentials Flow' "
        "https://help.salesforce.com/s/articleView?id=xcloud.shr_api_enable_oauth_settings_disable_client_"
        "credentials_flow.htm",
        reads=("client_credentials", "certificate"),
        remedy=Remedy(
            changes=(),
            setup=_APP,
            text="use the JWT bearer flow: enable Use Digital Signatures with the integration's "
            "certificate; a "
            "certificate does not secure the client credentials flow (it still uses the secret)",
        ),
        field="certificate",
        check=_no_signature,
    ),
    Rule(
        id="OAU-16",
        title="Tokens older than the app's last change",
        severity="low",
        rationale=(
            "Tokens issued while users could self-authorise stay valid after the app becomes admin-approved."
        ),
        basis=f"Help 'Manage OAuth Access Policies' {_U_OAUTH_POLICIES}",
        reads=("permitted_users", "tokens"),
        remedy=Remedy(
            changes=(), setup=f"{_USAGE} > the app > Revoke", text="review and revoke those tokens"
        ),
        field="permitted_users",
        check=_tokens_before_change,
        needs=("tokens", "last_modified"),
    ),
    # SAML
    Rule(
        id="SAML-01",
        title="SAML encryption uses Triple DES",
        severity="medium",
        rationale="Salesforce's Winter '26 identity guidance: update SAML configurations to replace Triple "
        "DES with "
        "AES. Edits refuse to write Triple_Des.",
        basis=(
            f"Trailhead 'Discover What's New with Identity Management for Winter '26' "
            f"{catalog.TRIPLE_DES_URL}"
        ),
        reads=("saml_encryption",),
        remedy=Remedy(
            changes=_set(("saml_encryption", "AES_256")),
            setup=_APP,
            text="set Encryption Type to AES_256 (or AES_128); the service provider must decrypt AES first",
        ),
        expect="!= Triple_Des",
        when=has_saml,
        message="SAML assertions encrypted with Triple DES: Salesforce says to replace it with AES",
    ),
    Rule(
        id="SAML-02",
        title="SAML messages signed with SHA-1",
        severity="high",
        rationale="Salesforce's control: select SHA256 for SAML messages; SHA-1 collisions let an attacker "
        "forge a "
        "signature (CVSS High 7.0-8.9).",
        basis=f"{_HELP} 'Signing Algorithm for SAML Messages - Select SHA256' {_U_SAML_SHA256}",
        reads=("saml_signing_algo",),
        remedy=Remedy(
            changes=_set(("saml_signing_algo", "SHA256")),
            setup=_APP,
            text="set Signing Algorithm for SAML Messages to SHA256; the service provider must accept "
            "SHA-256 "
            "signatures first",
        ),
        expect="== SHA256",
        when=has_saml,
        message="SAML messages signed with SHA-1 (or no algorithm set): Salesforce recommends SHA256",
    ),
    Rule(
        id="SAML-03",
        title="SAML certificate expired or expiring",
        severity="high",
        rationale="The service provider's request-signature or encryption certificate expires within 30 "
        "days: single "
        "sign-on to it breaks when it does.",
        basis="operational; ConnectedApp samlConfig.certificate / encryptionCertificate (Metadata API) "
        f"{_U_CA_META} ; ExtlClntAppSamlConfigurablePolicies {_U_ECA_SAML}",
        reads=("saml_certificate", "saml_encryption_certificate"),
        remedy=Remedy(
            changes=(),
            setup=_APP,
            text="upload the service provider's new certificate (Verify Request Signatures / Encrypt SAML "
            "Response)",
        ),
        when=has_saml,
        check=_saml_certificates,
    ),
    # tokens, network, session
    Rule(
        id="TOK-01",
        title="Refresh token never expires",
        severity="high",
        rationale="Salesforce recommends that refresh tokens expire after 90 days or fewer.",
        basis=f"Salesforce CLI doc 'Use the Default Connected App Securely' {_U_CLI}",
        reads=("refresh_policy",),
        remedy=Remedy(
            changes=_set(
                ("refresh_policy", "specific_lifetime"), ("refresh_n", 90), ("refresh_unit", "DAYS")
            ),
            setup=_POLICIES,
        ),
        when=has_oauth,
        check=_refresh_infinite,
    ),
    Rule(
        id="TOK-02",
        title="Refresh token lives too long",
        severity="medium",
        rationale="A lifetime over 90 days, or an inactivity limit over 30 days.",
        basis=f"Salesforce CLI doc (90 days) {_U_CLI} ; idle refresh-token TTL help (30 days) {_U_IDLE}",
        reads=("refresh_policy", "refresh_n", "refresh_unit"),
        remedy=Remedy(changes=_set(("refresh_n", 90), ("refresh_unit", "DAYS")), setup=_POLICIES),
        field="refresh_n",
        check=_refresh_long,
    ),
    Rule(
        id="NET-01",
        title="IP restrictions bypassed",
        severity="high",
        rationale="Relax IP restrictions lets tokens be used from anywhere.",
        basis=f"{_HELP} 'IP Relaxation' (Enforce IP restrictions); {_U_OAUTH_POLICIES}",
        reads=("ip_relaxation",),
        remedy=Remedy(changes=_set(("ip_relaxation", "ENFORCE")), setup=_POLICIES),
        expect="!= BYPASS",
        when=has_oauth,
    ),
    Rule(
        id="NET-04",
        title="IP restrictions relaxed",
        severity="medium",
        rationale="Relaxed for refresh tokens or with second factor: weaker than Enforce.",
        basis=f"{_HELP} 'IP Relaxation' {_U_OAUTH_POLICIES}",
        reads=("ip_relaxation",),
        remedy=Remedy(changes=_set(("ip_relaxation", "ENFORCE")), setup=_POLICIES),
        check=_ip_relaxed,
    ),
    Rule(
        id="NET-02",
        title="IP range too wide",
        severity="medium",
        rationale="An app IP range wider than /16 is close to no range at all.",
        basis=f"Help 'Configure Trusted IP Ranges for a Connected App' {_U_IP_RANGES} ; domain notes §7.2",
        reads=("ip_ranges",),
        remedy=Remedy(changes=(), setup=_APP, text="narrow the range"),
        check=_wide_ranges,
    ),
    Rule(
        id="SES-01",
        title="Session timeout too long or not set",
        severity="high",
        rationale="Without an app timeout the profile/org timeout applies; the control recommends 1 hour.",
        basis=f"{_HELP} 'Session Timeout' (1 hour, CVSS 9-10); {_U_SESSION}",
        reads=("session_timeout",),
        remedy=Remedy(changes=_set(("session_timeout", 60)), setup=_POLICIES),
        expect="<= 60",
        when=has_oauth,
    ),
    Rule(
        id="SES-02",
        title="High assurance not required for a Full-scope app",
        severity="medium",
        rationale="Privileged apps should require a high-assurance (MFA) session.",
        basis=f"Help 'Manage Session Policies' {_U_SESSION} ; GTIG UNC6040 hardening {_U_UNC6040}",
        reads=("high_assurance", "scopes"),
        remedy=Remedy(
            changes=_set(("session_level", "HIGH_ASSURANCE"), ("policy_action", "RaiseSessionLevel")),
            setup=_POLICIES,
        ),
        expect="== true",
        when=lambda f: "Full" in f.scopes,
    ),
    # mobile
    Rule(
        id="MOB-01",
        title="PIN too short or not set",
        severity="medium",
        rationale="The control recommends 8 digits; Mobile SDK 9.2 and later ignore the org's PIN length "
        "(they use "
        "the device passcode), so it matters for apps built on older SDKs only.",
        basis=f"{_HELP} 'Mobile PIN Complexity' (8); Mobile SDK guide 'Passcodes' {_PASSCODES}",
        reads=("pin_length",),
        applies_to="ConnectedApp",
        remedy=Remedy(
            changes=(),
            setup=_POLICIES,
            text="set PIN Length to 8 (Setup only: no API writes it); apps on Mobile SDK 9.2+ ignore it",
        ),
        expect=">= 8",
        when=is_mobile,
        baselines=(RECOMMENDED, MOBILE_SDK),
        message="PIN too short or not set (Mobile SDK 9.2 and later ignore the org's PIN length: this "
        "matters for apps on older SDKs)",
    ),
    Rule(
        id="MOB-02",
        title="Lock App After too long or never",
        severity="medium",
        rationale="The control recommends locking the app after 5 minutes.",
        basis=f"{_HELP} 'Mobile PIN Timeout' (5 minutes) {_U_PIN_TIMEOUT}",
        reads=("lock_after",),
        remedy=Remedy(
            changes=(), setup=_POLICIES, text="set Lock App After to 5 minutes (connected apps: Setup only)"
        ),
        expect="in [1, 5]",
        when=is_mobile,
        baselines=(RECOMMENDED, MOBILE_SDK),
    ),
    Rule(
        id="MOB-08",
        title="Screen lock off",
        severity="medium",
        rationale="The app does not ask for a PIN or passcode.",
        basis=f"{_HELP} 'Mobile PIN Timeout' {_U_PIN_TIMEOUT} ; ECA screen lock {_U_SCREEN_LOCK}",
        reads=("screen_lock",),
        applies_to="ExternalClientApplication",
        remedy=Remedy(changes=_set(("screen_lock", True)), setup=_ECA),
        expect="== true",
        when=is_mobile,
        baselines=(RECOMMENDED, MOBILE_SDK),
    ),
    Rule(
        id="MOB-03",
        title="Biometric timeout differs from Lock App After",
        severity="low",
        rationale="The Mobile SDK doc asks to set Lock App After to the biometric timeout.",
        basis=f"Mobile SDK guide 'Biometric Authentication' {_U_BIOMETRIC}",
        reads=("custom_attributes", "lock_after"),
        applies_to="ConnectedApp",
        remedy=Remedy(changes=(), setup=_POLICIES, text="make both timeouts equal"),
        field="biometric",
        when=is_mobile,
        check=_biometric,
        baselines=(RECOMMENDED, MOBILE_SDK),
    ),
    Rule(
        id="MOB-04",
        title="Mobile app with bypassed IP and a never-expiring refresh token",
        severity="high",
        rationale="A public client whose tokens work from anywhere, forever.",
        basis=f"{_HELP}s 'IP Relaxation' + 'Refresh Token Rotation'; {_U_OAUTH_POLICIES}",
        reads=("ip_relaxation", "refresh_policy"),
        remedy=Remedy(
            changes=_set(
                ("ip_relaxation", "ENFORCE"),
                ("refresh_policy", "specific_lifetime"),
                ("refresh_n", 90),
                ("refresh_unit", "DAYS"),
            ),
            setup=_POLICIES,
        ),
        when=is_mobile,
        check=_mobile_relaxed,
        baselines=(RECOMMENDED, MOBILE_SDK),
    ),
    Rule(
        id="MOB-06",
        title="App binary over plain http",
        severity="low",
        rationale="The install URL of a private app should be https.",
        basis=f"ConnectedApp mobileAppConfig (Metadata API) {_U_CA_META} ; domain notes §7.2 (distribution "
        "hygiene)",
        reads=("install_url",),
        applies_to="ConnectedApp",
        remedy=Remedy(changes=(), setup=_APP, text="serve the binary over https"),
        check=_http_install,
        baselines=(RECOMMENDED, MOBILE_SDK),
    ),
    Rule(
        id="MOB-07",
        title="APNs sandbox environment",
        severity="low",
        rationale="Production apps push through the production APNs environment.",
        basis=f"Help 'Migrate a Connected App to an External Client App' (push) {_U_MIGRATE}",
        reads=("push_environment",),
        applies_to="ExternalClientApplication",
        remedy=Remedy(changes=_set(("push_environment", "Production")), setup=_ECA),
        expect="!= Sandbox",
        baselines=(RECOMMENDED, MOBILE_SDK),
    ),
    Rule(
        id="MOB-09",
        title="Full-content push notifications",
        severity="medium",
        rationale="Salesforce's 'Mobile Push Security' control: the risk is higher when message previews "
        "are not "
        "masked while the device is locked; send notifications without their content.",
        basis=f"{_HELP} 'Mobile Push Security' {_U_PUSH_SECURITY}",
        # not push_full_content itself: its connected-app source (an internal SOQL bit) is not queried, and
        # the engine would call it "only readable from an org"; the check says why (push_plugin: ECA only)
        reads=("push_plugin",),
        field="push_full_content",
        remedy=Remedy(
            changes=_set(("push_full_content", False)),
            setup=f"{_ECA} > Push Notification Policies; connected apps: "
            f"{catalog.SETUP_PATHS['push_full_content']}",
            text=(
                "switch off Full Content Push Notifications (ECA: its push policies; connected app: Setup "
                "only)"
            ),
        ),
        when=sends_push,
        check=_full_content,
        baselines=(RECOMMENDED, MOBILE_SDK),
    ),
    # usage, governance
    Rule(
        id="USE-01",
        title="Unused app",
        severity="low",
        rationale="No token used, no login and no SAML sign-in in the audit window; Salesforce's own "
        "installed apps "
        "(Salesforce CLI, SalesforceA...: sfdx-hardis's list) are exempt.",
        basis=f"sfdx-hardis unused-connected-apps (allowedInactiveConnectedApps) {_U_HARDIS_UNUSED} ; SAML "
        "sign-ins: Object Reference, IdpEventLog "
        "(https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/"
        "sforce_api_objects_idpeventlog.htm)",
        reads=("used",),
        remedy=Remedy(changes=(), setup="Setup > App Manager", text="confirm with the owner, then remove it"),
        field="label",
        check=_unused,
        needs=("used",),
    ),
    Rule(
        id="USE-02",
        title="Tokens of inactive users",
        severity="medium",
        rationale="Tokens of deactivated users should be revoked.",
        basis=f"standard hygiene; sfdx-hardis; OauthToken {_U_OAUTH_TOKEN}",
        reads=("inactive_user_tokens",),
        remedy=Remedy(changes=(), setup=f"{_USAGE} > the app > Revoke"),
        field="label",
        check=_inactive,
        needs=("inactive_user_tokens",),
    ),
    Rule(
        id="USE-03",
        title="Stale tokens",
        severity="low",
        rationale="Tokens not used for more than 90 days.",
        basis=f"Salesforce CLI doc (90 days) {_U_CLI} ; OauthToken.LastUsedDate {_U_OAUTH_TOKEN}",
        reads=("tokens",),
        remedy=Remedy(changes=(), setup=f"{_USAGE} > the app > Revoke"),
        field="label",
        check=_stale_tokens,
        needs=("tokens",),
    ),
    Rule(
        id="GOV-01",
        title="No contact email",
        severity="low",
        rationale="Every app needs an owner to ask.",
        basis=f"SBS-OAUTH-003 (inventory); ConnectedApp.contactEmail (required) {_U_CA_META}",
        reads=("contact_email",),
        remedy=Remedy(changes=(), setup=_APP, text="set Contact Email to the owner's address"),
        expect="set",
    ),
    Rule(
        id="GOV-02",
        title="Named like a Salesforce tool",
        severity="medium",
        rationale="UNC6040 victims authorised a modified 'Data Loader' app.",
        basis=f"GTIG UNC6040 {_U_UNC6040}",
        reads=("label",),
        remedy=Remedy(changes=(), setup="Setup > App Manager", text="confirm who created it"),
        check=_mimic,
    ),
    Rule(
        id="GOV-03",
        title="Third-party (packaged) app",
        severity="info",
        rationale="Vendor apps need a due-diligence record.",
        basis=f"SBS-OAUTH-004; AppMenuItem.NamespacePrefix {_U_APP_MENU}",
        reads=("namespace",),
        remedy=Remedy(changes=(), setup="vendor management", text="record the vendor review"),
        field="label",
        check=_packaged,
        needs=("namespace",),
    ),
    Rule(
        id="GOV-04",
        title="Can migrate to an external client app",
        severity="info",
        rationale="Local and no username-password flow in use; settings without an ECA equivalent are lost. "
        "On "
        "migration the username-password flow stops, the Refresh Token IP Allowlist is not copied, invalid "
        "push settings make it fail, and the connected app becomes read-only.",
        basis=f"Help 'Migrate a Connected App to an External Client App' {_U_MIGRATE} ; Help 'Connected App "
        f"to "
        f"External Client App Migration' {_U_MIGRATION} ; KB 005387022 (IP allowlist not migrated) "
        "https://help.salesforce.com/s/articleView?id=005387022",
        reads=("label",),
        applies_to="ConnectedApp",
        remedy=Remedy(
            changes=(),
            setup="Setup > App Manager > the app > Migrate to External Client App",
            text="move clients off the username-password flow, note the Refresh Token IP Allowlist and "
            "check the "
            "push certificates first; then Setup > App Manager > the app > Migrate to External Client App, "
            "set the allowlist again on the ECA and make later changes there (the connected app becomes "
            "read-only)",
        ),
        check=_migration,
    ),
    # Mobile SDK ready (help page "Create a Connected App for Mobile App Integration")
    Rule(
        id="MSDK-01",
        title="No mobile callback registered",
        severity="high",
        rationale="The Mobile SDK app's oauthRedirectURI must be one of the app's callback URLs.",
        basis=_MOBILE_HELP,
        reads=("callback_urls",),
        remedy=Remedy(changes=(), setup=_APP, text="add the app's custom-scheme callback"),
        when=is_mobile,
        check=_callback_registered,
        baselines=(MOBILE_SDK,),
    ),
    Rule(
        id="MSDK-02",
        title="Mobile SDK scopes missing",
        severity="medium",
        rationale="The help page asks for api, refresh_token (offline_access) and web.",
        basis=_MOBILE_HELP,
        reads=("scopes",),
        remedy=Remedy(changes=tuple(("scopes", s, "+=") for s in _SDK_SCOPES), setup=_APP),
        when=is_mobile,
        check=_sdk_scopes,
        baselines=(MOBILE_SDK,),
    ),
    Rule(
        id="MSDK-03",
        title="No mobile start URL",
        severity="low",
        rationale="Where the app lands after login; without one mobile users go to the Start URL, and "
        "canvas apps "
        "can skip it.",
        basis=_MOBILE_HELP,
        reads=("mobile_start_url",),
        applies_to="ConnectedApp",
        remedy=Remedy(changes=(), setup=_APP, text="set Mobile Start URL (or a Start URL)"),
        check=_mobile_start,
        when=is_mobile,
        baselines=(MOBILE_SDK,),
    ),
    Rule(
        id="MSDK-04",
        title="PIN protect off",
        severity="medium",
        rationale="PIN Protect (screen lock) for the mobile app.",
        basis=_MOBILE_HELP,
        reads=("pin_length", "screen_lock"),
        remedy=Remedy(changes=(), setup=_POLICIES, text="enable PIN Protect"),
        field="pin_length",
        when=is_mobile,
        check=_pin_protect,
        baselines=(MOBILE_SDK,),
    ),
    Rule(
        id="MSDK-05",
        title="Mobile app without PKCE",
        severity="medium",
        rationale="A mobile app cannot keep a secret: use PKCE.",
        basis=_MOBILE_HELP,
        reads=("pkce",),
        remedy=Remedy(changes=_set(("pkce", True)), setup=_APP, text=_PKCE_FIX),
        expect="== true",
        when=is_mobile,
        baselines=(MOBILE_SDK,),
    ),
    *ORG_RULES,  # org-level: ACC-05, ACC-06, NET-03, GOV-05 (org_rules.py)
)

RULES_BY_ID = {r.id: r for r in RULES}
