"""Many orgs in one run: read them in parallel within one bound on requests in flight, then one set of tables.

:func:`audit_fleet` audits several orgs at once (a thread pool of orgs; every org's requests count against one
shared :class:`~toolkit.sources.org.RequestBound`, the run's ``--concurrency``). An org that cannot be read
at all is kept as ``failed`` with its reason; the others are complete (or partial, as one org's audit is).
:func:`combine` stacks the orgs' tables with an ``org`` column first; :func:`fleet_table` is one row per
org; :func:`same_app_across_orgs` matches an app across orgs (by consumer key, then API name) and lists the
settings that differ between them (production against sandbox drift).

>>> a = OrgRun("prod", tables={"apps": pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "pkce": True}])})
>>> b = OrgRun("uat", tables={"apps": pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "pkce": False}])})
>>> combine([a, b])["apps"][["org", "name", "pkce"]].values.tolist()
[['prod', 'A', True], ['uat', 'A', False]]
>>> same_app_across_orgs([a, b])[["app", "matched_by", "field", "prod", "uat"]].values.tolist()
[['A', 'name', 'pkce', 'True', 'False']]
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ToolkitError
from ..model import catalog
from ..model.bundle import Inventory
from ..redact import redact
from .drift import _settings

ORG_COLUMN = "org"
FLEET_COLUMNS = (
    "org", "org_id", "instance_url", "status", "apps", "critical", "high", "medium", "low", "failed_findings",
    "api_calls", "reason",
)
SAME_APP_COLUMNS = ("app", "matched_by", "kind", "field", "setting", "orgs")  # then one column per org
_KEY_FIELD = "consumer_key"


@dataclass
class OrgRun:
    """One org of a fleet run: its label (``--org`` alias, or the name an orgs file gives), and what was read.

    ``status`` is ``complete``, ``partial`` (some reads failed: ``reason``) or ``failed`` (nothing read:
    ``reason``; no tables). ``keys`` maps an app's name to a digest of its consumer key (matching only; the
    key itself is never kept). ``findings`` are set by the command (against its baseline).
    """

    label: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    inventory: Inventory | None = None
    identity: dict[str, str] = field(default_factory=dict)
    status: str = "complete"
    reason: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    findings: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # what the command's reader adds (report data)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


# opens one org: a context manager giving the Org (connected, its requests counted against the shared bound)
Opener = Callable[[], AbstractContextManager[Any]]
# reads one opened org: (inventory, tables, extra)
Reader = Callable[[Any], tuple[Inventory, dict[str, pd.DataFrame], dict[str, Any]]]


def audit_fleet(
    orgs: Sequence[tuple[str, Opener]],
    read: Reader,
    *,
    bound: Any,
    identity: Callable[[Any], dict[str, str]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[OrgRun]:
    """Audit every org of ``orgs`` (label, opener) in parallel: one :class:`OrgRun` each, in the given order.

    ``bound`` (a :class:`~toolkit.sources.org.RequestBound`) is shared by every org: each one's requests
    wait for a slot of it, and opening an org (its first contact) holds one, so no more than the bound are
    ever in flight across the fleet. At most ``bound.limit`` orgs are read at once. An org whose audit
    raises (a :class:`~toolkit.errors.ToolkitError`, or anything else: named by its type) is ``failed`` with
    the reason; the others go on.
    """

    def one(label: str, opener: Opener) -> OrgRun:
        run = OrgRun(label)
        try:
            with bound:  # connecting is one call (the API versions): it counts against the bound too
                context = opener()
                org = context.__enter__()
            try:
                org.share_bound(bound)
                if identity is not None:
                    run.identity = identity(org)
                inventory, tables, extra = read(org)
            except BaseException as exc:
                context.__exit__(type(exc), exc, exc.__traceback__)
                raise
            context.__exit__(None, None, None)
        except Exception as exc:  # noqa: BLE001 - one org's failure, whatever it is, leaves the others going
            said = str(exc) if isinstance(exc, ToolkitError) else f"{type(exc).__name__}: {redact(str(exc))}"
            run.status, run.reason = "failed", said
            if progress is not None:
                progress(f"org {label}: FAILED: {exc}")
            return run
        run.inventory, run.tables, run.extra = inventory, tables, extra
        run.keys = key_digests(inventory)
        if inventory.partial:
            run.status, run.reason = "partial", inventory.partial_reason or "some reads failed"
        if progress is not None:
            progress(f"org {label}: {run.status}, {len(tables.get('apps', ()))} apps")
        return run

    if not orgs:
        return []
    workers = max(1, min(len(orgs), int(getattr(bound, "limit", len(orgs)))))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fleet") as pool:
        futures = [pool.submit(one, label, opener) for label, opener in orgs]
        return [f.result() for f in futures]


def key_digests(inventory: Inventory) -> dict[str, str]:
    """App name -> a short digest of its consumer key (apps without a key are left out). The key is a
    secret of the tables (masked there); the digest only tells two orgs' copies of one app apart."""
    out: dict[str, str] = {}
    for bundle in inventory.apps:
        try:
            key = catalog.read_value(bundle, _KEY_FIELD)
        except ToolkitError:
            continue
        if isinstance(key, str) and key:
            out[bundle.name] = hashlib.sha256(f"consumer key|{key}".encode()).hexdigest()[:24]
    return out


