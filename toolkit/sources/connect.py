"""``toolkit.connect``: one function for every way of reaching an org; returns an :class:`~.org.Org`.

Modes (the first that the arguments select):

- ``connect()`` / ``connect("demo")``: start an embedded demo org in-process (stopped by ``org.close()``);
  with ``instance_url``/``access_token``/``ca_file`` it attaches to a demo org that is already running.
- ``connect("ALIAS")`` / ``connect(alias="ALIAS")``: reuse a Salesforce CLI login
  (``sf org display --json --target-org ALIAS``, then ``sf org auth show-access-token --json`` where
  ``org display`` redacts the token, as sf 2.136 does); nothing is stored, a re-login asks ``sf`` again.
- ``connect(instance_url=..., access_token=...)``: a token you already have (no re-login possible).
- ``connect(username=..., consumer_key=..., private_key_file=..., login_url=...)``: OAuth JWT bearer.
- ``connect(consumer_key=..., consumer_secret=..., login_url=...)``: OAuth client credentials.
- ``connect(username=..., password=..., security_token=..., login_url=...)``: username/password (SOAP login).

Secrets passed in are registered with :mod:`toolkit.redact` and never appear in reprs, logs or errors.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlparse

import requests

from .. import checks
from ..errors import ArgumentError, OrgError, SourceError
from ..redact import redact, register_secret
from .org import DEFAULT_CONCURRENCY, Org, Timeout, mount_timeouts, timeouts
from .resilience import RetryPolicy

SF_TIMEOUT_SECONDS = 120  # one `sf` command (it starts Node and may refresh the token)


def login_domain(login_url: str | None) -> str | None:
    """simple-salesforce's ``domain`` for a login URL (it logs in at ``https://{domain}.salesforce.com``).

    My Domain and login/test hosts map to their prefix; any other host (a demo org on 127.0.0.1) is reached
    through the trailing-slash form ``host:port/`` -> ``https://host:port/.salesforce.com/...``.

    >>> login_domain("https://acme.my.salesforce.com"), login_domain("https://test.salesforce.com")
    ('acme.my', 'test')
    >>> login_domain("https://127.0.0.1:8443")
    '127.0.0.1:8443/'
    """
    if not login_url:
        return None
    u = urlparse(login_url if "://" in login_url else f"https://{login_url}")
    host = u.hostname or ""
    if host.endswith(".salesforce.com") and not u.port:
        return host[: -len(".salesforce.com")]
    return f"{host}:{u.port}/" if u.port else f"{host}/"


def connect(
    target: str | None = None,
    *,
    alias: str | None = None,
    instance_url: str | None = None,
    access_token: str | None = None,
    ca_file: str | None = None,
    login_url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    security_token: str | None = None,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    private_key_file: str | None = None,
    api_version: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    policy: RetryPolicy | None = None,
    demo_options: dict[str, Any] | None = None,
    timeout: Timeout | None = None,
) -> Org:
    """Connect to an org and return an :class:`~toolkit.sources.org.Org` (see the module doc for the modes).

    ``timeout``: seconds of silence allowed while waiting for an answer (the read timeout; connecting
    gets at most 10 s), or a ``(connect, read)`` pair; default ``(10, 60)``. Each call and its retries get
    twice the read timeout in all (``RetryPolicy.budget``, 120 s by default) unless ``policy`` says.

    >>> connect(instance_url="https://acme.my.salesforce.com", access_token="00Dx!TOKENTOKEN",
    ...         api_version="66.0")
    Org(instance_url='https://acme.my.salesforce.com', auth='access_token', api_version='66.0')
    """
    secrets = [s for s in (access_token, password, security_token, consumer_secret) if s]
    if policy is None and timeout is not None:
        policy = RetryPolicy(budget=2 * timeouts(timeout)[1])
    for s in secrets:
        register_secret(s)
    _check_arguments(locals())
    if instance_url is not None:
        instance_url = checks.https_base_url("instance_url", instance_url)
    if login_url is not None:
        login_url = checks.https_base_url("login_url", login_url)
    if ca_file is not None:
        ca_file = checks.pem_file("ca_file", ca_file)
    concurrency = checks.whole_number("concurrency", concurrency, 1, checks.MAX_CONCURRENCY)
    session = requests.Session()
    # every call, logins included, gets (connect, read) timeouts: 10 s / 60 s unless ``timeout`` says
    mount_timeouts(session, timeouts(timeout))
    if ca_file:
        session.verify = ca_file  # trust the demo org's CA; TLS verification stays on
        session.trust_env = False  # else a REQUESTS_CA_BUNDLE in the environment overrides ``verify``
    named = any((instance_url, access_token, username, consumer_key))
    if target in (None, "demo") and not alias and not named:
        login = _demo_login(session, demo_options or {})
    elif alias or target not in (None, "demo"):
        login = _sf_cli_login(session, alias or str(target))
    elif instance_url and access_token:
        login = _Login(_build(session, instance_url=instance_url, session_id=access_token),
                       "access_token" if target != "demo" else "demo")
    else:
        login = _simple_salesforce_login(
            session, login_domain(login_url or instance_url), username=username, password=password,
            security_token=security_token, consumer_key=consumer_key, consumer_secret=consumer_secret,
            private_key_file=private_key_file,
        )
    org = Org(
        login.sf, auth=login.auth, api_version=api_version or login.api_version, relogin=login.relogin,
        owned=login.owned, concurrency=concurrency, policy=policy, secrets=[*secrets, *login.secrets],
        timeout=timeout,
    )
    _first_contact(org, pinned=bool(api_version or login.api_version))
    return org


@dataclass
class _Login:
    """What one way of signing in gives :func:`connect`: the client and how to sign in again."""

    sf: Any
    auth: str
    relogin: Callable[[Any], None] | None = None
    owned: Any = None  # an embedded demo org this connection starts and stops
    secrets: list[str] = field(default_factory=list)  # tokens learnt while signing in (redacted everywhere)
    api_version: str | None = None  # the version the sign-in names (the sf CLI's)


def _demo_login(session: requests.Session, options: dict[str, Any]) -> _Login:
    owned = _start_demo(options)
    session.verify, session.trust_env = owned.ca_file, False
    sf = _build(session, instance_url=owned.instance_url, session_id=owned.access_token)
    return _Login(sf, "demo", owned=owned, secrets=[owned.access_token])


def _sf_cli_login(session: requests.Session, alias: str) -> _Login:
    info = _sf_org_display(alias)
    sf = _build(session, instance_url=info["instanceUrl"], session_id=info["accessToken"])
    return _Login(sf, "sf_cli", relogin=partial(_sf_cli_relogin, alias=alias), secrets=[info["accessToken"]],
                  api_version=info.get("apiVersion"))


def _simple_salesforce_login(
    session: requests.Session,
    domain: str | None,
    *,
    username: str | None,
    password: str | None,
    security_token: str | None,
    consumer_key: str | None,
    consumer_secret: str | None,
    private_key_file: str | None,
) -> _Login:
    """JWT bearer, client credentials or username-password, through simple-salesforce's own logins."""
    if username and consumer_key and private_key_file:
        sf = _build(session, username=username, consumer_key=consumer_key, privatekey_file=private_key_file,
                    domain=domain)
        return _Login(sf, "jwt", relogin=_simple_salesforce_relogin)
    if consumer_key and consumer_secret and not username:
        if not domain:
            raise SourceError(
                "client credentials need login_url (your My Domain URL); "
                "login.salesforce.com does not accept this flow"
            )
        sf = _build(session, consumer_key=consumer_key, consumer_secret=consumer_secret, domain=domain)
        return _Login(sf, "client_credentials", relogin=_simple_salesforce_relogin)
    if username and password:
        sf = _build(session, username=username, password=password, security_token=security_token or "",
                    domain=domain)
        return _Login(sf, "password", relogin=_simple_salesforce_relogin)
    raise SourceError(
        "connect() needs one of: 'demo'; an sf CLI alias; instance_url + access_token; "
        "username + consumer_key + private_key_file (JWT); consumer_key + consumer_secret "
        "+ login_url (client credentials); username + password [+ security_token]"
    )


