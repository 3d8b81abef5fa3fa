"""Authentication: sessions, SOAP partner ``login``, OAuth 2.0 token endpoint (password, JWT bearer,
client credentials, refresh token), and the JWT key pair of the seeded integration app.

Secrets (passwords, client secrets, tokens, assertions) never appear in error messages: errors use
Salesforce's own fixed texts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote
from xml.sax.saxutils import escape

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from .exceptions import OAuthError, SoapFault
from .models import OrgState, Session

PARTNER_NS = "urn:partner.soap.sforce.com"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def generate_jwt_keypair(common_name: str = "demo-org-jwt") -> tuple[bytes, str]:
    """A fresh RSA private key (PEM) and its self-signed certificate (PEM text) for the JWT bearer flow.

    >>> key, cert = generate_jwt_keypair()
    >>> key.startswith(b"-----BEGIN PRIVATE KEY"), cert.startswith("-----BEGIN CERTIFICATE")
    (True, True)
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def new_session(state: OrgState, username: str, client_id: str | None = None) -> Session:
    """Open a session for an active user; its token looks like a real one (``<orgId>!AQ...``).

    >>> from toolkit.demoorg.seed import build
    >>> st = build(apps=2, ecas=0).state
    >>> new_session(st, st.objects["User"][0]["Username"]).token.startswith(st.org_id[:15] + "!AQ")
    True
    """
    user = find_user(state, username)
    if user is None or not user.get("IsActive"):
        raise OAuthError("invalid_grant", "authentication failure")
    token = f"{state.org_id[:15]}!AQ{secrets.token_urlsafe(72).replace('-', 'x').replace('_', 'y')}"
    session = Session(token=token, user_id=user["Id"], username=user["Username"], client_id=client_id)
    with state.lock:
        state.sessions[token] = session
    return session


def find_user(state: OrgState, username: str) -> dict[str, Any] | None:
    """The User row with this username (case-insensitive), or None."""
    wanted = username.strip().lower()
    for user in state.objects.get("User", []):
        if str(user.get("Username", "")).lower() == wanted:
            return user
    return None


def check_session(state: OrgState, token: str | None) -> Session | None:
    """The live session for ``token`` (None when missing, unknown or expired)."""
    if not token:
        return None
    with state.lock:
        session = state.sessions.get(token)
    if session is None or session.expired:
        return None
    return session


def bearer_token(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer <t>`` (or ``OAuth <t>``) header.

    >>> bearer_token({"Authorization": "Bearer abc"})
    'abc'
    """
    value = headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return None


# --- SOAP partner login -------------------------------------------------------------------------
def soap_login(state: OrgState, body: bytes, base_url: str, version: str) -> bytes:
    """Answer a partner ``login`` call (``INVALID_LOGIN`` fault on a wrong username/password+token)."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        raise SoapFault(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
            detail="LoginFault",
        ) from None
    username = _text(root, "username")
    password = _text(root, "password")
    expected = state.passwords.get(username.lower()) or state.passwords.get(username)
    user = find_user(state, username)
    if not expected or not user or not hmac.compare_digest(expected, password) or not user.get("IsActive"):
        raise SoapFault(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
            detail="LoginFault",
        )
    session = new_session(state, username)
    org15 = state.org_id[:15]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
        f"<metadataServerUrl>{base_url}/services/Soap/m/{version}/{org15}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{base_url}/services/Soap/u/{version}/{org15}</serverUrl>"
        f"<sessionId>{session.token}</sessionId><userId>{user['Id']}</userId><userInfo>"
        + user_info_xml(state, user)
        + "</userInfo></result></loginResponse>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def user_info_xml(state: OrgState, user: dict[str, Any]) -> str:
    """The children of a partner ``GetUserInfoResult`` (login's ``userInfo``, ``getUserInfo``'s result).

    Every element the v66 partner WSDL requires, in its sequence order: strict SOAP clients (zeep with the
    official WSDL, the WSC-generated Java stubs of Data Loader) refuse a missing or misplaced element.

    >>> from toolkit.demoorg.seed import build
    >>> st = build(apps=1, ecas=0).state
    >>> user_info_xml(st, st.objects["User"][0]).startswith("<accessibilityMode>false</accessibilityMode>")
    True
    """
    return (
        "<accessibilityMode>false</accessibilityMode><chatterExternal>false</chatterExternal>"
        "<currencySymbol>$</currencySymbol><orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit>"
        "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
        "<orgDefaultCurrencyLocale>en_US</orgDefaultCurrencyLocale>"
        "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>"
        f"<orgHasPersonAccounts>false</orgHasPersonAccounts><organizationId>{state.org_id}</organizationId>"
        "<organizationMultiCurrency>false</organizationMultiCurrency>"
        "<organizationName>Demo Org</organizationName>"
        f'<profileId>{escape(str(user.get("ProfileId")))}</profileId><roleId xsi:nil="true"/>'
        "<sessionSecondsValid>7200</sessionSecondsValid>"
        '<userDefaultCurrencyIsoCode xsi:nil="true"/>'
        f"<userEmail>{escape(str(user.get('Email')))}</userEmail>"
        f"<userFullName>{escape(str(user.get('Name')))}</userFullName><userId>{user['Id']}</userId>"
        "<userLanguage>en_US</userLanguage><userLocale>en_US</userLocale>"
        f"<userName>{escape(user['Username'])}</userName><userTimeZone>Europe/Paris</userTimeZone>"
        "<userType>Standard</userType><userUiSkin>Theme3</userUiSkin>"
    )


