"""CONNECT proxy mode: unmodified scripts reach the demo org with ``HTTPS_PROXY`` + ``REQUESTS_CA_BUNDLE``.

A script written for a real org (``Salesforce(username=..., password=..., security_token=...)``, which logs
in at ``login.salesforce.com``) runs unchanged against the demo org when its environment says::

    HTTPS_PROXY=http://127.0.0.1:<proxy port>  REQUESTS_CA_BUNDLE=<org.ca_bundle_file>

The proxy answers ``CONNECT host:443`` for any host, terminates TLS with a certificate for that host issued
by the demo org's own CA (so only clients that trust that CA accept it), and hands the decrypted connection to
the demo org's HTTP server: every request, whatever host it named, is served by the demo org. Nothing is
forwarded to the internet.
"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any

_MAX_HEAD = 8192


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 in front of a running demo org server.

    ``ca`` is the demo org's ``trustme.CA``; ``server`` its werkzeug server (``ServerThread.server``).

    >>> ConnectProxy.parse_connect(b"CONNECT login.salesforce.com:443 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    ('login.salesforce.com', 443)
    """

    def __init__(self, ca: Any, server: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._ca, self._server = ca, server
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._listener = socket.create_server((host, port))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        self._closed = False
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"demo-org-proxy-{self.port}", daemon=True
        )
        self._thread.start()

    @staticmethod
    def parse_connect(head: bytes) -> tuple[str, int] | None:
        """``(host, port)`` of a CONNECT request head, or None for anything else."""
        first = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(first) != 3 or first[0].upper() != "CONNECT":
            return None
        host, _, port = first[1].rpartition(":")
        if not host or not port.isdigit():
            return None
        return host.strip("[]"), int(port)

    def _context_for(self, host: str) -> ssl.SSLContext:
        with self._lock:
            ctx = self._contexts.get(host)
            if ctx is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                self._ca.issue_cert(host).configure_cert(ctx)
                self._contexts[host] = ctx
            return ctx

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, addr = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn, addr), daemon=True).start()

    def _tunnel(self, conn: socket.socket, addr: Any) -> None:
        try:
            conn.settimeout(30)
            head = b""
            # byte by byte: what follows the head is the client's TLS hello, which must stay in the socket
            while not head.endswith(b"\r\n\r\n") and len(head) < _MAX_HEAD:
                chunk = conn.recv(1)
                if not chunk:
                    conn.close()
                    return
                head += chunk
            target = self.parse_connect(head)
            if target is None:
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nAllow: CONNECT\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                conn.close()
                return
            conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            context = self._context_for(target[0])
            tls = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        except OSError:
            conn.close()
            return
        # the demo org's own handler does the handshake and serves the connection in its own thread
        self._server.process_request(tls, addr)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self._thread.join(2)


__all__ = ["ConnectProxy"]
