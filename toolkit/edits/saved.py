"""Saved plans (Terraform's model): ``edit --plan-out plan.json`` now, ``edit --apply plan.json`` later.

A saved plan names its target (org: instance URL and org id; folder: the resolved path), the apps, every
component to write with its operations and the sha256 of its plan-time bytes, the changes as given, the
preview rows and grants, the API and toolkit versions, the creation time, and a sha256 ``digest`` of all of
that (a hand-edited plan is refused). It holds no component bytes and no secret.

Applying it re-reads every component: one whose bytes differ from the fingerprint changed since the plan
(stale) and the plan is refused, naming the apps, unless ``force_stale``. Nothing outside the plan's
components and grants is ever written.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SourceError, ToolkitError
from ..redact import redact
from .changes import ChangeSpec
from .plan import PREVIEW_COLUMNS, ComponentPlan, EditPlan, GrantPlan, Op
from .targets import FolderTarget, Key, OrgTarget, Target, target_for

FORMAT = "toolkit-edit-plan"
FORMAT_VERSION = 1
MAX_PLAN_BYTES = 50_000_000


class SavedPlanError(ToolkitError):
    """A saved plan that cannot be used: malformed, edited by hand, of another org or folder, or stale."""


def fingerprint(raw: bytes) -> str:
    """sha256 of a component's plan-time bytes.

    >>> fingerprint(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(raw).hexdigest()


def _digest(body: dict[str, Any]) -> str:
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def org_id(org: Any) -> str:
    """The org's 18-character Id (``SELECT Id FROM Organization``: one REST call)."""
    rows = org.query("SELECT Id FROM Organization", bulk_ok=False)
    if not rows or not rows[0].get("Id"):
        raise SourceError(f"{org.instance_url}: SELECT Id FROM Organization returned no row")
    return str(rows[0]["Id"])


def identity(target: Target) -> dict[str, str]:
    """What a plan is for: ``{"kind": "org", "instance_url", "org_id"}`` or ``{"kind": "folder", ...}``."""
    if isinstance(target, OrgTarget):
        if not getattr(target, "org_id", ""):
            target.org_id = org_id(target.org)  # type: ignore[attr-defined]
        return {"kind": "org", "instance_url": target.origin, "org_id": target.org_id}  # type: ignore[attr-defined]
    assert isinstance(target, FolderTarget)
    return {"kind": "folder", "origin": str(Path(target.origin).resolve())}


def write_summary(plan: EditPlan, journal_dir: str | Path) -> str:
    """The line shown before any write, by the CLI and the notebook form alike.

    Where (org URL and id, or folder), how many apps and components, and the journal folder.
    """
    who = identity(plan.target)
    where = (
        f"org {who['instance_url']} (org id {who['org_id']})"
        if who["kind"] == "org"
        else f"folder {who['origin']}"
    )
    apps = len({c.app for c in plan.components.values()} | {g.app for g in plan.grants})
    return (
        f"about to write: {where}; {apps} apps, {len(plan.components)} components; journal in {journal_dir}/"
    )


def plan_document(plan: EditPlan) -> dict[str, Any]:
    """The JSON document of a plan (what :meth:`EditPlan.save` writes)."""
    from .. import __version__

    target = plan.target
    api = target.org.api_version if isinstance(target, OrgTarget) else ""
    body: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "toolkit_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "api_version": api,
        "target": identity(target),
        "changes": [
            {"field": s.field, "op": s.op, "value": s.value, "app": s.app, "text": s.text} for s in plan.specs
        ],
        "apps": sorted({c.app for c in plan.components.values()} | {g.app for g in plan.grants}),
        "components": [
            {
                "type": k[0],
                "fullName": k[1],
                "app": c.app,
                "sha256": fingerprint(c.raw),
                "ops": [o.to_json() for o in c.ops],
            }
            for k, c in sorted(plan.components.items())
        ],
        "grants": [
            {"app": g.app, "field": g.field, "add": list(g.add), "remove": list(g.remove)}
            for g in plan.grants
        ],
        "preview": [{k: _jsonable(r.get(k)) for k in PREVIEW_COLUMNS} for r in plan.rows],
        "summary": plan.summary(),
    }
    body["digest"] = _digest(body)
    return body


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def save_plan(plan: EditPlan, path: str | Path) -> str:
    """Write ``plan`` to ``path`` (JSON); refuses a plan with problems. Returns the path."""
    if plan.problem_rows:
        from .plan import PlanHasProblems

        raise PlanHasProblems(plan.problems)
    text = json.dumps(plan_document(plan), indent=1, ensure_ascii=False)
    if redact(text) != text:  # belt and braces: a plan holds names, paths and values, never a secret
        raise SavedPlanError(f"{path}: the plan would hold a secret-looking value; not saved")
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise SavedPlanError(f"{path}: cannot write the plan ({exc.strerror})") from None
    return str(out)


# --- reading a saved plan (input: check everything) -----------------------------------------------------
_TOP = {
    "format": str,
    "format_version": int,
    "toolkit_version": str,
    "created": str,
    "api_version": str,
    "target": dict,
    "changes": list,
    "apps": list,
    "components": list,
    "grants": list,
    "preview": list,
    "summary": str,
    "digest": str,
}


