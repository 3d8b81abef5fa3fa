"""The HTTPS server (moto's ``urls``/``responses`` glue): routing, sessions, latency, faults, counting.

werkzeug serves a WSGI app on 127.0.0.1 with a trustme certificate, one thread per connection, HTTP/1.1
keep-alive (werkzeug's own handler always closes the connection; ours keeps it open because every request
body is read in full before answering) and ``TCP_NODELAY`` (without it each keep-alive request costs ~40 ms).
The TLS handshake runs in the connection's thread so one slow client cannot stall ``accept``.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_plus

from lxml import etree
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import auth, control, partner_soap
from .bulk import BulkApi
from .exceptions import METADATA_NS, OAuthError, RestError, SoapFault, invalid_session, not_found
from .models import OrgState, Session
from .rest import RestApi, check_version, dumps, versions

log = logging.getLogger("toolkit.demoorg")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
_JSON = "application/json;charset=UTF-8"
_XML = "text/xml;charset=UTF-8"
_DATA = re.compile(r"^/services/data/v(\d+(?:\.\d+)?)(/.*)?$")
# OAuth endpoints answered for the session's user (the Salesforce CLI uses both)
_IDENTITY = ("/services/oauth2/userinfo", "/services/oauth2/singleaccess")
_SOAP = re.compile(r"^/services/Soap/([umcT])/(\d+(?:\.\d+)?)(?:/.*)?$")


_MB = 1024 * 1024
# Request body caps, as Salesforce's: a SOAP or REST request is limited to 50 MB (SOAP API Developer Guide,
# "Implementation Considerations"; the same figure is given for synchronous REST calls); Bulk API 2.0 takes
# uploads of up to 150 MB (Bulk API 2.0 limits). Bigger bodies get HTTP 413 without being read.
MAX_BODY_BYTES = 50 * _MB
MAX_BULK_UPLOAD_BYTES = 150 * _MB
CLOSE_CONNECTION = "toolkit.demoorg.close_connection"  # environ key: answer, then close the connection


def body_limit(path: str) -> int:
    """The largest request body accepted on ``path``.

    >>> body_limit("/services/data/v66.0/jobs/ingest/750x/batches") // _MB
    150
    >>> body_limit("/services/Soap/m/66.0") // _MB
    50
    """
    return MAX_BULK_UPLOAD_BYTES if "/jobs/ingest/" in path else MAX_BODY_BYTES


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections end after this many seconds
    _tls_ok = True

    def setup(self) -> None:
        sock = self.request
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self.timeout)
            if isinstance(sock, ssl.SSLSocket):
                sock.do_handshake()
        except (OSError, ssl.SSLError):
            self._tls_ok = False
        super().setup()

    def handle(self) -> None:
        if self._tls_ok:
            try:
                super().handle()
            except (OSError, ssl.SSLError):
                pass

    def run_wsgi(self) -> None:
        # werkzeug's own run_wsgi always answers "Connection: close" and then drains the socket (which would
        # swallow the next keep-alive request); this one buffers the (small) response and keeps the connection
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return chunks.append

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            body = b"".join(chunks)
            status, headers = started
            code, _, reason = status.partition(" ")
            self.send_response(int(code), reason)
            for key, value in headers:
                if key.lower() not in ("connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            if environ.get(CLOSE_CONNECTION):
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)
        except (OSError, ssl.SSLError):
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, self.path.split("?")[0], code)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug(message, *args)


class _ConnectionReset(Exception):
    """The connection was reset on purpose (fault injection): answer nothing."""


_DROP_RESPONSE = "demoorg.drop_response"  # environ key: handle the request, then reset instead of answering


def _reset_connection(environ: dict[str, Any]) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class DemoOrgApp:
    """The WSGI application of one org."""

    def __init__(
        self, state: OrgState, reset: Callable[[], None], truth: Callable[[], dict[str, Any]]
    ) -> None:
        self.state = state
        self.rest = RestApi(state)
        self.bulk = BulkApi(state)
        self._reset = reset
        self._truth = truth

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = body_limit(request.path)
        try:
            body = request.get_data()  # always drain the body: the connection is reused
        except RequestEntityTooLarge:
            # refused before the body is read (Content-Length) or as soon as a chunked one passes the cap;
            # what is left unread cannot be drained, so the connection is closed after the answer
            environ[CLOSE_CONNECTION] = True
            error = RestError(
                413,
                "REQUEST_ENTITY_TOO_LARGE",
                f"The request body exceeds {request.max_content_length // _MB} MB, the most this API accepts",
            )
            return self.json(error.body(), 413, raw=True)(environ, start_response)
        try:
            response = self.dispatch(request, body, environ)
            if environ.get(_DROP_RESPONSE):  # the request was handled: its answer is lost on the way
                _reset_connection(environ)
                raise _ConnectionReset()
        except _ConnectionReset:
            raise OSError("connection reset by fault injection") from None
        except RestError as exc:
            response = self.json(exc.body(), exc.status, raw=True)
        except SoapFault as exc:
            response = Response(exc.body(), 500, content_type=_XML)
        except OAuthError as exc:
            response = Response(exc.body(), exc.status, content_type=_JSON)
        except Exception:  # an emulator bug must look like Salesforce's own 500, not crash the connection
            log.exception("demo org internal error on %s", request.path)
            response = self.json(
                RestError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred in the demo org").body(),
                500,
                raw=True,
            )
        return response(environ, start_response)

    # --- helpers ---------------------------------------------------------------------------------
    def json(self, body: Any, status: int = 200, raw: bool = False, usage: bool = True) -> Response:
        data = body if raw else dumps(body)
        response = Response(data, status, content_type=_JSON)
        if usage:
            response.headers["Sforce-Limit-Info"] = f"api-usage={self.state.api_usage}/{self.state.api_max}"
        return response

    def _use_api(self) -> None:
        with self.state.lock:
            self.state.api_usage += 1

    def _session(self, request: Request) -> Session:
        session = auth.check_session(self.state, auth.bearer_token(request.headers))
        if session is None:
            raise invalid_session()
        return session

    def _faults(
        self, operation: str, soap: bool, environ: dict[str, Any], text: bytes | None = None
    ) -> Response | None:
        if text is None:
            text = unquote_plus(str(environ.get("QUERY_STRING") or "")).encode()
        kinds = ("http500", "http503", "reset", "request_limit", "slow", "drop_response")
        rule = self.state.take_fault(operation, kinds, text)
        if rule is None:
            return None
        if rule.kind == "slow":
            time.sleep(rule.ms / 1000.0)
            return None
        if rule.kind == "drop_response":
            environ[_DROP_RESPONSE] = True
            return None
        if rule.kind == "reset":
            _reset_connection(environ)
            raise _ConnectionReset()
        if rule.kind == "request_limit":
            if soap:
                raise SoapFault(
                    "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", _fault_ns(operation)
                )
            raise RestError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if rule.kind == "http503":
            return Response(
                b"<html><body>Service Unavailable: the server is down for maintenance</body></html>",
                503,
                content_type="text/html",
            )
        if soap:
            raise SoapFault(
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if "
                "you contact support: 0000000000-00000 (-1)",
                _fault_ns(operation),
            )
        raise RestError(
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId "
            "if you contact support: 0000000000-00000 (-1)",
        )

    # --- routing ---------------------------------------------------------------------------------
    def dispatch(self, request: Request, body: bytes, environ: dict[str, Any]) -> Response:
        path = request.path
        if path.startswith("/.salesforce.com/"):
            # simple-salesforce with domain="127.0.0.1:PORT/" builds https://127.0.0.1:PORT/.salesforce.com/...
            path = path[len("/.salesforce.com") :]
        method = request.method
        if path.startswith("/__emulator/"):
            session = self._session(request)
            status, out = control.handle(
                self.state, method, path.split("/")[2], body, session.token, self._reset, self._truth
            )
            return self.json(out, status, usage=False)
        if self.state.latency_ms:
            time.sleep(self.state.latency_ms / 1000.0)
        base_url = f"https://{request.host}"
        if path in ("/services/oauth2/token", "/services/oauth2/revoke"):
            op = "oauth_token" if path.endswith("token") else "oauth_revoke"
            self.state.count(op)
            faulted = self._faults(op, False, environ)
            if faulted is not None:
                return faulted
            if op == "oauth_revoke":
                self._revoke(request, body)
                return Response(b"", 200)
            # the client's address; X-Emulator-Source-Ip (a test facility, not Salesforce) stands for another
            ip = request.headers.get("X-Emulator-Source-Ip") or environ.get("REMOTE_ADDR")
            return self.json(auth.oauth_token(self.state, body, request.headers, base_url, ip), usage=False)
        if path in _IDENTITY and method in ("GET", "POST"):
            op = "oauth_" + path.rsplit("/", 1)[1]
            self.state.count(op)
            faulted = self._faults(op, False, environ)
            if faulted is not None:
                return faulted
            token = auth.bearer_token(request.headers) or request.args.get("access_token")
            who = auth.check_session(self.state, token)
            if who is None:  # Salesforce answers a bad token on its identity endpoints this way
                return Response(b"Bad_OAuth_Token", 403, content_type="text/plain;charset=UTF-8")
            if op == "oauth_singleaccess":
                return self.json(auth.single_access(base_url, request.args.get("redirect_uri")), usage=False)
            return self.json(auth.userinfo(self.state, who, base_url), usage=False)
        m = _SOAP.match(path)
        if m and method == "POST":
            return self._soap(m.group(1), m.group(2), body, base_url, environ)
        if path.rstrip("/") == "/services/data":
            self.state.count("versions")
            return self.json(versions(), usage=False)
        m = _DATA.match(path)
        if m:
            return self._rest(request, method, check_version(m.group(1)), (m.group(2) or "/"), body, environ)
        raise not_found()

    def _revoke(self, request: Request, body: bytes) -> None:
        token = request.args.get("token") or request.form.get("token") or ""
        with self.state.lock:
            session = self.state.sessions.get(token)
            if session is not None:
                session.expired = True
            self.state.refresh_tokens.pop(token, None)
        from .tokens import revoke_delete_token

        revoke_delete_token(self.state, token)  # an OauthToken.DeleteToken revokes that token's row

    def _soap(self, kind: str, version: str, body: bytes, base_url: str, environ: dict[str, Any]) -> Response:
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            raise SoapFault(
                "INVALID_XML",
                "The request is not well-formed XML",
                METADATA_NS if kind == "m" else "urn:fault.partner.soap.sforce.com",
            ) from None
        op, session_id = _soap_op(root)
        self.state.count(op)
        faulted = self._faults(op, True, environ, body)
        if faulted is not None:
            return faulted
        if kind == "u" and op == "login":
            return Response(auth.soap_login(self.state, body, base_url, version), 200, content_type=_XML)
        self._use_api()
        session = auth.check_session(self.state, session_id)
        if kind != "m":
            if session is None:
                raise SoapFault(
                    "INVALID_SESSION_ID",
                    "Invalid Session ID found in SessionHeader: Illegal Session",
                    detail="UnexpectedErrorFault",
                )
            if kind == "u" and op in partner_soap.OPERATIONS:
                data = partner_soap.handle_partner_soap(self.state, self.rest, body, version, session.user())
                return Response(data, 200, content_type=_XML)
            raise SoapFault(
                "UNKNOWN_EXCEPTION",
                f"The partner SOAP call {op} is not emulated by the demo org; use the REST API",
            )
        try:
            from . import metadata_api
        except ImportError:
            fault = SoapFault(
                "UNKNOWN_EXCEPTION",
                "The Metadata API is not available in this build of the demo org",
                METADATA_NS,
            )
            return Response(fault.body(), 501, content_type=_XML)
        if session is None:
            out = metadata_api.invalid_session_fault()
            status, data = out if isinstance(out, tuple) else (500, out)
            return Response(data, status, content_type=_XML)
        status, data = metadata_api.handle_metadata_soap(self.state, body, session.user())
        return Response(data, status, content_type=_XML)

    def _rest(
        self, request: Request, method: str, version: str, rest: str, body: bytes, environ: dict[str, Any]
    ) -> Response:
        parts = [p for p in rest.split("/") if p]
        op = _rest_op(method, parts)
        self.state.count(op)
        faulted = self._faults(op, False, environ)
        if faulted is not None:
            return faulted
        session = self._session(request)
        self._use_api()
        api = self.rest
        tooling = bool(parts) and parts[0] == "tooling"
        p = parts[1:] if tooling else parts
        if not p:
            return self.json(api.resources(version))
        head = p[0]
        if head == "limits" and len(p) == 1:
            return self.json(api.limits())
        if head == "limits" and p[1:] == ["recordCount"] and not tooling:
            return self.json(api.record_counts(request.args.get("sObjects")))
        if head in ("query", "queryAll"):
            if len(p) == 1 and method == "GET" and request.args.get("columns") == "true":
                return self.json(api.query_columns(request.args.get("q", ""), tooling))
            if len(p) == 1 and method == "GET":
                self.state.count_query(request.args.get("q", ""))
                return self.json(
                    api.query(
                        version,
                        request.args.get("q", ""),
                        request.headers.get("Sforce-Query-Options"),
                        tooling,
                        head == "queryAll",
                        session.user_id,
                    )
                )
            if len(p) == 2 and method == "GET":
                return self.json(api.query_more(version, p[1], tooling))
        if head == "sobjects":
            if len(p) == 1:
                return self.json(api.global_describe(version, tooling))
            if len(p) == 3 and p[2] == "describe":
                return self.json(api.describe(version, p[1], tooling))
            if len(p) == 2 and method == "GET":
                name = api._sobject(p[1], tooling)
                return self.json(
                    {
                        "objectDescribe": api.global_describe(version, tooling)["sobjects"][
                            [s["name"] for s in api.global_describe(version, tooling)["sobjects"]].index(name)
                        ],
                        "recentItems": [],
                    }
                )
            if len(p) == 3 and method == "GET":
                return self.json(api.record(version, p[1], p[2], request.args.get("fields")))
            if len(p) in (2, 3) and method in ("POST", "PATCH", "DELETE"):
                status, out = api.dml(method, p[1], p[2] if len(p) == 3 else None, body)
                return self.json(out, status) if out is not None else Response(b"", status)
        if head == "jobs" and len(p) >= 2 and p[1] == "query" and not tooling:
            return self._bulk(request, method, version, p[2:], body, session)
        raise not_found()

    def _bulk(
        self, request: Request, method: str, version: str, p: list[str], body: bytes, session: Session
    ) -> Response:
        bulk = self.bulk
        if not p and method == "POST":
            job = bulk.create(version, body, session.user_id)
            self.state.count_query(f"FROM {job.get('object') or ''}")
            return self.json(job)
        if not p and method == "GET":
            return self.json(
                {"done": True, "records": [bulk.status(j) for j in list(bulk.jobs)], "nextRecordsUrl": None}
            )
        if len(p) == 1 and method == "GET":
            return self.json(bulk.status(p[0]))
        if len(p) == 1 and method == "PATCH":
            return self.json(bulk.set_state(p[0], body))
        if len(p) == 1 and method == "DELETE":
            bulk.delete(p[0])
            return Response(b"", 204)
        if len(p) == 2 and p[1] == "results" and method == "GET":
            data, headers = bulk.results(p[0], request.args.get("locator"), request.args.get("maxRecords"))
            response = Response(data, 200, content_type="text/csv")
            for key, value in headers.items():
                response.headers[key] = value
            response.headers["Sforce-Limit-Info"] = f"api-usage={self.state.api_usage}/{self.state.api_max}"
            return response
        raise not_found()


def _fault_ns(operation: str) -> str:
    return "urn:fault.partner.soap.sforce.com" if operation == "login" else METADATA_NS


def _soap_op(root: Any) -> tuple[str, str | None]:
    """The operation (first element of soap:Body) and the SessionHeader's sessionId."""
    op, session_id = "soap", None
    for child in root:
        local = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if local == "Body":
            for el in child:
                if isinstance(el.tag, str):
                    op = el.tag.rsplit("}", 1)[-1]
                    break
        elif local == "Header":
            for el in child.iter():
                if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "sessionId":
                    session_id = (el.text or "").strip()
    return op, session_id


