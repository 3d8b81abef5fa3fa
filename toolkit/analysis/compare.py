"""Compare the apps' mobile settings side by side: apps as columns, mobile settings as rows (UI labels)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..errors import ArgumentError, UnknownNameError
from ..model import catalog
from ..model.bundle import Inventory
from .markers import UNKNOWN
from .tables import build_tables

MOBILE_GROUPS = ("mobile", "push")
UI_ONLY = UNKNOWN  # a setting the kind of app has, but no API reads (PIN Protect of a connected app)


def mobile_fields() -> list[catalog.Field]:
    """The catalog fields shown in the mobile comparison (mobile + push groups, never secrets).

    >>> [f.id for f in mobile_fields()][:4]
    ['mobile_start_url', 'pin_length', 'lock_after', 'screen_lock']
    """
    return [f for g in MOBILE_GROUPS for f in catalog.fields(group=g) if not f.secret]


def _apps_table(source: object) -> pd.DataFrame:
    """The apps table of whatever ``source`` is; :class:`ArgumentError` for anything else."""
    allowed = "an Inventory, the dict of tables from toolkit.audit(), or its 'apps' table"
    if isinstance(source, Inventory):
        return build_tables(source)["apps"]
    if isinstance(source, dict):
        if "apps" not in source:
            raise ArgumentError("compare_mobile(source)", f"<dict of {len(source)}>", allowed,
                                why="it has no 'apps' table")
        source = source["apps"]
    if not isinstance(source, pd.DataFrame):
        raise ArgumentError("compare_mobile(source)", f"<{type(source).__name__}>", allowed)
    missing = [c for c in ("name", "kind", *(f.id for f in mobile_fields())) if c not in source.columns]
    if missing:
        raise ArgumentError("compare_mobile(source)", "<DataFrame>", allowed,
                            why=f"it lacks the column(s) {', '.join(missing[:5])}")
    return source


def compare_mobile(
    source: Inventory | dict[str, pd.DataFrame] | pd.DataFrame,
    apps: Iterable[str] | None = None,
    *,
    all_apps: bool = False,
    labels: bool = True,
    only_differ: bool = False,
) -> pd.DataFrame:
    """Mobile settings side by side: one column per app, one row per setting.

    ``source`` is an inventory, the dict of :func:`~toolkit.analysis.tables.build_tables`, or its ``apps``
    table. By default only apps with at least one mobile setting are shown (``all_apps=True`` shows every
    app; ``apps=[...]`` picks some). Rows are indexed by the Setup UI label (``labels=False``: field ids);
    "—" marks a setting the kind of app does not have (e.g. PIN Length on an external client app);
    :data:`UI_ONLY` one it has but no API reads (PIN Protect of a connected app).
    ``only_differ=True`` keeps the settings whose values are not all the same (a row where every app is empty
    is not a difference; under pandas 3 ``astype(str).nunique()`` counted it as one).

    >>> from toolkit.model.bundle import AppBundle
    >>> inv = Inventory(apps=[AppBundle(name="A", kind="ConnectedApp", soql={"PinLength": "6"})])
    >>> compare_mobile(inv).loc["PIN Length", "A"]
    6
    >>> inv.apps.append(AppBundle(name="B", kind="ConnectedApp", soql={"PinLength": "8"}))
    >>> list(compare_mobile(inv, only_differ=True).index)
    ['Kind', 'PIN Length']
    """
    table = _apps_table(source)
    fields = mobile_fields()
    ids = [f.id for f in fields]
    if apps is not None:
        if isinstance(apps, str):  # one name, not its characters
            apps = [apps]
        wanted = list(apps)
        unknown = [a for a in wanted if a not in set(table["name"])]
        if unknown:
            raise UnknownNameError("app", unknown[0], sorted(map(str, table["name"]))[:20])
        table = table.set_index("name").loc[wanted].reset_index()
    elif not all_apps:
        table = table[table[ids].notna().any(axis=1)]
    columns: list[list[Any]] = []  # one per app, built whole: one cell at a time costs O(apps) each
    for _, row in table.iterrows():
        cells: list[Any] = []
        for f in fields:
            value = row[f.id]
            binding = f.binding(str(row["kind"]))
            if binding is None:
                value = "—"
            elif binding.ui_only:
                value = UI_ONLY
            elif pd.isna(value):
                value = None
            elif isinstance(value, float) and value.is_integer():
                value = int(value)  # nullable ints come back as floats from iterrows: 4.0 -> 4
            cells.append(value)
        columns.append(cells)
    out = pd.DataFrame(
        [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in ids],
        index=ids, columns=list(table["name"]), dtype=object,
    )
    if only_differ:
        out = differing(out)
    kinds = pd.DataFrame([list(table["kind"])], index=["kind"], columns=out.columns, dtype=object)
    out = pd.concat([kinds, out])
    if labels:
        label_of = {f.id: f.label for f in fields}
        out.index = ["Kind", *[label_of[i] for i in out.index[1:]]]
    out.columns.name = "app"
    return out


def _same_text(value: object) -> str:
    """A cell as comparable text: missing values (None, NaN, NA) are all "", ``6.0`` is ``6``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return "" if value != value else str(int(value)) if value.is_integer() else str(value)
    return str(value)


def differing(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose values are not all the same; all-empty rows are not differences.

    >>> df = pd.DataFrame({"A": [None, 6, "x"], "B": [float("nan"), 6.0, "y"]}, index=["empty", "pin", "p"])
    >>> list(differing(df).index)
    ['p']
    """
    keep = [len({_same_text(v) for v in row}) > 1 for row in frame.itertuples(index=False)]
    return frame[keep]
