"""The sObjects of the demo org: their schema (REST describe) and their rows.

Objects that mirror metadata (``ConnectedApplication``, ``AppMenuItem``, ``SetupEntityAccess``,
``ExternalClientApplication``, ``ExtlClntAppOauthPlcyCnfg``) are *derived* from ``OrgState.metadata`` plus
``OrgState.soql_only`` on every query (cached per document object, so a metadata update shows at once).
The others (``User``, ``OauthToken``, ``LoginHistory``...) are stored rows in ``OrgState.objects``.

:class:`OrgRowSource` is the ``RowSource`` the SOQL engine (``soql.py``) runs against:
``rows(sobject)`` -> iterable of dicts keyed by field API name (datetimes are timezone-aware ``datetime``
objects, the REST layer formats them), ``describe(sobject)`` -> ``{field name: REST describe field dict}``
(``type``, ``referenceTo``, ``relationshipName``, ``filterable``, ``groupable``, ``sortable``, ``nillable``,
``picklistValues``...). Unknown objects raise ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import MetadataComponent, OrgState
from .org_settings import APPROVE_UNINSTALLED, USE_ANY_API_CLIENT
from .running_user import PERMISSION_FIELDS, check_readable, permission_access, visible
from .seed import MOBILE_SESSION_TIMEOUTS, PIN_LENGTHS

# sObject -> (label, key prefix, [(field, type, options)]); options: ref=(target, relationship), len,
# picklist, nofilter (LoginHistory.Application cannot be filtered), filteronly (no sort, no group),
# update (updateable)
_AUDIT = [
    ("CreatedById", "reference", {"ref": ("User", "CreatedBy")}),
    ("CreatedDate", "datetime", {}),
    ("LastModifiedById", "reference", {"ref": ("User", "LastModifiedBy")}),
    ("LastModifiedDate", "datetime", {}),
    ("SystemModstamp", "datetime", {}),
]
_Field = tuple[str, str, dict[str, Any]]
# ConnectedApplication.Options* bit fields: Filter only in the Object Reference (no Group, no Sort)
_FILTER_ONLY: dict[str, Any] = {"filteronly": True}

# LoginHistory.LoginSubType, the restricted picklist of the Object Reference (LoginHistory, API v67), in its
# order; it has no JWT-bearer value (the seed leaves the subtype of JWT-bearer logins empty: a guess)
LOGIN_SUBTYPES = [
    "InternalSalesforceAuthentication",
    "OauthClientCredentials",
    "OauthHybridRefreshToken",
    "OauthHybridTokenExchange",
    "OauthHybridUserAgent",
    "OauthHybridWebServer",
    "OauthOtpLogin",
    "OauthRefreshToken",
    "OauthTokenExchange",
    "OauthUserAgent",
    "OauthUserAgentIdToken",
    "OauthUsernamePassword",
    "OauthWebServer",
    "SoapApiLogin",
    "SoapApiLoginMobile",
    "SoapApiLoginNetworksPortal",
    "SoapApiLoginPortal",
    "SoapApiLoginSelfService",
    "UiPasswordReset",
    "UsernamePasswordUiLogin",
]

# IdpEventLog.ErrorCode, the restricted picklist of the Object Reference (IdpEventLog), in its order
IDP_ERROR_CODES = [
    "AppAccessDenied",
    "AppBlocked",
    "ClientUnapproved",
    "CodeExpired",
    "ForceAuthNLogout",
    "InternalError",
    "InvalidAuthnRequest",
    "InvalidClientCredentials",
    "InvalidCode",
    "InvalidDeviceId",
    "InvalidIdpEndpoint",
    "InvalidIssuer",
    "InvalidScope",
    "InvalidSessionLevel",
    "InvalidSettings",
    "InvalidSignature",
    "InvalidSp",
    "InvalidSpokeSp",
    "InvalidUserCredentials",
    "NoAccess",
    "NoCustomAttrValue",
    "NoCustomField",
    "NoSpokeId",
    "NoSubdomain",
    "NoUserFedId",
    "OauthError",
    "Success",
    "UnableToResolve",
    "UnknownError",
]

SCHEMA: dict[str, tuple[str, str, list[_Field]]] = {
    "ConnectedApplication": (
        "Connected App",
        "0H4",
        [
            ("Id", "id", {}),
            ("Name", "string", {"len": 80}),
            *_AUDIT,
            ("MobileSessionTimeout", "picklist", {"picklist": MOBILE_SESSION_TIMEOUTS}),
            ("MobileStartUrl", "url", {"len": 2400}),
            (
                "NamedUserUvidTimeout",
                "picklist",
                {"picklist": ["1", "5", "10", "15", "30", "60", "90", "120", "240", "480", "720"]},
            ),
            ("OptionsAllowAdminApprovedUsersOnly", "boolean", _FILTER_ONLY),
            ("OptionsAllowExpiredUvidJWT", "boolean", _FILTER_ONLY),
            ("OptionsCodeCredentialGuestEnabled", "boolean", _FILTER_ONLY),
            ("OptionsFullContentPushNotifications", "boolean", _FILTER_ONLY),
            ("OptionsHasSessionLevelPolicy", "boolean", _FILTER_ONLY),
            ("OptionsIsInternal", "boolean", _FILTER_ONLY),
            ("OptionsRefreshTokenValidityMetric", "boolean", _FILTER_ONLY),
            ("OptionsTokenExchangeManageBitEnabled", "boolean", _FILTER_ONLY),
            ("PinLength", "picklist", {"picklist": PIN_LENGTHS}),
            ("RefreshTokenValidityPeriod", "int", {}),
            ("StartUrl", "url", {"len": 2400}),
            ("UvidTimeout", "picklist", {"picklist": ["1", "5", "10", "15", "30"]}),
        ],
    ),
    "AppMenuItem": (
        "App Menu Item",
        "0DS",
        [
            ("Id", "id", {}),
            ("ApplicationId", "reference", {"ref": ("ConnectedApplication", None)}),
            (
                "Type",
                "picklist",
                {"picklist": ["ConnectedApplication", "Network", "ServiceProvider", "TabSet"]},
            ),
            ("Name", "string", {"len": 80}),
            ("Label", "string", {"len": 250}),
            ("Description", "string", {"len": 250}),
            ("NamespacePrefix", "string", {}),
            ("IconUrl", "url", {}),
            ("InfoUrl", "url", {}),
            ("LogoUrl", "url", {}),
            ("IsDeleted", "boolean", {}),
            ("IsAccessible", "boolean", {}),
            ("IsVisible", "boolean", {"update": True}),
            ("IsUsingAdminAuthorization", "boolean", {}),
            ("StartUrl", "url", {}),
            ("MobileStartUrl", "url", {}),
            ("MobilePlatform", "picklist", {"picklist": ["ios", "android"]}),
            ("MobileDeviceType", "picklist", {"picklist": ["phone", "tablet", "minitablet"]}),
            ("MobileMinOsVer", "string", {}),
            ("MobileAppVer", "string", {}),
            ("MobileAppInstallUrl", "url", {}),
            ("MobileAppBinaryId", "string", {}),
            ("MobileAppInstalledDate", "datetime", {}),
            ("MobileAppInstalledVersion", "string", {}),
            ("IsRegisteredDeviceOnly", "boolean", {}),
            ("CanvasUrl", "url", {}),
            ("CanvasEnabled", "boolean", {}),
            ("CanvasAccessMethod", "picklist", {"picklist": ["Get", "Post"]}),
            ("CanvasOptions", "string", {}),
            ("CanvasReferenceId", "string", {"len": 18}),
            ("CanvasSelectedLocations", "string", {}),
            ("SortOrder", "int", {}),
            ("UserSortOrder", "int", {}),
            *_AUDIT,
        ],
    ),
    "SetupEntityAccess": (
        "Setup Entity Access",
        "0J0",
        [
            ("Id", "id", {}),
            ("ParentId", "reference", {"ref": ("PermissionSet", "Parent")}),
            ("SetupEntityId", "reference", {"ref": ("ConnectedApplication", None)}),
            (
                "SetupEntityType",
                "picklist",
                {
                    "picklist": [
                        "ConnectedApplication",
                        "ExternalClientApplication",
                        "ApexClass",
                        "ApexPage",
                        "CustomPermission",
                        "TabSet",
                    ]
                },
            ),
            ("SystemModstamp", "datetime", {}),
        ],
    ),
    "OauthToken": (
        "OAuth Token",
        "0CQ",
        [
            ("Id", "id", {}),
            ("AccessToken", "string", {}),
            ("RequestToken", "string", {}),
            ("AppMenuItemId", "reference", {"ref": ("AppMenuItem", "AppMenuItem")}),
            ("AppName", "string", {}),
            ("DeleteToken", "string", {}),
            ("LastUsedDate", "datetime", {}),
            ("UseCount", "int", {}),
            ("UserId", "reference", {"ref": ("User", "User")}),
            ("CreatedDate", "datetime", {}),
        ],
    ),
    "LoginHistory": (
        "Login History",
        "0Ya",
        [
            ("Id", "id", {}),
            ("UserId", "reference", {"ref": ("User", None)}),
            ("Application", "string", {"nofilter": True}),
            ("LoginTime", "datetime", {}),
            (
                "LoginType",
                "picklist",
                {
                    "picklist": [
                        "Remote Access 2.0",
                        "Remote Access Client",
                        "Application",
                        "SAML Sfdc Initiated SSO",
                        "Other Apex API",
                    ]
                },
            ),
            (
                "LoginSubType",
                "picklist",
                {"picklist": LOGIN_SUBTYPES, "nofilter": True},
            ),
            ("Status", "string", {"nofilter": True}),
            ("SourceIp", "string", {"nofilter": True}),
            ("ClientVersion", "string", {"nofilter": True}),
            ("LoginGeoId", "reference", {"ref": ("LoginGeo", None), "nofilter": True}),
            ("OptionsIsGet", "boolean", {}),
            ("OptionsIsPost", "boolean", {}),
            ("LoginUrl", "string", {}),
            ("ApiType", "string", {"nofilter": True}),
            ("ApiVersion", "string", {"nofilter": True}),
            ("Browser", "string", {"nofilter": True}),
            ("Platform", "string", {"nofilter": True}),
            ("CountryIso", "string", {}),
            ("TlsProtocol", "string", {}),
            ("CipherSuite", "string", {}),
            ("AuthenticationServiceId", "string", {}),
            ("NetworkId", "string", {}),
        ],
    ),
    # Object Reference, IdpEventLog: the fields as documented (AppId refers to ConnectedApplication); the key
    # prefix and the InitiatedBy/SsoType picklist values are not documented there (guesses, docs/demo-org.md)
    "IdpEventLog": (
        "Identity Provider Event Log",
        "0Ip",
        [
            ("Id", "id", {}),
            ("AppId", "reference", {"ref": ("ConnectedApplication", "App")}),
            ("AuthSessionId", "reference", {"ref": ("AuthSession", None)}),
            ("ErrorCode", "picklist", {"picklist": IDP_ERROR_CODES}),
            ("IdentityUsed", "string", {"len": 765}),
            ("InitiatedBy", "picklist", {"picklist": ["IdP", "SP"]}),
            ("OptionsHasLogoutUrl", "boolean", {}),
            ("SamlEntityUrl", "string", {"len": 1500}),
            ("SsoType", "picklist", {"picklist": ["Saml"]}),
            ("Timestamp", "datetime", {}),
            ("UserId", "reference", {"ref": ("User", None)}),
        ],
    ),
    "User": (
        "User",
        "005",
        [
            ("Id", "id", {}),
            ("Username", "string", {}),
            ("Name", "string", {}),
            ("FirstName", "string", {}),
            ("LastName", "string", {}),
            ("Email", "email", {}),
            ("IsActive", "boolean", {}),
            ("ProfileId", "reference", {"ref": ("Profile", "Profile")}),
            ("UserType", "string", {}),
            ("LastLoginDate", "datetime", {}),
            ("CreatedDate", "datetime", {}),
        ],
    ),
    "Profile": ("Profile", "00e", [("Id", "id", {}), ("Name", "string", {}), ("UserType", "string", {})]),
    "PermissionSet": (
        "Permission Set",
        "0PS",
        [
            ("Id", "id", {}),
            ("Name", "string", {}),
            ("Label", "string", {}),
            ("IsOwnedByProfile", "boolean", {}),
            ("ProfileId", "reference", {"ref": ("Profile", "Profile")}),
            ("NamespacePrefix", "string", {}),
            (USE_ANY_API_CLIENT, "boolean", {}),
            (APPROVE_UNINSTALLED, "boolean", {}),  # Summer '26 field references (docs/demo-org.md)
        ],
    ),
    # the running user's permissions (Object Reference, UserPermissionAccess, API 41.0+): one row, no Id
    "UserPermissionAccess": (
        "User Permission Access",
        "",
        [(f, "boolean", {}) for f in PERMISSION_FIELDS],
    ),
    # LoginIpRange (Object Reference): a profile's login IP range; IpStart/IpEnd strings, ProfileId
    "LoginIpRange": (
        "Login IP Range",
        "0Ls",
        [
            ("Id", "id", {}),
            ("ProfileId", "reference", {"ref": ("Profile", "Profile")}),
            ("IpStart", "string", {}),
            ("IpEnd", "string", {}),
            ("Description", "string", {}),
        ],
    ),
    "PermissionSetAssignment": (
        "Permission Set Assignment",
        "0Pa",
        [
            ("Id", "id", {}),
            ("PermissionSetId", "reference", {"ref": ("PermissionSet", "PermissionSet")}),
            ("AssigneeId", "reference", {"ref": ("User", "Assignee")}),
        ],
    ),
    "Organization": (
        "Organization",
        "00D",
        [
            ("Id", "id", {}),
            ("Name", "string", {}),
            ("OrganizationType", "string", {}),
            ("IsSandbox", "boolean", {}),
            ("InstanceName", "string", {}),
            ("NamespacePrefix", "string", {}),
            ("CreatedDate", "datetime", {}),
            ("LanguageLocaleKey", "string", {}),
            ("TimeZoneSidKey", "string", {}),
            ("DefaultLocaleSidKey", "string", {}),
            ("TrialExpirationDate", "datetime", {}),  # null: not a trial org (the Salesforce CLI asks)
        ],
    ),
    "ExternalClientApplication": (
        "External Client App",
        "0xI",
        [
            ("Id", "id", {}),
            ("DeveloperName", "string", {}),
            ("MasterLabel", "string", {}),
            ("NamespacePrefix", "string", {}),
            ("DistributionState", "string", {}),
            ("ContactEmail", "email", {}),
            ("Description", "textarea", {}),
            ("IsProtected", "boolean", {}),
            *_AUDIT,
        ],
    ),
    "ExtlClntAppOauthPlcyCnfg": (
        "External Client App OAuth Policy",
        "0xP",
        [
            ("Id", "id", {}),
            ("DeveloperName", "string", {}),
            ("MasterLabel", "string", {}),
            (
                "ExternalClientApplicationId",
                "reference",
                {"ref": ("ExternalClientApplication", "ExternalClientApplication")},
            ),
            ("PermittedUsersPolicyType", "string", {}),
            ("IpRelaxationPolicyType", "string", {}),
            ("RefreshTokenPolicyType", "string", {}),
            ("RefreshTokenValidityPeriod", "int", {}),
            ("RefreshTokenValidityUnit", "string", {}),
            ("RequiredSessionLevel", "string", {}),
            ("SessionTimeoutInMinutes", "int", {}),
            ("IsClientCredentialsFlowEnabled", "boolean", {}),
            *_AUDIT,
        ],
    ),
}

# objects the Tooling API query endpoint knows (ExtlClntAppOauthPlcyCnfg is standard-API only: INVALID_TYPE)
TOOLING_OBJECTS = {"ConnectedApplication", "User", "Profile", "PermissionSet", "Organization"}
# objects whose rows cannot be created/updated/deleted through the REST sObject resources here
READ_ONLY = set(SCHEMA)

_SOAP_TYPES = {
    "id": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "datetime": "xsd:dateTime",
    "double": "xsd:double",
    "date": "xsd:date",
}


def field_describe(sobject: str, name: str, ftype: str, opts: dict[str, Any]) -> dict[str, Any]:
    """The REST describe entry of one field.

    >>> d = field_describe("ConnectedApplication", "PinLength", "picklist", {"picklist": ["4", "5"]})
    >>> d["type"], [v["value"] for v in d["picklistValues"]], d["restrictedPicklist"]
    ('picklist', ['4', '5'], True)
    """
    ref = opts.get("ref")
    length = opts.get("len", 255 if ftype in ("string", "url", "email", "textarea", "picklist") else 0)
    if ftype == "id" or ftype == "reference":
        length = 18
    picklist = [
        {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
        for v in opts.get("picklist", [])
    ]
    return {
        "name": name,
        "label": name,
        "type": ftype,
        "length": length,
        "soapType": _SOAP_TYPES.get(ftype, "tns:ID" if ftype == "reference" else "xsd:string"),
        "nillable": ftype not in ("id", "boolean"),
        "createable": False,
        "updateable": bool(opts.get("update")),
        "filterable": not opts.get("nofilter"),
        "sortable": ftype != "textarea" and not opts.get("filteronly"),
        "groupable": ftype not in ("datetime", "textarea", "double") and not opts.get("filteronly"),
        "aggregatable": True,
        "custom": False,
        "idLookup": name == "Id",
        "unique": False,
        "calculated": False,
        "defaultedOnCreate": ftype == "boolean" or name in ("Id", "CreatedDate", "SystemModstamp"),
        "picklistValues": picklist,
        "restrictedPicklist": bool(picklist),
        "referenceTo": [ref[0]] if ref else [],
        "relationshipName": ref[1] if ref else None,
        "precision": 0,
        "scale": 0,
        "digits": 9 if ftype == "int" else 0,
    }


def describe_sobject(
    sobject: str, version: str = "66.0", absent: set[tuple[str, str | None]] | None = None
) -> dict[str, Any]:
    """The REST ``/sobjects/<X>/describe`` body (``KeyError`` for unknown objects), without the ``absent``
    fields (``OrgState.absent``).

    >>> describe_sobject("ConnectedApplication")["keyPrefix"]
    '0H4'
    >>> "PinLength" in {f["name"] for f in describe_sobject("ConnectedApplication", absent={
    ...     ("ConnectedApplication", "PinLength")})["fields"]}
    False
    """
    label, prefix, fields = SCHEMA[sobject]
    base = f"/services/data/v{version}/sobjects/{sobject}"
    gone = absent or set()
    return {
        **sobject_summary(sobject, version),
        "fields": [field_describe(sobject, n, t, o) for n, t, o in fields if (sobject, n) not in gone],
        "childRelationships": [],
        "recordTypeInfos": [],
        "supportedScopes": [],
        "urls": {"describe": base + "/describe", "sobject": base, "rowTemplate": base + "/{ID}"},
    }


def sobject_summary(sobject: str, version: str = "66.0") -> dict[str, Any]:
    """The global describe (``/sobjects``) entry of one object.

    >>> sobject_summary("OauthToken")["queryable"]
    True
    """
    label, prefix, _ = SCHEMA[sobject]
    base = f"/services/data/v{version}/sobjects/{sobject}"
    updateable = sobject == "AppMenuItem"
    return {
        "name": sobject,
        "label": label,
        "labelPlural": label + "s",
        "keyPrefix": prefix or None,
        "custom": False,
        "queryable": True,
        "retrieveable": True,
        "searchable": False,
        "createable": sobject == "SetupEntityAccess",
        "updateable": updateable,
        "deletable": sobject in ("AppMenuItem", "SetupEntityAccess"),
        "layoutable": False,
        "replicateable": False,
        "triggerable": False,
        "undeletable": False,
        "mergeable": False,
        "activateable": False,
        "feedEnabled": False,
        "deprecatedAndHidden": False,
        "urls": {"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"},
    }


class OrgRowSource:
    """Rows and field info of every sObject of one :class:`OrgState` (the SOQL engine's RowSource).

    >>> from toolkit.demoorg.seed import build
    >>> src = OrgRowSource(build(apps=4, ecas=1, seed=2).state)
    >>> len(list(src.rows("ConnectedApplication"))), src.describe("User")["ProfileId"]["relationshipName"]
    (4, 'Profile')
    """

    def __init__(self, state: OrgState, tooling: bool = False, viewer: str | None = None) -> None:
        self.state = state
        self.tooling = tooling
        self.viewer = viewer  # the session's user Id: rows as it may see them (None: every row)

    def sobjects(self) -> list[str]:
        names = TOOLING_OBJECTS if self.tooling else SCHEMA
        return sorted(n for n in names if (n, None) not in self.state.absent)

    def describe(self, sobject: str) -> dict[str, dict[str, Any]]:
        name = self.canonical(sobject)
        return {f["name"]: f for f in describe_sobject(name, absent=self.state.absent)["fields"]}

    def canonical(self, sobject: str) -> str:
        """The object's API name in its proper case (SOQL names are case-insensitive)."""
        for name in self.sobjects():
            if name.lower() == sobject.lower():
                return name
        raise KeyError(sobject)

    def rows(self, sobject: str) -> Iterable[dict[str, Any]]:
        name = self.canonical(sobject)
        if name == "UserPermissionAccess":
            return permission_access(self.state, self.viewer)
        check_readable(self.state, name, self.viewer)
        derive = _DERIVED.get(name)
        if derive is not None:
            return derive(self.state)
        return visible(self.state, name, list(self.state.objects.get(name, [])), self.viewer)

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """One row by Id (15- or 18-character), or None."""
        key = record_id[:15]
        for row in self.rows(sobject):
            if row.get("Id") and str(row["Id"])[:15] == key:
                return row
        return None


# --- derivation ---------------------------------------------------------------------------------
_CACHE_ATTR = "_derived_cache"


def _cached(state: OrgState, kind: str, comp: MetadataComponent, make: Any) -> Any:
    cache: dict[tuple[str, str, str], tuple[int, Any]] = state.__dict__.setdefault(_CACHE_ATTR, {})
    key = (kind, comp.type_name, comp.full_name)
    hit = cache.get(key)
    stamp = id(comp.doc) ^ hash(comp.last_modified_date)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = make(comp)
    cache[key] = (stamp, value)
    return value


def _admin_id(state: OrgState) -> str | None:
    users = state.objects.get("User") or [{}]
    return users[0].get("Id")


def _apps(state: OrgState) -> list[MetadataComponent]:
    with state.lock:
        return [c for (t, _), c in state.metadata.items() if t == "ConnectedApp"]


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _connected_application(state: OrgState) -> list[dict[str, Any]]:
    admin = _admin_id(state)

    def make(c: MetadataComponent) -> dict[str, Any]:
        d = c.doc
        policy = d.get("oauthPolicy.refreshTokenPolicy") or ""
        period: int | None = None
        parts = policy.split(":")
        if len(parts) == 3 and parts[1].isdigit():
            period = int(parts[1])
        row: dict[str, Any] = {
            "Id": c.id,
            "Name": d.get("label") or c.full_name,
            "CreatedById": admin,
            "CreatedDate": c.created_date,
            "LastModifiedById": admin,
            "LastModifiedDate": c.last_modified_date,
            "SystemModstamp": c.last_modified_date,
            "MobileStartUrl": d.get("mobileStartUrl"),
            "StartUrl": d.get("startUrl"),
            "OptionsAllowAdminApprovedUsersOnly": _bool(d.get("oauthConfig.isAdminApproved")),
            "OptionsHasSessionLevelPolicy": d.get("sessionPolicy.sessionLevel") == "HIGH_ASSURANCE",
            "OptionsRefreshTokenValidityMetric": policy.startswith("specific_inactivity"),
            "RefreshTokenValidityPeriod": period,
        }
        extra = {k: v for k, v in state.soql_only.get(c.id, {}).items() if not k.startswith("_")}
        row.update(extra)
        return row

    return [dict(_cached(state, "ca", c, make)) for c in _apps(state)]


def _app_menu_item(state: OrgState) -> list[dict[str, Any]]:
    admin = _admin_id(state)

    def make(c: MetadataComponent) -> dict[str, Any]:
        d = c.doc
        facts = state.soql_only.get(c.id, {})
        return {
            "Id": facts.get("_AppMenuItemId"),
            "ApplicationId": c.id,
            "Type": "ConnectedApplication",
            "Name": c.full_name,
            "Label": d.get("label") or c.full_name,
            "Description": d.get("description"),
            "NamespacePrefix": c.namespace_prefix,
            "IsAccessible": True,
            "IsVisible": facts.get("_IsVisible", True),
            "IsUsingAdminAuthorization": _bool(d.get("oauthConfig.isAdminApproved")),
            "StartUrl": d.get("startUrl"),
            "MobileStartUrl": d.get("mobileStartUrl"),
            "MobilePlatform": d.get("mobileAppConfig.devicePlatform"),
            "MobileDeviceType": d.get("mobileAppConfig.deviceType"),
            "MobileMinOsVer": d.get("mobileAppConfig.minimumOsVersion"),
            "MobileAppVer": d.get("mobileAppConfig.version"),
            "MobileAppInstallUrl": d.get("mobileAppConfig.applicationInstallUrl"),
            "MobileAppBinaryId": None,
            "MobileAppInstalledDate": None,
            "MobileAppInstalledVersion": None,
            "IsRegisteredDeviceOnly": False,
            "CanvasUrl": d.get("canvasConfig.canvasUrl"),
            "CanvasEnabled": d.has("canvasConfig"),
            "CanvasAccessMethod": d.get("canvasConfig.accessMethod"),
            "CanvasOptions": ",".join(d.get_all("canvasConfig.options")) or None,
            "CanvasReferenceId": c.id if d.has("canvasConfig") else None,
            "CanvasSelectedLocations": ",".join(d.get_all("canvasConfig.locations")) or None,
            "IconUrl": d.get("iconUrl"),
            "InfoUrl": d.get("infoUrl"),
            "LogoUrl": d.get("logoUrl"),
            "IsDeleted": False,
            "SortOrder": None,
            "UserSortOrder": None,
            "CreatedById": admin,
            "CreatedDate": c.created_date,
            "LastModifiedById": admin,
            "LastModifiedDate": c.last_modified_date,
            "SystemModstamp": c.last_modified_date,
        }

    return [dict(_cached(state, "ami", c, make)) for c in _apps(state) if state.soql_only.get(c.id)]


def setup_entity_access_id(app_id: str, parent_id: str) -> str:
    """The Id of the SetupEntityAccess row of (connected app, permission set): unique per pair.

    >>> setup_entity_access_id("0H45g0000000042AAA", "0PS5g0000000007AAA")
    '0J0000042000007AAA'
    """
    return "0J0" + app_id[9:15] + parent_id[-9:]


def _setup_entity_access(state: OrgState) -> list[dict[str, Any]]:
    permsets = state.objects.get("PermissionSet", [])
    profiles = {p["Id"]: p["Name"] for p in state.objects.get("Profile", [])}
    by_profile = {profiles.get(ps["ProfileId"]): ps for ps in permsets if ps.get("IsOwnedByProfile")}
    by_name = {ps["Name"]: ps for ps in permsets if not ps.get("IsOwnedByProfile")}
    rows: list[dict[str, Any]] = []

    def make(c: MetadataComponent) -> list[dict[str, Any]]:
        out = []
        grants = [by_profile.get(p) for p in c.doc.get_all("profileName")]
        grants += [by_name.get(p) for p in c.doc.get_all("permissionSetName")]
        for ps in grants:
            if ps is None:
                continue
            out.append(
                {
                    "Id": setup_entity_access_id(c.id, ps["Id"]),
                    "ParentId": ps["Id"],
                    "SetupEntityId": c.id,
                    "SetupEntityType": "ConnectedApplication",
                    "SystemModstamp": c.last_modified_date,
                }
            )
        return out

    for c in _apps(state):
        rows.extend(dict(r) for r in _cached(state, "sea", c, make))
    return rows


def _ecas(state: OrgState, type_name: str) -> list[MetadataComponent]:
    with state.lock:
        return [c for (t, _), c in state.metadata.items() if t == type_name]


def _external_client_application(state: OrgState) -> list[dict[str, Any]]:
    admin = _admin_id(state)

    def make(c: MetadataComponent) -> dict[str, Any]:
        d = c.doc
        return {
            "Id": c.id,
            "DeveloperName": c.full_name.split("__")[-1],
            "MasterLabel": d.get("label"),
            "NamespacePrefix": c.namespace_prefix,
            "DistributionState": d.get("distributionState"),
            "ContactEmail": d.get("contactEmail"),
            "Description": d.get("description"),
            "IsProtected": _bool(d.get("isProtected")),
            "CreatedById": admin,
            "CreatedDate": c.created_date,
            "LastModifiedById": admin,
            "LastModifiedDate": c.last_modified_date,
            "SystemModstamp": c.last_modified_date,
        }

    return [dict(_cached(state, "eca", c, make)) for c in _ecas(state, "ExternalClientApplication")]


def _eca_oauth_policy(state: OrgState) -> list[dict[str, Any]]:
    admin = _admin_id(state)
    eca_ids = {c.full_name: c.id for c in _ecas(state, "ExternalClientApplication")}

    def make(c: MetadataComponent) -> dict[str, Any]:
        d = c.doc
        period = d.get("refreshTokenValidityPeriod")
        timeout = d.get("sessionTimeoutInMinutes")
        return {
            "Id": c.id,
            "DeveloperName": c.full_name,
            "MasterLabel": d.get("label"),
            "ExternalClientApplicationId": eca_ids.get(d.get("externalClientApplication") or ""),
            "PermittedUsersPolicyType": d.get("permittedUsersPolicyType"),
            "IpRelaxationPolicyType": d.get("ipRelaxationPolicyType"),
            "RefreshTokenPolicyType": d.get("refreshTokenPolicyType"),
            "RefreshTokenValidityPeriod": int(period) if period and period.isdigit() else None,
            "RefreshTokenValidityUnit": d.get("refreshTokenValidityUnit"),
            "RequiredSessionLevel": d.get("requiredSessionLevel"),
            "SessionTimeoutInMinutes": int(timeout) if timeout and timeout.isdigit() else None,
            "IsClientCredentialsFlowEnabled": _bool(d.get("isClientCredentialsFlowEnabled")),
            "CreatedById": admin,
            "CreatedDate": c.created_date,
            "LastModifiedById": admin,
            "LastModifiedDate": c.last_modified_date,
            "SystemModstamp": c.last_modified_date,
        }

    return [
        dict(_cached(state, "ecap", c, make)) for c in _ecas(state, "ExtlClntAppOauthConfigurablePolicies")
    ]


_DERIVED = {
    "ConnectedApplication": _connected_application,
    "AppMenuItem": _app_menu_item,
    "SetupEntityAccess": _setup_entity_access,
    "ExternalClientApplication": _external_client_application,
    "ExtlClntAppOauthPlcyCnfg": _eca_oauth_policy,
}