def _first_contact(org: Org, *, pinned: bool) -> None:
    """Pick the highest API version (unless pinned); an org that cannot be reached says which and why."""
    try:
        if not pinned:
            org.use_highest_version()
    except OrgError as exc:
        org.close()
        if exc.kind == "TLS_ERROR" or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            detail = _TLS_DETAIL.search(str(exc))
            why = f" ({detail.group(1).strip()})" if detail else ""
            raise OrgError(
                "TLS_VERIFY_FAILED",
                f"cannot verify the TLS certificate of {org.instance_url}{why}; {TLS_HINT}",
            ) from None
        if org.instance_url not in str(exc):  # say which org could not be reached
            said = str(exc).removeprefix(exc.kind + ": ")
            raise OrgError(exc.kind, f"{org.instance_url}: {said}") from None
        raise
    except BaseException:
        org.close()
        raise

TLS_HINT = (
    "if it is signed by a private CA (a demo org, a proxy that inspects TLS), pass --ca-file PEM "
    "(connect(ca_file=...)) or set REQUESTS_CA_BUNDLE to a bundle that holds that CA; verification is never "
    "turned off"
)
_TLS_DETAIL = re.compile(r"certificate verify failed:?([^'\")(]*)")
_TEXT_ARGUMENTS = (
    "target", "alias", "access_token", "login_url", "username", "password", "security_token",
    "consumer_key", "consumer_secret", "private_key_file", "api_version",
)


