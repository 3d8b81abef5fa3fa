"""A connected org: the simple-salesforce client plus retries, re-login, API accounting and raw SOAP.

Every call goes through the simple-salesforce ``Salesforce`` object: REST SOQL through ``sf.query`` /
``sf.query_more``, Bulk API 2.0 through ``sf.bulk2``, ``/limits`` through ``sf.limits()``, and Metadata SOAP
posted by hand on ``sf.session`` to ``sf.metadata_url`` with ``sf.session_id`` (see :mod:`.mdapi_client`).
"""

from __future__ import annotations

import csv
import io
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from ..errors import InvalidValueError, OrgError
from ..redact import redact, register_secret
from . import mdapi_client as soap
from .ledger import Ledger
from .resilience import CallFailed, RetryPolicy, WriteInDoubt, classify_exception, with_retries

T = TypeVar("T")

# seconds: (connect, read) for every HTTP call to the org. ``read`` is the longest silence allowed while
# waiting for an answer: Metadata and SOQL answers of an audit come in well under a minute.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
BULK_THRESHOLD = 50_000  # rows: above this a SOQL table comes from one Bulk API 2.0 job, not 25+ REST pages
# requests in flight at once. Metadata reads and query pages are short requests; Salesforce caps only
# long-running ones (20 s or more) at 25 per org, so 16 leaves room for the org's other integrations.
DEFAULT_CONCURRENCY = 16
_FROM = re.compile(r"(?i)\bFROM\s+(\w+)")
RELOGIN_DEBOUNCE_S = 5.0  # a second expiry within this time reuses the first re-login
_LOCATOR = re.compile(r"^(.*/query/[\w]+-)(\d+)$")
# Bulk API 2.0 errors that mean "not for this object": the REST query still works
BULK_REFUSED = frozenset({"INVALIDENTITY", "INVALID_TYPE_FOR_OPERATION", "FeatureNotEnabled"})


Timeout = float | tuple[float, float]


def timeouts(timeout: Timeout | None) -> tuple[float, float]:
    """``(connect, read)`` seconds from one number (the read timeout; connect stays at most 10 s) or a pair.

    >>> timeouts(None), timeouts(5), timeouts((1, 2))
    ((10.0, 60.0), (5.0, 5.0), (1.0, 2.0))
    """
    if timeout is None:
        return CONNECT_TIMEOUT, READ_TIMEOUT
    try:
        if isinstance(timeout, tuple):
            connect, read = float(timeout[0]), float(timeout[1])
        else:
            read = float(timeout)
            connect = min(CONNECT_TIMEOUT, read)
        ok = 0 < connect < 1e6 and 0 < read < 1e6
    except (TypeError, ValueError, IndexError):
        ok = False
    if not ok:
        raise InvalidValueError("connect()", "timeout", timeout, "seconds > 0, or a (connect, read) pair")
    return connect, read


class TimeoutAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that gives every request without a timeout the org's ``(connect, read)`` one.

    simple-salesforce sends most requests (query, queryMore, limits, Bulk API 2.0, logins) without a
    ``timeout``; mounted on its session, this adapter bounds all of them.
    """

    def __init__(self, timeout: tuple[float, float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, *args, **kwargs)


def mount_timeouts(session: requests.Session, timeout: tuple[float, float], pool: int = 10) -> None:
    """Mount a :class:`TimeoutAdapter` for ``https://`` (and ``http://``) on ``session``."""
    for prefix in ("https://", "http://"):
        session.mount(prefix, TimeoutAdapter(timeout, pool_connections=4, pool_maxsize=pool))


