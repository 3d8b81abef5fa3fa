"""Run the rules over audit tables: :func:`findings` → one DataFrame row per (app, rule) that did not pass.

>>> import pandas as pd
>>> apps = pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "coverage": "metadata", "has_oauth": True,
...     "ip_relaxation": "BYPASS", "callback_urls": "https://a.example.com/cb", "session_timeout": 30}])
>>> f = findings({"apps": apps})
>>> f.set_index("rule").loc["NET-01", ["severity", "observed", "expected", "remedy"]].tolist()
['high', 'BYPASS', '!= BYPASS', 'set IP Relaxation to Enforce IP restrictions']
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, NamedTuple

import pandas as pd

from .. import checks
from ..analysis.expect import Expectation
from ..analysis.markers import NOT_SET
from ..model import catalog
from ..model.org_settings import ORG_SETTING
from .baseline import Baseline, resolve_baseline
from .definitions import RULES
from .model import (
    CANNOT_CHECK,
    FAIL,
    IGNORED,
    ORG_APP,
    SEVERITIES,
    AppFacts,
    CannotCheck,
    OrgFacts,
    Outcome,
    Rule,
    clean,
    clean_records,
)

FINDING_COLUMNS = (
    "app",
    "kind",
    "rule",
    "title",
    "severity",
    "status",
    "field",
    "setting",
    "observed",
    "expected",
    "message",
    "remedy",
    "fixable_by_api",
    "setup_path",
    "basis",
    "ignore_reason",
)
_SEP = "; "
KINDS = (catalog.CA, catalog.ECA)


def findings(
    tables: dict[str, pd.DataFrame], baseline: Baseline | str | Any = None, *, today: date | None = None
) -> pd.DataFrame:
    """Findings of the audit ``tables`` against a baseline (default "Salesforce recommended").

    ``baseline`` is a :class:`~toolkit.rules.baseline.Baseline`, a built-in name ("Salesforce recommended",
    "Mobile SDK ready") or the path of a TOML baseline. Columns: :data:`FINDING_COLUMNS` (docs/findings.md).
    ``status`` is ``fail``, ``cannot check`` (the audit could not read a value: ``message`` says why) or
    ``ignored`` (an unexpired ignore of the baseline; ``ignore_reason``). Rules that need what this source
    cannot give (usage needs an org) are not run; ``.attrs["not_run"]`` lists them with the reason.
    """
    checks.audit_tables("findings(tables)", tables)
    base = resolve_baseline(baseline)
    today = today or date.today()
    rules = [r for r in RULES if base.enabled(r.id)]
    runnable, not_run = _runnable(rules, tables)
    # per rule, what does not depend on the app: kinds, target field per kind, expectation
    plans = [
        _Plan(r, {k: _target(r, k) for k in KINDS if r.applies(k)}, base.expectation(r)) for r in runnable
    ]
    unknown: dict[tuple[str, Any, Any, Any, Any], str | None] = {}
    rows: list[dict[str, Any]] = []
    for facts in app_facts(tables, today=today):
        row = facts.row
        kind, coverage, reason, failed = (
            facts.kind,
            row.get("coverage"),
            row.get("coverage_reason"),
            row.get("unknown"),
        )
        for plan in plans:
            target = plan.targets.get(kind)
            if target is None:
                continue
            key = (plan.rule.id, kind, coverage, reason, failed)
            if key not in unknown:
                unknown[key] = next(filter(None, (facts.unknown(r) for r in plan.rule.reads)), None)
            found = _evaluate(plan, facts, base, target, unknown[key])
            if found is not None:
                rows.append(found)
    org_rules = [r for r in runnable if r.org_check is not None]
    if org_rules:
        rows.extend(_org_findings(org_rules, tables, base))
    out = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    out = _apply_ignores(out, base, today)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    out = out.sort_values(
        ["severity", "rule", "app"],
        key=lambda c: c.map(order) if c.name == "severity" else c,
        ignore_index=True,
    )
    out["fixable_by_api"] = out["fixable_by_api"].astype(bool)
    out.attrs["baseline"] = base.name
    out.attrs["not_run"] = not_run
    return out


def _runnable(rules: list[Rule], tables: dict[str, pd.DataFrame]) -> tuple[list[Rule], dict[str, str]]:
    apps = tables["apps"]
    ok, skipped = [], {}
    for rule in rules:
        missing = [n for n in rule.needs if n not in tables and n not in apps.columns]
        if missing == ["org"]:
            skipped[rule.id] = "needs an org audit (org-wide settings); this source has none"
        elif missing:
            skipped[rule.id] = f"needs {', '.join(missing)} (an org audit); this source has none"
        else:
            ok.append(rule)
    return ok, skipped


class _Plan(NamedTuple):
    rule: Rule
    targets: dict[str, str | None]
    expectation: Expectation | None


def _evaluate(
    plan: _Plan, f: AppFacts, base: Baseline, target: str, unknown: str | None
) -> dict[str, Any] | None:
    rule = plan.rule
    if rule.when is not None:
        applies = rule.when(f)
        if applies is False:
            return None
        if applies is None:
            reason = f.row.get("coverage_reason") or f.row.get("coverage")
            tell = f"cannot tell whether it applies: {reason}"
            return _row(rule, f, base, target, CANNOT_CHECK, message=tell)
    if unknown:
        return _row(rule, f, base, target, CANNOT_CHECK, message=unknown)
    result: Outcome | CannotCheck | None
    if rule.check is not None:
        result = rule.check(f)
    else:
        assert plan.expectation is not None  # a rule without check has an expect (tested)
        value = f.effective(target)
        result = (
            None if plan.expectation.holds(value) else Outcome(value, str(plan.expectation), rule.message)
        )
    if result is None:
        return None
    if isinstance(result, CannotCheck):
        return _row(rule, f, base, target, CANNOT_CHECK, message=result.why)
    return _row(
        rule,
        f,
        base,
        target,
        FAIL,
        observed=result.observed,
        expected=result.expected,
        message=result.message or rule.title,
    )


_TARGETS: dict[tuple[str, str], str | None] = {}
_REMEDIES: dict[tuple[str, str], tuple[str, bool]] = {}


def _target(rule: Rule, kind: str) -> str | None:
    """The catalog field a finding points at for this kind (None: this kind has none of the rule's fields)."""
    key = (rule.id, kind)
    if key not in _TARGETS:
        _TARGETS[key] = _find_target(rule, kind)
    return _TARGETS[key]


def _find_target(rule: Rule, kind: str) -> str | None:
    candidates = [rule.target, *rule.reads]
    known = [c for c in candidates if c in catalog.CATALOG]
    if not known:
        return rule.target
    for c in known:
        if catalog.field(c).binding(kind) is not None:
            return c
    return None


def _row(
    rule: Rule,
    f: AppFacts,
    base: Baseline,
    target: str,
    status: str,
    *,
    observed: Any = None,
    expected: str = "",
    message: str = "",
) -> dict[str, Any]:
    fld = catalog.CATALOG.get(target)
    remedy, fixable = _remedy(rule, f.kind)
    return {
        "app": f.name,
        "kind": f.kind,
        "rule": rule.id,
        "title": rule.title,
        "severity": base.severity_of(rule),
        "status": status,
        "field": target,
        "setting": fld.label if fld else target,
        "observed": _shown(observed) if status == FAIL else None,
        "expected": expected or (str(base.expectation(rule) or "")),
        "message": message,
        "remedy": remedy,
        "fixable_by_api": fixable and _writable(f, [c[0] for c in rule.remedy.changes] or [target]),
        "setup_path": rule.remedy.setup,
        "basis": rule.basis,
        "ignore_reason": "",
    }


def _writable(f: AppFacts, fields: list[str]) -> bool:
    """Whether the org takes an API change of every field on this app: the app is editable and no field is
    written to a component the org keeps read-only for it (a packaged ECA's settings, ``apps.read_only``)."""
    if f.row.get("editable") is False:
        return False
    read_only = str(f.row.get("read_only") or "").split("; ")
    return all(catalog.write_type(fld, f.kind) not in read_only for fld in fields)


def org_facts(tables: dict[str, pd.DataFrame]) -> OrgFacts:
    """:class:`OrgFacts` from the ``org`` table (and the apps that relax IP restrictions)."""
    org = tables.get("org")
    values: dict[str, Any] = {}
    unknown: dict[str, str] = {}
    if org is not None:
        for row in clean_records(org):
            if row.get("known") is False:
                unknown[str(row["setting"])] = str(row.get("reason") or "could not be read")
            else:
                values[str(row["setting"])] = row.get("value")
    for setting in ORG_SETTING:  # a fact the table does not hold was not read: unknown, never a default
        if setting not in values and setting not in unknown:
            unknown[setting] = "not read (no row in the org table)"
    apps = tables["apps"]
    relaxed: tuple[str, ...] = ()
    if "ip_relaxation" in apps.columns:
        mask = apps["ip_relaxation"].notna() & apps["ip_relaxation"].astype(object).ne("ENFORCE")
        relaxed = tuple(map(str, apps.loc[mask, "name"]))
    return OrgFacts(values, unknown, relaxed)


def _org_findings(rules: list[Rule], tables: dict[str, pd.DataFrame], base: Baseline) -> list[dict[str, Any]]:
    """One row per org-level rule that did not pass (``app`` is ``(org)``, ``kind`` is ``org``)."""
    facts = org_facts(tables)
    rows = []
    for rule in rules:
        assert rule.org_check is not None
        result = rule.org_check(facts)
        if result is None:
            continue
        failed = isinstance(result, Outcome)
        setting = ORG_SETTING.get(rule.target)
        rows.append(
            {
                "app": ORG_APP,
                "kind": "org",
                "rule": rule.id,
                "title": rule.title,
                "severity": base.severity_of(rule),
                "status": FAIL if failed else CANNOT_CHECK,
                "field": rule.target,
                "setting": setting.label if setting else rule.target,
                "observed": result.observed if isinstance(result, Outcome) else None,
                "expected": result.expected if isinstance(result, Outcome) else "",
                "message": rule.title if isinstance(result, Outcome) else result.why,
                "remedy": rule.remedy.describe(),
                "fixable_by_api": False,
                "setup_path": rule.remedy.setup,
                "basis": rule.basis,
                "ignore_reason": "",
            }
        )
    return rows


def _remedy(rule: Rule, kind: str) -> tuple[str, bool]:
    key = (rule.id, kind)
    if key not in _REMEDIES:
        _REMEDIES[key] = (rule.remedy.describe(), rule.remedy.fixable_by_api(kind))
    return _REMEDIES[key]


def _shown(value: Any) -> Any:
    if value is None:
        return NOT_SET
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _apply_ignores(out: pd.DataFrame, base: Baseline, today: date) -> pd.DataFrame:
    if not base.ignores or out.empty:
        return out
    status, reasons = out["status"].tolist(), out["ignore_reason"].tolist()
    for i, (app, rule) in enumerate(zip(out["app"], out["rule"], strict=True)):
        for ig in base.ignores:
            if ig.rule in (rule, "*") and fnmatch.fnmatchcase(str(app), ig.app):
                if ig.expires is not None and ig.expires < today:
                    reasons[i] = f"ignore expired on {ig.expires}: {ig.reason}"
                else:
                    status[i], reasons[i] = IGNORED, ig.reason
                break
    out["status"], out["ignore_reason"] = status, reasons
    return out


# --- what the rules see -------------------------------------------------------------------------------------
def app_facts(tables: dict[str, pd.DataFrame], *, today: date | None = None) -> Iterator[AppFacts]:
    """:class:`AppFacts` for every row of ``tables["apps"]`` (long tables grouped once, not per app)."""
    apps = tables["apps"]
    today = today or date.today()
    ranges = _group(tables.get("ip_ranges"), ("start", "end"))
    attrs = _group(tables.get("attributes"), ("key", "formula"))
    grants = _group(tables.get("grants"), ("name",))
    logins: dict[str, dict[str, int]] = defaultdict(dict)
    lg = tables.get("logins")
    if lg is not None and len(lg):
        sums = lg.groupby(["app", "login_subtype"], dropna=False)["logins"].sum()
        for key, n in sums.items():
            pair: tuple[Any, Any] = key  # type: ignore[assignment]
            logins[str(pair[0])][str(pair[1])] = int(n)
    stale, before = _token_counts(tables.get("tokens"), apps, today)
    ecas = apps[apps["kind"] == catalog.ECA]
    eca_names = frozenset(map(str, ecas["name"])) | frozenset(
        str(x) for x in ecas.get("label", pd.Series(dtype=object)).dropna()
    )
    for row in clean_records(apps):
        name = str(row["name"])
        scopes = _split(row.get("scopes"))
        own_grants = _split(row.get("profiles")) + _split(row.get("permission_sets"))
        yield AppFacts(
            row=row,
            scopes=frozenset(scopes) | {catalog.SCOPE_EQUIVALENT.get(s, s) for s in scopes},
            callbacks=tuple(_split(row.get("callback_urls"))),
            ip_ranges=tuple((str(a), str(b)) for a, b in ranges.get(name, ())),
            attributes={str(k): str(v or "") for k, v in attrs.get(name, ())},
            grants=tuple(dict.fromkeys(own_grants + [str(g[0]) for g in grants.get(name, [])])),
            logins_by_flow=logins.get(name, {}),
            stale_tokens=stale.get(name, 0),
            tokens_before_change=before.get(name, 0),
            eca_names=eca_names,
            today=today,
        )


def _token_counts(
    tokens: pd.DataFrame | None, apps: pd.DataFrame, today: date
) -> tuple[dict[str, int], dict[str, int]]:
    """Per app: tokens unused for more than 90 days, and tokens created before the app's last change."""
    if tokens is None or tokens.empty:
        return {}, {}
    now = pd.Timestamp(today, tz="UTC")
    last_used = pd.to_datetime(tokens["last_used"], utc=True, errors="coerce")
    stale = _count(tokens.loc[(now - last_used).dt.days > 90, "app"])
    before: dict[str, int] = {}
    if "last_modified" in apps.columns:
        changed = pd.to_datetime(apps.set_index("name")["last_modified"], utc=True, errors="coerce")
        changed = changed[~changed.index.duplicated()]
        created = pd.to_datetime(tokens["created"], utc=True, errors="coerce")
        mask = created < tokens["app"].map(changed)
        before = _count(tokens.loc[mask.fillna(False).astype(bool), "app"])
    return stale, before


def _count(apps: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in apps.astype(str).value_counts().items()}


def _split(value: Any) -> list[str]:
    value = clean(value)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [p for p in str(value).split(_SEP) if p]


def _group(frame: pd.DataFrame | None, columns: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    if frame is None or frame.empty:
        return out
    if "known" in frame.columns:  # the marker row of an app whose rows could not be read (see `unknown`)
        frame = frame[frame["known"].astype(object).ne(False)]
    for app, *values in frame[["app", *columns]].astype(object).itertuples(index=False):
        out[str(app)].append(tuple(clean(v) for v in values))
    return out


def rule_table(rules: Iterable[Rule] = RULES) -> pd.DataFrame:
    """The rules as a table (id, title, severity, applies_to, reads, expect, remedy, basis, baselines...).

    >>> rule_table().set_index("id").loc["NET-01", "severity"]
    'high'
    """
    return pd.DataFrame(
        [
            {
                "id": r.id,
                "title": r.title,
                "severity": r.severity,
                "applies_to": r.applies_to,
                "reads": ", ".join(r.reads),
                "expect": r.expect,
                "remedy": r.remedy.describe(),
                "fixable_by_api": {k: r.remedy.fixable_by_api(k) for k in (catalog.CA, catalog.ECA)},
                "setup_path": r.remedy.setup,
                "rationale": r.rationale,
                "basis": r.basis,
                "baselines": ", ".join(r.baselines),
            }
            for r in rules
        ]
    )