def read_plan_file(path: str | Path) -> dict[str, Any]:
    """The checked JSON document of a saved plan; :class:`SavedPlanError` for anything malformed or edited."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_PLAN_BYTES:
            raise SavedPlanError(f"{p}: larger than {MAX_PLAN_BYTES:,} bytes; not a saved plan")
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SavedPlanError(f"{p}: cannot read the saved plan ({exc.strerror})") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SavedPlanError(
            f"{p}: not a saved plan (not UTF-8 JSON: {str(exc)[:80]}); allowed: a file from edit --plan-out"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SavedPlanError(f'{p}: not a saved plan (no "format": "{FORMAT}"); allowed: edit --plan-out')
    for key, kind in _TOP.items():
        if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool) != (kind is bool):
            raise SavedPlanError(f"{p}: key {key!r} missing or not a {kind.__name__}; the file is not usable")
    if doc["format_version"] != FORMAT_VERSION:
        raise SavedPlanError(
            f"{p}: format_version {doc['format_version']}; allowed: {FORMAT_VERSION} "
            "(re-plan with this toolkit)"
        )
    body = {k: v for k, v in doc.items() if k != "digest"}
    if _digest(body) != doc["digest"]:
        raise SavedPlanError(
            f"{p}: the digest does not match the content: the plan was edited after it was saved; "
            "re-plan with edit --plan-out (a saved plan is applied exactly as saved, or not at all)"
        )
    for c in doc["components"]:
        if not (
            isinstance(c, dict)
            and all(isinstance(c.get(k), str) and c.get(k) for k in ("type", "fullName", "app", "sha256"))
            and isinstance(c.get("ops"), list)
            and all(isinstance(o, dict) and isinstance(o.get("path"), str) for o in c["ops"])
        ):
            raise SavedPlanError(f"{p}: a component entry of the wrong shape; the file is not usable")
    for g in doc["grants"]:
        if not (isinstance(g, dict) and isinstance(g.get("app"), str) and isinstance(g.get("add"), list)):
            raise SavedPlanError(f"{p}: a grant entry of the wrong shape; the file is not usable")
    return doc


def show_plan(path: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The checked document and its preview table (for ``edit --show``)."""
    doc = read_plan_file(path)
    return doc, pd.DataFrame(doc["preview"], columns=PREVIEW_COLUMNS)


def load_plan(path: str | Path, source: Any, *, force_stale: bool = False) -> EditPlan:
    """A saved plan, re-read from ``source`` (the same org or folder) and ready to ``apply()``.

    Refused (:class:`SavedPlanError`) when the file is malformed or edited, when ``source`` is another org
    (instance URL or org id) or another folder, and when a component changed since the plan (stale, the
    apps named) unless ``force_stale`` (then the plan's operations are applied to the fresh copy).
    """
    doc = read_plan_file(path)
    if source is None and doc["target"].get("kind") == "folder":
        source = doc["target"].get("origin")
    target = target_for(source)
    want, got = doc["target"], _identity_of(target)
    if want.get("kind") != got["kind"] or any(want.get(k) != v for k, v in got.items()):
        shown = want.get("instance_url") or want.get("origin")
        raise SavedPlanError(
            f"{path}: a plan for the {want.get('kind')} {shown} (org id {want.get('org_id', '-')}), not for "
            f"{got['kind']} {got.get('instance_url') or got.get('origin')}"
            f"{' (org id ' + got['org_id'] + ')' if got.get('org_id') else ''}; nothing was written"
        )
    keys: list[Key] = [(c["type"], c["fullName"]) for c in doc["components"]]
    if isinstance(target, FolderTarget):
        target.load(sorted({c["app"] for c in doc["components"]}))  # the files' paths
    fresh = target.read(keys) if keys else {}
    plan = EditPlan(target=target, specs=[_spec(s) for s in doc["changes"] if isinstance(s, dict)])
    plan.rows = [dict(r) for r in doc["preview"] if isinstance(r, dict)]
    plan.grants = [
        GrantPlan(str(g["app"]), str(g.get("field", "")), list(g["add"]), list(g.get("remove") or []))
        for g in doc["grants"]
    ]
    stale: dict[str, str] = {}
    for c, key in zip(doc["components"], keys, strict=True):
        raw = fresh.get(key)
        if raw is None:
            stale[c["app"]] = f"{key[0]}:{key[1]} no longer exists or cannot be read"
            continue
        before = target.document(key, raw)
        if fingerprint(raw) != c["sha256"]:
            stale.setdefault(c["app"], f"{key[0]}:{key[1]} changed since the plan")
            if not force_stale or raw is None:
                continue
        ops = [Op.from_json(o) for o in c["ops"]]
        after = before
        try:
            for op in ops:
                after = op.apply(after)
        except ToolkitError as exc:
            raise SavedPlanError(f"{path}: {c['app']}: the saved change no longer applies: {exc}") from None
        plan.components[key] = ComponentPlan(key, c["app"], raw, before, after, ops)
    missing = {a: why for a, why in stale.items() if "no longer exists" in why}
    if stale and (not force_stale or missing):
        names = ", ".join(sorted(stale)[:10]) + (f" and {len(stale) - 10} more" if len(stale) > 10 else "")
        raise SavedPlanError(
            f"{path}: the org or folder moved since the plan: {names} ({next(iter(stale.values()))}); "
            "re-plan, or apply with --force-stale / force_stale=True; nothing was written"
        )
    plan.read_at = time.monotonic()  # this load was the fresh read: apply() right after does not read again
    return plan


def _identity_of(target: Target) -> dict[str, str]:
    return identity(target)


def _spec(data: dict[str, Any]) -> ChangeSpec:
    return ChangeSpec(
        str(data.get("field", "")), str(data.get("op", "=")), str(data.get("value", "")), data.get("app")
    )


__all__ = ["SavedPlanError", "fingerprint", "identity", "load_plan", "org_id", "read_plan_file", "save_plan"]