class RequestBound:
    """A bound on requests in flight that several orgs share (a fleet run's ``--concurrency``): a bounded
    semaphore that also counts the most requests it ever let through at once (``peak``).

    >>> bound = RequestBound(2)
    >>> with bound:
    ...     with bound:
    ...         pass
    >>> bound.limit, bound.peak
    (2, 2)
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self.limit = limit
        self.peak = 0
        self._held = 0
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()

    def __enter__(self) -> RequestBound:
        self._slots.acquire()
        with self._lock:
            self._held += 1
            self.peak = max(self.peak, self._held)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._held -= 1
        self._slots.release()


class Org:
    """A live (or demo) org, ready to be audited. Build it with :func:`toolkit.connect`.

    Its repr and its errors never show the access token, a password or a key.

    >>> from simple_salesforce import Salesforce
    >>> sf = Salesforce(instance_url="https://example.my.salesforce.com", session_id="00Dx!SECRETSECRET")
    >>> org = Org(sf, auth="access_token", api_version="66.0")
    >>> org
    Org(instance_url='https://example.my.salesforce.com', auth='access_token', api_version='66.0')
    """

    def __init__(
        self,
        sf: Any,
        *,
        auth: str,
        api_version: str | None = None,
        relogin: Callable[[Any], None] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        policy: RetryPolicy | None = None,
        secrets: Iterable[str] = (),
        owned: Any = None,
        bulk_threshold: int = BULK_THRESHOLD,
        timeout: Timeout | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.sf = sf
        self.auth = auth
        self.concurrency = concurrency
        self.policy = policy or RetryPolicy()
        self.bulk_threshold = bulk_threshold
        self.bulk_poll_wait = 0.1  # seconds before the first Bulk API job poll
        self.ledger = Ledger()
        self.timeout = timeouts(timeout)
        # called with one line per step and per retry of a long audit (see load_org's ``progress``)
        self.progress: Callable[[str], None] | None = None
        # set when a call got no answer within its time budget. While set, a call fails at once when another
        # is in flight (parallel calls of one burst do not each wait a whole budget), or else goes as the one
        # probe (one try). Cleared by any answered call and at the start of each operation (operation()).
        self.unreachable: OrgError | None = None
        self._in_flight: dict[int, tuple[str, float]] = {}  # requests being sent: id -> (what, started)
        self._state_lock = threading.Lock()  # guards unreachable, _in_flight, _probing, _operations
        self._probing = False
        self._operations = 0  # operation() blocks entered and not left
        self.owned = owned  # an embedded DemoOrg this Org started (stopped by close())
        self._relogin = relogin
        self._relogin_lock = threading.RLock()
        self._last_login = -1e9  # time.monotonic() of the last re-login
        self._slots: threading.BoundedSemaphore | RequestBound = threading.BoundedSemaphore(concurrency)
        self._secrets = tuple(s for s in (*secrets, getattr(sf, "session_id", None)) if s)
        for s in self._secrets:
            register_secret(s)
        session: requests.Session = sf.session
        mount_timeouts(session, self.timeout, pool=max(10, concurrency + 4))
        session.hooks.setdefault("response", []).append(self.ledger.hook)
        if getattr(sf, "_salesforce_login_partial", None) is not None:
            self._dedupe_relogin(sf)
        if api_version:
            self._apply_version(api_version)

    # identity -----------------------------------------------------------------------------------
    @property
    def instance_url(self) -> str:
        return f"https://{self.sf.sf_instance}"

    @property
    def api_version(self) -> str:
        return str(self.sf.sf_version)

    def __repr__(self) -> str:
        return (
            f"Org(instance_url={self.instance_url!r}, auth={self.auth!r}, api_version={self.api_version!r})"
        )

    __str__ = __repr__

    def share_bound(self, bound: RequestBound) -> None:
        """Count this org's requests against ``bound``, shared with other orgs (a fleet run): at most
        ``bound.limit`` requests are then in flight across all of them."""
        self._slots = bound

    def close(self) -> None:
        """Stop the embedded demo org, if this Org started one."""
        if self.owned is not None:
            self.owned.stop()
            self.owned = None

    def __enter__(self) -> Org:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # version ------------------------------------------------------------------------------------
    def use_highest_version(self) -> str:
        """Switch to the org's highest API version (``GET /services/data/``, not counted by Salesforce)."""
        url = f"{self.instance_url}/services/data/"

        def get() -> Any:
            r = self.sf.session.get(url, timeout=self.timeout)
            if r.status_code >= 300:
                raise CallFailed(f"HTTP_{r.status_code}", "GET /services/data/ failed", status=r.status_code)
            return r.json()

        versions = self._retry(get, "list API versions")
        best = max((str(v["version"]) for v in versions), key=lambda v: tuple(int(x) for x in v.split(".")))
        self._apply_version(best)
        return best

    def _apply_version(self, version: str) -> None:
        # simple-salesforce computes its URLs once, in __init__; recompute them for the new version
        sf, inst = self.sf, self.sf.sf_instance
        sf.sf_version = version
        sf.base_url = f"https://{inst}/services/data/v{version}/"
        sf.bulk_url = f"https://{inst}/services/async/{version}/"
        sf.bulk2_url = f"https://{inst}/services/data/v{version}/jobs/"
        sf.metadata_url = f"https://{inst}/services/Soap/m/{version}/"
        sf.tooling_url = f"{sf.base_url}tooling/"
        sf._mdapi = None

    # resilience ---------------------------------------------------------------------------------
    @contextmanager
    def operation(self) -> Iterator[Org]:
        """One public operation (an audit, an apply, a rollback, a resume...): it starts with a fresh
        time budget, whatever an earlier operation met (``unreachable`` is cleared on entering the outermost
        block). Blocks nest; parallel operations share the state.
        """
        with self._state_lock:
            if self._operations == 0:
                self.unreachable = None
            self._operations += 1
        try:
            yield self
        finally:
            with self._state_lock:
                self._operations -= 1

    def _retry(self, fn: Callable[[], Any], what: str, *, idempotent: bool = True) -> Any:
        def bounded() -> Any:
            # at most `concurrency` requests in flight, whatever pool asks; a slot is not held while
            # waiting between retries
            with self._slots:
                key = threading.get_ident()
                with self._state_lock:
                    probe = self.unreachable is not None
                    if probe and (self._in_flight or self._probing):
                        assert self.unreachable is not None
                        raise OrgError(self.unreachable.kind, f"{what}: not sent, {self.unreachable}")
                    self._probing = self._probing or probe
                    self._in_flight[key] = (what, time.monotonic())
                try:
                    result = fn()
                except Exception as exc:
                    failure = classify_exception(exc)
                    if probe and failure is not None and failure.code == "TIMEOUT":
                        # the probe of an org that stopped answering: one try, not a whole budget
                        raise OrgError("TIMEOUT", f"{what}: still no answer; {self.unreachable}") from None
                    raise
                finally:
                    with self._state_lock:
                        self._in_flight.pop(key, None)
                        if probe:
                            self._probing = False
                with self._state_lock:
                    self.unreachable = None  # it answered: reachable again
                return result

        try:
            return with_retries(
                bounded,
                what=what,
                policy=self.policy,
                reauth=self._reauth,
                on_retry=self.ledger.note_retry,
                secrets=self._secrets,
                notify=self.progress,
                idempotent=idempotent,
            )
        except WriteInDoubt:
            raise  # one try of a write: not a whole budget without an answer
        except OrgError as exc:
            with self._state_lock:
                if exc.kind == "TIMEOUT" and self.unreachable is None:
                    # an org that did not answer for a whole budget will not answer the next call either
                    self.unreachable = OrgError(
                        "TIMEOUT",
                        f"the org stopped answering ({what} got no answer within "
                        f"{self.timeout[1]:g} s, {self.policy.budget:g} s with retries; see --timeout)",
                    )
            raise

    def write(
        self,
        send: Callable[[], T],
        what: str,
        settle: Callable[[], T | None],
        *,
        conflicts: Iterable[str] = (),
    ) -> tuple[T, str]:
        """A call that must not land twice (a create, a delete): ``(value, "sent" | "settled")``.

        It is sent again only when it surely never reached the org (see
        :class:`~toolkit.sources.resilience.CallFailed`). A lost answer (reset, read timeout, 5xx) or an
        error code of ``conflicts`` (``DUPLICATE_VALUE`` for a create whose first answer was lost) is settled
        by ``settle()``, a read: its value when the call's effect is in the org ("settled"), None when not:
        then, and only then, the call is sent again, within the policy's tries and budget. Raises
        :class:`WriteInDoubt` when even the read fails (the caller reports it in doubt), ``OrgError`` when the
        org refused the call (nothing landed).
        """
        codes = frozenset(conflicts)
        started, rng = time.monotonic(), random.Random()
        doubt, attempt = OrgError("NOT_SENT", f"{what}: not sent"), 0
        for attempt in range(1, max(1, self.policy.attempts) + 1):
            try:
                return self._retry(send, what, idempotent=False), "sent"
            except WriteInDoubt as exc:
                doubt = exc
            except OrgError as exc:
                if exc.kind not in codes:
                    raise
                doubt = exc
            try:
                found = settle()
            except OrgError as exc:
                raise WriteInDoubt(doubt.kind, f"{doubt}; the read to settle it failed too: {exc}") from None
            if found is not None:
                self.ledger.note_extra(f"{what}: {doubt.kind} settled by reading")
                return found, "settled"
            if doubt.kind in codes:
                raise OrgError(doubt.kind, f"{doubt}; yet a read does not show it: nothing landed") from None
            wait = self.policy.backoff(attempt, rng)
            if time.monotonic() - started + wait >= self.policy.budget:
                break
            self.say(f"{what}: the answer was lost and a read shows it did not land; sending it again")
            time.sleep(wait)
        raise OrgError(
            doubt.kind,
            f"{what}: not done after {attempt} tries (each answer lost; a read showed nothing landed)",
        )

    def waiting(self) -> list[tuple[str, float]]:
        """The requests waiting for an answer now: (what, seconds waited), longest first."""
        now = time.monotonic()
        return sorted(((w, now - t) for w, t in list(self._in_flight.values())), key=lambda x: -x[1])

    def say(self, message: str) -> None:
        """One progress line (nothing unless ``progress`` is set)."""
        if self.progress is not None:
            self.progress(message)

    def _reauth(self) -> bool:
        if self._relogin is None:
            return False
        relogin = self._relogin
        if getattr(self.sf, "_salesforce_login_partial", None) is not None:
            relogin(self.sf)  # simple-salesforce's refresh, already debounced (see _dedupe_relogin)
        else:
            self._debounced(lambda: relogin(self.sf))
        return True

    def _dedupe_relogin(self, sf: Any) -> None:
        """One login per expiry: parallel calls that all see INVALID_SESSION_ID share the first re-login.

        simple-salesforce logs in again on every 401 by itself; with several calls in flight that would be
        one login per call, so its ``_refresh_session`` is wrapped (on this instance only).
        """
        original = sf._refresh_session

        def refresh() -> None:
            self._debounced(original)

        sf._refresh_session = refresh

    def _debounced(self, login: Callable[[], None]) -> None:
        with self._relogin_lock:
            if time.monotonic() - self._last_login < RELOGIN_DEBOUNCE_S:
                return  # another call just logged in: its fresh token is already in use
            login()
            self._last_login = time.monotonic()
            self.sf._generate_headers()
            self.ledger.note_retry("reauth")
            self._secrets = (*self._secrets, self.sf.session_id)
            register_secret(self.sf.session_id)

    def redact(self, text: str) -> str:
        """Scrub this connection's secrets (and anything token-shaped) from ``text``."""
        return redact(text, self._secrets)

    # Metadata SOAP ------------------------------------------------------------------------------
    def metadata_call(self, build: Callable[[str], bytes], what: str, *, idempotent: bool = True) -> Any:
        """POST a Metadata API envelope ``build(session_id)`` (rebuilt after a re-login); the body element.

        ``idempotent=False`` (``deploy``): sent again only when it surely never reached the org; a lost answer
        raises :class:`~toolkit.sources.resilience.WriteInDoubt`.
        """

        def post() -> Any:
            data = build(self.sf.session_id)
            r = self.sf.session.post(
                self.sf.metadata_url,
                data=data,
                timeout=self.timeout,
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
            )
            retry_after = r.headers.get("Retry-After")
            try:
                return soap.parse_body(r.content, r.status_code)
            except CallFailed as exc:
                if retry_after and retry_after.isdigit():
                    exc.retry_after = float(retry_after)
                raise

        return self._retry(post, what, idempotent=idempotent)

    def list_metadata(self, types: list[str]) -> list[dict[str, str]]:
        """FileProperties of every component of ``types`` (three types per call)."""
        rows: list[dict[str, str]] = []
        step = soap.LIST_QUERIES_PER_CALL
        for i in range(0, len(types), step):
            chunk = types[i : i + step]
            body = self.metadata_call(
                lambda sid, c=chunk: soap.list_metadata_request(sid, c, self.api_version),  # type: ignore[misc]
                f"listMetadata {', '.join(chunk)}",
            )
            rows.extend(soap.parse_list_result(body))
        return rows

    def read_metadata(self, type_name: str, names: list[str]) -> list[Any]:
        """Raw ``<records>`` elements for up to ten names of one type."""
        body = self.metadata_call(
            lambda sid: soap.read_metadata_request(sid, type_name, names),
            f"readMetadata {type_name} {names[0]}..{names[-1]}",
        )
        return soap.parse_read_records(body)

    def retrieve(self, type_name: str, members: list[str], max_wait: float = 600.0) -> dict[str, Any]:
        """``retrieve`` of named components, then ``checkRetrieveStatus`` until done (waits doubling from
        ``bulk_poll_wait`` to 5 s): :func:`~.mdapi_client.parse_retrieve_result`'s dict. A job that fails
        or is not done after ``max_wait`` seconds raises :class:`OrgError`."""
        what = f"retrieve {type_name} ({len(members)} names)"
        body = self.metadata_call(
            lambda sid: soap.retrieve_request(sid, self.api_version, type_name, members), what
        )
        job_id = _parsed(soap.parse_async_id, body)
        wait, deadline = self.bulk_poll_wait, time.monotonic() + max_wait
        while True:
            time.sleep(wait)
            body = self.metadata_call(
                lambda sid: soap.check_retrieve_status_request(sid, job_id), f"checkRetrieveStatus {job_id}"
            )
            result = _parsed(soap.parse_retrieve_result, body)
            if result["status"] == "Failed":
                raise OrgError("RETRIEVE_FAILED", f"{what}: {result['errorMessage'] or 'Failed'}")
            if result["done"]:
                return result
            if time.monotonic() > deadline:
                raise OrgError("RETRIEVE_TIMEOUT", f"{what}: not done after {max_wait:.0f} s")
            wait = min(5.0, wait * 2)

    # SOQL ---------------------------------------------------------------------------------------
    def query(
        self, soql: str, *, bulk_ok: bool = True, bulk_above: int | None = None
    ) -> list[dict[str, Any]]:
        """Every row of a SOQL query (nested like simple-salesforce's, no ``attributes``).

        The first REST page tells the total size. The other pages are then fetched in parallel (their
        locators are ``<cursor>-<offset>``), or, above ``bulk_threshold`` rows (``bulk_above`` when given: a
        caller that counts calls rather than rows), the table comes from one Bulk API 2.0 job instead. The row
        count is checked against ``totalSize``: never silently short.
        """
        obj = _object_of(soql)
        first = self._retry(lambda: self.sf.query(soql), f"query {obj}")
        total = int(first.get("totalSize", 0))
        if first.get("done", True):
            return [_clean(r) for r in first.get("records", [])]
        if bulk_ok and total > (self.bulk_threshold if bulk_above is None else bulk_above):
            try:
                return self.bulk_query(soql)
            except OrgError as exc:
                if exc.kind not in BULK_REFUSED:
                    raise
                # the object is not served by Bulk API 2.0 on this org: page through REST instead
                self.ledger.note_extra(f"bulk2 refused ({exc.kind}): REST paging for {obj}")
                self.say(f"Bulk API 2.0 refused {obj} ({exc.kind}): paging through REST instead")
        pages = self._parallel_pages(first, total, obj)
        if pages is None:  # the org refused computed locators: start again and walk the cursor
            pages = [self._retry(lambda: self.sf.query(soql), f"query {obj}")]
            while not pages[-1].get("done", True):
                nxt = str(pages[-1]["nextRecordsUrl"])
                pages.append(self._retry(_more(self.sf, nxt), f"query {obj} (more)"))
        rows = [_clean(r) for page in pages for r in page.get("records", [])]
        if len(rows) != total:
            raise OrgError("INCOMPLETE_QUERY", f"query {obj}: got {len(rows)} rows of {total}")
        return rows

    def _parallel_pages(self, first: dict[str, Any], total: int, obj: str) -> list[dict[str, Any]] | None:
        m = _LOCATOR.match(str(first.get("nextRecordsUrl", "")))
        batch = len(first.get("records", []))
        if m is None or batch == 0 or int(m.group(2)) != batch:
            return None
        urls = [f"{m.group(1)}{offset}" for offset in range(batch, total, batch)]
        # the org closes the cursor once its last page is served: that page is fetched after all others
        middle, last = urls[:-1], urls[-1]
        workers = max(1, min(self.concurrency, len(middle)))
        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"pages-{obj}") as pool:
                futures = [pool.submit(self._retry, _more(self.sf, u), f"query {obj} (page)") for u in middle]
                pages = [first, *(f.result() for f in futures)]
            pages.append(self._retry(_more(self.sf, last), f"query {obj} (last page)"))
        except OrgError as exc:
            if exc.kind in ("INVALID_QUERY_LOCATOR", "NOT_FOUND"):
                return None
            raise
        return pages

    def bulk_query(self, soql: str) -> list[dict[str, Any]]:
        """Rows of a Bulk API 2.0 query job (CSV parsed; the whole job is retried on a transient fault)."""
        obj = _object_of(soql)

        def run() -> list[dict[str, Any]]:
            handler = getattr(self.sf.bulk2, obj)
            # simple-salesforce polls a job for up to 24 hours: an audit waits at most its budget
            handler._client.DEFAULT_WAIT_TIMEOUT_SECONDS = self.policy.budget
            out: list[dict[str, Any]] = []
            for chunk in handler.query(soql, wait=self.bulk_poll_wait):
                out.extend(
                    _nest({k: _csv_value(v) for k, v in row.items()})
                    for row in csv.DictReader(io.StringIO(chunk))
                )
            return out

        try:
            rows: list[dict[str, Any]] = self._retry(run, f"bulk query {obj}")
        except OrgError:
            raise
        except Exception as exc:  # simple-salesforce raises SalesforceOperationError for failed jobs
            raise OrgError("BULK_QUERY_FAILED", f"bulk query {obj}: {self.redact(str(exc))[:300]}") from None
        return rows

    def describe(self, sobject: str) -> dict[str, Any]:
        """``GET /sobjects/<sobject>/describe``: the fields this org (and API version) has."""
        result: dict[str, Any] = self._retry(
            lambda: getattr(self.sf, sobject).describe(), f"describe {sobject}"
        )
        return result

    def limits(self) -> dict[str, Any]:
        """``GET /limits`` (``DailyApiRequests`` and the rest)."""
        result: dict[str, Any] = self._retry(lambda: self.sf.limits(), "GET /limits")
        return result


