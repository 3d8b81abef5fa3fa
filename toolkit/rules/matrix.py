"""The mobile matrix: mobile apps × mobile settings (Setup labels), judged cell by cell.

Rows are the mobile apps (connected apps and external client apps together), grouped by platform (iOS,
Android, then ECAs and apps whose platform is not set), iOS/Android *twins* (the same name once the platform
word is removed) next to each other within their group and named in the ``twin`` column. Each cell has a
status (:func:`mobile_matrix` with ``status=True``):

- ``ok``; ``baseline`` (fails the baseline's expectation for the setting, unset included);
- ``majority`` (differs from most apps of its platform group: at least 3 apps and a strict majority);
- ``unknown`` (the audit could not read it: shown as ``(unknown)``), apart from ``unset`` (``(not set)``);
- ``n/a`` (this kind of app has no such setting: ``—``).

:func:`style_mobile_matrix` gives the pandas Styler (colours per status, the reason as a tooltip).

>>> import pandas as pd
>>> apps = pd.DataFrame([{"name": "Sales_iOS", "kind": "ConnectedApp", "coverage": "metadata+soql",
...                       "platform": "ios", "pin_length": 4},
...                      {"name": "Sales_Android", "kind": "ConnectedApp", "coverage": "metadata+soql",
...                       "platform": "android", "pin_length": 8}])
>>> m = mobile_matrix({"apps": apps})
>>> m.loc[("iOS", "Sales_iOS"), ["twin", "PIN Length"]].tolist()
['Sales_Android', 4]
>>> mobile_matrix({"apps": apps}, status=True).loc[("iOS", "Sales_iOS"), "PIN Length"]
'baseline'
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

import pandas as pd

from .. import checks
from ..analysis.compare import mobile_fields
from ..analysis.display import css_string, escaped_style
from ..analysis.markers import NOT_APPLICABLE, NOT_SET, UNKNOWN
from ..model import catalog
from .baseline import Baseline, resolve_baseline
from .definitions import is_mobile
from .engine import app_facts
from .model import AppFacts

GROUPS = ("iOS", "Android", "External client app", "Platform not set")
STATUSES = ("ok", "baseline", "majority", "unknown", "unset", "n/a")
COLOURS = {
    "baseline": "background-color: #f8d7da; color: #58151c",
    "majority": "background-color: #fff3cd; color: #664d03",
    "unknown": "background-color: #e2e3e5; color: #41464b; font-style: italic",
    "unset": "color: #6c757d",
    "n/a": "color: #adb5bd",
    "ok": "",
}
_PLATFORM_WORDS = {"ios", "iphone", "ipad", "android", "droid"}
_MIN_GROUP = 3


def stem(name: str) -> str:
    """The name without its platform word (twins share a stem).

    >>> stem("Field_Sales_iOS"), stem("Field Sales Android"), stem("Portal")
    ('field_sales', 'field_sales', 'portal')
    """
    words = [w for w in re.split(r"[_\s\-.]+", name.lower()) if w]
    return "_".join(w for w in words if w not in _PLATFORM_WORDS)


def mobile_twins(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """iOS/Android twins side by side: per twin pair, the mobile settings whose values differ.

    Columns: ``stem``, ``setting`` (Setup label), ``ios_app``, ``ios``, ``android_app``, ``android``.

    >>> apps = pd.DataFrame([{"name": "Sales_iOS", "kind": "ConnectedApp", "coverage": "metadata+soql",
    ...                       "platform": "ios", "min_os": "16.0"},
    ...                      {"name": "Sales_Android", "kind": "ConnectedApp", "coverage": "metadata+soql",
    ...                       "platform": "android", "min_os": "12.0"}])
    >>> mobile_twins({"apps": apps}).loc[0, ["stem", "setting", "ios", "android"]].tolist()
    ['sales', 'Minimum OS Version', '16.0', '12.0']
    """
    checks.audit_tables("mobile_twins(tables)", tables)
    values = mobile_matrix(tables)
    rows = []
    labels = [c for c in values.columns if c not in ("kind", "twin")]
    records: dict[Any, dict[Any, Any]] = values.to_dict("index")
    by_stem: dict[str, dict[str, str]] = {}
    for group, app in values.index:
        if group in GROUPS[:2]:
            by_stem.setdefault(stem(app), {}).setdefault(group, app)
    for twin_stem, pair in sorted(by_stem.items()):
        if len(pair) < 2:
            continue
        ios_app, android_app = pair[GROUPS[0]], pair[GROUPS[1]]
        ios, android = records[(GROUPS[0], ios_app)], records[(GROUPS[1], android_app)]
        for label in labels:
            if str(ios[label]) != str(android[label]) and label != "App Platform":
                rows.append({"stem": twin_stem, "setting": label, "ios_app": ios_app, "ios": ios[label],
                             "android_app": android_app, "android": android[label]})
    return pd.DataFrame(rows, columns=["stem", "setting", "ios_app", "ios", "android_app", "android"])


def _group(f: AppFacts) -> str:
    platform = str(f.value("platform") or "").lower()
    if platform == "ios":
        return GROUPS[0]
    if platform == "android":
        return GROUPS[1]
    return GROUPS[2] if f.kind == catalog.ECA else GROUPS[3]


def mobile_matrix(
    tables: dict[str, pd.DataFrame], baseline: Baseline | str | None = None, *, status: bool = False
) -> pd.DataFrame:
    """The matrix (display values; ``status=True``: the status of each cell). Index: (group, app)."""
    checks.audit_tables("mobile_matrix(tables)", tables)
    values, states, _reasons = _build(tables, baseline)
    return states if status else values


TOOLTIP_CELLS = 20_000  # above this many cells the reasons are left out of the HTML (they are CSS per cell)


def style_mobile_matrix(tables: dict[str, pd.DataFrame], baseline: Baseline | str | None = None) -> Any:
    """A pandas Styler of the matrix: a colour per status, the reason of each non-ok cell as a tooltip
    (up to :data:`TOOLTIP_CELLS` cells; ``mobile_matrix(..., status=True)`` has them all)."""
    checks.audit_tables("style_mobile_matrix(tables)", tables)
    values, states, reasons = _build(tables, baseline)
    # app data is escaped: cells and labels as HTML, tooltips as CSS strings (they go into a <style>)
    styler = escaped_style(values)
    styler = styler.apply(lambda _: states.map(lambda s: COLOURS.get(str(s), "")), axis=None)
    if values.size <= TOOLTIP_CELLS:
        styler = styler.set_tooltips(reasons.map(css_string))
    return styler.set_caption(html.escape(
        "Mobile settings: red = fails the baseline, amber = differs from most of its platform group, "
        f"grey italic = {UNKNOWN} (could not be read), {NOT_SET} = not set, "
        f"{NOT_APPLICABLE} = no such setting"
    ))


def _build(
    tables: dict[str, pd.DataFrame], baseline: Baseline | str | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    base = resolve_baseline(baseline)
    fields = mobile_fields()
    labels = [f.label for f in fields]
    facts = [f for f in app_facts(_candidates(tables)) if is_mobile(f)]
    names = {f.name for f in facts}
    by_stem: dict[str, list[str]] = {}
    for f in facts:
        by_stem.setdefault(stem(f.name), []).append(f.name)
    facts.sort(key=lambda f: (GROUPS.index(_group(f)), stem(f.name), f.name))
    index = pd.MultiIndex.from_tuples([(_group(f), f.name) for f in facts], names=["group", "app"])
    cols = ["kind", "twin", *labels]
    value_rows: list[list[Any]] = []
    state_rows: list[list[str]] = []
    reason_rows: list[list[str]] = []
    for f in facts:
        twins = [n for n in by_stem.get(stem(f.name), []) if n != f.name and n in names]
        cells = [_cell(f, fld, base) for fld in fields]
        value_rows.append([f.kind, ", ".join(twins) or None, *(c[0] for c in cells)])
        state_rows.append(["ok", "ok", *(c[1] for c in cells)])
        reason_rows.append(["", "", *(c[2] for c in cells)])
    _majority(index, value_rows, state_rows, reason_rows, labels)
    values = pd.DataFrame(value_rows, index=index, columns=cols, dtype=object)
    states = pd.DataFrame(state_rows, index=index, columns=cols, dtype=object)
    reasons = pd.DataFrame(reason_rows, index=index, columns=cols, dtype=object)
    return values, states, reasons


_CUSTOM_SCHEME = r"(?:^|; )(?!https?:)[A-Za-z][\w+.-]*:"


def _candidates(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Only the apps that may be mobile (a vectorised superset of :func:`is_mobile`): 5,000 apps stay fast."""
    apps = tables["apps"]
    mask = pd.Series(False, index=apps.index)
    for col in ("platform", "mobile_start_url", "pin_length"):
        if col in apps.columns:
            mask |= apps[col].notna()
    for col in ("has_mobile_config", "mobile_plugin"):
        if col in apps.columns:
            mask |= apps[col].astype("boolean").fillna(False).astype(bool)
    if "callback_urls" in apps.columns:
        mask |= apps["callback_urls"].fillna("").astype(str).str.contains(_CUSTOM_SCHEME, regex=True)
    return {**tables, "apps": apps[mask]}


