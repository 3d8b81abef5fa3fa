"""The org-wide facts of an org audit (the ``org`` table): the Settings the org-level rules read, one
``readMetadata`` call per Settings type, and who holds the permissions that bypass app gating (one
``PermissionSet`` describe, then one SOQL query per permission field the describe lists). They run on the
audit's thread pool beside the other reads (:mod:`.org_inventory`).

What could not be read is unknown with the reason (``known=False``), never a default: a failed call makes
the audit ``partial``; an org that does not know a type or a permission field (older API version, API
Access Control off: :mod:`toolkit.model.org_settings`) gives a problem row. A permission field the describe
does not list is never queried: its holders are unknown, the reason names the permission.
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
DESCRIBE = "describe PermissionSet"  # the futures key of the describe the holder queries wait for
NOT_DESCRIBED = "NOT_IN_DESCRIBE"
_MISSING = frozenset({"INVALID_TYPE", "INVALID_FIELD", "NOT_FOUND", NOT_DESCRIBED})


class _NotQueried(OrgError):
    """A holder query that was not sent: its field is not described, or the describe failed."""


def holder_query(permission: str) -> str:
    """Who holds a permission (directly or through a permission set or profile): one row per assignment.

    >>> holder_query("PermissionsUseAnyApiClient")[:60]
    'SELECT AssigneeId, PermissionSet.Name FROM PermissionSetAssi'
    """
    return f"SELECT AssigneeId, PermissionSet.Name FROM {HOLDERS} WHERE PermissionSet.{permission} = true"


Futures = dict[str, Future[Any]]


def submit(pool: ThreadPoolExecutor, org: Org) -> Futures:
    """Start the reads: one readMetadata per Settings type, the PermissionSet describe, then one holder
    query per permission whose field the describe lists (the describe is submitted first: the holder tasks
    that wait for it cannot starve it of a worker)."""
    out: Futures = {t: pool.submit(org.read_metadata, t, [n]) for t, n in SETTINGS_FULL_NAMES.items()}
    holders = [s for s in ORG_SETTINGS if s.type_name == HOLDERS]
    if holders:
        described = out[DESCRIBE] = pool.submit(org.describe, "PermissionSet")
        for s in holders:
            out[s.path] = pool.submit(_holders, org, described, s)
    return out


def calls(futures: Futures) -> int:
    """The calls the finished reads needed (a holder query not sent is not one)."""
    return sum(1 for f in futures.values() if not isinstance(f.exception(), _NotQueried))


def _holders(org: Org, described: Future[Any], s: OrgSetting) -> list[dict[str, Any]]:
    try:
        fields = {str(f.get("name")) for f in (described.result() or {}).get("fields") or []}
    except OrgError as exc:
        raise _NotQueried(exc.kind, f"not queried, {DESCRIBE} failed ({exc})") from None
    if s.path not in fields:
        raise _NotQueried(
            NOT_DESCRIBED,
            f'holders of "{s.permission}" unknown: this org\'s PermissionSet describe lists no {s.path} '
            "field, so it was not queried",
        )
    return org.query(holder_query(s.path))


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
        what = DESCRIBE if key == DESCRIBE else what
        try:
            got[key] = fut.result()
        except OrgError as exc:
            why[key] = f"{what}: {exc}"
            if isinstance(exc, _NotQueried):
                if exc.kind == NOT_DESCRIBED:  # a describe failure is reported once, by its own key
                    problems.append(LoadProblem(origin, None, f"{what} skipped: {exc}"))
            elif exc.kind in _MISSING:
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
