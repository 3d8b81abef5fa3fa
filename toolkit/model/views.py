"""Typed read-only views of connected apps and external client apps.

Views are frozen dataclasses built from :class:`MetadataDocument` (a ``ConnectedApp``) or from an
:class:`AppBundle` (an ECA's family of documents). Values are parsed with :mod:`toolkit.model.values`.
A bad value never crashes a view: the field is ``None`` and a :class:`Flag` keeps the raw string and the
problem. Secrets are not copied into views (only ``has_...`` booleans); the consumer key, an identifier,
is kept but hidden from ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import schema
from .bundle import AppBundle
from .document import MetadataDocument
from .values import (
    IP_RELAXATION_ECA_TO_CA,
    RefreshTokenPolicy,
    canonical_scopes,
    parse_bool,
    parse_int,
    split_callback_urls,
    split_comma_list,
)

SCREEN_LOCK_MINUTES: dict[str, int] = {
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


@dataclass(frozen=True)
class Flag:
    """A value in a file that does not parse: where, the raw text, and what is allowed.

    >>> Flag("ConnectedApp", "oauthPolicy.ipRelaxation", "LOOSE", "allowed: ENFORCE, ...").raw
    'LOOSE'
    """

    type_name: str
    path: str
    raw: str
    problem: str


class _Reader:
    """Reads typed values from one document and collects flags instead of raising."""

    def __init__(self, doc: MetadataDocument | None) -> None:
        self.doc = doc
        self.flags: list[Flag] = []

    def _flag(self, path: str, raw: str, problem: str) -> None:
        assert self.doc is not None
        self.flags.append(Flag(self.doc.type_name, path, raw, problem))

    def s(self, path: str) -> str | None:
        return self.doc.get(path) if self.doc is not None else None

    def all(self, path: str) -> tuple[str, ...]:
        return tuple(self.doc.get_all(path)) if self.doc is not None else ()

    def has(self, path: str) -> bool:
        return self.doc is not None and self.doc.has(path)

    def b(self, path: str) -> bool | None:
        raw = self.s(path)
        if raw is None:
            return None
        try:
            return parse_bool(raw)
        except ValueError as exc:
            self._flag(path, raw, str(exc))
            return None

    def i(self, path: str) -> int | None:
        raw = self.s(path)
        if raw is None:
            return None
        try:
            return parse_int(raw)
        except ValueError as exc:
            self._flag(path, raw, str(exc))
            return None

    def e(self, path: str) -> str | None:
        """An enum value (kept as is; flagged when the schema does not allow it)."""
        raw = self.s(path)
        if raw is None or self.doc is None:
            return raw
        if schema.has_field(self.doc.type_name, path):
            allowed = schema.field_info(self.doc.type_name, path).enum
            if allowed and raw not in allowed:
                self._flag(path, raw, f"allowed: {', '.join(allowed)}")
        return raw

    def unknown(self) -> tuple[str, ...]:
        if self.doc is None:
            return ()
        return tuple(p for p in self.doc.leaves() if not schema.has_field(self.doc.type_name, p))


# --- connected app ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdTokenConfig:
    """``oauthConfig.idTokenConfig``."""

    audience: str | None
    include_attributes: bool | None
    include_custom_perms: bool | None
    include_standard_claims: bool | None
    validity_minutes: int | None


@dataclass(frozen=True)
class OauthConfig:
    """``oauthConfig`` of a connected app (secrets reduced to ``has_...``)."""

    callback_urls: tuple[str, ...]
    consumer_key: str | None = field(repr=False)
    has_consumer_secret: bool
    has_certificate: bool
    scopes: tuple[str, ...]
    scopes_canonical: frozenset[str]
    is_admin_approved: bool | None
    is_client_credential_enabled: bool | None
    oauth_client_credential_user: str | None
    is_code_credential_enabled: bool | None
    is_code_credential_post_only: bool | None
    is_consumer_secret_optional: bool | None
    is_introspect_all_tokens: bool | None
    is_named_user_jwt_enabled: bool | None
    is_pkce_required: bool | None
    is_refresh_token_rotation_enabled: bool | None
    is_secret_required_for_refresh_token: bool | None
    is_secret_required_for_token_exchange: bool | None
    is_token_exchange_enabled: bool | None
    single_logout_url: str | None
    id_token: IdTokenConfig | None


@dataclass(frozen=True)
class OauthPolicy:
    """``oauthPolicy``: IP relaxation and refresh-token policy (``refresh_token_policy`` None if invalid)."""

    ip_relaxation: str | None
    refresh_token_policy: RefreshTokenPolicy | None
    refresh_token_policy_raw: str | None
    is_token_exchange_flow_enabled: bool | None
    single_logout_url: str | None


@dataclass(frozen=True)
class SessionPolicy:
    """``sessionPolicy``."""

    policy_action: str | None
    session_level: str | None
    session_timeout: int | None


@dataclass(frozen=True)
class MobileAppConfig:
    """``mobileAppConfig`` (mobile distribution data)."""

    device_platform: str | None
    device_type: str | None
    version: str | None
    minimum_os_version: str | None
    private_app: bool | None
    application_bundle_identifier: str | None
    application_install_url: str | None
    application_binary_file_name: str | None
    application_file_length: int | None
    application_icon_file_name: str | None
    has_binary: bool


@dataclass(frozen=True)
class SamlConfig:
    """``samlConfig`` (certificates reduced to ``has_...``)."""

    acs_url: str | None
    entity_url: str | None
    issuer: str | None
    subject_type: str | None
    subject_custom_attr: str | None
    name_id_format: str | None
    signing_algo: str | None
    encryption_type: str | None
    idp_slo_binding: str | None
    slo_url: str | None
    has_certificate: bool
    has_encryption_certificate: bool


@dataclass(frozen=True)
class CanvasConfig:
    """``canvasConfig``."""

    access_method: str | None
    canvas_url: str | None
    lifecycle_class: str | None
    locations: tuple[str, ...]
    options: tuple[str, ...]
    saml_initiation_method: str | None


@dataclass(frozen=True)
class IpRange:
    """A trusted IP range (CA ``ipRanges`` or ECA ``trustedIpRanges``)."""

    start: str | None
    end: str | None
    description: str | None


@dataclass(frozen=True)
class Attribute:
    """A custom attribute (key + formula)."""

    key: str | None
    formula: str | None


@dataclass(frozen=True)
class ConnectedAppView:
    """A connected app, typed.

    >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label><oauthPolicy><ipRelaxation>LOOSE</ipRelaxation>'
    ...     b'<refreshTokenPolicy>specific_lifetime:90:DAYS</refreshTokenPolicy>'
    ...     b'</oauthPolicy></ConnectedApp>',
    ...     full_name="A")
    >>> view = ConnectedAppView.from_document(doc)
    >>> view.oauth_policy.refresh_token_policy.n, [f.raw for f in view.flags]
    (90, ['LOOSE'])
    """

    name: str
    label: str | None
    contact_email: str | None
    contact_email_nil: bool
    contact_phone: str | None
    description: str | None
    icon_url: str | None
    info_url: str | None
    logo_url: str | None
    start_url: str | None
    mobile_start_url: str | None
    plugin: str | None
    plugin_execution_user: str | None
    profile_names: tuple[str, ...]
    permission_set_names: tuple[str, ...]
    oauth: OauthConfig | None
    oauth_policy: OauthPolicy | None
    session_policy: SessionPolicy | None
    mobile: MobileAppConfig | None
    saml: SamlConfig | None
    canvas: CanvasConfig | None
    ip_ranges: tuple[IpRange, ...]
    attributes: tuple[Attribute, ...]
    unknown_elements: tuple[str, ...]
    flags: tuple[Flag, ...]

    @classmethod
    def from_document(cls, doc: MetadataDocument) -> ConnectedAppView:
        r = _Reader(doc)
        oauth = None
        if r.has("oauthConfig"):
            p = "oauthConfig."
            scopes = r.all(p + "scopes")
            for bad in [s for s in scopes if s not in schema.enum_values("ConnectedAppOauthAccessScope")]:
                r._flag(p + "scopes", bad, "not a ConnectedAppOauthAccessScope")
            id_token = None
            if r.has(p + "idTokenConfig"):
                q = p + "idTokenConfig."
                id_token = IdTokenConfig(
                    r.s(q + "idTokenAudience"),
                    r.b(q + "idTokenIncludeAttributes"),
                    r.b(q + "idTokenIncludeCustomPerms"),
                    r.b(q + "idTokenIncludeStandardClaims"),
                    r.i(q + "idTokenValidity"),
                )
            oauth = OauthConfig(
                callback_urls=tuple(split_callback_urls(r.s(p + "callbackUrl"))),
                consumer_key=r.s(p + "consumerKey"),
                has_consumer_secret=bool(r.s(p + "consumerSecret")),
                has_certificate=bool(r.s(p + "certificate")),
                scopes=scopes,
                scopes_canonical=canonical_scopes(list(scopes)),
                is_admin_approved=r.b(p + "isAdminApproved"),
                is_client_credential_enabled=r.b(p + "isClientCredentialEnabled"),
                oauth_client_credential_user=r.s(p + "oauthClientCredentialUser"),
                is_code_credential_enabled=r.b(p + "isCodeCredentialEnabled"),
                is_code_credential_post_only=r.b(p + "isCodeCredentialPostOnly"),
                is_consumer_secret_optional=r.b(p + "isConsumerSecretOptional"),
                is_introspect_all_tokens=r.b(p + "isIntrospectAllTokens"),
                is_named_user_jwt_enabled=r.b(p + "isNamedUserJwtEnabled"),
                is_pkce_required=r.b(p + "isPkceRequired"),
                is_refresh_token_rotation_enabled=r.b(p + "isRefreshTokenRotationEnabled"),
                is_secret_required_for_refresh_token=r.b(p + "isSecretRequiredForRefreshToken"),
                is_secret_required_for_token_exchange=r.b(p + "isSecretRequiredForTokenExchange"),
                is_token_exchange_enabled=r.b(p + "isTokenExchangeEnabled"),
                single_logout_url=r.s(p + "singleLogoutUrl"),
                id_token=id_token,
            )
        policy = None
        if r.has("oauthPolicy"):
            raw = r.s("oauthPolicy.refreshTokenPolicy")
            rtp = None
            if raw is not None:
                try:
                    rtp = RefreshTokenPolicy.parse(raw)
                except ValueError as exc:
                    r._flag("oauthPolicy.refreshTokenPolicy", raw, str(exc))
            policy = OauthPolicy(
                r.e("oauthPolicy.ipRelaxation"),
                rtp,
                raw,
                r.b("oauthPolicy.isTokenExchangeFlowEnabled"),
                r.s("oauthPolicy.singleLogoutUrl"),
            )
        session = None
        if r.has("sessionPolicy"):
            session = SessionPolicy(
                r.e("sessionPolicy.policyAction"),
                r.e("sessionPolicy.sessionLevel"),
                r.i("sessionPolicy.sessionTimeout"),
            )
        mobile = None
        if r.has("mobileAppConfig"):
            m = "mobileAppConfig."
            mobile = MobileAppConfig(
                device_platform=r.e(m + "devicePlatform"),
                device_type=r.e(m + "deviceType"),
                version=r.s(m + "version"),
                minimum_os_version=r.s(m + "minimumOsVersion"),
                private_app=r.b(m + "privateApp"),
                application_bundle_identifier=r.s(m + "applicationBundleIdentifier"),
                application_install_url=r.s(m + "applicationInstallUrl"),
                application_binary_file_name=r.s(m + "applicationBinaryFileName"),
                application_file_length=r.i(m + "applicationFileLength"),
                application_icon_file_name=r.s(m + "applicationIconFileName"),
                has_binary=bool(r.s(m + "applicationBinaryFile")),
            )
        saml = None
        if r.has("samlConfig"):
            q = "samlConfig."
            saml = SamlConfig(
                r.s(q + "acsUrl"),
                r.s(q + "entityUrl"),
                r.s(q + "issuer"),
                r.e(q + "samlSubjectType"),
                r.s(q + "samlSubjectCustomAttr"),
                r.e(q + "samlNameIdFormat"),
                r.e(q + "samlSigningAlgoType"),
                r.e(q + "encryptionType"),
                r.e(q + "samlIdpSLOBindingEnum"),
                r.s(q + "samlSloUrl"),
                bool(r.s(q + "certificate")),
                bool(r.s(q + "encryptionCertificate")),
            )
        canvas = None
        if r.has("canvasConfig"):
            q = "canvasConfig."
            canvas = CanvasConfig(
                r.e(q + "accessMethod"),
                r.s(q + "canvasUrl"),
                r.s(q + "lifecycleClass"),
                r.all(q + "locations"),
                r.all(q + "options"),
                r.e(q + "samlInitiationMethod"),
            )
        ranges = tuple(
            IpRange(_child(el, "start"), _child(el, "end"), _child(el, "description"))
            for el in doc.elements("ipRanges")
        )
        attrs = tuple(
            Attribute(_child(el, "key"), _child(el, "formula")) for el in doc.elements("attributes")
        )
        return cls(
            name=doc.full_name,
            label=r.s("label"),
            contact_email=r.s("contactEmail"),
            contact_email_nil=doc.is_nil("contactEmail"),
            contact_phone=r.s("contactPhone"),
            description=r.s("description"),
            icon_url=r.s("iconUrl"),
            info_url=r.s("infoUrl"),
            logo_url=r.s("logoUrl"),
            start_url=r.s("startUrl"),
            mobile_start_url=r.s("mobileStartUrl"),
            plugin=r.s("plugin"),
            plugin_execution_user=r.s("pluginExecutionUser"),
            profile_names=r.all("profileName"),
            permission_set_names=r.all("permissionSetName"),
            oauth=oauth,
            oauth_policy=policy,
            session_policy=session,
            mobile=mobile,
            saml=saml,
            canvas=canvas,
            ip_ranges=ranges,
            attributes=attrs,
            unknown_elements=r.unknown(),
            flags=tuple(r.flags),
        )


def _child(el: object, name: str) -> str | None:
    from .document import local_name

    for c in el:  # type: ignore[attr-defined]
        if local_name(c) == name:
            return str(c.text or "")
    return None


# --- external client app ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EcaOauthSettings:
    """``ExtlClntAppOauthSettings`` (developer side)."""

    scopes: tuple[str, ...]
    scopes_canonical: frozenset[str]
    custom_scopes: tuple[str, ...]
    trusted_ip_ranges: tuple[IpRange, ...]
    custom_attributes: tuple[Attribute, ...]
    is_first_party_app_enabled: bool | None
    single_logout_url: str | None


@dataclass(frozen=True)
class EcaGlobalOauth:
    """``ExtlClntAppGlobalOauthSettings`` (secrets reduced to ``has_...``)."""

    callback_urls: tuple[str, ...]
    consumer_key: str | None = field(repr=False)
    has_consumer_secret: bool
    has_certificate: bool
    is_client_credentials_flow_enabled: bool | None
    is_code_cred_flow_enabled: bool | None
    is_consumer_secret_optional: bool | None
    is_device_flow_enabled: bool | None
    is_introspect_all_tokens: bool | None
    is_named_user_jwt_enabled: bool | None
    is_pkce_required: bool | None
    is_refresh_token_rotation_enabled: bool | None
    is_secret_required_for_refresh_token: bool | None
    is_token_exchange_enabled: bool | None


@dataclass(frozen=True)
class EcaOauthPolicies:
    """``ExtlClntAppOauthConfigurablePolicies`` (admin side); ``ip_relaxation_ca`` is the CA spelling."""

    ip_relaxation: str | None
    ip_relaxation_ca: str | None
    permitted_users: str | None
    refresh_token_policy: RefreshTokenPolicy | None
    session_timeout: int | None
    required_session_level: str | None
    policy_action: str | None
    client_credentials_user: str | None
    is_client_credentials_flow_enabled: bool | None
    start_url: str | None
    profiles: tuple[str, ...]
    permission_sets: tuple[str, ...]


@dataclass(frozen=True)
class EcaPolicies:
    """``ExtlClntAppConfigurablePolicies`` (plugin switches)."""

    is_enabled: bool | None
    is_oauth_plugin_enabled: bool | None
    is_saml_plugin_enabled: bool | None
    is_canvas_plugin_enabled: bool | None
    is_mobile_plugin_enabled: bool | None
    is_push_plugin_enabled: bool | None
    is_notification_plugin_enabled: bool | None
    start_page: str | None
    start_url: str | None


@dataclass(frozen=True)
class EcaPush:
    """``ExtlClntAppPushSettings`` (certificates and keys reduced to ``has_...``)."""

    push_service_type: str | None
    apple_bundle: str | None
    apple_environment: str | None
    apple_key_identifier: str | None
    apple_team_identifier: str | None
    apple_has_certificate: bool
    apple_has_signing_key: bool
    android_fcm_project: str | None
    android_has_service_account: bool


@dataclass(frozen=True)
class ExternalClientAppView:
    """An external client app, typed, from the family documents of an :class:`AppBundle`.

    >>> ns = b' xmlns="http://soap.sforce.com/2006/04/metadata"'
    >>> docs = [MetadataDocument.from_bytes(b'<ExternalClientApplication' + ns + b'><label>E</label>'
    ...     b'</ExternalClientApplication>', full_name="E"),
    ...     MetadataDocument.from_bytes(b'<ExtlClntAppMobileConfigurablePolicies' + ns + b'>'
    ...     b'<screenLockTimeout>Five</screenLockTimeout></ExtlClntAppMobileConfigurablePolicies>')]
    >>> view = ExternalClientAppView.from_bundle(AppBundle("E", "ExternalClientApplication", docs))
    >>> view.label, view.screen_lock_timeout, view.screen_lock_minutes
    ('E', 'Five', 5)
    """

    name: str
    label: str | None
    contact_email: str | None
    description: str | None
    distribution_state: str | None
    managed_type: str | None
    is_protected: bool | None
    org_scoped_external_app: str | None
    oauth_settings: EcaOauthSettings | None
    global_oauth: EcaGlobalOauth | None
    oauth_policies: EcaOauthPolicies | None
    policies: EcaPolicies | None
    is_screen_lock_enabled: bool | None
    screen_lock_timeout: str | None
    screen_lock_minutes: int | None
    push: EcaPush | None
    push_is_full_content: bool | None
    unknown_elements: tuple[str, ...]
    flags: tuple[Flag, ...]

    @classmethod
    def from_bundle(cls, bundle: AppBundle) -> ExternalClientAppView:
        readers = {t: _Reader(bundle.doc(t)) for t in _ECA_TYPES}
        app, st, gl = readers["ExternalClientApplication"], readers[_OAUTH], readers[_GLOBAL]
        pol, sw = readers[_OAUTH_POL], readers[_POL]
        mob, mpol, push, ppol = readers[_MOBILE], readers[_MOBILE_POL], readers[_PUSH], readers[_PUSH_POL]
        settings = None
        if st.doc is not None:
            scopes = tuple(split_comma_list(st.s("commaSeparatedOauthScopes")))
            for bad in [s for s in scopes if s not in schema.enum_values("ConnectedAppOauthAccessScope")]:
                st._flag("commaSeparatedOauthScopes", bad, "not a ConnectedAppOauthAccessScope")
            settings = EcaOauthSettings(
                scopes,
                canonical_scopes(list(scopes)),
                tuple(split_comma_list(st.s("commaSeparatedCustomScopes"))),
                tuple(
                    IpRange(_child(e, "startIpAddress"), _child(e, "endIpAddress"), _child(e, "description"))
                    for e in st.doc.elements("trustedIpRanges")
                ),
                tuple(
                    Attribute(_child(e, "key"), _child(e, "formula"))
                    for e in st.doc.elements("customAttributes")
                ),
                st.b("isFirstPartyAppEnabled"),
                st.s("singleLogoutUrl"),
            )
        global_oauth = None
        if gl.doc is not None:
            global_oauth = EcaGlobalOauth(
                callback_urls=tuple(split_callback_urls(gl.s("callbackUrl"))),
                consumer_key=gl.s("consumerKey"),
                has_consumer_secret=bool(gl.s("consumerSecret")),
                has_certificate=bool(gl.s("certificate")),
                is_client_credentials_flow_enabled=gl.b("isClientCredentialsFlowEnabled"),
                is_code_cred_flow_enabled=gl.b("isCodeCredFlowEnabled"),
                is_consumer_secret_optional=gl.b("isConsumerSecretOptional"),
                is_device_flow_enabled=gl.b("isDeviceFlowEnabled"),
                is_introspect_all_tokens=gl.b("isIntrospectAllTokens"),
                is_named_user_jwt_enabled=gl.b("isNamedUserJwtEnabled"),
                is_pkce_required=gl.b("isPkceRequired"),
                is_refresh_token_rotation_enabled=gl.b("isRefreshTokenRotationEnabled"),
                is_secret_required_for_refresh_token=gl.b("isSecretRequiredForRefreshToken"),
                is_token_exchange_enabled=gl.b("isTokenExchangeEnabled"),
            )
        policies = None
        if pol.doc is not None:
            ip = pol.e("ipRelaxationPolicyType")
            rtp = None
            kind = pol.e("refreshTokenPolicyType")
            if kind is not None:
                try:
                    rtp = RefreshTokenPolicy.from_eca(
                        kind, pol.s("refreshTokenValidityPeriod"), pol.s("refreshTokenValidityUnit")
                    )
                except ValueError as exc:
                    pol._flag("refreshTokenPolicyType", kind, str(exc))
            policies = EcaOauthPolicies(
                ip_relaxation=ip,
                ip_relaxation_ca=IP_RELAXATION_ECA_TO_CA.get(ip or ""),
                permitted_users=pol.e("permittedUsersPolicyType"),
                refresh_token_policy=rtp,
                session_timeout=pol.i("sessionTimeoutInMinutes"),
                required_session_level=pol.e("requiredSessionLevel"),
                policy_action=pol.e("policyAction"),
                client_credentials_user=pol.s("clientCredentialsFlowUser"),
                is_client_credentials_flow_enabled=pol.b("isClientCredentialsFlowEnabled"),
                start_url=pol.s("startUrl"),
                profiles=tuple(split_comma_list(pol.s("commaSeparatedProfile"))),
                permission_sets=tuple(split_comma_list(pol.s("commaSeparatedPermissionSet"))),
            )
        switches = None
        if sw.doc is not None:
            switches = EcaPolicies(
                sw.b("isEnabled"),
                sw.b("isOauthPluginEnabled"),
                sw.b("isSamlPluginEnabled"),
                sw.b("isCanvasPluginEnabled"),
                sw.b("isMobilePluginEnabled"),
                sw.b("isPushPluginEnabled"),
                sw.b("isNotificationPluginEnabled"),
                sw.e("startPage"),
                sw.s("startUrl"),
            )
        push_view = None
        if push.doc is not None:
            push_view = EcaPush(
                push.e("pushServiceType"),
                push.s("applePushConfig.applicationBundle"),
                push.e("applePushConfig.environment"),
                push.s("applePushConfig.keyIdentifier"),
                push.s("applePushConfig.teamIdentifier"),
                bool(push.s("applePushConfig.certificate")),
                bool(push.s("applePushConfig.signingKey")),
                push.s("androidPushConfig.fcmProject"),
                bool(push.s("androidPushConfig.serviceAccount")),
            )
        lock = mpol.e("screenLockTimeout")
        return cls(
            name=bundle.name,
            label=app.s("label"),
            contact_email=app.s("contactEmail"),
            description=app.s("description"),
            distribution_state=app.e("distributionState"),
            managed_type=app.e("managedType"),
            is_protected=app.b("isProtected"),
            org_scoped_external_app=app.s("orgScopedExternalApp"),
            oauth_settings=settings,
            global_oauth=global_oauth,
            oauth_policies=policies,
            policies=switches,
            is_screen_lock_enabled=mob.b("isScreenLockEnabled"),
            screen_lock_timeout=lock,
            screen_lock_minutes=SCREEN_LOCK_MINUTES.get(lock or ""),
            push=push_view,
            push_is_full_content=ppol.b("isFullContent"),
            unknown_elements=tuple(f"{t}.{p}" for t, r in readers.items() for p in r.unknown()),
            flags=tuple(f for r in readers.values() for f in r.flags),
        )


_OAUTH = "ExtlClntAppOauthSettings"
_GLOBAL = "ExtlClntAppGlobalOauthSettings"
_OAUTH_POL = "ExtlClntAppOauthConfigurablePolicies"
_POL = "ExtlClntAppConfigurablePolicies"
_MOBILE = "ExtlClntAppMobileSettings"
_MOBILE_POL = "ExtlClntAppMobileConfigurablePolicies"
_PUSH = "ExtlClntAppPushSettings"
_PUSH_POL = "ExtlClntAppPushConfigurablePolicies"
_ECA_TYPES = (
    "ExternalClientApplication",
    _OAUTH,
    _GLOBAL,
    _OAUTH_POL,
    _POL,
    _MOBILE,
    _MOBILE_POL,
    _PUSH,
    _PUSH_POL,
)


def view_of(bundle: AppBundle) -> ConnectedAppView | ExternalClientAppView | None:
    """The typed view of a bundle (None when it has no metadata document).

    >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label></ConnectedApp>', full_name="A")
    >>> type(view_of(AppBundle("A", "ConnectedApp", [doc]))).__name__
    'ConnectedAppView'
    """
    if bundle.kind == "ConnectedApp":
        doc = bundle.doc("ConnectedApp")
        return ConnectedAppView.from_document(doc) if doc is not None else None
    if not bundle.documents:
        return None
    return ExternalClientAppView.from_bundle(bundle)
