"""The field catalog: THE one place that knows every setting of a connected app or external client app.

For each setting: its canonical id (the column name in every table), the label Salesforce Setup shows, its
group, value type and allowed canonical values, where it is read from for a connected app (CA: a
``ConnectedApp`` metadata path, or a read-only ``ConnectedApplication`` SOQL field) and for an external client
app (ECA: a type of the ECA family + path, with the ECA value mapped onto the canonical one), and whether and
how it can be written (``updateMetadata``, ``SetupEntityAccess``, or ``none`` with the reason).

Forms, tables, rules and bulk edits all read this module; nothing else hard-codes a metadata path.
Facts come from the domain notes (``../shared/docs/salesforce-domain.md`` §1.11, §3.2, §9.5).

``bundle.soql`` convention (filled by org sources): ``{"ConnectedApplication": {"PinLength": "4", ...}}``;
a flat row (``{"PinLength": "4"}``) is accepted too.

>>> field("ip_relaxation").label
'IP Relaxation'
>>> [f.id for f in fields(group="mobile")][:3]
['mobile_start_url', 'pin_length', 'lock_after']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ArgumentError, UnknownFieldError, UnknownNameError
from . import values
from .bundle import AppBundle
from .document import MetadataDocument
from .schema import POLICY_TYPES

AppKindName = Literal["ConnectedApp", "ExternalClientApplication"]
ValueType = Literal[
    "string", "url", "email", "boolean", "integer", "enum", "list", "records", "secret", "certificate"
]
WriteVia = Literal["updateMetadata", "SetupEntityAccess", "none"]

CA: AppKindName = "ConnectedApp"
ECA: AppKindName = "ExternalClientApplication"
SOQL_CA = "ConnectedApplication"  # the read-only sObject (SOQL)
SOQL_ECA = "ExtlClntAppOauthPlcyCnfg"  # ECA OAuth policies as SOQL rows (covers packaged ECAs too)
SOQL_OBJECTS = frozenset({SOQL_CA, SOQL_ECA})

GROUPS = ("identity", "oauth", "oauth_policy", "session", "mobile", "push", "saml", "canvas", "eca", "plugin")

# The ECA family (root elements, domain doc §3.1): every component links to its app through the
# ``externalClientApplication`` element. File suffixes/folders live in toolkit.model.schema.
ECA_FAMILY: frozenset[str] = frozenset(
    {
        "ExternalClientApplication",
        "ExtlClntAppOauthSettings",
        "ExtlClntAppGlobalOauthSettings",
        "ExtlClntAppOauthConfigurablePolicies",
        "ExtlClntAppConfigurablePolicies",
        "ExtlClntAppMobileSettings",
        "ExtlClntAppMobileConfigurablePolicies",
        "ExtlClntAppPushSettings",
        "ExtlClntAppPushConfigurablePolicies",
        "ExtlClntAppNotificationSettings",
        "ExtlClntAppSamlConfigurablePolicies",
        "ExtlClntAppCanvasSettings",
        "ExtlClntAppAttestSettings",
        "ExtlClntAppAttestConfigurablePolicies",
    }
)
APP_TYPES: frozenset[str] = ECA_FAMILY | {"ConnectedApp"}
# the ECA types the publisher of a packaged ECA sets (its settings files and the app itself): read-only in
# an org that installed the app; the rest (schema.POLICY_TYPES) is the subscriber's to change
PUBLISHER_TYPES: frozenset[str] = ECA_FAMILY - POLICY_TYPES
POLICIES_ONLY = "policies only"


def publisher_types(namespace: str) -> dict[str, str]:
    """The read-only types of an ECA installed from a package, each with why (``AppBundle.read_only``).

    >>> ro = publisher_types("acme")
    >>> ro["ExtlClntAppGlobalOauthSettings"]
    'set by the publisher of package acme; only its policies can be changed in this org'
    >>> "ExtlClntAppOauthConfigurablePolicies" in ro
    False
    """
    package = namespace or "(no namespace)"
    why = f"set by the publisher of package {package}; only its policies can be changed in this org"
    return {t: why for t in sorted(PUBLISHER_TYPES)}


def policies_only_reason(namespace: str, state: str) -> str:
    """The ``not_editable_reason`` of a packaged ECA whose policies stay editable.

    >>> policies_only_reason("acme", "installed").split(";")[0]
    'policies only: installed from package acme'
    """
    return (
        f"{POLICIES_ONLY}: installed from package {namespace or '(no namespace)'}; its settings "
        f"(ExternalClientApplication, ...Settings) are set by the publisher ({state or 'installed'}), "
        "its policies (...ConfigurablePolicies) can be changed through the Metadata API"
    )


def write_type(field_id: str, kind: str) -> str | None:
    """The metadata type an edit of a catalog field writes on this kind of app (None: no metadata write).

    >>> eca = "ExternalClientApplication"
    >>> write_type("ip_relaxation", eca), write_type("pkce", eca)
    ('ExtlClntAppOauthConfigurablePolicies', 'ExtlClntAppGlobalOauthSettings')
    >>> write_type("profiles", "ConnectedApp") is None, write_type("no_such", "ConnectedApp") is None
    (True, True)
    """
    if field_id not in CATALOG:
        return None
    binding = CATALOG[field_id].binding(kind)
    if binding is None or binding.write != "updateMetadata":
        return None
    source = write_source(field_id, kind)
    return source.type_name if source is not None else None


Parser = Callable[[Any], Any]


# --- value parsers (raw metadata text -> canonical Python value) --------------------------------------------
def parse_bool(raw: Any) -> bool | None:
    """``"true"`` -> True; Salesforce writes lower-case booleans.

    >>> parse_bool("true"), parse_bool("false"), parse_bool("")
    (True, False, None)
    """
    text = str(raw).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    return None


def parse_int(raw: Any) -> int | None:
    """An integer, or None when the text is not one.

    >>> parse_int(" 60 "), parse_int("x")
    (60, None)
    """
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


def split_lines(raw: Any) -> list[str]:
    """Callback URLs: several are separated by line breaks (domain doc §1.3).

    >>> split_lines("https://a/cb\\r\\nmyapp://cb\\n")
    ['https://a/cb', 'myapp://cb']
    """
    return [line.strip() for line in re.split(r"\r?\n", str(raw)) if line.strip()]


def split_commas(raw: Any) -> list[str]:
    """ECA comma-separated lists (``"Api, Web, OpenID"``).

    >>> split_commas("Api, Web,OpenID")
    ['Api', 'Web', 'OpenID']
    """
    return [p.strip() for p in str(raw).split(",") if p.strip()]


def parse_refresh_policy(raw: Any) -> tuple[str, int | None, str | None] | None:
    """Split a CA ``refreshTokenPolicy`` into (policy, n, unit) (grammar in domain doc §1.5).

    >>> parse_refresh_policy("specific_lifetime:90:DAYS")
    ('specific_lifetime', 90, 'DAYS')
    >>> parse_refresh_policy("infinite")
    ('infinite', None, None)
    """
    text = str(raw).strip()
    if not text:
        return None
    parts = text.split(":")
    if len(parts) == 3:
        return parts[0], parse_int(parts[1]), parts[2].upper()
    return text, None, None


def parse_minutes(raw: Any) -> int | None:
    """A lock/timeout picklist value as minutes: ``"Five"`` -> 5, ``"Never"`` -> 0, ``"5"`` -> 5.

    ECA ``screenLockTimeout`` names (domain doc §3.1); the SOQL ``MobileSessionTimeout`` picklist values are
    not documented (⚠️), so any text holding a number is read as minutes.

    >>> parse_minutes("OneTwenty"), parse_minutes("Never"), parse_minutes("MIN_10")
    (120, 0, 10)
    """
    text = str(raw).strip()
    if text in SCREEN_LOCK_MINUTES:
        return SCREEN_LOCK_MINUTES[text]
    if text.lower() in ("never", "none", "no locking"):
        return 0
    match = re.search(r"\d+", text)
    return int(match.group()) if match else None


SCREEN_LOCK_MINUTES = {
    "Never": 0,
    "One": 1,
    "Five": 5,
    "Ten": 10,
    "Thirty": 30,
    "Sixty": 60,
    "OneTwenty": 120,
    "OneEighty": 180,
    "TwoForty": 240,
}


def _mapped(mapping: Mapping[str, Any]) -> Parser:
    def parse(raw: Any) -> Any:
        text = str(raw).strip()
        return mapping.get(text, text)  # unknown values pass through: the API evolves (§9.7)

    return parse


def _first(parser: Parser, index: int) -> Parser:
    def parse(raw: Any) -> Any:
        parsed = parser(raw)
        return parsed[index] if parsed else None

    return parse


def _inverted(raw: Any) -> bool | None:
    value = parse_bool(raw)
    return None if value is None else not value


def _equals(expected: str) -> Parser:
    def parse(raw: Any) -> bool:
        return str(raw).strip() == expected

    return parse


# --- the data model -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """Where one value is read: a metadata ``type_name`` + dotted ``path``, or a SOQL object + field.

    ``many`` reads every element (``get_all``); ``attribute`` reads the formula of the custom attribute with
    that key; ``parse`` turns the raw text into the canonical value; ``note`` says how (for the docs).
    """

    type_name: str
    path: str
    parse: Parser | None = None
    note: str = ""
    many: bool = False
    attribute: str = ""
    record: tuple[tuple[str, str], ...] = ()  # repeated complex element: (child element, canonical key) pairs

    @property
    def soql(self) -> bool:
        return self.type_name in SOQL_OBJECTS

    def describe(self) -> str:
        where = f"SOQL {self.type_name}.{self.path}" if self.soql else f"{self.type_name}.{self.path}"
        if self.attribute:
            where += f"[key={self.attribute}]"
        return where + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Binding:
    """How one kind of app (CA or ECA) carries a field: read sources in priority order, and the write path."""

    reads: tuple[Source, ...]
    write: WriteVia = "updateMetadata"
    why_not: str = ""  # when ``write == "none"``: why, for the user
    # the values this kind of app takes, when narrower than ``Field.allowed`` (an edit may write only these)
    allowed: tuple[str, ...] = ()

    @property
    def ui_only(self) -> bool:
        """True when no API reads the setting at all (a Setup UI checkbox): its value is unknown."""
        return not self.reads and self.write == "none"


@dataclass(frozen=True)
class Field:
    """One setting, shared by connected apps and external client apps.

    >>> f = field("pin_length")
    >>> (f.label, f.ca.write, f.eca is None)
    ('PIN Length', 'none', True)
    """

    id: str
    label: str
    group: str
    type: ValueType
    ca: Binding | None = None
    eca: Binding | None = None
    allowed: tuple[str, ...] = ()  # canonical values (enums, list items); empty = free text
    secret: bool = False  # never shown, never logged
    masked: bool = False  # shown masked (consumer key: first/last 4)
    many: bool = False  # multi-valued (a list): lives in a long table
    default: Any = None  # what Salesforce assumes when the element is absent (documentation only)
    help: str = ""

    def binding(self, kind: str) -> Binding | None:
        """The binding for ``"ConnectedApp"`` or ``"ExternalClientApplication"``."""
        return self.ca if kind == CA else self.eca if kind == ECA else None

    def allowed_for(self, kind: str) -> tuple[str, ...]:
        """The values an edit may write on this kind of app (``lock_after``: 0-30 minutes on a CA, up to 240
        on an ECA); reading takes every value of ``allowed`` (a CA's SAML encryption may be Triple_Des).

        >>> field("lock_after").allowed_for("ConnectedApp")
        ('0', '1', '5', '10', '30')
        >>> field("saml_encryption").allowed_for("ExternalClientApplication")
        ('AES_128', 'AES_256')
        """
        b = self.binding(kind)
        return b.allowed if b is not None and b.allowed else self.allowed

    def writable(self, kind: str) -> bool:
        """True when some API can write this field for this kind of app."""
        b = self.binding(kind)
        return b is not None and b.write != "none"

    def why_not_writable(self, kind: str) -> str:
        """The reason a field cannot be written for this kind ("" when it can)."""
        b = self.binding(kind)
        if b is None:
            return f"{'connected apps' if kind == CA else 'external client apps'} have no such setting"
        return b.why_not if b.write == "none" else ""


# --- builders that keep the table below readable ------------------------------------------------------------
# A field names where it is read (_element: a metadata element of a type; _ca_element / _eca_global /
# _eca_policy: the connected app's, the ECA global OAuth settings' or OAuth policies' element; _ca_soql /
# _eca_soql: a SOQL column) and how it is written (_writable: through the Metadata API; _read_only: with the
# reason no API writes it). Fields use keyword arguments (group=, type=, ca=, eca=): one setting per block.
def _element(
    type_name: str, path: str, parse: Parser | None = None, note: str = "", *, many: bool = False
) -> Source:
    return Source(type_name, path, parse, note, many)


def _ca_element(path: str, parse: Parser | None = None, note: str = "", *, many: bool = False) -> Source:
    return Source(CA, path, parse, note, many)


def _ca_soql(name: str, parse: Parser | None = None, note: str = "") -> Source:
    return Source(SOQL_CA, name, parse, note)


def _writable(
    *reads: Source, write: WriteVia = "updateMetadata", why_not: str = "", allowed: tuple[str, ...] = ()
) -> Binding:
    return Binding(tuple(reads), write, why_not, allowed)


def _eca_soql(name: str, parse: Parser | None = None) -> Source:
    # ⚠️ values assumed to be the metadata enum names (the org source reads them; not verified on a real org)
    return Source(SOQL_ECA, name, parse, "SOQL, for ECAs without readable metadata")


def _read_only(*reads: Source, why: str, allowed: tuple[str, ...] = ()) -> Binding:
    return Binding(tuple(reads), "none", why, allowed)


_GLOBAL = "ExtlClntAppGlobalOauthSettings"
_OAUTH = "ExtlClntAppOauthSettings"
_POLICY = "ExtlClntAppOauthConfigurablePolicies"
_PLUGINS = "ExtlClntAppConfigurablePolicies"
_PUSH = "ExtlClntAppPushSettings"
_SAML = "ExtlClntAppSamlConfigurablePolicies"
_IP_CA = (("start", "start"), ("end", "end"), ("description", "description"))
_IP_ECA = (("startIpAddress", "start"), ("endIpAddress", "end"), ("description", "description"))
_ATTR = (("key", "key"), ("formula", "formula"))
_MOBILE_POLICY = "ExtlClntAppMobileConfigurablePolicies"
_BIOMETRIC = "ENABLE_BIOMETRIC_AUTHENTICATION"  # Mobile SDK biometric unlock attribute (§1.8)
_CANVAS = "ExtlClntAppCanvasSettings"
_NOTIFY = "ExtlClntAppNotificationSettings"
_ATTEST = "ExtlClntAppAttestSettings"
_ATTEST_POLICY = "ExtlClntAppAttestConfigurablePolicies"

_SOQL_ONLY = "read-only ConnectedApplication field: no Metadata API element (v66); Setup UI only"
_UI_ONLY = "a Setup UI checkbox: no Metadata API element (WSDL v66) nor SOQL field; no API reads or writes it"
_RECORD_ID = "the record Id Salesforce assigns: not a setting"
_INTERNAL = "set by Salesforce (internal or reserved): not writable through the Metadata API"
_KEY_WHY = "consumerKey is set only at creation and cannot be changed or deployed to another org"
_SECRET_WHY = "consumerSecret is never returned by retrieve and must never be sent"
_CERT_WHY = "a certificate the service provider supplies: upload it in Setup (bulk edits never write one)"

# the value maps live once, in toolkit.model.values (the grammar of a refresh policy uses them too); the
# catalog reads an ECA's spelling back to the canonical one with their inverses
IP_RELAXATION = tuple(values.IP_RELAXATION_CA_TO_ECA)
_ECA_IP = values.IP_RELAXATION_ECA_TO_CA
REFRESH_POLICIES = values.REFRESH_KINDS
_ECA_REFRESH = {v: k for k, v in values.ECA_REFRESH_KINDS.items()}
REFRESH_UNITS = values.REFRESH_UNITS
_ECA_UNIT = {v: k for k, v in values.ECA_REFRESH_UNITS.items()}
PERMITTED_USERS = ("AllSelfAuthorized", "AdminApprovedPreAuthorized")
_CA_PERMITTED = {"true": "AdminApprovedPreAuthorized", "false": "AllSelfAuthorized"}
LOCK_MINUTES = ("0", "1", "5", "10", "30", "60", "120", "180", "240")
PIN_LENGTHS = ("4", "5", "6", "7", "8")  # v67 doc; older docs said 5-9 (⚠️ use describe)
SESSION_LEVELS = ("LOW", "STANDARD", "HIGH_ASSURANCE")
SCOPE_ENUM = (
    "Basic",
    "Api",
    "Web",
    "Full",
    "Chatter",
    "CustomApplications",
    "RefreshToken",
    "OpenID",
    "Profile",
    "Email",
    "Address",
    "Phone",
    "OfflineAccess",
    "CustomPermissions",
    "Wave",
    "Eclair",
    "Pardot",
    "Lightning",
    "Content",
    "CDPIngest",
    "CDPProfile",
    "CDPQuery",
    "Chatbot",
    "CDPSegment",
    "CDPIdentityResolution",
    "CDPCalculatedInsight",
    "ForgotPassword",
    "UserRegistration",
    "SFAP",
    "Interaction",
    "CDP",
    "EinsteinGPT",
    "PwdlessLogin",
    "MCP",
    "SCRT",
)
# On retrieve Profile/Email/Address/Phone collapse to Basic; OfflineAccess is RefreshToken (§1.4)
SCOPE_EQUIVALENT = values.SCOPE_EQUIVALENT
# OAuth wire scope names (the ``scope=`` of a client, the Mobile SDK's oauthScopes, what admins write) ->
# the ConnectedAppOauthAccessScope value (domain notes §1.4; pairing by name with scopes_supported)
SCOPE_WIRE_NAMES = {
    "api": "Api",
    "web": "Web",
    "full": "Full",
    "refresh_token": "RefreshToken",
    "offline_access": "OfflineAccess",
    "id": "Basic",
    "profile": "Profile",
    "email": "Email",
    "address": "Address",
    "phone": "Phone",
    "openid": "OpenID",
    "chatter_api": "Chatter",
    "custom_permissions": "CustomPermissions",
    "visualforce": "CustomApplications",
    "wave_api": "Wave",
    "eclair_api": "Eclair",
    "pardot_api": "Pardot",
    "lightning": "Lightning",
    "content": "Content",
    "cdp_api": "CDP",
    "cdp_ingest_api": "CDPIngest",
    "cdp_profile_api": "CDPProfile",
    "cdp_query_api": "CDPQuery",
    "cdp_segment_api": "CDPSegment",
    "cdp_identityresolution_api": "CDPIdentityResolution",
    "cdp_calculated_insight_api": "CDPCalculatedInsight",
    "chatbot_api": "Chatbot",
    "sfap_api": "SFAP",
    "interaction_api": "Interaction",
    "einstein_gpt_api": "EinsteinGPT",
    "pwdless_login_api": "PwdlessLogin",
    "forgot_password": "ForgotPassword",
    "user_registration_api": "UserRegistration",
    "mcp_api": "MCP",
    "scrt_api": "SCRT",
}


def _enum(simple_type: str, fallback: Sequence[str]) -> tuple[str, ...]:
    """Allowed values from the WSDL-derived schema module when it is there, else the local tuple."""
    try:
        from . import schema  # type: ignore[attr-defined,unused-ignore]

        values = tuple(schema.enum_values(simple_type))
        return values or tuple(fallback)
    except Exception:  # schema.py absent or without this type: the local tuple is the documented fallback
        return tuple(fallback)


def _boolean(id: str, label: str, group: str, ca: Binding | None, eca: Binding | None, **kw: Any) -> Field:
    return Field(id, label, group=group, type="boolean", ca=ca, eca=eca, **kw)


def _eca_global(path: str, parse: Parser | None = parse_bool, note: str = "") -> Source:
    return _element(_GLOBAL, path, parse, note)


def _eca_policy(path: str, parse: Parser | None = None, note: str = "") -> Source:
    return _element(_POLICY, path, parse, note)


def _ca_flag(path: str) -> Binding:
    return _writable(_ca_element(path, parse_bool))


def _attribute(key: str) -> tuple[Binding, Binding]:
    """The CA and ECA bindings of a custom attribute (its formula) with this key (Mobile SDK switches)."""
    return (
        _writable(Source(CA, "attributes", None, "custom attribute formula", attribute=key)),
        _writable(
            Source(_OAUTH, "customAttributes", None, "custom attribute formula", attribute=key),
            Source(_POLICY, "customAttributes", None, "", attribute=key),
        ),
    )


_FIELDS: list[Field] = [
    # identity -----------------------------------------------------------------------------------------------
    Field(
        "label",
        "Connected App Name",
        group="identity",
        type="string",
        ca=_writable(_ca_element("label"), _ca_soql("Name")),
        eca=_writable(_element(ECA, "label")),
    ),
    Field(
        "contact_email",
        "Contact Email",
        group="identity",
        type="email",
        ca=_writable(_ca_element("contactEmail")),
        eca=_writable(_element(ECA, "contactEmail")),
    ),
    Field(
        "contact_phone",
        "Contact Phone",
        group="identity",
        type="string",
        ca=_writable(_ca_element("contactPhone")),
        eca=_writable(_element(ECA, "contactPhone")),
    ),
    Field(
        "description",
        "Description",
        group="identity",
        type="string",
        ca=_writable(_ca_element("description")),
        eca=_writable(_element(ECA, "description")),
    ),
    Field(
        "info_url",
        "Info URL",
        group="identity",
        type="url",
        ca=_writable(_ca_element("infoUrl")),
        eca=_read_only(
            _element(ECA, "infoUrl"), why="reserved on external client apps (ExternalClientApplication)"
        ),
    ),
    Field(
        "logo_url",
        "Logo Image URL",
        group="identity",
        type="url",
        ca=_writable(_ca_element("logoUrl")),
        eca=_writable(_element(ECA, "logoUrl")),
    ),
    Field(
        "icon_url",
        "Icon URL",
        group="identity",
        type="url",
        ca=_writable(_ca_element("iconUrl")),
        eca=_writable(_element(ECA, "iconUrl")),
    ),
    Field(
        "start_url",
        "Start URL",
        group="identity",
        type="url",
        ca=_writable(_ca_element("startUrl"), _ca_soql("StartUrl")),
        eca=_writable(_element(_PLUGINS, "startUrl"), _eca_policy("startUrl")),
    ),
    Field(
        "distribution_state",
        "Distribution State",
        group="eca",
        type="enum",
        ca=None,
        eca=_writable(
            _element(ECA, "distributionState"), allowed=("Local", "Packaged")
        ),  # enum ExtlClntAppDistState
        allowed=("Local", "Packaged", "Managed", "AutoInstalled"),
        help="Managed and AutoInstalled are reserved for apps Salesforce manages: read, never written",
    ),
    Field(
        "managed_type",
        "Managed Type",
        group="eca",
        type="enum",
        ca=None,
        eca=_read_only(_element(ECA, "managedType"), why=_INTERNAL),
        allowed=("Local", "Global"),
    ),
    Field(
        "application_id",
        "Application ID",
        group="identity",
        type="string",
        ca=_read_only(_ca_soql("Id", None, "also AppMenuItem.ApplicationId"), why=_RECORD_ID),
        eca=_read_only(_eca_soql("ExternalClientApplicationId"), why=_RECORD_ID),
        help="the record Id of the app (ConnectedApplication / ExternalClientApplication)",
    ),
    # OAuth --------------------------------------------------------------------------------------------------
    Field(
        "callback_urls",
        "Callback URL",
        group="oauth",
        type="list",
        ca=_writable(_ca_element("oauthConfig.callbackUrl", split_lines, "newline-separated")),
        eca=_writable(_eca_global("callbackUrl", split_lines, "newline-separated")),
        many=True,
    ),
    Field(
        "scopes",
        "Selected OAuth Scopes",
        group="oauth",
        type="list",
        ca=_writable(_ca_element("oauthConfig.scopes", list, many=True)),
        eca=_writable(
            _element(_OAUTH, "commaSeparatedOauthScopes", split_commas, "comma-separated enum names")
        ),
        allowed=_enum("ConnectedAppOauthAccessScope", SCOPE_ENUM),
        many=True,
    ),
    Field(
        "consumer_key",
        "Consumer Key",
        group="oauth",
        type="string",
        ca=_read_only(_ca_element("oauthConfig.consumerKey"), why=_KEY_WHY),
        eca=_read_only(_eca_global("consumerKey", None), why=_KEY_WHY),
        masked=True,
    ),
    Field(
        "consumer_secret",
        "Consumer Secret",
        group="oauth",
        type="secret",
        ca=_read_only(_ca_element("oauthConfig.consumerSecret"), why=_SECRET_WHY),
        eca=_read_only(_eca_global("consumerSecret", None), why=_SECRET_WHY),
        secret=True,
    ),
    Field(
        "certificate",
        "Use Digital Signatures (certificate)",
        group="oauth",
        type="certificate",
        ca=_writable(_ca_element("oauthConfig.certificate")),
        eca=_writable(_eca_global("certificate", None)),
        help="the body is never shown: tables carry has_certificate and certificate_expires",
    ),
    _boolean(
        "pkce",
        "Require Proof Key for Code Exchange (PKCE)",
        group="oauth",
        ca=_ca_flag("oauthConfig.isPkceRequired"),
        eca=_writable(_eca_global("isPkceRequired")),
        default=False,
    ),
    _boolean(
        "rtr",
        "Enable Refresh Token Rotation",
        group="oauth",
        ca=_ca_flag("oauthConfig.isRefreshTokenRotationEnabled"),
        eca=_writable(_eca_global("isRefreshTokenRotationEnabled")),
        default=False,
        help="ISV guidance: cannot be disabled once enabled",
    ),
    _boolean(
        "secret_web_server",
        "Require Secret for Web Server Flow",
        group="oauth",
        ca=_writable(
            _ca_element(
                "oauthConfig.isConsumerSecretOptional", _inverted, "inverted isConsumerSecretOptional"
            )
        ),
        eca=_writable(_eca_global("isConsumerSecretOptional", _inverted, "inverted")),
        default=True,
    ),
    _boolean(
        "secret_refresh",
        "Require Secret for Refresh Token Flow",
        group="oauth",
        ca=_ca_flag("oauthConfig.isSecretRequiredForRefreshToken"),
        eca=_writable(_eca_global("isSecretRequiredForRefreshToken")),
        default=True,
    ),
    _boolean(
        "client_credentials",
        "Enable Client Credentials Flow",
        group="oauth",
        ca=_ca_flag("oauthConfig.isClientCredentialEnabled"),
        eca=_writable(
            _eca_global("isClientCredentialsFlowEnabled"),
            _eca_policy("isClientCredentialsFlowEnabled", parse_bool),
        ),
        default=False,
    ),
    Field(
        "run_as",
        "Client Credentials Flow: Run As",
        group="oauth",
        type="string",
        ca=_writable(_ca_element("oauthConfig.oauthClientCredentialUser")),
        eca=_writable(_eca_policy("clientCredentialsFlowUser")),
    ),
    _boolean(
        "token_exchange",
        "Enable Token Exchange Flow",
        group="oauth",
        ca=_ca_flag("oauthConfig.isTokenExchangeEnabled"),
        eca=_writable(_eca_global("isTokenExchangeEnabled")),
        default=False,
    ),
    _boolean(
        "named_user_jwt",
        "Issue JWT-based access tokens for named users",
        group="oauth",
        ca=_ca_flag("oauthConfig.isNamedUserJwtEnabled"),
        eca=_writable(_eca_global("isNamedUserJwtEnabled")),
        default=False,
    ),
    _boolean(
        "introspect_all",
        "Introspect All Tokens",
        group="oauth",
        ca=_ca_flag("oauthConfig.isIntrospectAllTokens"),
        eca=_writable(_eca_global("isIntrospectAllTokens")),
        default=False,
    ),
    _boolean(
        "code_credential",
        "Enable Authorization Code and Credentials Flow",
        group="oauth",
        ca=_ca_flag("oauthConfig.isCodeCredentialEnabled"),
        eca=_writable(_eca_global("isCodeCredFlowEnabled")),
        default=False,
    ),
    _boolean(
        "device_flow",
        "Enable Device Flow",
        group="oauth",
        ca=_read_only(why=f"'Enable for Device Flow': {_UI_ONLY}"),
        eca=_writable(_eca_global("isDeviceFlowEnabled")),
        default=False,
    ),
    _boolean(
        "secret_token_exchange",
        "Require Secret for Token Exchange Flow",
        group="oauth",
        ca=_ca_flag("oauthConfig.isSecretRequiredForTokenExchange"),
        eca=_writable(_eca_global("isSecretRequiredForTokenExchange")),
    ),
    _boolean(
        "code_credential_post_only",
        "Authorization Code and Credentials Flow: POST only",
        group="oauth",
        ca=_ca_flag("oauthConfig.isCodeCredentialPostOnly"),
        eca=_writable(_eca_global("isCodeCredPostOnly")),
        help="credentials accepted in a POST body only, never in the URL",
    ),
    _boolean(
        "guest_code_credential",
        "Enable Authorization Code and Credentials Flow for Guest Users",
        group="oauth",
        ca=_read_only(_ca_soql("OptionsCodeCredentialGuestEnabled", parse_bool), why=_SOQL_ONLY),
        eca=_writable(_eca_policy("isGuestCodeCredFlowEnabled", parse_bool)),
        default=False,
    ),
    Field(
        "custom_scopes",
        "Custom Scopes",
        group="oauth",
        type="list",
        ca=None,
        eca=_writable(
            _element(_OAUTH, "commaSeparatedCustomScopes", split_commas, "comma-separated OauthCustomScope"),
            _eca_policy("commaSeparatedCustomScopes", split_commas, "comma-separated"),
        ),
        many=True,
        help="connected apps get custom scopes through OauthCustomScopeApp, not their metadata",
    ),
    Field(
        "id_token_validity",
        "ID Token Valid for (minutes)",
        group="oauth",
        type="integer",
        ca=_writable(_ca_element("oauthConfig.idTokenConfig.idTokenValidity", parse_int)),
        eca=_writable(_eca_global("idTokenConfig.idTokenValidityInMinutes", parse_int)),
    ),
    Field(
        "single_logout_url",
        "Single Logout URL",
        group="oauth",
        type="url",
        ca=_writable(_ca_element("oauthConfig.singleLogoutUrl"), _ca_element("oauthPolicy.singleLogoutUrl")),
        eca=_writable(_element(_OAUTH, "singleLogoutUrl"), _eca_policy("singleLogoutUrl")),
    ),
    # OAuth policy (admin side) ------------------------------------------------------------------------------
    Field(
        "permitted_users",
        "Permitted Users",
        group="oauth_policy",
        type="enum",
        ca=_writable(
            _ca_element("oauthConfig.isAdminApproved", _mapped(_CA_PERMITTED), "isAdminApproved true/false"),
            _ca_soql(
                "OptionsAllowAdminApprovedUsersOnly",
                lambda r: PERMITTED_USERS[1] if parse_bool(r) else PERMITTED_USERS[0],
            ),
        ),
        eca=_writable(_eca_policy("permittedUsersPolicyType"), _eca_soql("PermittedUsersPolicyType")),
        allowed=PERMITTED_USERS,
        default="AllSelfAuthorized",
    ),
    Field(
        "ip_relaxation",
        "IP Relaxation",
        group="oauth_policy",
        type="enum",
        ca=_writable(_ca_element("oauthPolicy.ipRelaxation")),
        eca=_writable(
            _eca_policy("ipRelaxationPolicyType", _mapped(_ECA_IP), "Enforce→ENFORCE, Bypass→BYPASS…"),
            _eca_soql("IpRelaxationPolicyType", _mapped(_ECA_IP)),
        ),
        allowed=IP_RELAXATION,
    ),
    Field(
        "refresh_policy",
        "Refresh Token Policy",
        group="oauth_policy",
        type="enum",
        ca=_writable(
            _ca_element("oauthPolicy.refreshTokenPolicy", _first(parse_refresh_policy, 0), "policy part")
        ),
        eca=_writable(
            _eca_policy(
                "refreshTokenPolicyType", _mapped(_ECA_REFRESH), "Infinite→infinite, SpecificLifetime→…"
            ),
            _eca_soql("RefreshTokenPolicyType", _mapped(_ECA_REFRESH)),
        ),
        allowed=REFRESH_POLICIES,
    ),
    Field(
        "refresh_n",
        "Refresh Token Validity Period",
        group="oauth_policy",
        type="integer",
        ca=_writable(
            _ca_element("oauthPolicy.refreshTokenPolicy", _first(parse_refresh_policy, 1), "N of …:N:UNIT"),
            _ca_soql("RefreshTokenValidityPeriod", parse_int),
        ),
        eca=_writable(
            _eca_policy("refreshTokenValidityPeriod", parse_int),
            _eca_soql("RefreshTokenValidityPeriod", parse_int),
        ),
    ),
    Field(
        "refresh_unit",
        "Refresh Token Validity Unit",
        group="oauth_policy",
        type="enum",
        ca=_writable(
            _ca_element("oauthPolicy.refreshTokenPolicy", _first(parse_refresh_policy, 2), "UNIT of …:N:UNIT")
        ),
        eca=_writable(
            _eca_policy("refreshTokenValidityUnit", _mapped(_ECA_UNIT), "Days→DAYS"),
            _eca_soql("RefreshTokenValidityUnit", _mapped(_ECA_UNIT)),
        ),
        allowed=REFRESH_UNITS,
    ),
    Field(
        "profiles",
        "Profiles (pre-authorized)",
        group="oauth_policy",
        type="list",
        ca=_writable(_ca_element("profileName", list, many=True), write="SetupEntityAccess"),
        eca=_writable(_eca_policy("commaSeparatedProfile", split_commas, "comma-separated Ids")),
        many=True,
    ),
    Field(
        "permission_sets",
        "Permission Sets (pre-authorized)",
        group="oauth_policy",
        type="list",
        ca=_writable(_ca_element("permissionSetName", list, many=True), write="SetupEntityAccess"),
        eca=_writable(_eca_policy("commaSeparatedPermissionSet", split_commas, "comma-separated Ids")),
        many=True,
    ),
    Field(
        "ip_ranges",
        "Trusted IP Range for OAuth Web Server Flow",
        group="oauth_policy",
        type="records",
        ca=_writable(Source(CA, "ipRanges", None, "start, end, description", record=_IP_CA)),
        eca=_writable(
            Source(
                _OAUTH, "trustedIpRanges", None, "startIpAddress, endIpAddress, description", record=_IP_ECA
            )
        ),
        many=True,
    ),
    Field(
        "custom_attributes",
        "Custom Attributes",
        group="oauth_policy",
        type="records",
        ca=_writable(Source(CA, "attributes", None, "key, formula", record=_ATTR)),
        eca=_writable(
            Source(_OAUTH, "customAttributes", None, "key, formula", record=_ATTR),
            Source(_POLICY, "customAttributes", None, "key, formula", record=_ATTR),
        ),
        many=True,
    ),
    # session ------------------------------------------------------------------------------------------------
    Field(
        "session_timeout",
        "Timeout Value (minutes)",
        group="session",
        type="integer",
        ca=_writable(_ca_element("sessionPolicy.sessionTimeout", parse_int)),
        eca=_writable(_eca_policy("sessionTimeoutInMinutes", parse_int)),
    ),
    _boolean(
        "high_assurance",
        "High assurance session required",
        group="session",
        ca=_writable(
            _ca_element(
                "sessionPolicy.sessionLevel", _equals("HIGH_ASSURANCE"), "sessionLevel = HIGH_ASSURANCE"
            ),
            _ca_soql("OptionsHasSessionLevelPolicy", parse_bool),
        ),
        eca=_writable(_eca_policy("requiredSessionLevel", _equals("HIGH_ASSURANCE"), "= HIGH_ASSURANCE")),
    ),
    Field(
        "session_level",
        "Session Security Level",
        group="session",
        type="enum",
        ca=_writable(_ca_element("sessionPolicy.sessionLevel")),
        eca=_writable(_eca_policy("requiredSessionLevel"), _eca_soql("RequiredSessionLevel")),
        allowed=_enum("SessionSecurityLevel", SESSION_LEVELS),
    ),
    Field(
        "policy_action",
        "High Assurance Policy Action",
        group="session",
        type="enum",
        ca=_writable(_ca_element("sessionPolicy.policyAction")),
        eca=_writable(_eca_policy("policyAction")),
        allowed=_enum("PolicyAction", ("Block", "RaiseSessionLevel")),
    ),
    # mobile -------------------------------------------------------------------------------------------------
    Field(
        "mobile_start_url",
        "Mobile Start URL",
        group="mobile",
        type="url",
        ca=_writable(_ca_element("mobileStartUrl"), _ca_soql("MobileStartUrl")),
        eca=None,
    ),
    Field(
        "pin_length",
        "PIN Length",
        group="mobile",
        type="enum",
        ca=_read_only(_ca_soql("PinLength", parse_int), why=_SOQL_ONLY),
        eca=None,
        allowed=PIN_LENGTHS,
        help="Mobile SDK 9.2+ ignores it and uses the device passcode",
    ),
    Field(
        "lock_after",
        "Lock App After (minutes)",
        group="mobile",
        type="enum",
        ca=_read_only(
            _ca_soql("MobileSessionTimeout", parse_minutes, "picklist → minutes"),
            why=_SOQL_ONLY,
            allowed=("0", "1", "5", "10", "30"),
        ),
        eca=_writable(
            _element(_MOBILE_POLICY, "screenLockTimeout", parse_minutes, "Never→0, Five→5, OneTwenty→120…")
        ),
        allowed=LOCK_MINUTES,
        help="0 = never lock; 'Require PIN after' in older Setup pages; a connected "
        "app takes none/1/5/10/30 minutes, 60-240 exist only for external client apps",
    ),
    _boolean(
        "screen_lock",
        "Enable Screen Lock (PIN Protect)",
        group="mobile",
        ca=None,
        eca=_writable(_element("ExtlClntAppMobileSettings", "isScreenLockEnabled", parse_bool)),
    ),
    Field(
        "platform",
        "App Platform",
        group="mobile",
        type="enum",
        ca=_writable(_ca_element("mobileAppConfig.devicePlatform")),
        eca=None,
        allowed=_enum("DevicePlatformType", ("ios", "android")),
    ),
    Field(
        "device_type",
        "Restrict to Device Type",
        group="mobile",
        type="enum",
        ca=_writable(_ca_element("mobileAppConfig.deviceType")),
        eca=None,
        allowed=_enum("DeviceType", ("phone", "tablet", "minitablet")),
    ),
    Field(
        "app_version",
        "App Version",
        group="mobile",
        type="string",
        ca=_writable(_ca_element("mobileAppConfig.version")),
        eca=None,
    ),
    Field(
        "min_os",
        "Minimum OS Version",
        group="mobile",
        type="string",
        ca=_writable(_ca_element("mobileAppConfig.minimumOsVersion")),
        eca=None,
    ),
    _boolean(
        "private_app", "Private App", group="mobile", ca=_ca_flag("mobileAppConfig.privateApp"), eca=None
    ),
    Field(
        "install_url",
        "Install URL",
        group="mobile",
        type="url",
        ca=_writable(_ca_element("mobileAppConfig.applicationInstallUrl")),
        eca=None,
    ),
    Field(
        "bundle_id",
        "iOS Bundle Identifier",
        group="mobile",
        type="string",
        ca=_writable(_ca_element("mobileAppConfig.applicationBundleIdentifier")),
        eca=None,
    ),
    Field(
        "biometric",
        "Enable Biometric Authentication (attribute)",
        "mobile",
        "string",
        *_attribute(_BIOMETRIC),
    ),
    Field(
        "binary_file_name",
        "App Binary File Name",
        group="mobile",
        type="string",
        ca=_writable(_ca_element("mobileAppConfig.applicationBinaryFileName")),
        eca=None,
    ),
    Field(
        "icon_file_name",
        "Application Icon File Name (iOS)",
        group="mobile",
        type="string",
        ca=_writable(_ca_element("mobileAppConfig.applicationIconFileName")),
        eca=None,
    ),
    Field(
        "biometric_timeout",
        "Biometric Authentication Timeout (minutes, attribute)",
        "mobile",
        "string",
        *_attribute("BIOMETRIC_AUTHENTICATION_TIMEOUT"),
        default="15",
        help="Mobile SDK 11+: set it to the same value as Lock App After",
    ),
    _boolean(
        "pin_protect",
        "PIN Protect",
        group="mobile",
        ca=_read_only(why=f"'PIN Protect' (Mobile App Settings): {_UI_ONLY}"),
        eca=None,
        help="the developer's 'app supports PIN' checkbox; an ECA's analogue is screen_lock",
    ),
    # push (ECA only; CA push settings are not in metadata, §1.9) --------------------------------------------
    Field(
        "push_service",
        "Push Service",
        group="push",
        type="enum",
        ca=_read_only(why="connected app push settings are not in metadata (Setup UI only)"),
        eca=_writable(_element(_PUSH, "pushServiceType")),
        allowed=("Apple", "Android"),
    ),
    _boolean(
        "push_full_content",
        "Full Content Push Notifications",
        group="push",
        ca=_read_only(
            _ca_soql("OptionsFullContentPushNotifications", parse_bool, "'For internal use only'"),
            why="ConnectedApplication.OptionsFullContentPushNotifications is 'for internal use only': "
            "no Metadata API element (v66); Setup UI only",
        ),
        eca=_writable(_element("ExtlClntAppPushConfigurablePolicies", "isFullContent", parse_bool)),
    ),
    Field(
        "push_environment",
        "APNs Environment",
        group="push",
        type="enum",
        ca=None,
        eca=_writable(_element(_PUSH, "applePushConfig.environment")),
        allowed=("Sandbox", "Production"),
    ),
    Field(
        "push_bundle",
        "APNs Application Bundle",
        group="push",
        type="string",
        ca=None,
        eca=_writable(_element(_PUSH, "applePushConfig.applicationBundle")),
    ),
    Field(
        "push_key_id",
        "APNs Key Identifier",
        group="push",
        type="string",
        ca=None,
        eca=_writable(_element(_PUSH, "applePushConfig.keyIdentifier")),
    ),
    Field(
        "push_team_id",
        "APNs Team Identifier",
        group="push",
        type="string",
        ca=None,
        eca=_writable(_element(_PUSH, "applePushConfig.teamIdentifier")),
    ),
    Field(
        "push_certificate",
        "APNs Certificate (.p12)",
        group="push",
        type="secret",
        ca=None,
        eca=_writable(_element(_PUSH, "applePushConfig.certificate")),
        secret=True,
    ),
    Field(
        "push_password",
        "APNs Certificate Password",
        group="push",
        type="secret",
        ca=None,
        eca=_writable(_element(_PUSH, "applePushConfig.password")),
        secret=True,
    ),
    Field(
        "push_signing_key",
        "APNs Signing Key (.p8)",
        group="push",
        type="secret",
        ca=None,
        eca=_writable(_element(_PUSH, "applePushConfig.signingKey")),
        secret=True,
    ),
    Field(
        "push_fcm_project",
        "FCM Project",
        group="push",
        type="string",
        ca=None,
        eca=_writable(_element(_PUSH, "androidPushConfig.fcmProject")),
    ),
    Field(
        "push_service_account",
        "FCM Service Account",
        group="push",
        type="secret",
        ca=None,
        eca=_writable(_element(_PUSH, "androidPushConfig.serviceAccount")),
        secret=True,
    ),
    # SAML ---------------------------------------------------------------------------------------------------
    Field(
        "saml_entity_id",
        "Entity Id",
        group="saml",
        type="string",
        ca=_writable(_ca_element("samlConfig.entityUrl")),
        eca=_writable(_element(_SAML, "entityUrl")),
    ),
    Field(
        "saml_acs_url",
        "ACS URL",
        group="saml",
        type="url",
        ca=_writable(_ca_element("samlConfig.acsUrl")),
        eca=_writable(_element(_SAML, "acsUrl")),
    ),
    Field(
        "saml_issuer",
        "Issuer",
        group="saml",
        type="string",
        ca=_writable(_ca_element("samlConfig.issuer")),
        eca=_writable(_element(_SAML, "issuer")),
    ),
    Field(
        "saml_subject_type",
        "Subject Type",
        group="saml",
        type="enum",
        ca=_writable(_ca_element("samlConfig.samlSubjectType")),
        eca=_writable(_element(_SAML, "subjectType")),
        allowed=_enum(
            "SamlSubjectType",
            ("Username", "FederationId", "UserId", "SpokeId", "CustomAttribute", "PersistentId"),
        ),
    ),
    Field(
        "saml_name_id_format",
        "Name ID Format",
        group="saml",
        type="enum",
        ca=_writable(_ca_element("samlConfig.samlNameIdFormat")),
        eca=_writable(_element(_SAML, "nameIdFormat")),
        allowed=_enum("SamlNameIdFormatType", ("Unspecified", "EmailAddress", "Persistent", "Transient")),
    ),
    Field(
        "saml_signing_algo",
        "Signing Algorithm for SAML Messages",
        group="saml",
        type="enum",
        ca=_writable(_ca_element("samlConfig.samlSigningAlgoType")),
        eca=_writable(_element(_SAML, "signingAlgorithmType")),
        allowed=_enum("SamlSigningAlgoType", ("SHA1", "SHA256")),
    ),
    # certificates the service provider uploads (PEM bodies, never shown: tables carry their expiry only)
    Field(
        "saml_certificate",
        "Verify Request Signatures (certificate)",
        group="saml",
        type="certificate",
        ca=_read_only(_ca_element("samlConfig.certificate"), why=_CERT_WHY),
        eca=_read_only(_element(_SAML, "certificate"), why=_CERT_WHY),
        help="the body is never shown: tables carry has_saml_certificate and saml_certificate_expires",
    ),
    Field(
        "saml_encryption_certificate",
        "Encrypt SAML Response (certificate)",
        group="saml",
        type="certificate",
        ca=_read_only(_ca_element("samlConfig.encryptionCertificate"), why=_CERT_WHY),
        eca=_read_only(_element(_SAML, "encryptionCertificate"), why=_CERT_WHY),
        help="the body is never shown: tables carry has_saml_encryption_certificate and "
        "saml_encryption_certificate_expires",
    ),
    # read: all three (a connected app may hold Triple_Des); written: AES only on both kinds (an ECA has no
    # Triple_Des; on a connected app Salesforce says to replace it: REFUSED_VALUES)
    Field(
        "saml_encryption",
        "Encryption Type",
        group="saml",
        type="enum",
        ca=_writable(_ca_element("samlConfig.encryptionType"), allowed=("AES_128", "AES_256")),
        eca=_writable(_element(_SAML, "encryptionType"), allowed=("AES_128", "AES_256")),
        allowed=_enum("SamlEncryptionType", ("AES_128", "AES_256", "Triple_Des")),
    ),
    # who may sign in through the ECA's SAML plugin: its own pre-authorization lists (a connected app's
    # profileName/permissionSetName serve OAuth and SAML alike: the profiles/permission_sets fields)
    Field(
        "saml_profiles",
        "Profiles (SAML, pre-authorized)",
        group="saml",
        type="list",
        ca=None,
        eca=_writable(_element(_SAML, "commaSeparatedProfile", split_commas, "comma-separated Ids")),
        many=True,
    ),
    Field(
        "saml_permission_sets",
        "Permission Sets (SAML, pre-authorized)",
        group="saml",
        type="list",
        ca=None,
        eca=_writable(_element(_SAML, "commaSeparatedPermissionSet", split_commas, "comma-separated Ids")),
        many=True,
    ),
    # canvas -------------------------------------------------------------------------------------------------
    Field(
        "canvas_url",
        "Canvas App URL",
        group="canvas",
        type="url",
        ca=_writable(_ca_element("canvasConfig.canvasUrl")),
        eca=_writable(_element(_CANVAS, "canvasUrl")),
    ),
    Field(
        "canvas_access_method",
        "Access Method",
        group="canvas",
        type="enum",
        ca=_writable(_ca_element("canvasConfig.accessMethod")),
        eca=_writable(_element(_CANVAS, "accessMethod")),
        allowed=("Get", "Post"),
    ),
    Field(
        "canvas_locations",
        "Locations",
        group="canvas",
        type="list",
        ca=_writable(_ca_element("canvasConfig.locations", list, many=True)),
        eca=_writable(_element(_CANVAS, "canvasLocationOptions", list, many=True)),
        many=True,
        allowed=_enum("CanvasLocationOptions", ()),
    ),
    # ECA plugin switches ------------------------------------------------------------------------------------
    _boolean(
        "eca_enabled",
        "App Enabled",
        group="eca",
        ca=None,
        eca=_writable(_element(_PLUGINS, "isEnabled", parse_bool)),
    ),
    _boolean(
        "oauth_plugin",
        "OAuth Enabled",
        group="eca",
        ca=None,
        eca=_writable(_element(_PLUGINS, "isOauthPluginEnabled", parse_bool)),
    ),
    _boolean(
        "mobile_plugin",
        "Mobile Enabled",
        group="eca",
        ca=None,
        eca=_writable(_element(_PLUGINS, "isMobilePluginEnabled", parse_bool)),
    ),
    _boolean(
        "push_plugin",
        "Push Enabled",
        group="eca",
        ca=None,
        eca=_writable(_element(_PLUGINS, "isPushPluginEnabled", parse_bool)),
    ),
    _boolean(
        "saml_plugin",
        "SAML Enabled",
        group="eca",
        ca=None,
        eca=_writable(_element(_PLUGINS, "isSamlPluginEnabled", parse_bool)),
    ),
    _boolean(
        "canvas_plugin",
        "Canvas Enabled",
        group="eca",
        ca=None,
        eca=_writable(_element(_PLUGINS, "isCanvasPluginEnabled", parse_bool)),
    ),
    _boolean(
        "notification_plugin",
        "Notifications Enabled",
        group="eca",
        ca=None,
        eca=_writable(_element(_PLUGINS, "isNotificationPluginEnabled", parse_bool)),
    ),
    Field(
        "notification_types",
        "Notification Types",
        group="eca",
        type="list",
        ca=None,
        eca=_read_only(
            _element(
                _NOTIFY, "notificationTypes.notificationType", list, "each with pushByDefault", many=True
            ),
            why="records (notificationType, pushByDefault): change them in the file or Setup; "
            "toolkit edits do not write them",
        ),
        many=True,
    ),
    Field(
        "attest_service",
        "App Attestation Service",
        group="eca",
        type="enum",
        ca=None,
        eca=_writable(_element(_ATTEST, "attestServiceType")),
        allowed=_enum("AttestServiceType", ("Apple", "Android")),
    ),
    Field(
        "attest_enforce_level",
        "App Attestation Enforcement",
        group="eca",
        type="enum",
        ca=None,
        eca=_writable(_element(_ATTEST_POLICY, "attestEnforceLevel")),
        allowed=_enum("AttestEnforceLevel", ("None", "ClientControlled", "Strict")),
    ),
    # Apex handler -------------------------------------------------------------------------------------------
    Field(
        "plugin",
        "Custom Connected App Handler (Apex class)",
        group="plugin",
        type="string",
        ca=_writable(_ca_element("plugin")),
        eca=_writable(_eca_policy("apexHandler")),
    ),
    Field(
        "plugin_run_as",
        "Run As (handler)",
        group="plugin",
        type="string",
        ca=_writable(_ca_element("pluginExecutionUser")),
        eca=_writable(_eca_policy("executeHandlerAs")),
    ),
]

CATALOG: dict[str, Field] = {f.id: f for f in _FIELDS}
_BY_PATH: dict[tuple[str, str], Field] = {}
for _f in _FIELDS:
    for _b in (_f.ca, _f.eca):
        for _s in _b.reads if _b else ():
            if not _s.attribute:  # attribute lookups share the path of the custom_attributes field
                _BY_PATH.setdefault((_s.type_name, _s.path), _f)


# --- query API ----------------------------------------------------------------------------------------------
def field(id: str) -> Field:
    """The field with this canonical id; :class:`~toolkit.errors.UnknownFieldError` otherwise.

    >>> field("refresh_policy").allowed
    ('infinite', 'zero', 'specific_lifetime', 'specific_inactivity')
    """
    if not isinstance(id, str):
        raise UnknownFieldError("catalog", repr(id), "field ids are text, such as 'pin_length'")
    try:
        return CATALOG[id]
    except KeyError:
        close = [k for k in CATALOG if id.lower().replace("-", "_") in k][:5]
        hint = f"did you mean {', '.join(close)}?" if close else f"known fields: {', '.join(CATALOG)}"
        raise UnknownFieldError("catalog", id, hint) from None


def fields(
    group: str | None = None,
    kind: str | None = None,
    *,
    writable: bool | None = None,
    many: bool | None = None,
) -> list[Field]:
    """Fields in catalog order, filtered by group, by kind of app that has them, writability, multi-valued.

    >>> [f.id for f in fields(group="push", kind="ConnectedApp")]
    ['push_service', 'push_full_content']
    >>> "pin_length" in [f.id for f in fields(kind="ConnectedApp", writable=False)]
    True
    """
    if group is not None and group not in GROUPS:
        raise UnknownNameError("catalog group", group, GROUPS)
    if kind is not None and kind not in (CA, ECA):
        raise UnknownNameError("kind of app", kind, (CA, ECA))
    out = []
    for f in _FIELDS:
        if group is not None and f.group != group:
            continue
        if kind is not None and f.binding(kind) is None:
            continue
        if writable is not None and kind is not None and f.writable(kind) != writable:
            continue
        if writable is not None and kind is None and (f.writable(CA) or f.writable(ECA)) != writable:
            continue
        if many is not None and f.many != many:
            continue
        out.append(f)
    return out


def for_path(type_name: str, path: str) -> Field | None:
    """The field read from a metadata (or SOQL) path, or None.

    >>> for_path("ExtlClntAppOauthConfigurablePolicies", "ipRelaxationPolicyType").id
    'ip_relaxation'
    >>> for_path("ConnectedApplication", "PinLength").id
    'pin_length'
    """
    return _BY_PATH.get((type_name, path))


def read_value(bundle: AppBundle, f: Field | str) -> Any:
    """The canonical Python value of a field for a CA or an ECA (None when absent or not applicable).

    Sources are tried in order (metadata first, then ``bundle.soql``); the first present value wins.
    Multi-valued fields return a list (empty when absent).

    >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label><oauthPolicy><ipRelaxation>BYPASS</ipRelaxation>'
    ...     b'<refreshTokenPolicy>specific_lifetime:90:DAYS</refreshTokenPolicy></oauthPolicy>'
    ...     b'</ConnectedApp>')
    >>> app = AppBundle(name="A", kind="ConnectedApp", documents=[doc],
    ...                 soql={"ConnectedApplication": {"PinLength": "6"}})
    >>> [read_value(app, i) for i in ("ip_relaxation", "refresh_n", "pin_length", "scopes")]
    ['BYPASS', 90, 6, []]
    """
    fld = f if isinstance(f, Field) else field(f)
    if not isinstance(bundle, AppBundle):
        raise ArgumentError(
            "read_value(bundle)", f"<{type(bundle).__name__}>", "an AppBundle (inventory.apps)"
        )
    binding = fld.binding(bundle.kind)
    if binding is not None:
        for source in binding.reads:
            value = _read_source(bundle, source)
            if value is not None and value != []:
                return value
    return [] if fld.many else None


def _read_source(bundle: AppBundle, source: Source) -> Any:
    if source.soql:
        row = bundle.soql.get(source.type_name)
        if row is None and source.type_name == SOQL_CA:
            row = bundle.soql  # a flat ConnectedApplication row is accepted too
        raw = row.get(source.path) if isinstance(row, Mapping) else None
        if raw is None or raw == "":
            return None
        return source.parse(raw) if source.parse else raw
    for doc in bundle.docs(source.type_name):
        raw_value = _raw(doc, source)
        if raw_value is None:
            continue
        value = source.parse(raw_value) if source.parse else raw_value
        if value is not None:
            return value
    return None


def _raw(doc: MetadataDocument, source: Source) -> Any:
    if source.record:
        rows = []
        for el in doc.elements(source.path):
            kids = {c.tag.rsplit("}", 1)[-1]: (c.text or "").strip() for c in el if isinstance(c.tag, str)}
            rows.append({key: kids.get(child) or None for child, key in source.record})
        return rows or None
    if source.attribute:
        for el in doc.elements(source.path):
            kids = {c.tag.rsplit("}", 1)[-1]: (c.text or "") for c in el if isinstance(c.tag, str)}
            if kids.get("key") == source.attribute:
                return kids.get("formula", "").strip().strip('"')
        return None
    if source.many:
        values = doc.get_all(source.path)
        return [v.strip() for v in values if v.strip()] or None
    value = doc.get(source.path)
    return None if value is None or value.strip() == "" else value.strip()


def locate(bundle: AppBundle, f: Field | str) -> tuple[str, int | None] | None:
    """Where a field lives in an app's files: (file, line of the element), or the line of the component that
    would hold it when the element is absent; None when the app has no document (an org-only app).

    >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'\\n<label>A</label>\\n<oauthPolicy>\\n<ipRelaxation>BYPASS</ipRelaxation>\\n</oauthPolicy>'
    ...     b'\\n</ConnectedApp>', source="a.connectedApp-meta.xml")
    >>> app = AppBundle(name="A", kind="ConnectedApp", documents=[doc])
    >>> locate(app, "ip_relaxation"), locate(app, "pkce")
    (('a.connectedApp-meta.xml', 4), ('a.connectedApp-meta.xml', 1))
    """
    fld = CATALOG.get(f) if isinstance(f, str) else f
    binding = fld.binding(bundle.kind) if fld is not None else None
    sources = [s for s in binding.reads if not s.soql] if binding is not None else []
    for source in sources:
        for doc in bundle.docs(source.type_name):
            line = doc.line_of(source.path)
            if line is not None:
                return doc.source, line
    for source in sources:  # absent: the element that would hold it, else its component
        parent = source.path.rpartition(".")[0]
        for doc in bundle.docs(source.type_name) if parent else []:
            line = doc.line_of(parent)
            if line is not None:
                return doc.source, line
    holders = [bundle.doc(s.type_name) for s in sources]
    holders += [bundle.doc(bundle.kind), *bundle.documents[:1]]
    for holder in holders:
        if holder is not None:
            return holder.source, holder.line_of()
    return None


def secret_values(bundle: AppBundle) -> list[str]:
    """Every secret value an app's documents hold (for :func:`toolkit.redact.redact`), masked fields included.

    >>> secret_values(AppBundle(name="A", kind="ConnectedApp"))
    []
    """
    out: list[str] = []
    for fld in _FIELDS:
        if fld.secret or fld.masked or fld.type == "certificate":
            value = read_value(bundle, fld)
            if isinstance(value, str) and value:
                out.append(value)
    return out


def to_markdown(ids: Iterable[str] | None = None) -> str:
    """The catalog as a Markdown table (docs/field-catalog.md is generated from it).

    >>> to_markdown(["pin_length"]).splitlines()[2].split(" | ")[0]
    '| `pin_length`'
    """
    rows = [
        "| id | UI label | group | type | connected app | external client app | write |",
        "|---|---|---|---|---|---|---|",
    ]
    for fld in (CATALOG[i] for i in ids) if ids is not None else _FIELDS:
        flags = " (secret)" if fld.secret else " (masked)" if fld.masked else ""
        allowed = f": {', '.join(fld.allowed)}" if fld.allowed and len(fld.allowed) <= 10 else ""
        rows.append(
            f"| `{fld.id}` | {fld.label} | {fld.group} | {fld.type}{flags}{allowed} | {_where(fld.ca)} | "
            f"{_where(fld.eca)} | CA: {_write(fld, CA)}; ECA: {_write(fld, ECA)} |"
        )
    return "\n".join(rows) + "\n"


def _where(b: Binding | None) -> str:
    if b is None:
        return "—"
    where = "<br>".join(s.describe() for s in b.reads) or "Setup UI only (no API)"
    return where + (f"<br>takes: {', '.join(b.allowed)}" if b.allowed else "")


def _write(fld: Field, kind: str) -> str:
    b = fld.binding(kind)
    return "—" if b is None else (b.write if b.write != "none" else f"none: {b.why_not}")


# Which parts of an app are configured: CA top-level element, or ECA component types (any present).
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "oauth": ("oauthConfig", (_GLOBAL, _OAUTH)),
    "oauth_policy": ("oauthPolicy", (_POLICY,)),
    "session_policy": ("sessionPolicy", ()),
    "saml": ("samlConfig", (_SAML,)),
    "canvas": ("canvasConfig", (_CANVAS,)),
    "mobile_config": ("mobileAppConfig", ("ExtlClntAppMobileSettings", _MOBILE_POLICY)),
    "push": ("", (_PUSH, "ExtlClntAppPushConfigurablePolicies")),
}


def sections(bundle: AppBundle) -> dict[str, bool]:
    """Which sections an app has (``has_oauth``... columns; domain doc §6.1 counts).

    >>> sections(AppBundle(name="A", kind="ConnectedApp"))["oauth"]
    False
    """
    out: dict[str, bool] = {}
    for name, (ca_element, eca_types) in SECTIONS.items():
        if bundle.kind == CA:
            doc = bundle.doc(CA)
            out[name] = bool(ca_element) and doc is not None and doc.has(ca_element)
        else:
            out[name] = any(bundle.doc(t) is not None for t in eca_types)
    return out


# Setup labels of values (what the Setup page shows for a canonical value; domain doc §1.3, §1.5, §1.6).
# Values without an entry are shown as they are (the API name is also what Setup shows, e.g. SHA256).
KIND_LABELS: dict[str, str] = {CA: "Connected app", ECA: "External client app"}
VALUE_LABELS: dict[str, dict[str, str]] = {
    "permitted_users": {
        "AllSelfAuthorized": "All users may self-authorize",
        "AdminApprovedPreAuthorized": "Admin approved users are pre-authorized",
    },
    "ip_relaxation": {
        "ENFORCE": "Enforce IP restrictions",
        "ENFORCE_RELAXREFRESH": "Enforce IP restrictions, but relax for refresh tokens",
        "BYPASS_2FACTOR": "Relax IP restrictions for activated devices",
        "BYPASS": "Relax IP restrictions",
    },
    "refresh_policy": {
        "infinite": "Refresh token is valid until revoked",
        "zero": "Immediately expire refresh token",
        "specific_lifetime": "Expire refresh token after",
        "specific_inactivity": "Expire refresh token if not used for",
    },
    "refresh_unit": {"HOURS": "Hour(s)", "DAYS": "Day(s)", "MONTHS": "Month(s)"},
    "session_level": {"LOW": "Low", "STANDARD": "Standard", "HIGH_ASSURANCE": "High Assurance"},
    "policy_action": {"Block": "Block", "RaiseSessionLevel": "Raise session level"},
    "lock_after": {"0": "Never", "1": "1 minute", **{m: f"{m} minutes" for m in LOCK_MINUTES[2:]}},
    "platform": {"ios": "iOS", "android": "Android"},
    "device_type": {"phone": "Phone", "tablet": "Tablet", "minitablet": "Mini tablet"},
    "distribution_state": {"AutoInstalled": "Auto-installed"},
}


def value_label(f: Field | str, value: Any) -> str:
    """The Setup label of a canonical value (the value itself when Setup shows it as is).

    >>> value_label("ip_relaxation", "ENFORCE_RELAXREFRESH")
    'Enforce IP restrictions, but relax for refresh tokens'
    >>> value_label("lock_after", 0), value_label("saml_signing_algo", "SHA256")
    ('Never', 'SHA256')
    """
    fid = f if isinstance(f, str) else f.id
    text = str(value)
    return VALUE_LABELS.get(fid, {}).get(text, text)


if __name__ == "__main__":  # pragma: no cover - regenerates the table of docs/field-catalog.md
    print(to_markdown(), end="")


# --- writing (bulk edits: toolkit.edits) --------------------------------------------------------------------
# Canonical value -> the raw text an app's metadata holds, where the two differ (the inverse of the read
# mappings above). Keys are (field id, kind).
WRITE_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("ip_relaxation", ECA): {v: k for k, v in _ECA_IP.items()},
    ("refresh_policy", ECA): {v: k for k, v in _ECA_REFRESH.items()},
    ("refresh_unit", ECA): {v: k for k, v in _ECA_UNIT.items()},
    ("lock_after", ECA): {str(v): k for k, v in SCREEN_LOCK_MINUTES.items()},
    ("permitted_users", CA): {v: k for k, v in _CA_PERMITTED.items()},
}
# booleans stored inverted (the UI asks "require secret", the metadata says "secret optional")
INVERTED_BOOLEANS = frozenset({"secret_web_server"})
# one metadata leaf holding several settings: path -> the fields that are its parts, in grammar order
COMPOSITE_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    (CA, "oauthPolicy.refreshTokenPolicy"): ("refresh_policy", "refresh_n", "refresh_unit"),
}
# fields computed from another one: writing goes through the other field
DERIVED_FIELDS = {"high_assurance": "session_level"}
# list fields whose items share one leaf: (field id, kind) -> separator
JOINED_LISTS: dict[tuple[str, str], str] = {
    ("callback_urls", CA): "\n",
    ("callback_urls", ECA): "\n",
    ("scopes", ECA): ",",
    ("profiles", ECA): ",",
    ("permission_sets", ECA): ",",
    ("saml_profiles", ECA): ",",
    ("saml_permission_sets", ECA): ",",
}
# where a person changes a setting that no API writes (Setup, Lightning Experience)
SETUP_PATHS = {
    "pin_length": "Setup > App Manager > (app) > Manage > Edit Policies > Mobile Integration > PIN Length",
    "lock_after": "Setup > App Manager > (app) > Manage > Edit Policies > Mobile Integration > "
    "Lock App After",
    "push_service": "Setup > App Manager > (app) > Edit > Mobile App Settings > Push Messaging Enabled",
    "push_full_content": "Setup > App Manager > (app) > Manage > Edit Policies > Push Notifications",
}
# the ECA setting that replaces a connected app setting no API writes
ECA_ALTERNATIVES = {
    "pin_length": "none: ECAs have no PIN length either (the Mobile SDK uses the device passcode since 9.2)",
    "lock_after": "lock_after on an external client app "
    "(ExtlClntAppMobileConfigurablePolicies.screenLockTimeout)",
    "push_service": "push_service on an external client app (ExtlClntAppPushSettings.pushServiceType)",
    "push_full_content": "push_full_content on an external client app "
    "(ExtlClntAppPushConfigurablePolicies.isFullContent)",
}

TRIPLE_DES_URL = (
    "https://trailhead.salesforce.com/content/learn/modules/salesforce-architect-certification-maintenance-"
    "winter-26/discover-whats-new-with-identity-management-for-winter-26"
)
# values an app may hold (read as they are) that an edit must never write, with why: (field id, kind) -> why
REFUSED_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("saml_encryption", CA): {
        "Triple_Des": "Salesforce says to replace Triple DES with AES in SAML configurations (Winter '26 "
        f"identity guidance {TRIPLE_DES_URL})",
    },
    ("saml_encryption", ECA): {"Triple_Des": "external client apps take AES_128 or AES_256 only"},
}


def refused_value(field_id: str, kind: str, value: str) -> str:
    """Why an edit must not write ``value`` to this field on this kind of app ("" when it may).

    >>> refused_value("saml_encryption", "ConnectedApp", "triple_des")[:45]
    'Salesforce says to replace Triple DES with AE'
    >>> refused_value("saml_encryption", "ConnectedApp", "AES_256")
    ''
    """
    refused = REFUSED_VALUES.get((field_id, kind), {})
    return next((why for v, why in refused.items() if v.lower() == str(value).strip().lower()), "")


def write_source(f: Field | str, kind: str) -> Source | None:
    """The metadata element an edit writes for this kind of app (the first metadata read source), or None.

    >>> write_source("ip_relaxation", "ExternalClientApplication").describe()[:60]
    'ExtlClntAppOauthConfigurablePolicies.ipRelaxationPolicyType '
    >>> write_source("pin_length", "ConnectedApp") is None
    True
    """
    fld = field(f) if isinstance(f, str) else f
    binding = fld.binding(kind)
    if binding is None or binding.write == "none":
        return None
    return next((s for s in binding.reads if not s.soql), None)


def to_raw(f: Field | str, kind: str, canonical: str) -> str:
    """The raw metadata text of a canonical value (``ENFORCE`` -> ``Enforce`` on an ECA).

    >>> to_raw("ip_relaxation", "ExternalClientApplication", "ENFORCE")
    'Enforce'
    >>> to_raw("secret_web_server", "ConnectedApp", "true")
    'false'
    >>> to_raw("lock_after", "ExternalClientApplication", "5")
    'Five'
    """
    fld = field(f) if isinstance(f, str) else f
    if fld.id in INVERTED_BOOLEANS:
        return "false" if canonical == "true" else "true"
    return WRITE_VALUES.get((fld.id, kind), {}).get(canonical, canonical)
