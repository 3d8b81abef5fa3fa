"""Seed the demo org: a deterministic, scalable, realistic org (connected apps, ECAs, users, usage).

XML is generated from string templates (no tree building) so ``apps=5000`` starts in well under 10 s. The
same ``seed`` always gives the same apps, settings, users, tokens and logins (dates are relative to the
current UTC day so that "last 90 days" audits stay meaningful). Secrets (consumer secrets, the JWT key) come
from :class:`Credentials` and never appear in the metadata XML.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ..errors import MetadataParseError
from ..model.document import MetadataDocument
from .models import MetadataComponent, OrgState
from .org_settings import APPROVE_UNINSTALLED, USE_ANY_API_CLIENT, seed_settings
from .running_user import AUDITOR_PROFILE

ORG_ID = "00D5g00000DEMOAAAA"  # replaced by a checksummed id in build()
ADMIN_USERNAME = "admin@demo-org.example.com"
# a second, non-admin user (its own profile): see running_user.py
AUDITOR_USERNAME = "auditor@demo-org.example.com"
# the two apps clients log in with (JWT bearer; password flow + client credentials)
JWT_APP, CLIENT_CREDENTIALS_APP = "Demo_JWT_Integration", "Demo_Client_Credentials"
MD_NS = "http://soap.sforce.com/2006/04/metadata"

# ConnectedApplication.PinLength / MobileSessionTimeout picklists (served by describe)
PIN_LENGTHS = ["4", "5", "6", "7", "8"]
MOBILE_SESSION_TIMEOUTS = ["Never", "M1", "M5", "M10", "M30", "M60"]

_CHECK = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def sf_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce Id with a valid case-safe suffix.

    >>> sf_id("0H4", 1)
    '0H45g0000000001CAA'
    >>> len(sf_id("005", 123456))
    18
    """
    digits = ""
    while True:
        n, r = divmod(n, 62)
        digits = _B62[r] + digits
        if n == 0:
            break
    base = prefix + "5g0" + digits.rjust(9, "0")
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(base[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        suffix += _CHECK[bits]
    return base + suffix


def sf_datetime(value: datetime) -> str:
    """Salesforce's REST datetime format.

    >>> sf_datetime(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    '2025-01-02T03:04:05.000+0000'
    """
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class Credentials:
    """What clients log in with. Generated once per running org; reset keeps them."""

    username: str = ADMIN_USERNAME
    password: str = "DemoOrg-Passw0rd"
    security_token: str = ""
    client_id: str = ""  # password flow + client credentials app
    client_secret: str = ""
    jwt_consumer_key: str = ""
    jwt_private_key_pem: bytes = b""
    jwt_cert_pem: str = ""
    refresh_token: str = ""


@dataclass
class SeedResult:
    """The seeded state plus the truth tests compare against."""

    state: OrgState
    truth: dict[str, Any] = field(default_factory=dict)


def _anchor() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=12, minute=0, second=0, microsecond=0)


_KEY_CHARS = _B62[10:] + _B62[:10]


def consumer_key(seed: int, name: str) -> str:
    """The consumer key of app ``name`` in the demo org of ``seed``: the same on every start, whatever the
    org's size or the other apps, different for every app and seed (so two audits of one seed show no drift).

    >>> consumer_key(1, "Demo_JWT_Integration") == consumer_key(1, "Demo_JWT_Integration")
    True
    >>> len(consumer_key(1, "A")), consumer_key(1, "A") != consumer_key(2, "A") != consumer_key(1, "B")
    (85, True)
    """
    digest = hashlib.shake_256(f"demo-org consumer key|{seed}|{name}".encode()).digest(80)
    return "3MVG9" + "".join(_KEY_CHARS[b % len(_KEY_CHARS)] for b in digest)


def _draw_key(rng: random.Random) -> None:
    """Draw the random numbers a key once took from the seed's stream (keys now come from
    :func:`consumer_key`), so every other seeded value is what it was."""
    for _ in range(80):
        rng.choice(_KEY_CHARS)


# --- connected app XML templates ----------------------------------------------------------------
# an installed app (a packaged kind of _KINDS) that cannot be loaded: apps 14, 54, 94... (index % 40)
UNLOADABLE_INDEX = 14
_PERMITTED = ["AllSelfAuthorized", "AdminApprovedPreAuthorized"]
_SCREEN_LOCK = ["Never", "One", "Five", "Thirty", "Sixty"]
_KINDS = [
    "ios",
    "android",
    "web",
    "ios",
    "packaged",
    "android",
    "jwt",
    "web",
    "saml",
    "ios",
    "canvas",
    "android",
    "web",
    "cc",
    "packaged",
    "ios",
    "web",
    "android",
    "saml",
    "web",
]
_SCOPES = ["Api", "RefreshToken", "Web", "Basic", "OpenID", "Full", "Chatter", "CustomPermissions"]
_PROFILES = ["System Administrator", "Standard User", "Mobile Sales", "Integration User", "Partner Community"]
_PERMSETS = ["API_Access", "Mobile_Users", "Integration_Admin", "Field_Sales"]
_WORDS = [
    "Field",
    "Sales",
    "Service",
    "Mobile",
    "Portal",
    "Sync",
    "Tracker",
    "Expense",
    "Inventory",
    "Survey",
    "Dispatch",
    "Ledger",
    "Beacon",
    "Atlas",
    "Harbor",
    "Orbit",
    "Pulse",
    "Quartz",
    "Relay",
    "Summit",
]


def _el(tag: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _app_xml(spec: dict[str, Any]) -> bytes:
    """One ConnectedApp in WSDL order (mdapi format, as readMetadata/retrieve serve it)."""
    k = spec["kind"]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<ConnectedApp xmlns="', MD_NS, '">']
    for key, formula in spec.get("attributes", []):
        parts.append(f"<attributes><formula>{escape(formula)}</formula><key>{key}</key></attributes>")
    if k == "canvas":
        parts.append(
            "<canvasConfig><accessMethod>Post</accessMethod>"
            f"<canvasUrl>https://canvas.example.com/{spec['name'].lower()}</canvasUrl>"
            "<locations>Chatter</locations><locations>Visualforce</locations>"
            "<options>HideHeader</options></canvasConfig>"
        )
    parts.append(_el("contactEmail", spec["email"]))
    parts.append(_el("description", spec.get("description")))
    parts.append(_el("infoUrl", spec.get("info_url")))
    for start, end in spec.get("ip_ranges", []):
        parts.append(f"<ipRanges><end>{end}</end><start>{start}</start></ipRanges>")
    parts.append(_el("label", spec["label"]))
    if k in ("ios", "android"):
        mob = ["<mobileAppConfig>"]
        if k == "ios":
            bundle = spec.get("bundle_id") or f"com.example.{spec['name'].lower()}"
            mob.append(_el("applicationBundleIdentifier", bundle))
        mob.append(_el("applicationInstallUrl", spec.get("install_url")))
        mob.append(_el("devicePlatform", k))
        mob.append(_el("deviceType", spec.get("device_type")))
        mob.append(_el("minimumOsVersion", spec.get("min_os")))
        mob.append(_el("privateApp", spec.get("private_app")))
        mob.append(_el("version", spec.get("app_version", "1.0")))
        mob.append("</mobileAppConfig>")
        parts.extend(mob)
        parts.append(_el("mobileStartUrl", spec.get("mobile_start_url")))
    if k != "saml":
        oc = ["<oauthConfig>", _el("callbackUrl", "\n".join(spec["callbacks"]))]
        oc.append(_el("certificate", spec.get("certificate")))
        oc.append(_el("consumerKey", spec["consumer_key"]))
        oc.append(_el("isAdminApproved", spec["admin_approved"]))
        oc.append(_el("isClientCredentialEnabled", k == "cc"))
        oc.append(_el("isConsumerSecretOptional", spec.get("secret_optional", False)))
        oc.append(_el("isIntrospectAllTokens", False))
        oc.append(_el("isPkceRequired", spec.get("pkce", False)))
        oc.append(_el("isRefreshTokenRotationEnabled", spec.get("rtr", False)))
        oc.append(_el("isSecretRequiredForRefreshToken", True))
        oc.append(_el("oauthClientCredentialUser", spec.get("cc_user")))
        oc.extend(_el("scopes", s) for s in spec["scopes"])
        oc.append("</oauthConfig>")
        parts.extend(oc)
        parts.append(
            f"<oauthPolicy>{_el('ipRelaxation', spec['ip_relaxation'])}"
            f"{_el('refreshTokenPolicy', spec['refresh_policy'])}</oauthPolicy>"
        )
    parts.extend(_el("permissionSetName", p) for p in spec.get("permsets", []))
    parts.extend(_el("profileName", p) for p in spec.get("profiles", []))
    if k == "saml":
        parts.append(
            f"<samlConfig><acsUrl>https://sso.example.com/{spec['name'].lower()}/acs</acsUrl>"
            "<encryptionType>AES_128</encryptionType>"
            f"<entityUrl>https://sso.example.com/{spec['name'].lower()}</entityUrl>"
            f"<samlNameIdFormat>Unspecified</samlNameIdFormat><samlSigningAlgoType>{spec['saml_algo']}"
            "</samlSigningAlgoType><samlSubjectType>Username</samlSubjectType></samlConfig>"
        )
    if spec.get("session_timeout") or spec.get("high_assurance"):
        sp = ["<sessionPolicy>"]
        if spec.get("high_assurance"):
            sp += [_el("policyAction", "RaiseSessionLevel"), _el("sessionLevel", "HIGH_ASSURANCE")]
        sp.append(_el("sessionTimeout", spec.get("session_timeout")))
        sp.append("</sessionPolicy>")
        parts.extend(sp)
    parts.append(_el("startUrl", spec.get("start_url")))
    if spec.get("future"):
        # an element a newer API version might add: proves the org keeps what it does not know
        parts.append("<isFutureFlag2030>true</isFutureFlag2030>")
    parts.append("</ConnectedApp>\n")
    return "".join(parts).encode()


_PLANTED = (
    "ip_relaxation",
    "refresh_policy",
    "scopes",
    "callbacks",
    "pkce",
    "rtr",
    "session_timeout",
    "high_assurance",
    "email",
    "install_url",
    "certificate",
    "saml_algo",  # SAML apps: samlConfig.samlSigningAlgoType (SHA1 / SHA256)
)


def _app_spec(i: int, rng: random.Random, creds: Credentials, seed: int) -> dict[str, Any]:
    special = {0: "jwt", 1: "cc"}
    kind = special.get(i) or _KINDS[i % len(_KINDS)]
    w1, w2 = _WORDS[i % len(_WORDS)], _WORDS[(i * 7 + 3) % len(_WORDS)]
    if i == 0:
        name, label = JWT_APP, "Demo JWT Integration"
    elif i == 1:
        name, label = CLIENT_CREDENTIALS_APP, "Demo Client Credentials"
    else:
        name = f"{w1}_{w2}_{kind.capitalize()}_{i:04d}"
        label = f"{w1} {w2} {kind.upper() if kind in ('ios', 'saml', 'jwt', 'cc') else kind.capitalize()} {i}"
    _draw_key(rng)
    spec: dict[str, Any] = {
        "index": i,
        "kind": kind,
        "name": name,
        "label": label,
        "email": f"owner{i}@example.com",
        "consumer_key": creds.jwt_consumer_key if i == 0 else creds.client_id,  # others: the final name's
        "admin_approved": rng.random() < 0.35 or kind in ("jwt", "cc"),
        "ip_relaxation": rng.choices(
            ["ENFORCE", "BYPASS", "ENFORCE_RELAXREFRESH", "BYPASS_2FACTOR"], [70, 18, 7, 5]
        )[0],
        "refresh_policy": rng.choices(
            [
                "infinite",
                "zero",
                "specific_lifetime:90:DAYS",
                "specific_inactivity:30:DAYS",
                "specific_lifetime:12:MONTHS",
            ],
            [60, 15, 10, 10, 5],
        )[0],
        "scopes": sorted(rng.sample(_SCOPES, rng.randint(1, 4))),
        "pkce": rng.random() < 0.3,
        "rtr": rng.random() < 0.2,
        "namespace": None,
    }
    if rng.random() < 0.1:
        spec["description"] = f"{label} & friends <internal>"
    if kind in ("ios", "android"):
        scheme = f"com.example.{name.lower()}"
        spec["callbacks"] = [f"{scheme}://oauth/done"] + (["sfdc://success"] if rng.random() < 0.3 else [])
        spec["device_type"] = rng.choice([None, "phone", "tablet", "minitablet"])
        spec["min_os"] = rng.choice(["12.0", "14.0", "16.0"] if kind == "ios" else ["8.0", "10.0", "12.0"])
        spec["app_version"] = f"{rng.randint(1, 5)}.{rng.randint(0, 9)}"
        spec["private_app"] = rng.random() < 0.3
        spec["install_url"] = f"https://apps.example.com/{name.lower()}" if rng.random() < 0.5 else None
        spec["mobile_start_url"] = f"https://m.example.com/{name.lower()}/start"
        spec["pin"] = rng.choice(PIN_LENGTHS + [None])
        spec["lock"] = rng.choice(MOBILE_SESSION_TIMEOUTS + [None])
        if i in (3, 5):
            # always present, whatever the seed: a 4-digit PIN without lock timeout, and no PIN at all
            spec["pin"], spec["lock"] = ("4", None) if i == 3 else (None, "Never")
        if rng.random() < 0.4:
            spec["attributes"] = [
                ("ENABLE_BIOMETRIC_AUTHENTICATION", '"true"'),
                ("BIOMETRIC_AUTHENTICATION_TIMEOUT", f'"{rng.choice([5, 15, 30])}"'),
            ]
    else:
        proto = "http" if rng.random() < 0.12 else "https"  # plain-http callbacks: a finding
        spec["callbacks"] = [f"{proto}://app{i}.example.com/oauth/callback"]
        if rng.random() < 0.2:
            spec["callbacks"].append(f"https://staging{i}.example.com/oauth/callback")
        spec["start_url"] = f"https://app{i}.example.com/" if rng.random() < 0.5 else None
    if kind == "jwt":
        spec["certificate"] = creds.jwt_cert_pem if i == 0 else None
        spec["scopes"] = ["Api", "RefreshToken"]
        spec["ip_ranges"] = [("10.0.0.0", "10.0.255.255")]
    if kind == "cc":
        spec["cc_user"] = ADMIN_USERNAME
        spec["scopes"] = ["Api"]
    if kind == "saml":
        spec["saml_algo"] = rng.choice(["SHA1", "SHA1", "SHA256"])
        spec["callbacks"] = []
    if spec["admin_approved"]:
        # some admin-approved apps have no grant at all: nobody can use them (an audit finding)
        if i in (0, 1) or rng.random() < 0.7:
            spec["profiles"] = sorted(rng.sample(_PROFILES, rng.randint(1, 3)))
            if i in (0, 1):
                spec["profiles"] = ["System Administrator"]
            if rng.random() < 0.4:
                spec["permsets"] = sorted(rng.sample(_PERMSETS, rng.randint(1, 2)))
    if rng.random() < 0.15:
        spec["session_timeout"] = rng.choice([15, 60, 1440])
    if rng.random() < 0.1:
        spec["high_assurance"] = True
    spec["future"] = i % 9 == 4
    if kind == "packaged":
        vendor = rng.choice(["acme", "dsfs", "sbqq", "et4ae5", "loop"])
        spec["namespace"] = vendor
        spec["name"] = f"{vendor}__{w1}_{w2}_{i:04d}"
        spec["label"] = f"{vendor.upper()} {w1} {i}"
        spec["future"] = False
    if i > 1:
        spec["consumer_key"] = consumer_key(seed, spec["name"])
    return spec


def _soql_only(spec: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    mobile = spec["kind"] in ("ios", "android")
    return {
        "PinLength": spec.get("pin") if mobile else None,
        "MobileSessionTimeout": spec.get("lock") if mobile else None,
        "NamedUserUvidTimeout": None,
        "UvidTimeout": None,
        "OptionsIsInternal": False,
        "OptionsFullContentPushNotifications": mobile and rng.random() < 0.2,
        "OptionsCodeCredentialGuestEnabled": False,
        "OptionsTokenExchangeManageBitEnabled": False,
        "OptionsAllowExpiredUvidJWT": False,
    }


# --- ECA templates ------------------------------------------------------------------------------
_ECA_TYPES = {
    "ExternalClientApplication": "0xI",
    "ExtlClntAppOauthSettings": "0xS",
    "ExtlClntAppGlobalOauthSettings": "0xG",
    "ExtlClntAppOauthConfigurablePolicies": "0xP",
    "ExtlClntAppConfigurablePolicies": "0xC",
    "ExtlClntAppMobileSettings": "0xM",
    "ExtlClntAppMobileConfigurablePolicies": "0xN",
    "ExtlClntAppPushSettings": "0xH",
}


def _doc(type_name: str, body: str) -> bytes:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{type_name} xmlns="{MD_NS}">'
    return f"{head}{body}</{type_name}>\n".encode()


def _eca_components(
    j: int, rng: random.Random, org_id: str, seed: int
) -> list[tuple[str, str, bytes, str | None]]:
    """(type, fullName, xml, namespace) of one ECA and its settings/policies."""
    name = f"Eca_{_WORDS[j % len(_WORDS)]}_{j:03d}"
    packaged = j % 5 == 4
    ns = "acme" if packaged else None
    label = name.replace("_", " ")
    out: list[tuple[str, str, bytes, str | None]] = []
    out.append(
        (
            "ExternalClientApplication",
            name,
            _doc(
                "ExternalClientApplication",
                (
                    f"<contactEmail>eca{j}@example.com</contactEmail>"
                    f"<distributionState>{'Packaged' if packaged else 'Local'}</distributionState>"
                    f"<isProtected>false</isProtected><label>{label}</label>"
                    f"<orgScopedExternalApp>{org_id[:15]}:{name}</orgScopedExternalApp>"
                ),
            ),
            ns,
        )
    )
    scopes = ", ".join(sorted(rng.sample(["Api", "Web", "OpenID", "RefreshToken", "Full"], 3)))
    out.append(
        (
            "ExtlClntAppOauthSettings",
            f"{name}_oauth",
            _doc(
                "ExtlClntAppOauthSettings",
                (
                    f"<commaSeparatedOauthScopes>{scopes}</commaSeparatedOauthScopes>"
                    f"<externalClientApplication>{name}</externalClientApplication>"
                    f"<isFirstPartyAppEnabled>false</isFirstPartyAppEnabled><label>{label} OAuth</label>"
                ),
            ),
            ns,
        )
    )
    cc = j % 4 == 1
    _draw_key(rng)
    out.append(
        (
            "ExtlClntAppGlobalOauthSettings",
            f"{name}_glbl",
            _doc(
                "ExtlClntAppGlobalOauthSettings",
                (
                    f"<callbackUrl>https://eca{j}.example.com/callback</callbackUrl>"
                    f"<consumerKey>{consumer_key(seed, name)}</consumerKey>"
                    f"<externalClientApplication>{name}</externalClientApplication>"
                    f"{_el('isClientCredentialsFlowEnabled', cc)}{_el('isConsumerSecretOptional', False)}"
                    f"{_el('isPkceRequired', rng.random() < 0.6)}"
                    f"{_el('isRefreshTokenRotationEnabled', rng.random() < 0.5)}"
                    f"<isSecretRequiredForRefreshToken>true</isSecretRequiredForRefreshToken>"
                    f"<label>{label} global</label>"
                ),
            ),
            None,
        )
    )  # global settings are never packaged
    rtp = rng.choice(["Infinite", "SpecificLifetime", "SpecificInactivity", "Zero"])
    period = (
        ""
        if rtp in ("Infinite", "Zero")
        else (
            "<refreshTokenValidityPeriod>30</refreshTokenValidityPeriod>"
            "<refreshTokenValidityUnit>Days</refreshTokenValidityUnit>"
        )
    )
    out.append(
        (
            "ExtlClntAppOauthConfigurablePolicies",
            f"{name}_oauth_defaultPolicy",
            _doc(
                "ExtlClntAppOauthConfigurablePolicies",
                (
                    f"{_el('clientCredentialsFlowUser', ADMIN_USERNAME if cc else None)}"
                    f"<externalClientApplication>{name}</externalClientApplication>"
                    f"<ipRelaxationPolicyType>{rng.choice(['Enforce', 'Bypass', 'Enforce_RelaxRefresh'])}"
                    f"</ipRelaxationPolicyType>{_el('isClientCredentialsFlowEnabled', cc)}"
                    f"<label>{name}_oauth_defaultPolicy</label>"
                    f"<permittedUsersPolicyType>{rng.choice(_PERMITTED)}"
                    f"</permittedUsersPolicyType><refreshTokenPolicyType>{rtp}</refreshTokenPolicyType>{period}"
                    f"<requiredSessionLevel>STANDARD</requiredSessionLevel>"
                    f"<sessionTimeoutInMinutes>{rng.choice([15, 60, 120])}</sessionTimeoutInMinutes>"
                ),
            ),
            ns,
        )
    )
    mobile = j % 3 == 0
    out.append(
        (
            "ExtlClntAppConfigurablePolicies",
            f"{name}_plcy",
            _doc(
                "ExtlClntAppConfigurablePolicies",
                (
                    f"<externalClientApplication>{name}</externalClientApplication><isEnabled>true</isEnabled>"
                    f"{_el('isMobilePluginEnabled', mobile)}<isOauthPluginEnabled>true</isOauthPluginEnabled>"
                    f"{_el('isPushPluginEnabled', mobile and j % 2 == 0)}<label>{label} policies</label>"
                    "<startPage>None</startPage>"
                ),
            ),
            ns,
        )
    )
    if mobile:
        lock = rng.random() < 0.7
        out.append(
            (
                "ExtlClntAppMobileSettings",
                f"{name}_mobile",
                _doc(
                    "ExtlClntAppMobileSettings",
                    (
                        f"<externalClientApplication>{name}</externalClientApplication>"
                        f"{_el('isScreenLockEnabled', lock)}<label>{label} mobile</label>"
                    ),
                ),
                ns,
            )
        )
        out.append(
            (
                "ExtlClntAppMobileConfigurablePolicies",
                f"{name}_mobilePlcy",
                _doc(
                    "ExtlClntAppMobileConfigurablePolicies",
                    (
                        f"<externalClientApplication>{name}</externalClientApplication>"
                        f"<label>{label} mobile policy"
                        f"</label><screenLockTimeout>{rng.choice(_SCREEN_LOCK)}"
                        "</screenLockTimeout>"
                    ),
                ),
                ns,
            )
        )
        if j % 2 == 0:
            out.append(
                (
                    "ExtlClntAppPushSettings",
                    f"{name}_push",
                    _doc(
                        "ExtlClntAppPushSettings",
                        (
                            f"<androidPushConfig><fcmProject>demo-{j}</fcmProject><serviceAccount>svc-{j}@example.com"
                            f"</serviceAccount></androidPushConfig><externalClientApplication>{name}"
                            f"</externalClientApplication><label>{label} push</label>"
                            "<pushServiceType>Android</pushServiceType>"
                        ),
                    ),
                    ns,
                )
            )
    return out


# --- SFDX folder --------------------------------------------------------------------------------
_SUFFIX_TYPES = {
    "connectedApp": "ConnectedApp",
    "eca": "ExternalClientApplication",
    "ecaOauth": "ExtlClntAppOauthSettings",
    "ecaGlblOauth": "ExtlClntAppGlobalOauthSettings",
    "ecaOauthPlcy": "ExtlClntAppOauthConfigurablePolicies",
    "ecaPlcy": "ExtlClntAppConfigurablePolicies",
    "ecaMobile": "ExtlClntAppMobileSettings",
    "ecaMobilePlcy": "ExtlClntAppMobileConfigurablePolicies",
    "ecaPush": "ExtlClntAppPushSettings",
}


def read_sfdx_dir(path: str | Path, skipped: list[str] | None = None) -> list[MetadataDocument]:
    """Every ConnectedApp/ECA component file under ``path`` (source or mdapi format), grouped by suffix.

    A file that cannot be read or parsed (not a regular file, too big, not well-formed, nested too deeply)
    is left out and named in ``skipped``; the rest still loads.

    >>> read_sfdx_dir("/nonexistent-folder")
    []
    """
    docs: list[MetadataDocument] = []
    for file in sorted(Path(path).rglob("*")):
        name = file.name
        stem = name[: -len("-meta.xml")] if name.endswith("-meta.xml") else name
        if "." not in stem or file.is_dir():
            continue
        base, suffix = stem.rsplit(".", 1)
        if suffix in _SUFFIX_TYPES:
            try:
                docs.append(MetadataDocument.from_file(file, full_name=base))
            except (OSError, MetadataParseError) as exc:
                if skipped is not None:
                    shown = os.fsencode(file).decode("utf-8", "replace")
                    skipped.append(str(exc) if isinstance(exc, MetadataParseError) else f"{shown}: {exc}")
    return docs


# --- build --------------------------------------------------------------------------------------
def build(
    apps: int = 60,
    ecas: int = 10,
    seed: int = 1,
    creds: Credentials | None = None,
    from_dir: str | Path | None = None,
    hostile: bool = False,
) -> SeedResult:
    """Build a seeded :class:`OrgState` and its truth.

    >>> r = build(apps=6, ecas=1, seed=3)
    >>> sorted(r.truth["categories"])
    ['ecas', 'local', 'packaged', 'phantom']
    >>> r.truth == build(apps=6, ecas=1, seed=3).truth
    True
    """
    creds = creds or Credentials(client_id="3MVG9DEMOCLIENT", jwt_consumer_key="3MVG9DEMOJWT")
    rng = random.Random(seed)
    anchor = _anchor()
    org_id = sf_id("00D", seed % 1000 + 1)
    state = OrgState(org_id=org_id)
    truth: dict[str, Any] = {"seed": seed, "org_id": org_id, "apps": {}, "ecas": {}}

    users, profiles, permsets = _people(rng, anchor, max(40, min(apps // 2, 2000)))
    admin = users[0]
    state.objects["User"] = users
    state.objects["Profile"] = profiles
    state.objects["PermissionSet"] = permsets
    state.objects["Organization"] = [
        {
            "Id": org_id,
            "Name": "Demo Org",
            "OrganizationType": "Developer Edition",
            "IsSandbox": False,
            "InstanceName": "DEMO1",
            "NamespacePrefix": None,
            "CreatedDate": anchor - timedelta(days=2000),
            "LanguageLocaleKey": "en_US",
            "TimeZoneSidKey": "Europe/Paris",
            "DefaultLocaleSidKey": "en_US",
        }
    ]

    specs: list[dict[str, Any]] = []
    if from_dir is not None:
        skipped: list[str] = []
        truth["skipped_files"] = skipped
        for n, doc in enumerate(d for d in read_sfdx_dir(from_dir, skipped)):
            if doc.type_name == "ConnectedApp":
                spec: dict[str, Any] = {
                    "name": doc.full_name,
                    "label": doc.get("label") or doc.full_name,
                    "kind": "dir",
                    "namespace": None,
                    "doc": doc,
                    "index": n,
                }
                mobile = doc.has("mobileAppConfig")
                spec["pin"] = rng.choice(PIN_LENGTHS + [None]) if mobile else None
                spec["lock"] = rng.choice(MOBILE_SESSION_TIMEOUTS + [None]) if mobile else None
                spec["kind"] = "ios" if mobile else "dir"
                specs.append(spec)
            else:
                _add(state, doc.type_name, doc.full_name, doc, len(state.metadata) + 1, anchor, rng)
    else:
        for i in range(apps):
            specs.append(_app_spec(i, rng, creds, seed))

    for n, spec in enumerate(specs):
        doc = spec.get("doc") or MetadataDocument(_app_xml(spec), full_name=spec["name"])
        comp = _add(state, "ConnectedApp", spec["name"], doc, n + 1, anchor, rng)
        if spec.get("namespace"):
            comp.namespace_prefix = spec["namespace"]
            comp.manageable_state = "installed"
            comp.readable = False
            # one installed app in 40 cannot be loaded at all: readMetadata naming it fails whole
            comp.load_fails = spec["index"] % 40 == UNLOADABLE_INDEX
        state.soql_only[comp.id] = _soql_only(spec, rng)
        # AppMenuItem Id (kept with the SOQL-only facts so derived rows match OauthToken.AppMenuItemId)
        state.soql_only[comp.id]["_AppMenuItemId"] = sf_id("0DS", spec["index"] + 1)
        spec["id"] = comp.id

    eca_names: list[str] = []
    if from_dir is None:
        for j in range(ecas):
            for type_name, full_name, xml, ns in _eca_components(j, rng, org_id, seed):
                comp = _add_xml(state, type_name, full_name, xml, anchor, rng)
                if ns:
                    comp.namespace_prefix, comp.manageable_state, comp.readable = ns, "installed", True
                if type_name == "ExternalClientApplication":
                    eca_names.append(full_name)
    else:
        eca_names = [n for (t, n) in state.metadata if t == "ExternalClientApplication"]

    phantoms = [f"Phantom {w} Connector" for w in _WORDS[: max(3, min(apps // 20, len(_WORDS)))]]
    _usage(state, specs, phantoms, users, rng, anchor, truth)
    _saml_events(state, specs, users, anchor, seed, truth)

    # OAuth clients: the two special apps are the ones clients log in with
    state.passwords[creds.username] = creds.password + creds.security_token
    if from_dir is None and apps >= 2:
        state.oauth_clients[creds.jwt_consumer_key] = {
            "app": specs[0]["name"],
            "secret": None,
            "cert_pem": creds.jwt_cert_pem,
            "client_credentials_user": None,
        }
        state.oauth_clients[creds.client_id] = {
            "app": specs[1]["name"],
            "secret": creds.client_secret,
            "cert_pem": None,
            "client_credentials_user": creds.username,
        }
    if creds.refresh_token:
        state.refresh_tokens[creds.refresh_token] = creds.username
    admin["Username"] = creds.username

    by_kind: dict[str, list[str]] = {}
    for spec in specs:
        by_kind.setdefault(spec["kind"], []).append(spec["name"])
        truth["apps"][spec["name"]] = {
            "kind": spec["kind"],
            "label": spec["label"],
            "id": spec["id"],
            "PinLength": spec.get("pin"),
            "MobileSessionTimeout": spec.get("lock"),
            "packaged": bool(spec.get("namespace")),
            "future_element": bool(spec.get("future")),
            "admin_approved": bool(spec.get("admin_approved")),
            "grants": len(spec.get("profiles", [])) + len(spec.get("permsets", [])),
            "tokens": spec.get("tokens", 0),
            "logins": spec.get("logins", 0),
            "saml_logins": spec.get("saml_logins", 0),  # successful SAML sign-ins (IdpEventLog)
            # the settings planted (for findings tests: expected findings derive from these, not from rules)
            "settings": {k: spec.get(k) for k in _PLANTED},
        }
    truth["categories"] = {
        "local": [s["name"] for s in specs if not s.get("namespace")],
        "packaged": [s["name"] for s in specs if s.get("namespace")],
        "phantom": phantoms,
        "ecas": eca_names,
    }
    truth["kinds"] = by_kind
    truth["mobile"] = by_kind.get("ios", []) + by_kind.get("android", [])
    truth["admin_approved_without_grants"] = [
        s["name"]
        for s in specs
        if s.get("admin_approved") and not s.get("profiles") and not s.get("permsets")
    ]
    truth["unloadable"] = sorted(
        c.full_name for c in state.metadata.values() if c.type_name == "ConnectedApp" and c.load_fails
    )
    truth["future_element_apps"] = [s["name"] for s in specs if s.get("future")]
    truth["users"] = {
        "active": sum(1 for u in users if u["IsActive"]),
        "inactive": sum(1 for u in users if not u["IsActive"]),
    }
    truth["tokens"] = len(state.objects["OauthToken"])
    truth["logins"] = len(state.objects["LoginHistory"])
    truth["org"] = seed_settings(state, seed)  # org-wide settings and the gating permissions
    truth["impact"] = _impact_seed(state, specs, seed, anchor)
    truth["auditor"] = _add_auditor(state, anchor, creds)
    truth["users"]["active"] += 1
    if hostile:  # last: the default org (auditor included) is a prefix of the hostile one
        _add_hostile(state, truth, anchor, org_id, seed)
    return SeedResult(state, truth)


def _add_auditor(state: OrgState, anchor: datetime, creds: Credentials) -> dict[str, Any]:
    """The non-admin user, last of all and without drawing from the seed's random numbers (so every other
    seeded value is the same with or without it): its own profile, no token, no login, same password."""
    profiles, permsets, users = (state.objects[k] for k in ("Profile", "PermissionSet", "User"))
    profile_id = sf_id("00e", len(profiles) + 1)
    profiles.append({"Id": profile_id, "Name": AUDITOR_PROFILE, "UserType": "Standard"})
    permsets.append(
        {
            "Id": sf_id("0PS", len(permsets) + 1),
            "Name": "X" + hashlib.md5(AUDITOR_PROFILE.encode()).hexdigest()[:12],
            "Label": AUDITOR_PROFILE,
            "IsOwnedByProfile": True,
            "ProfileId": profile_id,
            "NamespacePrefix": None,
            **{k: False for k in (USE_ANY_API_CLIENT, APPROVE_UNINSTALLED)},
        }
    )
    user = {
        "Id": sf_id("005", len(users) + 1),
        "Username": AUDITOR_USERNAME,
        "Name": "Demo Auditor",
        "FirstName": "Demo",
        "LastName": "Auditor",
        "Email": "auditor@example.com",
        "IsActive": True,
        "ProfileId": profile_id,
        "UserType": "Standard",
        "LastLoginDate": anchor - timedelta(days=1),
        "CreatedDate": anchor - timedelta(days=30),
    }
    users.append(user)
    state.passwords[AUDITOR_USERNAME] = creds.password + creds.security_token
    return {"username": AUDITOR_USERNAME, "id": user["Id"], "profile": AUDITOR_PROFILE}


def _add(
    state: OrgState,
    type_name: str,
    full_name: str,
    doc: MetadataDocument,
    n: int,
    anchor: datetime,
    rng: random.Random,
) -> MetadataComponent:
    prefix = "0H4" if type_name == "ConnectedApp" else _ECA_TYPES.get(type_name, "0xX")
    created = anchor - timedelta(days=rng.randint(30, 1800), minutes=rng.randint(0, 1439))
    comp = MetadataComponent(
        type_name=type_name,
        full_name=full_name,
        doc=doc,
        id=sf_id(prefix, n),
        created_date=created,
        last_modified_date=created + timedelta(days=rng.randint(0, 25)),
    )
    state.metadata[(type_name, full_name)] = comp
    return comp


def _add_xml(
    state: OrgState, type_name: str, full_name: str, xml: bytes, anchor: datetime, rng: random.Random
) -> MetadataComponent:
    """:func:`_add` of a component's XML, numbered after the components already there."""
    doc = MetadataDocument(xml, full_name=full_name)
    return _add(state, type_name, full_name, doc, len(state.metadata) + 1, anchor, rng)


def _people(rng: random.Random, anchor: datetime, n_users: int) -> tuple[list[dict[str, Any]], ...]:
    profiles, permsets = [], []
    for p, name in enumerate(_PROFILES, start=1):
        pid = sf_id("00e", p)
        profiles.append({"Id": pid, "Name": name, "UserType": "Standard"})
        permsets.append(
            {
                "Id": sf_id("0PS", p),
                "Name": "X" + hashlib.md5(name.encode()).hexdigest()[:12],
                "Label": name,
                "IsOwnedByProfile": True,
                "ProfileId": pid,
                "NamespacePrefix": None,
            }
        )
    for q, name in enumerate(_PERMSETS, start=len(_PROFILES) + 1):
        permsets.append(
            {
                "Id": sf_id("0PS", q),
                "Name": name,
                "Label": name.replace("_", " "),
                "IsOwnedByProfile": False,
                "ProfileId": None,
                "NamespacePrefix": None,
            }
        )
    users = []
    first = ["Ada", "Bo", "Chen", "Dana", "Eli", "Fatou", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
    for u in range(n_users):
        active = u == 0 or rng.random() > 0.2
        fn, ln = first[u % len(first)], f"User{u:04d}"
        users.append(
            {
                "Id": sf_id("005", u + 1),
                "Username": f"{fn.lower()}.{ln.lower()}@demo-org.example.com",
                "Name": "Demo Admin" if u == 0 else f"{fn} {ln}",
                "FirstName": fn,
                "LastName": ln,
                "Email": f"{fn.lower()}.{ln.lower()}@example.com",
                "IsActive": active,
                "ProfileId": profiles[0]["Id"] if u == 0 else rng.choice(profiles)["Id"],
                "UserType": "Standard",
                "LastLoginDate": anchor - timedelta(days=rng.randint(0, 400)),
                "CreatedDate": anchor - timedelta(days=rng.randint(400, 2000)),
            }
        )
    return users, profiles, permsets


_SUBTYPES = ["OauthWebServer", "OauthRefreshToken", "OauthUsernamePassword", "OauthUserAgent"]


def _usage(
    state: OrgState,
    specs: list[dict[str, Any]],
    phantoms: list[str],
    users: list[dict[str, Any]],
    rng: random.Random,
    anchor: datetime,
    truth: dict[str, Any],
) -> None:
    """OauthToken and LoginHistory rows: most apps used, some unused, phantom apps used but not installed."""
    tokens: list[dict[str, Any]] = []
    logins: list[dict[str, Any]] = []
    n_apps = max(1, len(specs))
    per_app_tokens = max(5, min(120, 60000 // n_apps))
    per_app_logins = max(5, min(160, 80000 // n_apps))
    truth["unused"] = []

    def token(app: str, menu_id: str | None) -> None:
        user = rng.choice(users)
        created = anchor - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1439))
        last = created + timedelta(days=rng.randint(0, 300))
        last = min(last, anchor - timedelta(minutes=rng.randint(1, 600)))
        n = len(tokens) + 1
        tokens.append(
            {
                "Id": None,  # as documented: OauthToken.Id is not a usable key
                "AppName": app,
                "AppMenuItemId": menu_id,
                "UserId": user["Id"],
                "CreatedDate": created,
                "LastUsedDate": last,
                "UseCount": rng.randint(1, 5000),
                "DeleteToken": f"dt{n:07d}" + hashlib.sha1(f"{app}{n}".encode()).hexdigest()[:20],
                "AccessToken": None,
                "RequestToken": None,
            }
        )

    def login(app: str, subtype: str | None) -> None:
        user = rng.choice(users)
        n = len(logins) + 1
        logins.append(
            {
                "Id": sf_id("0Ya", n),
                "UserId": user["Id"],
                "Application": app,
                "LoginTime": anchor - timedelta(days=rng.randint(0, 170), minutes=rng.randint(0, 1439)),
                "LoginType": "Remote Access 2.0",
                "LoginSubType": subtype,
                "Status": "Success",
                "SourceIp": f"203.0.113.{rng.randint(1, 254)}",
                "LoginUrl": "login.salesforce.com",
                "ApiType": "N/A",
                "ApiVersion": "N/A",
                "Browser": "Unknown",
                "Platform": "Unknown",
                "CountryIso": rng.choice(["FR", "DE", "US", "GB"]),
                "TlsProtocol": "TLS 1.3",
                "CipherSuite": "TLS_AES_256_GCM_SHA384",
                "AuthenticationServiceId": None,
                "NetworkId": None,
                "ClientVersion": "N/A",
                "LoginGeoId": None,
                "OptionsIsGet": False,
                "OptionsIsPost": True,  # OAuth token requests are POSTs
            }
        )

    for spec in specs:
        menu = sf_id("0DS", spec["index"] + 1)
        used = spec["index"] in (0, 1) or rng.random() > 0.15
        if not used:
            truth["unused"].append(spec["name"])
            continue
        kind = spec["kind"]
        if kind in ("jwt", "cc"):
            # JWT bearer / client credentials activity shows in LoginHistory, not always in OauthToken;
            # the documented LoginSubType picklist has no JWT-bearer value: empty (a guess, docs/demo-org.md)
            sub = None if kind == "jwt" else "OauthClientCredentials"
            for _ in range(rng.randint(per_app_logins // 2, per_app_logins)):
                login(spec["label"], sub)
            spec["logins"] = per_app_logins
            continue
        if kind == "saml":
            continue
        nt = rng.randint(1, per_app_tokens)
        for _ in range(nt):
            token(spec["label"], menu)
        nl = rng.randint(0, per_app_logins)
        for _ in range(nl):
            login(spec["label"], rng.choice(_SUBTYPES))
        spec["tokens"], spec["logins"] = nt, nl
    for app in phantoms:
        for _ in range(rng.randint(2, 15)):
            token(app, None)
        for _ in range(rng.randint(1, 10)):
            login(app, "OauthUsernamePassword")
    state.objects["OauthToken"] = tokens
    state.objects["LoginHistory"] = logins


# --- hostile seed (a test facility: app data that is markup) ------------------------------------
HOSTILE_MARKER = "HOSTILE-MARKER"
HOSTILE_PAYLOADS = (
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '"><svg onload=window.__pwned=1>',
    "javascript:window.__pwned=1",
    "{{7*7}}",
)
_IMG, _SCRIPT, _SVG, _JS, _TPL = HOSTILE_PAYLOADS


def _hostile_specs(seed: int, base: int) -> list[dict[str, Any]]:
    m = HOSTILE_MARKER
    web: dict[str, Any] = {
        "index": base,
        "kind": "web",
        "name": "Hostile_Web_App",
        "consumer_key": consumer_key(seed, "Hostile_Web_App"),
        "label": f"{m} {_IMG}",
        "description": f"{m} {_SVG} {_TPL}",
        "email": f"{m}{_SVG}@example.com",
        "info_url": f"{_JS}//{m}",
        "start_url": f"{_JS}//{m}",
        "callbacks": [f"https://hostile.example.com/cb?{m}{_SVG}", f"{_JS}//{m}"],
        "admin_approved": True,
        "profiles": ["Standard User"],
        "ip_relaxation": "BYPASS",
        "refresh_policy": "infinite",
        "scopes": ["Api", "Full", "RefreshToken"],
        "namespace": None,
    }
    ios: dict[str, Any] = {
        "index": base + 1,
        "kind": "ios",
        "name": "Hostile_iOS_App",
        "consumer_key": consumer_key(seed, "Hostile_iOS_App"),
        "label": f"{m} {_SCRIPT}",
        "description": f"{_TPL} {m} {_IMG}",
        "email": f"{m}{_IMG}@example.com",
        "info_url": f"{_JS}//{m}",
        "bundle_id": f"{m}{_IMG}",
        "mobile_start_url": f"{_JS}//{m}",
        "install_url": f"{m}{_SVG}",
        "callbacks": [f"{m}{_IMG}://oauth/done"],
        "min_os": f"{m}{_SCRIPT}",
        "app_version": f"{_TPL}{m}",
        "device_type": "phone",
        "private_app": False,
        "pin": "4",
        "lock": None,
        "admin_approved": False,
        "ip_relaxation": "ENFORCE",
        "refresh_policy": "infinite",
        "scopes": ["Api", "RefreshToken"],
        "namespace": None,
    }
    return [web, ios]


def _hostile_eca(org_id: str, rng: random.Random, seed: int) -> list[tuple[str, str, bytes]]:
    """One mobile ECA (the family of :func:`_eca_components`) whose label, description, e-mail, info URL and
    callback URL are markup."""
    m, name, plain = HOSTILE_MARKER, "Hostile_Eca", "Eca_Field_000"
    label = f"{m} {_SVG}"
    out = [
        (
            "ExternalClientApplication",
            name,
            _doc(
                "ExternalClientApplication",
                f"{_el('contactEmail', f'{m}{_SCRIPT}@example.com')}"
                f"{_el('description', f'{m} {_IMG} {_TPL}')}"
                f"<distributionState>Local</distributionState>{_el('infoUrl', f'{_JS}//{m}')}"
                f"<isProtected>false</isProtected>{_el('label', label)}"
                f"<orgScopedExternalApp>{org_id[:15]}:{name}</orgScopedExternalApp>",
            ),
        )
    ]
    for type_name, full_name, xml, _ns in _eca_components(0, rng, org_id, seed)[1:]:
        text = xml.decode().replace(plain, name).replace("Eca Field 000", escape(label))
        text = text.replace(consumer_key(seed, plain), consumer_key(seed, name))
        text = text.replace(
            "https://eca0.example.com/callback", escape(f"https://eca.example.com/?{m}{_SVG}")
        )
        out.append((type_name, full_name.replace(plain, name), text.encode()))
    return out


def _add_hostile(state: OrgState, truth: dict[str, Any], anchor: datetime, org_id: str, seed: int) -> None:
    """Add the hostile apps, users and usage to a built org (``hostile=True``; the rest is unchanged)."""
    rng = random.Random(f"hostile-{seed}")
    m = HOSTILE_MARKER
    n_users = len(state.objects["User"])
    profile = state.objects["Profile"][1]["Id"]
    people = [
        {"Username": f"{m}{_IMG}@example.com", "Name": f"{_SCRIPT} {m}", "FirstName": _TPL, "LastName": m},
        {"Username": f"{m}.{_TPL}@example.com", "Name": f"{m} {_SVG}", "FirstName": m, "LastName": _SVG},
    ]
    users = []
    for k, p in enumerate(people):
        users.append(
            {
                "Id": sf_id("005", n_users + k + 1),
                **p,
                "Email": f"hostile{k}@example.com",
                "IsActive": True,
                "ProfileId": profile,
                "UserType": "Standard",
                "LastLoginDate": anchor - timedelta(days=1),
                "CreatedDate": anchor - timedelta(days=500),
            }
        )
    state.objects["User"].extend(users)
    for _ in range(2):  # the two keys' draws of before (every other value stays what it was)
        _draw_key(rng)
    specs = _hostile_specs(seed, len(truth["apps"]) + 1000)
    tokens, logins = state.objects["OauthToken"], state.objects["LoginHistory"]
    phantom = f"{m} {_TPL} {_IMG} Connector"
    for spec in specs + [{"label": phantom, "name": None}]:
        comp = None
        if spec["name"]:
            doc = MetadataDocument(_app_xml(spec), full_name=spec["name"])
            comp = _add(state, "ConnectedApp", spec["name"], doc, len(state.metadata) + 1, anchor, rng)
            state.soql_only[comp.id] = _soql_only(spec, rng)
            state.soql_only[comp.id]["_AppMenuItemId"] = sf_id("0DS", spec["index"] + 1)
        for k, user in enumerate(users):
            when = anchor - timedelta(days=k + 1)
            tokens.append(
                {
                    "Id": None,
                    "AppName": spec["label"],
                    "UserId": user["Id"],
                    "AppMenuItemId": sf_id("0DS", spec["index"] + 1) if comp else None,
                    "CreatedDate": when - timedelta(days=30),
                    "LastUsedDate": when,
                    "UseCount": 7 + k,
                    "DeleteToken": "dtH" + hashlib.sha1(f"{spec['label']}{k}".encode()).hexdigest()[:24],
                    "AccessToken": None,
                    "RequestToken": None,
                }
            )
            if logins:  # the same row shape as the seeded logins
                logins.append(
                    {
                        **logins[0],
                        "Id": sf_id("0Ya", len(logins) + 1),
                        "UserId": user["Id"],
                        "Application": spec["label"],
                        "LoginTime": when,
                        "LoginSubType": "OauthWebServer",
                    }
                )
        if comp is not None:
            truth["apps"][spec["name"]] = {
                "kind": spec["kind"],
                "label": spec["label"],
                "id": comp.id,
                "PinLength": spec.get("pin"),
                "MobileSessionTimeout": spec.get("lock"),
                "packaged": False,
                "future_element": False,
                "admin_approved": spec["admin_approved"],
                "grants": len(spec.get("profiles", [])),
                "tokens": len(users),
                "logins": len(users),
                "settings": {k: spec.get(k) for k in _PLANTED},
            }
            truth["categories"]["local"].append(spec["name"])
            truth["kinds"].setdefault(spec["kind"], []).append(spec["name"])
    truth["mobile"].append("Hostile_iOS_App")
    truth["categories"]["phantom"].append(phantom)
    for type_name, full_name, xml in _hostile_eca(org_id, rng, seed):
        _add_xml(state, type_name, full_name, xml, anchor, rng)
    truth["categories"]["ecas"].append("Hostile_Eca")
    truth["users"]["active"] += len(users)
    truth["tokens"], truth["logins"] = len(tokens), len(logins)
    truth["hostile"] = {
        "marker": m,
        "payloads": list(HOSTILE_PAYLOADS),
        "apps": [s["name"] for s in specs],
        "ecas": ["Hostile_Eca"],
        "phantom": phantom,
        "users": [u["Username"] for u in users],
        "labels": {s["name"]: s["label"] for s in specs} | {"Hostile_Eca": f"{m} {_SVG}"},
    }


def _saml_events(
    state: OrgState,
    specs: list[dict[str, Any]],
    users: list[dict[str, Any]],
    anchor: datetime,
    seed: int,
    truth: dict[str, Any],
) -> None:
    """IdpEventLog rows (Object Reference, IdpEventLog: "outbound SAML responses when Salesforce is acting as
    an identity provider", ``AppId`` -> ConnectedApplication): successful sign-ins for the used SAML apps, a
    few failed ones for used and unused apps alike (a failure is not use). A random generator of its own, so
    every other seeded value stays what it was."""
    rng = random.Random(seed * 1_000_003 + 14)
    rows: list[dict[str, Any]] = []
    unused = set(truth["unused"])
    truth["saml"] = {"used": [], "unused": []}

    def event(spec: dict[str, Any], code: str) -> None:
        user = rng.choice(users)
        rows.append(
            {
                "Id": sf_id("0Ip", len(rows) + 1),
                "AppId": spec["id"],
                "AuthSessionId": None,
                "ErrorCode": code,
                "IdentityUsed": user["Username"],
                "InitiatedBy": rng.choice(["IdP", "SP"]),
                "OptionsHasLogoutUrl": False,
                "SamlEntityUrl": f"https://sso.example.com/{spec['name'].lower()}",
                "SsoType": "Saml",
                "Timestamp": anchor - timedelta(days=rng.randint(0, 170), minutes=rng.randint(0, 1439)),
                "UserId": user["Id"],
            }
        )

    for spec in specs:
        if spec["kind"] != "saml":
            continue
        used = spec["name"] not in unused
        truth["saml"]["used" if used else "unused"].append(spec["name"])
        n = rng.randint(1, 40) if used else 0
        for _ in range(n):
            event(spec, "Success")
        for _ in range(rng.randint(0, 3)):
            event(spec, rng.choice(["NoAccess", "InvalidSignature", "AppAccessDenied"]))
        spec["saml_logins"] = n
    state.objects["IdpEventLog"] = rows


# --- impact of edits (issue 16): profile login IP ranges, source IPs, who a change would break -----------
# login IP ranges per profile name (System Administrator and Partner Community have none: unrestricted)
PROFILE_IP_RANGES = {
    "Standard User": [("198.51.100.0", "198.51.100.127")],
    "Mobile Sales": [("198.51.100.128", "198.51.100.255"), ("192.0.2.0", "192.0.2.63")],
    "Integration User": [("10.0.0.0", "10.0.255.255")],
}
IMPACT_WINDOW_DAYS = 180  # the audit's default window: every seeded login is inside it (0-170 days)
_OUTSIDE_SHARE = 0.12  # share of a restricted user's logins from outside the profile's ranges


def ip_number(ip: str) -> int:
    """An IPv4 address as a number (for range checks).

    >>> ip_number("10.0.1.2")
    167772418
    """
    a, b, c, d = (int(x) for x in ip.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _ip_text(n: int) -> str:
    return ".".join(str((n >> s) & 255) for s in (24, 16, 8, 0))


def _impact_seed(state: OrgState, specs: list[dict[str, Any]], seed: int, anchor: datetime) -> dict[str, Any]:
    """``LoginIpRange`` rows, each login's ``SourceIp`` (inside or outside the user's profile ranges) and the
    truth of who an edit would break, per app. A separate random stream: the other seeded values stay."""
    rng = random.Random(seed * 7919 + 16)
    profiles = {p["Name"]: p["Id"] for p in state.objects.get("Profile", [])}
    ranges: list[dict[str, Any]] = []
    for name, texts in PROFILE_IP_RANGES.items():
        for start, end in texts:
            ranges.append(
                {
                    "Id": sf_id("0Ls", len(ranges) + 1),
                    "ProfileId": profiles.get(name),
                    "IpStart": start,
                    "IpEnd": end,
                    "Description": f"{name} office",
                }
            )
    state.objects["LoginIpRange"] = ranges
    by_profile: dict[str, list[tuple[int, int]]] = {}
    for r in ranges:
        by_profile.setdefault(r["ProfileId"], []).append((ip_number(r["IpStart"]), ip_number(r["IpEnd"])))
    users = {u["Id"]: u for u in state.objects.get("User", [])}
    policy = {s["label"]: s.get("ip_relaxation") for s in specs}
    for row in state.objects.get("LoginHistory", []):
        spans = by_profile.get(users[row["UserId"]]["ProfileId"])
        draw = rng.random()
        if not spans:
            continue  # an unrestricted profile: the seeded 203.0.113.x address stays
        lo, hi = spans[rng.randrange(len(spans))]
        if draw < _OUTSIDE_SHARE and _relaxed_for(policy.get(row["Application"]), row.get("LoginSubType")):
            row["SourceIp"] = f"203.0.113.{rng.randint(1, 254)}"  # outside every profile range
        else:
            row["SourceIp"] = _ip_text(rng.randint(lo, hi))
    since = anchor.replace(hour=0) - timedelta(days=IMPACT_WINDOW_DAYS)
    granted = _granted_users(state, specs)
    logins_of: dict[str, list[dict[str, Any]]] = {}
    for row in state.objects.get("LoginHistory", []):
        logins_of.setdefault(row["Application"], []).append(row)
    holders_of: dict[str, set[str]] = {}
    recent_of: dict[str, set[str]] = {}  # active holders of a token used in the window
    for tok in state.objects.get("OauthToken", []):
        if users[tok["UserId"]]["IsActive"]:
            holders_of.setdefault(tok["AppName"], set()).add(tok["UserId"])
            if tok["LastUsedDate"] >= since:
                recent_of.setdefault(tok["AppName"], set()).add(tok["UserId"])
    apps: dict[str, dict[str, Any]] = {}
    for spec in specs:
        outside: set[str] = set()
        logged_in: set[str] = set()
        unpw: set[str] = set()
        used: set[str] = set(holders_of.get(spec["label"], set()))
        for row in logins_of.get(spec["label"], []):
            user = users[row["UserId"]]
            if row["LoginTime"] < since or not user["IsActive"]:
                continue
            used.add(user["Id"])
            logged_in.add(user["Id"])
            if row["LoginSubType"] == "OauthUsernamePassword":
                unpw.add(user["Id"])
            spans = by_profile.get(user["ProfileId"])
            if spans and not any(a <= ip_number(row["SourceIp"]) <= b for a, b in spans):
                outside.add(user["Id"])
        apps[spec["name"]] = {
            "ip_enforce": sorted(outside),
            # a stricter session policy (high assurance, shorter timeout): every user signed in, at risk
            "session": sorted(logged_in),
            # the org blocks the username-password flow: the users of that flow, at risk
            "block_username_password": sorted(unpw),
            # --revoke-tokens APP --tokens all: the active users whose token, used in the window, goes
            "revoke_all": sorted(recent_of.get(spec["label"], set())),
            # an app already admin-approved: switching to it changes nothing (nobody newly refused)
            "admin_approved": []
            if spec.get("admin_approved")
            else sorted(used - granted.get(spec["name"], set())),
        }
    return {"window_days": IMPACT_WINDOW_DAYS, "apps": apps}


# the sub-types each ipRelaxation lets in from outside the profile's ranges (help "Manage OAuth Access
# Policies for a Connected App"): relaxed for refresh tokens; for activated devices, web-server and user-agent
_RELAXED_SUBTYPES = {
    "BYPASS": None,  # every flow
    "ENFORCE_RELAXREFRESH": ("OauthRefreshToken", "OauthHybridRefreshToken"),
    "BYPASS_2FACTOR": ("OauthWebServer", "OauthUserAgent", "OauthHybridWebServer", "OauthHybridUserAgent"),
}


def _relaxed_for(relaxation: str | None, subtype: str | None) -> bool:
    """Could a successful login of this sub-type come from outside the profile's ranges under ``relaxation``?

    >>> _relaxed_for("BYPASS", "OauthUsernamePassword"), _relaxed_for("BYPASS_2FACTOR", "OauthRefreshToken")
    (True, False)
    >>> _relaxed_for("ENFORCE", "OauthRefreshToken"), _relaxed_for(None, "OauthWebServer")
    (False, True)
    """
    if relaxation not in _RELAXED_SUBTYPES and relaxation != "ENFORCE":
        return True  # not a seeded connected app (phantom apps): nothing to enforce
    allowed = _RELAXED_SUBTYPES.get(str(relaxation), ())
    return allowed is None or subtype in allowed


def _granted_users(state: OrgState, specs: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Users each app's profiles and permission sets pre-authorize (User.ProfileId, assignments)."""
    profiles = {p["Name"]: p["Id"] for p in state.objects.get("Profile", [])}
    permsets = {
        p["Name"]: p["Id"] for p in state.objects.get("PermissionSet", []) if not p["IsOwnedByProfile"]
    }
    assigned: dict[str, set[str]] = {}
    for a in state.objects.get("PermissionSetAssignment", []):
        assigned.setdefault(a["PermissionSetId"], set()).add(a["AssigneeId"])
    on_profile: dict[str, set[str]] = {}
    for u in state.objects.get("User", []):
        on_profile.setdefault(u["ProfileId"], set()).add(u["Id"])
    out: dict[str, set[str]] = {}
    for spec in specs:
        users: set[str] = set()
        for p in spec.get("profiles", []):
            users |= on_profile.get(profiles.get(p, ""), set())
        for ps in spec.get("permsets", []):
            users |= assigned.get(permsets.get(ps, ""), set())
        out[spec["name"]] = users
    return out