def _text(root: Any, local: str) -> str:
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == local:
            return str(el.text or "")
    return ""


# --- OAuth 2.0 token endpoint -------------------------------------------------------------------
def oauth_token(
    state: OrgState, form_body: bytes, headers: Any, base_url: str, source_ip: str | None = None
) -> dict[str, Any]:
    """Answer ``POST /services/oauth2/token``; raises :class:`OAuthError` with Salesforce's error codes.

    ``source_ip`` is the client's address: a login through an app that enforces IP restrictions from outside
    the login IP ranges of the user's profile is refused (:func:`ip_refused`)."""
    form = {k: v[0] for k, v in parse_qs(form_body.decode("utf-8", "replace")).items()}
    grant = form.get("grant_type", "")
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    basic = headers.get("Authorization") or ""
    if basic.lower().startswith("basic "):
        try:
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
    refresh: str | None = None
    if grant == "password":
        client = _client(state, client_id, client_secret)
        username, password = form.get("username", ""), form.get("password", "")
        expected = state.passwords.get(username)
        if not expected or not hmac.compare_digest(expected, password):
            raise OAuthError("invalid_grant", "authentication failure")
        _check_ip(state, username, client_id, grant, source_ip)
        session = new_session(state, username, client_id)
        del client
    elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        session = _jwt_bearer(state, form.get("assertion", ""), source_ip)
        client_id = session.client_id
    elif grant == "client_credentials":
        client = _client(state, client_id, client_secret)
        user = client.get("client_credentials_user")
        if not user:
            raise OAuthError("invalid_grant", "no client credentials user enabled")
        _check_ip(state, user, client_id, grant, source_ip)
        session = new_session(state, user, client_id)
    elif grant == "refresh_token":
        token = form.get("refresh_token", "")
        with state.lock:
            owner = state.refresh_tokens.get(token)
        if owner is None:
            raise OAuthError("invalid_grant", "expired access/refresh token")
        if client_id and client_id not in state.oauth_clients:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        _check_ip(state, owner, client_id, grant, source_ip)
        session = new_session(state, owner, client_id)
    else:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    issued = str(int(time.time() * 1000))
    identity = f"{base_url}/id/{state.org_id}/{session.user_id}"
    secret = (state.oauth_clients.get(client_id or "") or {}).get("secret") or state.org_id
    signature = base64.b64encode(
        hmac.new(secret.encode(), (identity + issued).encode(), hashlib.sha256).digest()
    ).decode()
    out: dict[str, Any] = {
        "access_token": session.token,
        "instance_url": base_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued,
        "signature": signature,
        "scope": "api",
    }
    if refresh:
        out["refresh_token"] = refresh
    return out