def _rest_op(method: str, parts: list[str]) -> str:
    """The operation name a REST request counts as.

    >>> _rest_op("GET", ["query"]), _rest_op("GET", ["query", "01gX-2000"])
    ('query', 'queryMore')
    >>> _rest_op("GET", ["tooling", "query"])
    'tooling_query'
    >>> _rest_op("GET", ["sobjects", "User", "describe"]), _rest_op("POST", ["jobs", "query"])
    ('describe', 'bulk_query_create')
    """
    prefix = ""
    if parts and parts[0] == "tooling":
        prefix, parts = "tooling_", parts[1:]
    if not parts:
        return prefix + "resources"
    head = parts[0]
    if head in ("query", "queryAll"):
        return prefix + ("queryMore" if len(parts) > 1 else head)
    if head == "sobjects":
        if len(parts) == 1:
            return prefix + "sobjects"
        if len(parts) == 3 and parts[2] == "describe":
            return prefix + "describe"
        if method == "GET":
            return prefix + ("retrieve" if len(parts) == 3 else "sobject")
        return prefix + {"POST": "create", "PATCH": "update", "DELETE": "delete"}.get(method, method.lower())
    if head == "jobs":
        if len(parts) <= 2:
            return "bulk_query_create" if method == "POST" else "bulk_query_list"
        if len(parts) == 4 and parts[3] == "results":
            return "bulk_query_results"
        return {"GET": "bulk_query_status", "PATCH": "bulk_query_abort", "DELETE": "bulk_query_delete"}.get(
            method, "bulk_query"
        )
    return prefix + head


class ServerThread:
    """A started HTTPS server in a background thread (``stop()`` closes it)."""

    def __init__(self, app: DemoOrgApp, host: str, port: int, ssl_context: ssl.SSLContext) -> None:
        server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=_Handler)
        # TLS is wrapped here (not by werkzeug) so that the handshake happens in the connection's thread
        server.socket = ssl_context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        server.ssl_context = ssl_context
        self.server = server
        self.port = server.socket.getsockname()[1]
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"demo-org-{self.port}", daemon=True)
        self._thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        self.ready.set()
        self.server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def server_ssl_context(cert_chain: Any) -> ssl.SSLContext:
    """A TLS server context for a trustme ``LeafCert``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert_chain.configure_cert(ctx)
    return ctx


__all__ = ["DemoOrgApp", "ServerThread", "server_ssl_context"]
