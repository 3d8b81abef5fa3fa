"""API accounting: every HTTP exchange with the org, by kind, and the org's daily API usage.

A :class:`Ledger` is installed as a ``requests`` response hook on the simple-salesforce session, so it sees
every call (ours, simple-salesforce's own retries and re-logins, Bulk API polls) without wrapping them.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlparse

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_SOAP_OP = re.compile(rb"<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?(\w+)")
# calls Salesforce does not count against the daily API request limit
NOT_COUNTED = frozenset({"versions", "auth"})


def kind_of(method: str, url: str, body: bytes | str | None = None) -> str:
    """A stable name for the kind of call, used as the ``api_calls`` table's key.

    >>> kind_of("GET", "https://x/services/data/v66.0/query/?q=SELECT+Id+FROM+ConnectedApplication")
    'query'
    >>> kind_of("POST", "https://x/services/Soap/m/66.0", b"<e:Envelope><e:Body><m:readMetadata>")
    'readMetadata'
    """
    path = urlparse(url).path.rstrip("/")
    if "/services/Soap/m/" in path:
        data = body.encode() if isinstance(body, str) else (body or b"")
        m = _SOAP_OP.search(data[:4000])
        return m.group(1).decode() if m else "metadata"
    if "/services/Soap/u/" in path or path.endswith("/oauth2/token"):
        return "auth"
    if path.endswith("/services/data"):
        return "versions"
    if "/jobs/query" in path:
        return "bulk2"
    if re.search(r"/services/data/v[\d.]+/query", path):
        return "query"
    if path.endswith("/limits"):
        return "limits"
    rest = re.sub(r"^/services/data/v[\d.]+", "", path) or path
    return f"{method.upper()} {rest}"


class Ledger:
    """Thread-safe counters of calls by kind, retries by category, and the ``Sforce-Limit-Info`` seen.

    >>> led = Ledger()
    >>> led.record("query", "api-usage=41/15000")
    >>> led.record("query", "api-usage=42/15000")
    >>> led.calls["query"], led.usage_first, led.usage_last, led.usage_max
    (2, 41, 42, 15000)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        # calls made beyond the plan, already in ``calls``: name -> count (split readMetadata batches...)
        self.extra: Counter[str] = Counter()
        self.usage_first: int | None = None
        self.usage_last: int | None = None
        self.usage_max: int | None = None
        self.limits_before: dict[str, Any] | None = None
        self.limits_after: dict[str, Any] | None = None

    def record(self, kind: str, limit_info: str | None = None) -> None:
        with self._lock:
            self.calls[kind] += 1
            m = _USAGE.search(limit_info or "")
            if m:
                used, mx = int(m.group(1)), int(m.group(2))
                if self.usage_first is None:
                    self.usage_first = used
                # responses of parallel calls arrive out of order: keep the highest
                self.usage_last = max(used, self.usage_last or 0)
                self.usage_max = mx

    def note_retry(self, category: str) -> None:
        with self._lock:
            self.retries[category] += 1

    def note_extra(self, what: str, n: int = 1) -> None:
        """Remember ``n`` calls made beyond the plan (they are already counted in ``calls``)."""
        with self._lock:
            self.extra[what] += n

    def hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        """``requests`` response hook: count the exchange."""
        req = response.request
        self.record(
            kind_of(req.method or "GET", req.url or "", req.body), response.headers.get("Sforce-Limit-Info")
        )
        return response

    def counted_calls(self) -> int:
        """Calls that Salesforce counts against the daily limit (not versions/login)."""
        return sum(n for k, n in self.calls.items() if k not in NOT_COUNTED)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(self.calls),
                "retries": dict(self.retries),
                "extra": dict(self.extra),
                "usage_first": self.usage_first,
                "usage_last": self.usage_last,
                "usage_max": self.usage_max,
                "limits_before": self.limits_before,
                "limits_after": self.limits_after,
            }
