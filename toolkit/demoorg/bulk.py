"""Bulk API 2.0 query jobs (``/services/data/vXX.X/jobs/query``): create, poll, CSV results with
``Sforce-Locator`` paging, abort and delete. Jobs run at creation (the data is in memory), so the first poll
already says ``JobComplete``."""

from __future__ import annotations

import csv
import io
import json
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from .exceptions import RestError
from .models import OrgState
from .rest import CAPPED_ROWS, run_soql
from .sobjects import OrgRowSource


def csv_value(value: Any) -> str:
    """A value as Bulk API 2.0 CSV writes it.

    >>> csv_value(True), csv_value(None), csv_value(datetime(2025, 1, 2, 3, 4, 5))
    ('true', '', '2025-01-02T03:04:05.000Z')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return str(value)


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


class BulkApi:
    """Query jobs of one org."""

    def __init__(self, state: OrgState) -> None:
        self.state = state
        self.jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.jobs.clear()

    def create(self, version: str, body: bytes, user_id: str) -> dict[str, Any]:
        try:
            spec = json.loads(body or b"{}")
        except ValueError:
            raise RestError(400, "JSON_PARSER_ERROR", "The request body is not valid JSON") from None
        operation = spec.get("operation")
        if operation not in ("query", "queryAll"):
            raise RestError(400, "INVALIDJOB", f"Invalid operation: {operation!r}; allowed: query, queryAll")
        text = spec.get("query") or ""
        if not text.strip():
            raise RestError(400, "INVALIDJOB", "A query is required for query jobs")
        delimiter = {
            "COMMA": ",",
            "TAB": "\t",
            "PIPE": "|",
            "SEMICOLON": ";",
            "CARET": "^",
            "BACKQUOTE": "`",
        }.get(spec.get("columnDelimiter", "COMMA"), ",")
        line_ending = "\r\n" if spec.get("lineEnding") == "CRLF" else "\n"
        source = OrgRowSource(self.state, viewer=user_id)
        result = run_soql(text, source, include_deleted=operation == "queryAll")
        sobject = result.sobject
        records = result.records
        if sobject in CAPPED_ROWS:
            # a Bulk job on OauthToken is served but stops at 2,500 rows too: sfdx-hardis reads it with
            # Bulk API 2.0 and re-queries by CreatedDate when it gets fewer rows than COUNT() (its PR #1408)
            records = records[: CAPPED_ROWS[sobject]]
        flat = [_flatten(r) for r in records]
        columns: list[str] = list(flat[0]) if flat else []
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        job_id = "750" + secrets.token_hex(8)[:15]
        job = {
            "id": job_id,
            "operation": operation,
            "object": sobject,
            "createdById": user_id,
            "createdDate": now,
            "systemModstamp": now,
            "state": "UploadComplete",
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(version),
            "lineEnding": spec.get("lineEnding", "LF"),
            "columnDelimiter": spec.get("columnDelimiter", "COMMA"),
        }
        with self._lock:
            self.jobs[job_id] = {
                "info": job,
                "rows": flat,
                "columns": columns,
                "delimiter": delimiter,
                "line_ending": line_ending,
            }
        return dict(job)

    def _job(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise RestError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def status(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        info = dict(job["info"])
        if info["state"] == "UploadComplete":
            info["state"] = job["info"]["state"] = "JobComplete"
        info.update(
            {
                "numberRecordsProcessed": len(job["rows"]),
                "retries": 0,
                "totalProcessingTime": 1,
                "jobType": "V2Query",
            }
        )
        return info

    def set_state(self, job_id: str, body: bytes) -> dict[str, Any]:
        job = self._job(job_id)
        wanted = (json.loads(body or b"{}") or {}).get("state")
        if wanted != "Aborted":
            raise RestError(400, "INVALIDJOB", f"Invalid state: {wanted!r}; allowed: Aborted")
        if job["info"]["state"] == "JobComplete":
            raise RestError(400, "INVALIDJOB", "Job is already completed and cannot be aborted")
        job["info"]["state"] = "Aborted"
        return dict(job["info"])

    def delete(self, job_id: str) -> None:
        self._job(job_id)
        with self._lock:
            self.jobs.pop(job_id, None)

    def results(
        self, job_id: str, locator: str | None, max_records: str | None
    ) -> tuple[bytes, dict[str, str]]:
        job = self._job(job_id)
        if job["info"]["state"] not in ("JobComplete", "UploadComplete"):
            raise RestError(400, "INVALIDJOB", f"Job {job_id} is not complete")
        job["info"]["state"] = "JobComplete"
        start = int(locator) if locator and locator.isdigit() else 0
        if locator and not locator.isdigit():
            raise RestError(400, "INVALIDLOCATOR", "Invalid locator")
        size = int(max_records) if max_records and max_records.isdigit() and int(max_records) > 0 else 50000
        chunk = job["rows"][start : start + size]
        buf = io.StringIO()
        writer = csv.writer(
            buf, delimiter=job["delimiter"], lineterminator=job["line_ending"], quoting=csv.QUOTE_ALL
        )
        writer.writerow(job["columns"])
        for row in chunk:
            writer.writerow([csv_value(row.get(c)) for c in job["columns"]])
        nxt = start + size
        headers = {
            "Sforce-Locator": str(nxt) if nxt < len(job["rows"]) else "null",
            "Sforce-NumberOfRecords": str(len(chunk)),
            "Content-Type": "text/csv",
        }
        return buf.getvalue().encode(), headers