def _cell(f: AppFacts, fld: catalog.Field, base: Baseline) -> tuple[Any, str, str]:
    if fld.binding(f.kind) is None:
        return (
            NOT_APPLICABLE,
            "n/a",
            f"{'external client apps' if f.kind == catalog.ECA else 'connected apps'} have no such setting",
        )
    why = f.unknown(fld.id)
    if why:
        return UNKNOWN, "unknown", why
    value = f.value(fld.id)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    expectation = base.expectation_for_field(fld.id)
    if expectation is not None and not expectation.holds(value):
        return (NOT_SET if value is None else value), "baseline", f"{base.name} expects {expectation}"
    if value is None:
        return NOT_SET, "unset", "not set"
    return value, "ok", ""


def _majority(
    index: pd.MultiIndex,
    values: list[list[Any]],
    states: list[list[str]],
    reasons: list[list[str]],
    labels: list[str],
) -> None:
    groups: dict[str, list[int]] = {}
    for i, (group, _app) in enumerate(index):
        groups.setdefault(group, []).append(i)
    for group, rows in groups.items():
        if len(rows) < _MIN_GROUP:
            continue
        for j in range(2, 2 + len(labels)):
            seen = [i for i in rows if states[i][j] in ("ok", "baseline")]
            if len(seen) < _MIN_GROUP:
                continue
            common, n = Counter(str(values[i][j]) for i in seen).most_common(1)[0]
            if n * 2 <= len(seen):
                continue
            for i in seen:
                if str(values[i][j]) != common and states[i][j] == "ok":
                    states[i][j] = "majority"
                    reasons[i][j] = f"{n} of {len(seen)} {group} apps have {common}"
