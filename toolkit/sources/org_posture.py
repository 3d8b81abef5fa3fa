"""The org-wide facts of an org audit (the ``org`` table): the Settings the org-level rules read, one
``readMetadata`` call per Settings type, and who holds the permissions that bypass app gating (one SOQL
query per permission). They run on the audit's thread pool beside the other reads (:mod:`.org_inventory`).

What could not be read is unknown with the reason (``known=False``), never a default: a failed call makes
the audit ``partial``; an org that does not know a type or a permission field (older API version, API
Access Control off, a field name that is a guess: :mod:`toolkit.model.org_settings`) gives a problem row.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lxml import etree

from ..errors import OrgError
from ..model.bundle import LoadProblem
from ..model.document import local_name, read_regular_file
from ..model.org_settings import ORG_SETTINGS, SETTINGS_FULL_NAMES, OrgSetting
from . import mdapi_client as soap
from .org import Org

HOLDERS = "PermissionSetAssignment"
_MISSING = frozenset({"INVALID_TYPE", "INVALID_FIELD", "NOT_FOUND"})


def holder_query(permission: str) -> str:
    """Who holds a permission (directly or through a permission set or profile): one row per assignment.

    >>> holder_query("PermissionsUseAnyApiClient")[:60]
    'SELECT AssigneeId, PermissionSet.Name FROM PermissionSetAssi'
    """
    return f"SELECT AssigneeId, PermissionSet.Name FROM {HOLDERS} WHERE PermissionSet.{permission} = true"


Futures = dict[str, Future[Any]]


def submit(pool: ThreadPoolExecutor, org: Org) -> Futures:
    """Start the reads: one readMetadata per Settings type, one holder query per permission."""
    out: Futures = {t: pool.submit(org.read_metadata, t, [n]) for t, n in SETTINGS_FULL_NAMES.items()}
    for s in ORG_SETTINGS:
        if s.type_name == HOLDERS:
            out[s.path] = pool.submit(org.query, holder_query(s.path))
    return out


def collect(
    futures: Futures,
    problems: list[LoadProblem],
    failed: Callable[[str, OrgError], None],
    origin: str,
) -> list[dict[str, Any]]:
    """The ``org`` table rows (:data:`toolkit.model.org_settings.ORG_COLUMNS`) from the finished reads."""
    got: dict[str, Any] = {}
    why: dict[str, str] = {}
    for key, fut in futures.items():
        what = f"readMetadata {key}" if key in SETTINGS_FULL_NAMES else f"query {HOLDERS} ({key})"
        try:
            got[key] = fut.result()
        except OrgError as exc:
            why[key] = f"{what}: {exc}"
            if exc.kind in _MISSING:
                problems.append(LoadProblem(origin, None, f"{what} skipped: {exc}"))
            else:
                failed(what, exc)
    records = {t: _record(got[t]) for t in SETTINGS_FULL_NAMES if t in got}
    rows = []
    for s in ORG_SETTINGS:
        key = s.path if s.type_name == HOLDERS else s.type_name
        if key in why:
            rows.append(_row(s, None, False, why[key]))
        elif s.type_name == HOLDERS:
            assignments = got[key]
            users = {r.get("AssigneeId") for r in assignments}
            per_set: dict[str, int] = {}
            for r in assignments:
                name = str((r.get("PermissionSet") or {}).get("Name"))
                per_set[name] = per_set.get(name, 0) + 1
            detail = "; ".join(f"{n} ({c})" for n, c in sorted(per_set.items()))
            rows.append(_row(s, len(users), True, "", detail))
        elif records.get(key) is None:
            full = SETTINGS_FULL_NAMES[key]
            rows.append(_row(s, None, False, f"readMetadata {key} {full} returned no record"))
        else:
            rows.append(_row(s, _value(records[key], s.path), True, ""))
    return rows


_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def folder_rows(root: str | Path) -> list[dict[str, Any]] | None:
    """``org`` rows from a folder's ``settings/<Name>.settings-meta.xml`` (or mdapi ``.settings``) files of
    the Settings types; None when it holds none of them (then the folder audit has no ``org`` table).
    Holder counts and the Settings types without a file are unknown ("needs an org audit")."""
    files: dict[str, Path] = {}
    by_name = {n: t for t, n in SETTINGS_FULL_NAMES.items()}
    for file in Path(root).glob("**/settings/*.settings*"):
        name = file.name.removesuffix("-meta.xml").removesuffix(".settings")
        if name in by_name and file.name.endswith((".settings", ".settings-meta.xml")):
            files.setdefault(by_name[name], file)
    if not files:
        return None
    records: dict[str, Any] = {}
    why: dict[str, str] = {}
    for type_name, file in files.items():
        try:
            records[type_name] = etree.fromstring(read_regular_file(file), _SAFE)
        except (OSError, etree.XMLSyntaxError) as exc:
            why[type_name] = f"{file}: {exc}"
    rows = []
    for s in ORG_SETTINGS:
        if s.type_name == HOLDERS:
            rows.append(_row(s, None, False, f"needs an org audit ({s.source})"))
        elif s.type_name in records:
            rows.append(_row(s, _value(records[s.type_name], s.path), True, ""))
        else:
            full = SETTINGS_FULL_NAMES[s.type_name]
            reason = why.get(s.type_name) or f"needs an org audit (no settings/{full}.settings-meta.xml here)"
            rows.append(_row(s, None, False, reason))
    return rows


def _record(records: list[Any]) -> Any:
    return next((r for r in records if soap.record_full_name(r) is not None), None)


def _value(record: Any, path: str) -> bool | None:
    """A boolean element at ``path`` (None when absent: Salesforce then assumes the default)."""
    node = record
    for part in path.split("/"):
        node = next((c for c in node if local_name(c) == part), None)
        if node is None:
            return None
    text = (node.text or "").strip().lower()
    return {"true": True, "false": False}.get(text)


def _row(s: OrgSetting, value: Any, known: bool, reason: str, detail: str = "") -> dict[str, Any]:
    return {
        "setting": s.id,
        "label": s.label,
        "value": value,
        "source": s.source,
        "known": known,
        "reason": reason,
        "detail": detail,
    }