def _check_arguments(given: dict[str, Any]) -> None:
    """:class:`ArgumentError` for a text argument that is not text (or empty), or a bad ``api_version``."""
    for name in _TEXT_ARGUMENTS:
        value = given.get(name)
        if value is None:
            continue
        secret = name in ("access_token", "password", "security_token", "consumer_secret")
        shown = "…" if secret else value
        if not isinstance(value, str):
            raise ArgumentError(name, f"<{type(value).__name__}>" if secret else shown, "text")
        if not value.strip() and name != "security_token":
            raise ArgumentError(name, shown, "non-empty text")
    version = given.get("api_version")
    if version is not None and not _VERSION.fullmatch(version):
        raise ArgumentError("api_version", version, "an API version such as '66.0'")
    if given.get("private_key_file") is not None and not os.path.isfile(given["private_key_file"]):
        raise ArgumentError("private_key_file", given["private_key_file"], "a PEM private key file",
                            why="no such file")


_VERSION = re.compile(r"[1-9]\d{1,2}\.0")


def _sf_cli_relogin(client: Any, alias: str) -> None:
    client.session_id = _sf_org_display(alias)["accessToken"]  # `sf` refreshes the token itself


def _simple_salesforce_relogin(client: Any) -> None:
    client._refresh_session()  # simple-salesforce logs in again with the partial it kept


def _build(session: requests.Session, **kwargs: Any) -> Any:
    # imported here: simple-salesforce pulls in zeep, which `import toolkit` should not pay for
    from simple_salesforce.api import Salesforce
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    url = kwargs.pop("instance_url", None)
    if url is not None:
        # simple-salesforce takes the host of instance_url without its IPv6 brackets; give it host[:port]
        kwargs["instance"] = urlparse(url).netloc
    try:
        # plain dicts: simple-salesforce's default OrderedDict costs ~20% on large query pages
        return Salesforce(session=session, object_pairs_hook=dict, **kwargs)
    except SalesforceAuthenticationFailed as exc:
        code = str(getattr(exc, "code", "") or "LOGIN_FAILED")
        raise OrgError(code, f"login failed: {_auth_text(exc)}") from None
    except requests.RequestException as exc:
        raise OrgError("CONNECTION_FAILED", f"cannot reach the org: {redact(str(exc))[:300]}") from None


def _auth_text(exc: Any) -> str:
    """What Salesforce said about a failed login (simple-salesforce keeps it in ``content``, as bytes)."""
    content = getattr(exc, "content", b"")
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content or "")
    return redact(" ".join(text.split()))[:300] or "no reason given"