# --- IP restrictions (issue 16) ------------------------------------------------------------------
# Help "OAuth 2.0 Authorization Errors" lists invalid_grant "IP restricted or invalid login hours"; the
# lower-case body is what clients match (Mobile SDK): the exact text is a guess (docs/demo-org.md)
IP_RESTRICTED = "ip restricted or invalid login hours"
# ipRelaxation values under which a token-endpoint login is not checked against the profile's ranges
_RELAXED = ("BYPASS",)


def app_ip_relaxation(state: OrgState, app: str | None) -> str | None:
    """The current ``oauthPolicy.ipRelaxation`` of the connected app ``app`` (None: no app, or not set)."""
    if not app:
        return None
    comp = state.metadata.get(("ConnectedApp", app))
    return comp.doc.get("oauthPolicy.ipRelaxation") if comp is not None else None


def ip_refused(
    state: OrgState, user: dict[str, Any], app: str | None, grant: str, source_ip: str | None
) -> bool:
    """Would Salesforce refuse this login for IP restrictions (help "Manage OAuth Access Policies for a
    Connected App")? Only when the user's profile has login IP ranges, the source address is outside all of
    them and the app does not relax them: ``BYPASS`` relaxes; ``ENFORCE_RELAXREFRESH`` relaxes the refresh
    token grant only; ``ENFORCE`` and ``BYPASS_2FACTOR`` (which relaxes only web-server/user-agent logins
    after identity verification, flows the demo org does not serve) enforce. No app: the profile's ranges
    apply. IPv6 or unreadable addresses are not compared (a simplification).

    >>> from toolkit.demoorg.seed import build
    >>> st = build(apps=2, ecas=0).state
    >>> r = st.objects["LoginIpRange"][0]
    >>> user = {"ProfileId": r["ProfileId"]}
    >>> ip_refused(st, user, None, "password", "203.0.113.9")
    True
    >>> ip_refused(st, user, None, "password", r["IpStart"])
    False
    """
    policy = app_ip_relaxation(state, app)
    if policy in _RELAXED or (policy == "ENFORCE_RELAXREFRESH" and grant == "refresh_token"):
        return False
    ip = _ip_number(source_ip)
    if ip is None:
        return False
    spans = [
        (_ip_number(r.get("IpStart")), _ip_number(r.get("IpEnd")))
        for r in state.objects.get("LoginIpRange", [])
        if r.get("ProfileId") == user.get("ProfileId")
    ]
    spans = [s for s in spans if s[0] is not None and s[1] is not None]
    return bool(spans) and not any(a <= ip <= b for a, b in spans)  # type: ignore[operator]


def _ip_number(text: Any) -> int | None:
    try:
        a, b, c, d = (int(x) for x in str(text).split("."))
    except ValueError:
        return None
    if not all(0 <= x <= 255 for x in (a, b, c, d)):
        return None
    return (a << 24) | (b << 16) | (c << 8) | d


def _check_ip(
    state: OrgState, username: str, client_id: str | None, grant: str, source_ip: str | None
) -> None:
    user = find_user(state, username)
    app = (state.oauth_clients.get(client_id or "") or {}).get("app")
    if user is not None and ip_refused(state, user, app, grant, source_ip):
        raise OAuthError("invalid_grant", IP_RESTRICTED)


def _client(state: OrgState, client_id: str | None, client_secret: str | None) -> dict[str, Any]:
    client = state.oauth_clients.get(client_id or "")
    if client is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not client.get("secret") or not hmac.compare_digest(str(client["secret"]), client_secret or ""):
        raise OAuthError("invalid_client", "invalid client credentials")
    return client