def _parsed(parse: Callable[[Any], T], body: Any) -> T:
    try:
        return parse(body)
    except CallFailed as exc:
        raise OrgError(exc.code, exc.message) from None


def _more(sf: Any, next_url: str) -> Callable[[], Any]:
    return lambda: sf.query_more(next_url, identifier_is_url=True)


def _object_of(soql: str) -> str:
    m = _FROM.search(soql)
    return m.group(1) if m else "?"


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """A REST record without its ``attributes`` (recursively), as simple-salesforce nests relationships.

    >>> _clean({"attributes": {}, "Id": "1", "User": {"attributes": {}, "IsActive": True}})
    {'Id': '1', 'User': {'IsActive': True}}
    """
    return {k: _clean(v) if isinstance(v, dict) else v for k, v in record.items() if k != "attributes"}


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """A Bulk API CSV row (``User.IsActive`` columns) in the nested REST shape.

    >>> _nest({"Id": "1", "User.IsActive": True, "User.Profile.Name": "Admin"})
    {'Id': '1', 'User': {'IsActive': True, 'Profile': {'Name': 'Admin'}}}
    """
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def _csv_value(value: str | None) -> Any:
    """Bulk API CSV cells back to JSON-like values: '' -> None, 'true' -> True, '12' -> 12.

    >>> [_csv_value(v) for v in ["", "true", "12", "2026-01-01T00:00:00.000+0000"]]
    [None, True, 12, '2026-01-01T00:00:00.000+0000']
    """
    if value is None or value == "":
        return None
    if value in ("true", "false"):
        return value == "true"
    if value.isdigit() and len(value) < 12:
        return int(value)
    return value