def partial_reason(runs: Iterable[OrgRun]) -> str:
    """The fleet's reason for being partial: each failed or partial org and why ("" when all complete)."""
    return "; ".join(f"org {r.label} {r.status}: {r.reason}" for r in runs if r.status != "complete")


def combine(runs: Sequence[OrgRun]) -> dict[str, pd.DataFrame]:
    """The orgs' tables stacked, an ``org`` column first (the org's label); a failed org is one
    ``problems`` row (source ``org <label>``) and no other row. Tables keep ``partial``/``partial_reason``/
    ``origin`` in ``attrs`` as one org's do."""
    names: list[str] = []
    for run in runs:
        names += [n for n in run.tables if n not in names]
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        frames = []
        for run in runs:
            frame = run.tables.get(name)
            if frame is None:
                continue
            frame = frame.copy()
            frame.attrs = {}
            if ORG_COLUMN in frame.columns:
                frame = frame.drop(columns=[ORG_COLUMN])
            frame.insert(0, ORG_COLUMN, run.label)
            frames.append(frame)
        frames = [f for f in frames if len(f)] or frames[:1]
        out[name] = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    failed_rows = [
        {ORG_COLUMN: r.label, "source": f"org {r.label}", "line": None, "problem": f"not read: {r.reason}"}
        for r in runs if not r.ok
    ]
    if failed_rows:
        problems = out.get("problems", pd.DataFrame(columns=[ORG_COLUMN, "source", "line", "problem"]))
        out["problems"] = pd.concat([problems, pd.DataFrame(failed_rows)], ignore_index=True)
    reason = partial_reason(runs)
    for frame in out.values():
        frame.attrs["partial"] = bool(reason)
        frame.attrs["partial_reason"] = reason
        frame.attrs["origin"] = f"{len(runs)} orgs"
    return out


def combine_findings(runs: Sequence[OrgRun]) -> pd.DataFrame | None:
    """The orgs' findings stacked, an ``org`` column first (None when no org has findings)."""
    frames = []
    attrs: dict[Any, Any] = {}
    for run in runs:
        if run.findings is None:
            continue
        frame = run.findings.copy()
        attrs = attrs or dict(run.findings.attrs)
        frame.attrs = {}
        frame.insert(0, ORG_COLUMN, run.label)
        frames.append(frame)
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    out.attrs = attrs
    return out


