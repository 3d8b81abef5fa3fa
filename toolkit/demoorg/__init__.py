"""The embedded demo org: a wire-level Salesforce emulator over HTTPS on 127.0.0.1.

>>> DemoOrg(apps=5, ecas=1).instance_url  # not started: no URL yet
''

Use it as a context manager (or ``start()``/``stop()``)::

    with DemoOrg(apps=60, ecas=10, seed=1) as org:
        sf = Salesforce(instance_url=org.instance_url, session_id=org.access_token, session=session)

See docs/demo-org.md for every endpoint and where it differs from Salesforce.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from .auth import generate_jwt_keypair, new_session
from .control import expire_sessions, make_fault, stats
from .exceptions import DemoOrgError
from .models import OrgState
from .seed import AUDITOR_USERNAME, CLIENT_CREDENTIALS_APP, JWT_APP, Credentials, build, consumer_key

__all__ = ["DemoOrg"]


def _system_bundle() -> bytes:
    """The CA bundle requests would use otherwise (REQUESTS_CA_BUNDLE or certifi's)."""
    import os

    import certifi

    for candidate in (os.environ.get("REQUESTS_CA_BUNDLE"), os.environ.get("SSL_CERT_FILE"), certifi.where()):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    return b""


class DemoOrg:
    """A running demo org (seeded, deterministic from ``seed``); see the module docstring.

    >>> org = DemoOrg(apps=3, ecas=0, seed=7)
    >>> org.username
    'admin@demo-org.example.com'
    """

    def __init__(
        self,
        apps: int = 60,
        ecas: int = 10,
        seed: int = 1,
        latency_ms: float = 0,
        from_dir: str | Path | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        hostile: bool = False,
        user: str = "admin",
    ) -> None:
        _check_int("apps", apps, 0, MAX_APPS)
        _check_int("ecas", ecas, 0, MAX_ECAS)
        _check_int("port", port, 0, 65535, "a TCP port; 0 picks any free one")
        _check_int("seed", seed, -(2**63), 2**63 - 1)
        if (
            isinstance(latency_ms, bool)
            or not isinstance(latency_ms, int | float)
            or not (0 <= latency_ms <= MAX_LATENCY_MS)
        ):
            raise DemoOrgError(
                f"demo org: latency_ms cannot be {latency_ms!r}; allowed: 0 to {MAX_LATENCY_MS} milliseconds"
            )
        if user not in USERS:
            raise DemoOrgError(f"demo org: user cannot be {user!r}; allowed: {', '.join(USERS)}")
        if from_dir is not None and not Path(from_dir).is_dir():
            raise DemoOrgError(
                f"demo org: --from {from_dir!s} is not a folder; allowed: an SFDX/mdapi folder"
            )
        self.apps, self.ecas, self.seed, self.from_dir = apps, ecas, seed, from_dir
        self.port, self.host = port, host
        # a test facility: also seed apps, users and usage whose text is markup (docs/demo-org.md, "Seed")
        self.hostile = bool(hostile)
        self.port, self.host, self.user = port, host, user
        self._initial_latency = float(latency_ms)
        # consumer keys from the seed and the app's name (the same on every start: no false drift between
        # two audits of one seed); the secrets stay random
        self.creds = Credentials(
            client_id=consumer_key(seed, CLIENT_CREDENTIALS_APP),
            client_secret=secrets.token_hex(32).upper(),
            jwt_consumer_key=consumer_key(seed, JWT_APP),
            security_token="",
            refresh_token=f"5Aep861{secrets.token_urlsafe(60).replace('-', 'x').replace('_', 'y')}",
        )
        self._tmp: Path | None = None
        self._server: Any = None
        self._proxy: Any = None
        self._ca: Any = None
        self._truth: dict[str, Any] = {}
        self.state: OrgState = OrgState(org_id="")
        self.access_token = ""
        self.instance_url = ""
        self.ca_file = ""
        # the system CAs plus the demo org's: safe to export as REQUESTS_CA_BUNDLE (zeep, scripts)
        self.ca_bundle_file = ""
        self.jwt_private_key_file = ""
        self.startup_seconds = 0.0

    # --- public properties -----------------------------------------------------------------------
    @property
    def username(self) -> str:
        """The running user's: the admin's, or the auditor's with ``user="auditor"`` (see running_user.py)."""
        return USERS[self.user] or self.creds.username

    @property
    def password(self) -> str:
        return self.creds.password

    @property
    def security_token(self) -> str:
        return self.creds.security_token

    @property
    def client_id(self) -> str:
        return self.creds.client_id

    @property
    def client_secret(self) -> str:
        return self.creds.client_secret

    @property
    def jwt_consumer_key(self) -> str:
        return self.creds.jwt_consumer_key

    @property
    def refresh_token(self) -> str:
        return self.creds.refresh_token

    @property
    def domain(self) -> str:
        """What simple-salesforce's ``domain=`` needs to reach this org (``"127.0.0.1:PORT/"``)."""
        return self.instance_url.removeprefix("https://") + "/"

    def requests_session(self) -> Any:
        """A ``requests.Session`` that trusts this org's CA.

        ``trust_env`` is off: a ``REQUESTS_CA_BUNDLE`` in the environment would otherwise override ``verify``.
        """
        import requests

        session = requests.Session()
        session.verify = self.ca_file
        session.trust_env = False
        return session

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> DemoOrg:
        """Seed the org, start the HTTPS server, and open the admin session.

        A start that fails (port in use, a seed folder that cannot be read...) stops what it began and
        removes its temporary folder (which holds the JWT private key): nothing is left behind.
        """
        if self._server is not None:
            return self
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> DemoOrg:
        if self.port:
            _check_port_free(self.host, self.port)
        import trustme

        from .server import DemoOrgApp, ServerThread, server_ssl_context

        t0 = time.perf_counter()
        self._tmp = Path(tempfile.mkdtemp(prefix="demo-org-"))
        key_pem, cert_pem = generate_jwt_keypair()
        self.creds.jwt_private_key_pem, self.creds.jwt_cert_pem = key_pem, cert_pem
        key_file = self._tmp / "jwt-private-key.pem"
        key_file.write_bytes(key_pem)
        key_file.chmod(0o600)
        self.jwt_private_key_file = str(key_file)
        ca = trustme.CA()
        self._ca = ca
        leaf = ca.issue_cert(self.host, "localhost")
        ca_file = self._tmp / "demo-org-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        self.ca_file = str(ca_file)
        self.ca_bundle_file = str(self._tmp / "ca-bundle-with-demo-org.pem")
        Path(self.ca_bundle_file).write_bytes(_system_bundle() + b"\n" + ca_file.read_bytes())
        self._seed()
        app = DemoOrgApp(self.state, self.reset, self.truth)
        self._app = app
        try:
            self._server = ServerThread(app, self.host, self.port, server_ssl_context(leaf))
        except (SystemExit, OSError) as exc:  # werkzeug prints and exits when it cannot bind
            raise DemoOrgError(
                f"demo org: cannot listen on {self.host}:{self.port} ({_reason(exc)}); "
                "choose another --port, or 0 for any free one"
            ) from None
        self.instance_url = f"https://{self.host}:{self._server.port}"
        self.startup_seconds = time.perf_counter() - t0
        return self

    def _seed(self) -> None:
        result = build(self.apps, self.ecas, self.seed, self.creds, self.from_dir, hostile=self.hostile)
        fresh = result.state
        if not self.state.org_id:
            self.state = fresh
        else:
            # keep the same OrgState object (the server and callers hold it); keep sessions valid
            with self.state.lock:
                for name in (
                    "metadata",
                    "objects",
                    "soql_only",
                    "oauth_clients",
                    "refresh_tokens",
                    "passwords",
                    "absent",
                ):
                    setattr(self.state, name, getattr(fresh, name))
                self.state.__dict__.pop("_derived_cache", None)
                self.state.requests.clear()
                self.state.queried.clear()
                self.state.faults.clear()
                self.state.api_usage = 0
        self.state.latency_ms = self._initial_latency
        self._truth = result.truth
        if self.creds.refresh_token:  # the refresh token belongs to the running user
            self.state.refresh_tokens[self.creds.refresh_token] = self.username
        if not self.access_token:
            self.access_token = new_session(self.state, self.username).token
        else:
            session = self.state.sessions.get(self.access_token)
            if session is not None:
                session.expired = False

    def start_proxy(self, port: int = 0) -> str:
        """Start the CONNECT proxy (see :mod:`toolkit.demoorg.proxy`) and return its URL for ``HTTPS_PROXY``.

        With ``HTTPS_PROXY=<url>`` and ``REQUESTS_CA_BUNDLE=<ca_bundle_file>``, unmodified scripts that talk
        to ``login.salesforce.com`` or any ``*.my.salesforce.com`` are served by this demo org.
        """
        if self._server is None:
            raise DemoOrgError("demo org: start() the org before its proxy")
        if self._proxy is None:
            from .proxy import ConnectProxy

            self._proxy = ConnectProxy(self._ca, self._server.server, self.host, port)
        return str(self._proxy.url)

    def stop(self) -> None:
        """Stop the server and remove the temporary files (CA, JWT key)."""
        if self._proxy is not None:
            self._proxy.close()
            self._proxy = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> DemoOrg:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- control ---------------------------------------------------------------------------------
    def truth(self) -> dict[str, Any]:
        """The seeded truth: app names per category, per-app PinLength/MobileSessionTimeout, usage..."""
        return self._truth

    def stats(self) -> dict[str, Any]:
        """``{"requests": {operation: count}, ...}`` (same as ``GET /__emulator/stats``)."""
        return stats(self.state)

    def reset(self) -> None:
        """Restore the seeded state (metadata, rows, counters, faults, latency); sessions stay valid."""
        self._seed()
        app = getattr(self, "_app", None)
        if app is not None:
            app.rest.reset()
            app.bulk.reset()

    def remove_from_schema(self, sobject: str, field: str | None = None) -> None:
        """Make the org lack a field (or, ``field`` None, a whole object), as an older API version, a feature
        turned off or a missing permission would: describe leaves it out and SOQL answers INVALID_FIELD
        (INVALID_TYPE for an object). A test facility; ``reset()`` restores it."""
        with self.state.lock:
            self.state.absent.add((sobject, field))

    def set_latency(self, ms: float) -> None:
        """Sleep ``ms`` milliseconds before answering each API request."""
        self.state.latency_ms = float(ms)

    def expire_sessions(self, token: str | None = None) -> int:
        """Expire one session or all (clients then get INVALID_SESSION_ID)."""
        return expire_sessions(self.state, token)

    def inject_fault(
        self,
        kind: str,
        operation: str | None = None,
        count: int | None = None,
        rate: float | None = None,
        **extra: Any,
    ) -> None:
        """Inject a fault: ``http500``, ``http503``, ``reset``, ``request_limit`` or ``save_failure``
        (``full_name=``, ``status_code=``, ``message=`` for save failures)."""
        rule = make_fault(kind, operation, count, rate, seed=self.seed, **extra)
        with self.state.lock:
            self.state.faults.append(rule)

    def add_oauth_client(self, app: str) -> dict[str, str]:
        """An OAuth client (``client_id``, ``client_secret``) of the seeded connected app ``app``."""
        from .control import add_oauth_client

        return add_oauth_client(self.state, app)

    def set_password(self, username: str, password: str) -> None:
        """Give a seeded user a password (test facility; gone at :meth:`reset`)."""
        from .control import set_password

        set_password(self.state, username, password)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self.state.lock:
            self.state.faults.clear()

    def __repr__(self) -> str:
        return (
            f"<DemoOrg {self.instance_url or '(stopped)'} apps={self.apps} ecas={self.ecas} seed={self.seed}>"
        )


# the users a demo org can run as (``user=``, ``demo-org --user``); None: the admin (``Credentials.username``)
USERS: dict[str, str | None] = {"admin": None, "auditor": AUDITOR_USERNAME}
MAX_APPS = 100_000  # the benchmarks go to 5,000; far more only exhausts memory
MAX_ECAS = 20_000
MAX_LATENCY_MS = 60_000


def _check_int(name: str, value: object, low: int, high: int, what: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        extra = f" ({what})" if what else ""
        raise DemoOrgError(
            f"demo org: {name} cannot be {value!r}; allowed: a whole number from {low} to {high}{extra}"
        )


def _check_port_free(host: str, port: int) -> None:
    """:class:`DemoOrgError` when ``host:port`` is taken (werkzeug would print and exit instead)."""
    import socket

    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise DemoOrgError(
            f"demo org: port {port} on {host} is in use ({exc.strerror}); "
            "choose another --port, or 0 for any free one"
        ) from None
    finally:
        probe.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return "address in use or not available" if isinstance(exc, SystemExit) else str(exc)