def _jwt_bearer(state: OrgState, assertion: str, source_ip: str | None = None) -> Session:
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    client = state.oauth_clients.get(str(claims.get("iss", "")))
    if client is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not client.get("cert_pem"):
        raise OAuthError("invalid_grant", "invalid assertion")
    public_key = x509.load_pem_x509_certificate(client["cert_pem"].encode()).public_key()
    try:
        # aud is the login URL the client used (login/test/My Domain, or our own host): not checked
        jwt.decode(
            assertion,
            public_key,  # type: ignore[arg-type]
            algorithms=["RS256"],
            options={"verify_aud": False, "require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise OAuthError("invalid_grant", "expired authorization code") from None
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    user = find_user(state, str(claims.get("sub", "")))
    if user is None or not user.get("IsActive"):
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    _check_ip(state, user["Username"], str(claims["iss"]), "jwt", source_ip)
    return new_session(state, user["Username"], str(claims["iss"]))


# --- OpenID Connect UserInfo ---------------------------------------------------------------------
def userinfo(state: OrgState, session: Session, base_url: str) -> dict[str, Any]:
    """Answer ``GET /services/oauth2/userinfo`` for the session's user (Salesforce's OpenID Connect shape).

    The Salesforce CLI (``sf org login access-token``) reads ``user_id`` and ``organization_id`` here.

    >>> from toolkit.demoorg.seed import build
    >>> st = build(apps=1, ecas=0).state
    >>> info = userinfo(st, new_session(st, st.objects["User"][0]["Username"]), "https://h")
    >>> info["organization_id"] == st.org_id, info["sub"] == f"https://h/id/{st.org_id}/{info['user_id']}"
    (True, True)
    """
    user = find_user(state, session.username) or {}
    org, uid = state.org_id, str(user.get("Id") or session.user_id)
    soap = f"{base_url}/services/Soap"
    data = f"{base_url}/services/data/v{{version}}"
    return {
        "sub": f"{base_url}/id/{org}/{uid}",
        "user_id": uid,
        "organization_id": org,
        "preferred_username": user.get("Username", session.username),
        "nickname": str(user.get("Username", session.username)).split("@")[0],
        "name": user.get("Name"),
        "email": user.get("Email"),
        "email_verified": True,
        "given_name": user.get("FirstName"),
        "family_name": user.get("LastName"),
        "zoneinfo": "Europe/Paris",
        "photos": {
            "picture": f"{base_url}/profilephoto/005/F",
            "thumbnail": f"{base_url}/profilephoto/005/T",
        },
        "profile": f"{base_url}/{uid}",
        "picture": f"{base_url}/profilephoto/005/F",
        "address": {},
        "urls": {
            "enterprise": f"{soap}/c/{{version}}/{org}",
            "metadata": f"{soap}/m/{{version}}/{org}",
            "partner": f"{soap}/u/{{version}}/{org}",
            "rest": f"{data}/",
            "sobjects": f"{data}/sobjects/",
            "search": f"{data}/search/",
            "query": f"{data}/query/",
            "recent": f"{data}/recent/",
            "tooling_soap": f"{soap}/T/{{version}}/{org}",
            "tooling_rest": f"{data}/tooling/",
            "profile": f"{base_url}/{uid}",
            "custom_domain": base_url,
        },
        "active": bool(user.get("IsActive", True)),
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 3600000,
        "updated_at": "2025-01-01T00:00:00Z",
        "is_app_installed": True,
    }


def single_access(base_url: str, redirect_uri: str | None) -> dict[str, str]:
    """Answer ``/services/oauth2/singleaccess`` (a one-time front-door URL; ``sf org open`` asks for it).

    The demo org has no UI: the URL names ``/secur/frontdoor.jsp`` as Salesforce does, but nothing serves it.

    >>> single_access("https://h", "/lightning/setup/SetupOneHome/home")["frontdoor_uri"].split("?")[0]
    'https://h/secur/frontdoor.jsp'
    """
    query = f"otp={secrets.token_urlsafe(24)}&cshc={secrets.token_urlsafe(12)}"
    if redirect_uri:
        query += "&startURL=" + quote(redirect_uri, safe="")
    return {"frontdoor_uri": f"{base_url}/secur/frontdoor.jsp?{query}"}
