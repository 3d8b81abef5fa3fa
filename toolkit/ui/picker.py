"""``AppPicker``: filter the audited apps (kind, platform, finding, free text) and select many.

The table is itables' ``ITable`` widget (DataTables): sortable, searchable, with row selection synced to
Python (``selected_rows``). itables rather than ipydatagrid: it is maintained (ipydatagrid's last release is
from 2024), light (anywidget, no bqplot), ships its JavaScript inside the wheel (works offline), and the same
library renders tables in exported HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..analysis.display import people_table
from ..model import catalog
from ..rules.report import rule_label

ALL = ""
FAIL = "fail"
PICKER_COLUMNS = (
    "name",
    "kind",
    "platform",
    "ip_relaxation",
    "refresh_policy",
    "permitted_users",
    "coverage",
)


# every row goes to the browser: itables would otherwise downsample a large table (over 64 KB) and the
# selected row numbers would no longer be the apps'
# allow_html=False: itables escapes cells (its default, stated so a global itables option cannot undo it)
# one search box: the picker's own (Python side, so "Select all shown" honours it); DataTables' is hidden
TABLE_OPTIONS: dict[str, Any] = {
    "maxBytes": 0,
    "maxRows": 0,
    "showIndex": False,
    "allow_html": False,
    "layout": {"topEnd": None},
}


def _itable(frame: pd.DataFrame) -> Any:
    from itables.widget import ITable

    return ITable(
        frame,
        select={"style": "os"},
        selected_rows=[],
        pageLength=10,
        classes="display compact",
        **TABLE_OPTIONS,
    )


class AppPicker(widgets.VBox):  # type: ignore[misc]
    """Pick apps from audit tables: filters on top, a sortable table, the selection below.

    ``findings`` (a :func:`toolkit.findings` frame, optional) adds the "Finding" filter. :meth:`selected`
    is the apps selected in the table, or, with nothing selected, none. "Select all shown" selects every
    app that passes the filters.

    >>> apps = pd.DataFrame({"name": ["A", "B"], "kind": ["ConnectedApp", "ExternalClientApplication"],
    ...                      "platform": ["ios", None], "coverage": ["metadata", "metadata"]})
    >>> picker = AppPicker({"apps": apps})
    >>> picker.kind.value = "ExternalClientApplication"; picker.shown()
    ['B']
    >>> picker.select_all.click(); picker.selected()
    ['B']
    """

    def __init__(
        self, tables: dict[str, pd.DataFrame] | None = None, findings: pd.DataFrame | None = None
    ) -> None:
        self.kind = widgets.Dropdown(
            description="Kind",
            options=[("All kinds", ALL), *[(f"{v}s", k) for k, v in catalog.KIND_LABELS.items()]],
        )
        self.platform = widgets.Dropdown(
            description="Platform",
            options=[
                ("All platforms", ALL),
                *[(catalog.value_label("platform", p), p) for p in catalog.field("platform").allowed],
            ],
        )
        self.finding = widgets.Dropdown(description="Finding", options=[("Any", ALL)])
        self.text = widgets.Text(description="Search", placeholder="part of the name or label")
        self.select_all = widgets.Button(description="Select all shown", icon="check-square")
        self.clear = widgets.Button(description="Clear selection", icon="square")
        self.summary = widgets.HTML()
        self._apps = pd.DataFrame(columns=["name", "kind"])
        self._findings = pd.DataFrame()
        self._names: list[str] = []
        self._callbacks: list[Callable[[list[str]], None]] = []
        self.table = _itable(pd.DataFrame())
        for w in (self.kind, self.platform, self.finding, self.text):
            w.observe(lambda _c: self.refresh(), names="value")
        self.table.observe(lambda _c: self._selection_changed(), names="selected_rows")
        self.select_all.on_click(lambda _b: self._select(list(range(len(self._names)))))
        self.clear.on_click(lambda _b: self._select([]))
        super().__init__(
            [
                widgets.HBox([self.kind, self.platform, self.finding]),
                widgets.HBox([self.text, self.select_all, self.clear]),
                self.table,
                self.summary,
            ]
        )
        self.set_tables(tables or {}, findings)

    def set_tables(self, tables: dict[str, pd.DataFrame], findings: pd.DataFrame | None = None) -> None:
        """New audit tables (and findings): the filters stay, the selection is cleared."""
        apps = tables.get("apps")
        self._apps = apps if apps is not None else pd.DataFrame(columns=["name", "kind"])
        self._findings = findings if findings is not None else pd.DataFrame()
        rules = []
        if len(self._findings) and "rule" in self._findings:
            rules = sorted(str(r) for r in self._findings["rule"].dropna().unique())
        keep = self.finding.value if self.finding.value in rules else ALL
        titles: dict[str, str] = {}
        if "title" in self._findings:
            pairs = zip(self._findings["rule"].astype(str), self._findings["title"].astype(str), strict=True)
            titles = dict(pairs)
        self.finding.options = [("Any", ALL), *[(rule_label(r, titles.get(r, "")), r) for r in rules]]
        self.finding.value = keep
        self.finding.layout.display = "" if rules else "none"
        self.refresh(keep_selection=False)

    def shown(self) -> list[str]:
        """Names of the apps that pass the filters, in table order."""
        return list(self._names)

    def _filtered(self) -> pd.DataFrame:
        rows = self._apps
        if self.kind.value:
            rows = rows[rows["kind"] == self.kind.value]
        if self.platform.value and "platform" in rows:
            rows = rows[rows["platform"].astype("string").str.lower() == self.platform.value]
        if self.finding.value and len(self._findings):
            rule = self._findings["rule"] == self.finding.value
            if "status" in self._findings:  # apps that fail the rule, not those where it cannot check
                rule &= self._findings["status"] == FAIL
            hit = set(self._findings.loc[rule, "app"].astype(str))
            rows = rows[rows["name"].astype(str).isin(hit)]
        text = self.text.value.strip().lower()
        if text:
            label = rows["label"].astype("string") if "label" in rows else rows["name"].astype("string")
            hay = rows["name"].astype("string").str.lower() + " " + label.fillna("").str.lower()
            rows = rows[hay.str.contains(text, regex=False)]
        return rows

    def refresh(self, *, keep_selection: bool = True) -> None:
        """Re-filter; the apps still shown stay selected."""
        before = set(self.selected()) if keep_selection else set()
        rows = self._filtered()
        self._names = [str(n) for n in rows["name"]]
        keep = [i for i, n in enumerate(self._names) if n in before]
        self.table.update(people_table(rows, PICKER_COLUMNS), selected_rows=keep, **TABLE_OPTIONS)
        self._selection_changed()

    def _select(self, rows: list[int]) -> None:
        self.table.selected_rows = rows

    def select(self, names: list[str]) -> None:
        """Select these apps (those the filters hide are left out)."""
        wanted = set(names)
        self._select([i for i, n in enumerate(self._names) if n in wanted])

    def selected(self) -> list[str]:
        """The selected apps (names)."""
        return [self._names[i] for i in self.table.selected_rows if 0 <= i < len(self._names)]

    def on_select(self, callback: Callable[[list[str]], None]) -> None:
        """Call ``callback(names)`` whenever the selection changes."""
        self._callbacks.append(callback)

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.summary.value = (
            f"{len(chosen)} of {len(self._names)} shown apps selected ({len(self._apps)} in all)"
        )
        for callback in self._callbacks:
            callback(chosen)