def _start_demo(options: dict[str, Any]) -> Any:
    # imported late: the emulator is only needed for the demo mode
    demo_org_class = importlib.import_module("toolkit.demoorg").DemoOrg
    demo = demo_org_class(**options)
    demo.start()
    register_secret(demo.access_token)
    return demo


def _sf_org_display(alias: str) -> dict[str, Any]:
    """``sf org display --json --target-org ALIAS`` -> its ``result`` with a usable ``accessToken``.

    Older sf releases (2.108.6 verified) print the token in ``org display``; newer ones (2.136.8 verified)
    print a "[REDACTED] ..." placeholder there and reveal it only through ``sf org auth show-access-token
    --json`` (which the older ones do not have). The token is never printed or logged: it is registered as
    a secret at once.
    """
    exe = shutil.which("sf")
    if exe is None:
        raise SourceError(
            f"org alias {alias!r}: the Salesforce CLI 'sf' is not on PATH; install it and run "
            f"'sf org login web --alias {alias}'"
        )
    payload, proc = _sf_json(exe, alias, ["org", "display"])
    result = payload.get("result")
    if proc.returncode != 0 or not isinstance(result, dict):
        raise SourceError(
            f"org alias {alias!r}: 'sf org display' failed: {_sf_message(payload, proc)}; "
            f"log in with 'sf org login web --alias {alias}'"
        )
    token = result.get("accessToken")
    if _usable_token(token):
        register_secret(str(token))
    else:
        # newer sf releases redact the token in `org display`: ask the command made for it
        shown, proc = _sf_json(exe, alias, ["org", "auth", "show-access-token"])
        shown_result = shown.get("result")
        token = shown_result.get("accessToken") if isinstance(shown_result, dict) else None
        if proc.returncode != 0 or not _usable_token(token):
            raise SourceError(
                f"org alias {alias!r}: the Salesforce CLI gave no access token ('sf org display' hides it "
                f"and 'sf org auth show-access-token --json --target-org {alias}' failed: "
                f"{_sf_message(shown, proc)}); log in again with 'sf org login web --alias {alias}'"
            )
        register_secret(str(token))
        result = {**result, "accessToken": token}
    instance_url = str(result.get("instanceUrl") or "").rstrip("/")
    if not instance_url:
        raise SourceError(f"org alias {alias!r}: 'sf org display' gave no instanceUrl")
    return {**result, "instanceUrl": instance_url}


def _usable_token(token: object) -> bool:
    """A real access token, not sf's "[REDACTED] Use 'sf org auth show-access-token' to view" placeholder.

    >>> _usable_token("00D5g0000000002!AQxyz"), _usable_token("[REDACTED] Use 'sf org auth ...' to view")
    (True, False)
    """
    return (
        isinstance(token, str)
        and bool(token)
        and not any(c.isspace() for c in token)
        and ("REDACTED" not in token.upper())
    )


def _sf_json(exe: str, alias: str, command: list[str]) -> tuple[dict[str, Any], Any]:
    """Run ``sf <command> --json --target-org ALIAS`` -> (its JSON object or {}, the finished process)."""
    name = " ".join(command)
    try:
        proc = subprocess.run(
            [exe, *command, "--json", "--target-org", alias],
            capture_output=True,
            text=True,
            timeout=SF_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OrgError(
            "SF_CLI_TIMEOUT", f"org alias {alias!r}: 'sf {name}' did not answer in {SF_TIMEOUT_SECONDS} s"
        ) from None
    except OSError as exc:
        raise SourceError(f"org alias {alias!r}: cannot run the Salesforce CLI {exe}: {exc}") from None
    try:
        payload = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        payload = {}
    return (payload if isinstance(payload, dict) else {}), proc


def _sf_message(payload: dict[str, Any], proc: Any) -> str:
    message = payload.get("message") or (proc.stderr or "").strip() or "no result"
    return redact(" ".join(str(message).split()))[:300]
