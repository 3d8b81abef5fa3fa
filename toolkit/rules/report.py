"""Findings for people and programs: text, CSV, JSON and SARIF 2.1.0 (code-scanning UIs).

SARIF results point at the file and line of the element for folder sources (``locations``: a map from
(app, field) to (file, line), built by :func:`locations` from the inventory) and at the app as a logical
location for orgs. Ignored findings carry a SARIF suppression with the reason; "cannot check" ones are
``kind: open`` (the tool could not tell).

>>> import pandas as pd
>>> f = pd.DataFrame([{"app": "A", "kind": "ConnectedApp", "rule": "NET-01", "title": "IP",
...     "severity": "high", "status": "fail", "field": "ip_relaxation", "setting": "IP Relaxation",
...     "observed": "BYPASS",
...     "expected": "!= BYPASS", "message": "m", "remedy": "r", "fixable_by_api": True, "setup_path": "",
...     "basis": "b", "ignore_reason": ""}])
>>> to_sarif(f)["runs"][0]["results"][0]["level"]
'error'
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from ..model import catalog
from ..model.bundle import Inventory
from .definitions import RULES, RULES_BY_ID
from .model import CANNOT_CHECK, FAIL, IGNORED, SEVERITIES, at_least

FORMATS = ("text", "csv", "json", "sarif")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
Locations = Mapping[tuple[str, str], tuple[str, int | None]]


def failing(findings: pd.DataFrame, threshold: str) -> pd.DataFrame:
    """Failed (not ignored, not "cannot check") findings at ``threshold`` severity or worse."""
    mask = (findings["status"] == FAIL) & findings["severity"].map(lambda s: at_least(str(s), threshold))
    return findings[mask.astype(bool)]


def summary_line(findings: pd.DataFrame) -> str:
    """``"12 findings: 1 critical, 5 high, ... ; 3 cannot check, 2 ignored"``."""
    fails = findings[findings["status"] == FAIL]
    counts = ", ".join(f"{int((fails['severity'] == s).sum())} {s}" for s in SEVERITIES)
    other = (
        f"{int((findings['status'] == CANNOT_CHECK).sum())} cannot check, "
        f"{int((findings['status'] == IGNORED).sum())} ignored"
    )
    return f"{len(fails)} findings: {counts}; {other}"


GROUP_BY = ("finding", "rule", "app")


def rule_label(rule_id: str, title: str = "") -> str:
    """How a rule is named for people everywhere (CLI, FindingsView, the picker's filter, the report).

    >>> rule_label("OAU-02", "Refresh token rotation off")
    'OAU-02 Refresh token rotation off'
    """
    title = title or (RULES_BY_ID[rule_id].title if rule_id in RULES_BY_ID else "")
    return f"{rule_id} {title}".strip()


_LISTED = 8  # apps (or rules) named per group line before "and N more"


def to_text(findings: pd.DataFrame, *, group_by: str = "finding") -> str:
    """The summary line first, then one line per finding (worst first), or one block per rule or app.

    ``group_by="rule"``: one line per rule with the number of apps and the first few of them, then its fix
    (what a reviewer reads: 40 lines, not 700); ``"app"``: one line per app with its rules.
    """
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by {group_by!r}; allowed: {', '.join(GROUP_BY)}")
    lines = [summary_line(findings)]
    if group_by == "rule":
        lines += _by_rule(findings)
    elif group_by == "app":
        lines += _by_app(findings)
    else:
        lines += [_line(r) for r in findings.to_dict("records")]
    lines.append(summary_line(findings))
    return "\n".join(lines) + "\n"


def _line(r: dict[Any, Any]) -> str:
    if r["status"] == FAIL:
        where = r["setup_path"] if r["setup_path"] and r["setup_path"] != r["remedy"] else ""
        fix = " [API]" if r["fixable_by_api"] else f" [{where}]" if where else ""
        return (
            f"{r['severity'].upper():8} {r['rule']:8} {r['app']}: {r['message']} ({r['setting']}: "
            f"{r['observed']}, expected {r['expected']}); fix: {r['remedy']}{fix}"
        )
    if r["status"] == CANNOT_CHECK:
        return f"{'?':8} {r['rule']:8} {r['app']}: cannot check: {r['message']}"
    return f"{'-':8} {r['rule']:8} {r['app']}: ignored: {r['ignore_reason']}"


def _named(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def _by_rule(findings: pd.DataFrame) -> list[str]:
    lines = []
    for rule, rows in findings.groupby("rule", sort=False):
        first = rows.iloc[0]
        fails = rows[rows["status"] == FAIL]
        other = rows[rows["status"] != FAIL]
        label = str(first["severity"]).upper() if len(fails) else "?"
        head = f"{label:8} {rule:8} {first['title']}: "
        if len(fails):
            fix = " [API]" if bool(fails["fixable_by_api"].any()) else ""
            apps = f"{len(fails)} app{'s' if len(fails) > 1 else ''}"
            lines.append(f"{head}{apps} ({_named(list(fails['app']))}); fix: {first['remedy']}{fix}")
        if len(other):
            kind = "cannot check" if (other["status"] == CANNOT_CHECK).all() else "cannot check or ignored"
            head = head if not len(fails) else f"{'':8} {rule:8} "
            lines.append(f"{head}{kind}: {_named(list(other['app']))}")
    return lines


def _by_app(findings: pd.DataFrame) -> list[str]:
    lines = []
    for app, rows in findings.groupby("app", sort=False):
        fails = rows[rows["status"] == FAIL]
        worst = str(fails.iloc[0]["severity"]).upper() if len(fails) else "?"
        unknown = int((rows["status"] == CANNOT_CHECK).sum())
        tail = f"; {unknown} cannot check" if unknown else ""
        lines.append(f"{worst:8} {app}: {len(fails)} findings ({_named(list(fails['rule']))}){tail}")
    return lines


def to_json(findings: pd.DataFrame) -> str:
    return (
        json.dumps(
            {
                "baseline": findings.attrs.get("baseline", ""),
                "not_run": findings.attrs.get("not_run", {}),
                "findings": findings.to_dict("records"),
            },
            indent=2,
            default=str,
        )
        + "\n"
    )


def render(
    findings: pd.DataFrame,
    fmt: str,
    *,
    locations: Locations | None = None,
    root: str = "",
    group_by: str = "finding",
) -> str:
    """The findings in one of :data:`FORMATS` (``group_by`` shapes the text format: :data:`GROUP_BY`)."""
    if fmt == "text":
        return to_text(findings, group_by=group_by)
    if fmt == "csv":
        return str(findings.to_csv(index=False))
    if fmt == "json":
        return to_json(findings)
    return json.dumps(to_sarif(findings, locations=locations, root=root), indent=2, default=str) + "\n"


def locations(
    inventory: Inventory, findings: pd.DataFrame, root: str | Path
) -> dict[tuple[str, str], tuple[str, int | None]]:
    """(app, field) → (file relative to ``root`` as a percent-encoded URI reference, line) for every finding
    of an app with files (a file outside ``root``: its ``file:`` URI)."""
    by_name = {b.name: b for b in inventory.apps}
    base = Path(root).resolve()
    out: dict[tuple[str, str], tuple[str, int | None]] = {}
    for app, field_id in set(zip(findings["app"], findings["field"], strict=True)):
        bundle = by_name.get(str(app))
        where = catalog.locate(bundle, str(field_id)) if bundle is not None else None
        if where is None:
            continue
        path = Path(where[0]).resolve()
        try:
            # a URI reference (RFC 3986): <, >, space, %, #, ':' and non-ASCII percent-encoded (UTF-8; a name
            # that is not UTF-8 keeps its bytes); urllib.parse.unquote gives the path back
            uri = quote(os.fsencode(path.relative_to(base).as_posix()), safe="/")
        except ValueError:
            uri = path.as_uri()
        out[(str(app), str(field_id))] = (uri, where[1])
    return out


def to_sarif(findings: pd.DataFrame, *, locations: Locations | None = None, root: str = "") -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run, every rule described, one result per finding."""
    from .. import __version__

    used = [r for r in RULES if r.id in set(findings["rule"])]
    index = {r.id: i for i, r in enumerate(used)}
    rules = [
        {
            "id": r.id,
            "name": "".join(w.capitalize() for w in r.title.replace("-", " ").split() if w.isalnum()),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": r.rationale},
            "help": {"text": f"{r.remedy.describe()}. Basis: {r.basis}"},
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
            "properties": {
                "security-severity": _SECURITY_SEVERITY[r.severity],
                "tags": ["security", r.id[:3]],
            },
        }
        for r in used
    ]
    results = [_result(r, index, locations or {}) for r in findings.to_dict("records")]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "connected-app-toolkit",
                "version": __version__,
                "rules": rules,
            }
        },
        "results": results,
        "properties": {"baseline": findings.attrs.get("baseline", "")},
    }
    if root:
        run["originalUriBaseIds"] = {"SRCROOT": {"uri": Path(root).resolve().as_uri() + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _result(r: dict[Any, Any], index: dict[str, int], where: Locations) -> dict[str, Any]:
    rule = RULES_BY_ID[r["rule"]]
    text = (
        f"{r['app']}: {r['message']} ({r['setting']}: {r['observed']}, expected {r['expected']}). "
        f"Fix: {r['remedy']}"
        if r["status"] != CANNOT_CHECK
        else f"{r['app']}: cannot check {rule.title}: {r['message']}"
    )
    out: dict[str, Any] = {
        "ruleId": rule.id,
        "ruleIndex": index[rule.id],
        "level": _LEVEL[str(r["severity"])] if r["status"] != CANNOT_CHECK else "none",
        "kind": "fail" if r["status"] != CANNOT_CHECK else "open",
        "message": {"text": text},
        "partialFingerprints": {"appRule/v1": f"{r['app']}/{rule.id}"},
        "properties": {k: _plain(r[k]) for k in ("app", "kind", "field", "severity", "observed", "expected")},
    }
    loc = where.get((str(r["app"]), str(r["field"])))
    if loc is not None:
        region = {"startLine": loc[1]} if loc[1] else {}
        physical: dict[str, Any] = {"artifactLocation": {"uri": loc[0]}}
        if not loc[0].startswith("file:"):
            physical["artifactLocation"]["uriBaseId"] = "SRCROOT"
        if region:
            physical["region"] = region
        out["locations"] = [{"physicalLocation": physical}]
    else:
        out["locations"] = [
            {
                "logicalLocations": [
                    {
                        "name": str(r["app"]),
                        "kind": "resource",
                        "fullyQualifiedName": f"{r['kind']}/{r['app']}",
                    }
                ]
            }
        ]
    if r["status"] == IGNORED:
        out["suppressions"] = [{"kind": "external", "justification": str(r["ignore_reason"])}]
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
