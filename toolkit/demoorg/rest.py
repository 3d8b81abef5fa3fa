"""REST API (``/services/data``): versions, resources, limits, sObject describe/records, SOQL query,
queryMore, queryAll and the Tooling query endpoint, with Salesforce's JSON shapes and error bodies.

SOQL itself is the SOQL part's engine (``soql.run(text, source)``); its ``SoqlError`` becomes a 400 with
Salesforce's ``errorCode``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from .exceptions import RestError, not_found
from .models import OrgState
from .sobjects import READ_ONLY, SCHEMA, OrgRowSource, describe_sobject, sobject_summary

MAX_VERSION = 66
MIN_VERSION = 20
DEFAULT_BATCH = 2000
MAX_CURSORS = 500  # open query locators kept (Salesforce keeps far fewer per user; see docs/demo-org.md)
# objects whose query results stop after N rows (query + queryMore), in batches of at most CAPPED_BATCH
CAPPED_ROWS = {"OauthToken": 2500}
CAPPED_BATCH = 500
_SEASONS = ["Spring", "Winter", "Summer"]


def version_label(version: int) -> str:
    """The release name of an API version.

    >>> version_label(66), version_label(65), version_label(64)
    ("Spring '26", "Winter '26", "Summer '25")
    """
    offset = MAX_VERSION - version
    return f"{_SEASONS[offset % 3]} '{26 - (offset + 1) // 3:02d}"


def versions() -> list[dict[str, str]]:
    """The body of ``GET /services/data/``.

    >>> versions()[-1]["url"]
    '/services/data/v66.0'
    """
    return [
        {"label": version_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(MIN_VERSION, MAX_VERSION + 1)
    ]


def check_version(text: str) -> str:
    """``"59.0"`` -> ``"59.0"``; unknown versions are a 404, as on Salesforce.

    >>> check_version("59.0")
    '59.0'
    """
    try:
        major = float(text)
    except ValueError:
        raise not_found() from None
    if not MIN_VERSION <= major <= MAX_VERSION or major != int(major):
        raise not_found()
    return f"{int(major)}.0"


def to_json_value(value: Any) -> Any:
    """Python value -> REST JSON value (Salesforce's datetime and date formats).

    >>> to_json_value(datetime(2025, 1, 2, 3, 4, 5))
    '2025-01-02T03:04:05.000+0000'
    """
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if isinstance(value, date):
        return value.isoformat()
    return value


def dumps(body: Any) -> bytes:
    """JSON as Salesforce sends it (UTF-8, no NaN)."""
    return json.dumps(body, default=to_json_value, ensure_ascii=False).encode()


class RestApi:
    """REST handlers of one org (query cursors live here)."""

    def __init__(self, state: OrgState) -> None:
        self.state = state
        self.cursors: OrderedDict[str, tuple[list[dict[str, Any]], int]] = OrderedDict()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.cursors.clear()

    # --- resources -------------------------------------------------------------------------------
    def resources(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}"
        return {
            name: f"{base}/{name}"
            for name in (
                "tooling",
                "metadata",
                "eclair",
                "folders",
                "prechatForms",
                "chatter",
                "tabs",
                "appMenu",
                "quickActions",
                "queryAll",
                "analytics",
                "search",
                "identity",
                "composite",
                "parameterizedSearch",
                "theme",
                "nouns",
                "event",
                "serviceTemplates",
                "recent",
                "connect",
                "licensing",
                "limits",
                "process",
                "async-queries",
                "query",
                "jobs",
                "sobjects",
                "actions",
                "support",
            )
        }

    def limits(self) -> dict[str, Any]:
        s = self.state
        return {
            "DailyApiRequests": {"Max": s.api_max, "Remaining": max(0, s.api_max - s.api_usage)},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
            "ConcurrentSyncReportRuns": {"Max": 20, "Remaining": 20},
            "SingleEmail": {"Max": 15, "Remaining": 15},
        }

    def record_counts(self, names: str | None) -> dict[str, Any]:
        """``GET .../limits/recordCount?sObjects=A,B``: rows per object (every object without it)."""
        source = OrgRowSource(self.state)
        wanted = [n.strip() for n in (names or "").split(",") if n.strip()] or sorted(SCHEMA)
        counts = []
        for name in wanted:
            try:
                canonical = source.canonical(name)
            except KeyError:
                continue  # Salesforce leaves unknown objects out
            counts.append({"count": sum(1 for _ in source.rows(canonical)), "name": canonical})
        return {"sObjects": counts}

    def global_describe(self, version: str, tooling: bool = False) -> dict[str, Any]:
        names = OrgRowSource(self.state, tooling).sobjects()
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [sobject_summary(n, version) for n in names],
        }

    def describe(self, version: str, sobject: str, tooling: bool = False) -> dict[str, Any]:
        name = self._sobject(sobject, tooling)
        return describe_sobject(name, version, self.state.absent)

    def _sobject(self, sobject: str, tooling: bool = False) -> str:
        try:
            return OrgRowSource(self.state, tooling).canonical(sobject)
        except KeyError:
            raise not_found() from None

    # --- records ---------------------------------------------------------------------------------
    def record(self, version: str, sobject: str, record_id: str, fields: str | None) -> dict[str, Any]:
        name = self._sobject(sobject)
        row = OrgRowSource(self.state).get(name, record_id)
        if row is None:
            raise RestError(
                404,
                "NOT_FOUND",
                "Provided external ID field does not exist or is not accessible: " + record_id,
            )
        wanted = [f.strip() for f in fields.split(",")] if fields else [f for f, _, _ in SCHEMA[name][2]]
        known = {f.lower(): f for f, _, _ in SCHEMA[name][2]}
        out: dict[str, Any] = {
            "attributes": {"type": name, "url": f"/services/data/v{version}/sobjects/{name}/{row.get('Id')}"}
        }
        for f in wanted:
            real = known.get(f.lower())
            if real is None:
                raise RestError(400, "INVALID_FIELD", f"No such column '{f}' on sobject of type {name}")
            out[real] = to_json_value(row.get(real))
        return out

    def dml(self, method: str, sobject: str, record_id: str | None, body: bytes) -> tuple[int, Any]:
        """Create/update/delete on an sObject: only ``AppMenuItem.IsVisible`` is writable here."""
        name = self._sobject(sobject)
        verb = {"POST": "insert", "PATCH": "update", "DELETE": "delete"}.get(method, method.lower())
        if name == "AppMenuItem" and method == "PATCH" and record_id:
            try:
                values = json.loads(body or b"{}")
            except ValueError:
                raise RestError(400, "JSON_PARSER_ERROR", "The request body is not valid JSON") from None
            bad = [k for k in values if k != "IsVisible"]
            if bad:
                raise RestError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {', '.join(bad)}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile or "
                    "permission set.",
                    fields=bad,
                )
            row = OrgRowSource(self.state).get(name, record_id)
            if row is None:
                raise not_found()
            with self.state.lock:
                self.state.soql_only[row["ApplicationId"]]["_IsVisible"] = bool(values["IsVisible"])
                self.state.__dict__.pop("_derived_cache", None)
            return 204, None
        sea_write = (method == "POST" and not record_id) or (method == "DELETE" and record_id)
        if name == "SetupEntityAccess" and sea_write:
            from .grants import create_setup_entity_access, delete_setup_entity_access

            if method == "POST":
                return create_setup_entity_access(self.state, body)
            return delete_setup_entity_access(self.state, str(record_id))
        if name in READ_ONLY:
            raise RestError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type {name} does not support {verb}")
        raise not_found()  # pragma: no cover (every object here is read-only)

    # --- SOQL ------------------------------------------------------------------------------------
    def query(
        self,
        version: str,
        text: str,
        batch_header: str | None,
        tooling: bool = False,
        include_deleted: bool = False,
        viewer: str | None = None,
    ) -> dict[str, Any]:
        """One query page; ``viewer`` (the session's user Id) sees only the rows its permissions show."""
        if not text.strip():
            raise RestError(400, "MALFORMED_QUERY", "unexpected token: <EOF>")
        source = OrgRowSource(self.state, tooling, viewer)
        result = run_soql(text, source, include_deleted)
        records = [nest(r, version, source) for r in result.records]
        total, batch = result.total_size, _batch_size(batch_header)
        if result.sobject in CAPPED_ROWS and records:
            # Object Reference, OauthToken: "A query() call returns up to 500 rows. A queryMore() call
            # returns 500 more, up to 2500 total. No more records are returned after 2500" (COUNT() is exact)
            records = records[: CAPPED_ROWS[result.sobject]]
            total, batch = len(records), min(batch, CAPPED_BATCH)
        return self._page(version, records, total, batch, "tooling/" if tooling else "")

    def query_columns(self, text: str, tooling: bool = False) -> dict[str, Any]:
        """``GET .../query?q=...&columns=true``: the query's columns, no rows (see :mod:`.soql_columns`)."""
        from . import soql
        from .soql_columns import query_columns

        if not text.strip():
            raise RestError(400, "MALFORMED_QUERY", "unexpected token: <EOF>")
        source = OrgRowSource(self.state, tooling)
        try:
            out = query_columns(text, source)
        except soql.SoqlError as exc:
            raise RestError(400, exc.error_code, exc.message) from None
        entry = SCHEMA.get(str(out["entityName"]))
        out["keyPrefix"] = entry[1] if entry else None
        return out

    def query_more(self, version: str, locator: str, tooling: bool = False) -> dict[str, Any]:
        cursor_id, _, offset_text = locator.rpartition("-")
        with self._lock:
            cursor = self.cursors.get(cursor_id)
        if cursor is None or not offset_text.isdigit():
            raise RestError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        records, batch = cursor
        offset = int(offset_text)
        return self._page(
            version, records, len(records), batch, "tooling/" if tooling else "", offset, cursor_id
        )

    def _page(
        self,
        version: str,
        records: list[dict[str, Any]],
        total: int,
        batch: int,
        prefix: str,
        offset: int = 0,
        cursor_id: str | None = None,
    ) -> dict[str, Any]:
        end = offset + batch
        body: dict[str, Any] = {
            "totalSize": total,
            "done": end >= len(records),
            "records": records[offset:end],
        }
        if end < len(records):
            if cursor_id is None:
                cursor_id = "01g" + secrets.token_hex(8)[:15]
                with self._lock:
                    self.cursors[cursor_id] = (records, batch)
                    while len(self.cursors) > MAX_CURSORS:
                        self.cursors.popitem(last=False)
            body["nextRecordsUrl"] = f"/services/data/v{version}/{prefix}query/{cursor_id}-{end}"
        elif cursor_id is not None:
            with self._lock:
                self.cursors.pop(cursor_id, None)
        # key order as Salesforce sends it
        return {
            "totalSize": body["totalSize"],
            "done": body["done"],
            **({"nextRecordsUrl": body["nextRecordsUrl"]} if "nextRecordsUrl" in body else {}),
            "records": body["records"],
        }


def nest(row: Any, version: str, source: OrgRowSource, sobject: str | None = None) -> dict[str, Any]:
    """A result row (a ``soql.Record``, nested parents included) -> a REST record with ``attributes``."""
    name = getattr(row, "sobject", None) or sobject or ""
    if name == "AggregateResult":
        attributes: dict[str, Any] = {"type": "AggregateResult"}
    else:
        rid = getattr(row, "record_id", None) or row.get("Id")
        base = f"/services/data/v{version}/sobjects/{name}"
        attributes = {"type": name, "url": f"{base}/{rid}" if rid else base}
    out: dict[str, Any] = {"attributes": attributes}
    for key, value in row.items():
        if isinstance(value, dict):
            out[key] = nest(value, version, source, key)
        else:
            out[key] = to_json_value(value)
    return out


def _batch_size(header: str | None) -> int:
    """``Sforce-Query-Options: batchSize=N`` (200..2000; Salesforce treats it as a hint)."""
    if header:
        m = re.search(r"batchSize\s*=\s*(\d+)", header)
        if m:
            return max(200, min(2000, int(m.group(1))))
    return DEFAULT_BATCH


class SoqlResult:
    """Rows of a query plus its shape (what the REST and Bulk layers need)."""

    def __init__(self, records: list[Any], total_size: int, sobject: str) -> None:
        self.records, self.total_size, self.sobject = records, total_size, sobject


def run_soql(text: str, source: OrgRowSource, include_deleted: bool = False) -> SoqlResult:
    """Run SOQL through the SOQL part's engine (``soql.run``); its errors become 400 REST errors."""
    try:
        from . import soql
    except ImportError:  # pragma: no cover (the SOQL part ships soql.py)
        raise RestError(
            501, "NOT_IMPLEMENTED", "SOQL is not available in this build of the demo org"
        ) from None
    try:
        result = soql.run(text, source, include_deleted=include_deleted)
    except soql.SoqlError as exc:
        raise RestError(400, exc.error_code, exc.message) from None
    records = [] if getattr(result, "count_only", False) else list(result)
    total = int(getattr(result, "total_size", len(records)))
    name = str(getattr(result, "sobject", "") or "")
    return SoqlResult(records, total, name)