def labelled(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings whose ``app`` names the org too (``prod/App``): for the text and SARIF outputs and the
    summary page, where one app name may be in several orgs."""
    out = findings.copy()
    if ORG_COLUMN in out.columns:
        out["app"] = out[ORG_COLUMN].astype(str) + "/" + out["app"].astype(str)
    return out


def labelled_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Copies of stacked tables whose app names name the org too (``apps.name`` and every ``app``
    column: ``prod/App``), for a page where one name may be in several orgs; tables without ``org`` stay."""
    out = {}
    for name, frame in tables.items():
        if ORG_COLUMN in frame.columns:
            frame = frame.copy()
            prefix = frame[ORG_COLUMN].astype(str) + "/"
            for col in ("name",) if name == "apps" else ("app",):
                if col in frame.columns:
                    frame[col] = prefix + frame[col].astype(str)
        out[name] = frame
    return out


def fleet_table(runs: Sequence[OrgRun]) -> pd.DataFrame:
    """One row per org: status, apps, failed findings by severity, API calls, the reason when not complete.

    >>> fleet_table([OrgRun("prod"), OrgRun("uat", status="failed", reason="no answer")])[
    ...     ["org", "status", "apps", "reason"]].values.tolist()
    [['prod', 'complete', 0, ''], ['uat', 'failed', None, 'no answer']]
    """
    rows = []
    for run in runs:
        row: dict[str, Any] = {
            "org": run.label, "org_id": run.identity.get("org_id", ""),
            "instance_url": run.identity.get("instance_url", ""), "status": run.status,
            "apps": len(run.tables["apps"]) if "apps" in run.tables else (0 if run.ok else None),
            "reason": run.reason,
        }
        fails = None
        if run.findings is not None and "status" in run.findings.columns:
            fails = run.findings[run.findings["status"] == "fail"]
        for severity in ("critical", "high", "medium", "low"):
            row[severity] = int((fails["severity"] == severity).sum()) if fails is not None else None
        row["failed_findings"] = len(fails) if fails is not None else None
        api = run.tables.get("api_calls")
        if api is not None and "kind" in api.columns:
            total = api.loc[api["kind"] == "TOTAL", "calls"]
            row["api_calls"] = int(total.iloc[0]) if len(total) else None
        rows.append(row)
    return pd.DataFrame(rows, columns=list(FLEET_COLUMNS), dtype=object)


def same_app_across_orgs(runs: Sequence[OrgRun]) -> pd.DataFrame:
    """The settings that differ between the copies of one app in several orgs.

    Apps are matched by consumer key first (a sandbox copy keeps production's key; so does a renamed app),
    then, for apps whose key matched none in another org, by API name. Per matched app (found in two orgs
    or more) and compared setting (:func:`~toolkit.analysis.drift.compared_columns`, plus IP ranges and
    custom attributes) whose values differ: one row, ``app`` (the names it has), ``matched_by``
    (``consumer key`` / ``name``), ``kind``, ``field``, ``setting`` (Setup label), ``orgs`` (how many hold
    the app), then one column per org with its value (empty when the org lacks the app, "(not set)" when
    unset, "(not read)" when that org's audit read less of the app than another's: its ``coverage``, such as
    a partial audit's ``unreadable``; those copies are not compared). Orgs that failed are left out.
    """
    ok = [r for r in runs if r.ok and "apps" in r.tables]
    labels = [r.label for r in ok]
    settings = {r.label: _settings(r.tables) for r in ok}
    records = {org: dict(zip(f.index, f.to_dict("records"), strict=True)) for org, f in settings.items()}
    groups: list[tuple[str, dict[str, str]]] = []  # (matched_by, {org: app name})
    by_key: dict[str, dict[str, str]] = {}
    for run in ok:
        for name in settings[run.label].index:
            digest = run.keys.get(str(name))
            if digest:
                by_key.setdefault(digest, {}).setdefault(run.label, str(name))
    matched: set[tuple[str, str]] = set()
    for members in by_key.values():
        if len(members) > 1:
            groups.append(("consumer key", members))
            matched |= set(members.items())
    by_name: dict[str, dict[str, str]] = {}
    for run in ok:
        for name in settings[run.label].index:
            if (run.label, str(name)) not in matched:
                by_name.setdefault(str(name), {})[run.label] = str(name)
    groups += [("name", members) for members in by_name.values() if len(members) > 1]
    rows: list[dict[str, Any]] = []
    coverage = {r.label: _coverage(r.tables["apps"]) for r in ok}
    for matched_by, members in groups:
        rank = {org: _RANK.get(coverage[org].get(name, ""), 4) for org, name in members.items()}
        best = max(rank.values())
        unread = {org for org, n in rank.items() if n < best}  # read less of it here: not compared
        frames = {org: records[org][name] for org, name in members.items()}
        first = next(iter(frames.values()))
        cols = [c for c in first if c != "kind" and all(c in f for f in frames.values())]
        names = sorted(set(members.values()))
        for col in cols:
            values = {org: f[col] for org, f in frames.items()}
            if len({"\0" if v is None else str(v) for o, v in values.items() if o not in unread}) < 2:
                continue
            row: dict[str, Any] = {
                "app": " = ".join(names), "matched_by": matched_by, "kind": first["kind"], "field": col,
                "setting": _label(col), "orgs": len(members),
            }
            for org in labels:
                value = values.get(org)
                row[org] = (
                    "" if org not in values else "(not read)" if org in unread
                    else "(not set)" if value is None else str(value)
                )
            rows.append(row)
    out = pd.DataFrame(rows, columns=[*SAME_APP_COLUMNS, *labels], dtype=object)
    return out.sort_values(["app", "field"], kind="stable", ignore_index=True) if len(out) else out


# how much of an app an org's audit read (``apps.coverage``): a copy read less than another is not compared
_RANK = {
    "metadata+soql": 5, "metadata": 4, "soql_only": 3, "metadata_unknown": 2, "tokens_only": 1,
    "unreadable": 0,
}


def _coverage(apps: pd.DataFrame) -> dict[str, str]:
    if "coverage" not in apps.columns:
        return {}
    return dict(zip(apps["name"].astype(str), apps["coverage"].astype(str), strict=True))


def _label(column: str) -> str:
    try:
        return str(catalog.field(column).label)
    except ToolkitError:
        return column.replace("_", " ").capitalize()
