"""``MobileComparison``: the apps' mobile settings side by side (apps as columns, a page of them at a
time), with filters and the report's judgement (red: fails the baseline; amber: differs from most of its
platform)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..analysis.compare import compare_mobile, mobile_fields
from ..analysis.display import LEGEND, display_value
from ..analysis.markers import NOT_APPLICABLE
from ..errors import ToolkitError
from ..model import catalog
from ..reports.sections import judged_cells
from .html import cell_text, style_widget

ALL = ""
KIND_NAMES = {catalog.CA: "connected apps", catalog.ECA: "external client apps"}
_PLATFORM_NAMES = {"ios": "iOS", "android": "Android"}
READ_ONLY_MARK = "†"
PAGE_SIZE = 6  # apps per page: settings as rows and at most this many app columns fit a notebook's width
_JUDGED = {"baseline": "ca-fail", "majority": "ca-dev"}  # the rules' mobile matrix statuses shown in colour
_JUDGEMENT = ("<span class='ca-fail'>red</span>: fails the baseline · <span class='ca-dev'>amber</span>: "
              "differs from most apps of its platform")
_LEGEND = " · ".join(f"{html.escape(m)} = {html.escape(t)}" for m, t in LEGEND.items())


def read_only_notes(field_ids: Iterable[str], kinds: Iterable[str]) -> list[str]:
    """One line per (setting, kind of app) that no API can write, with the catalog's reason.

    >>> read_only_notes(["pin_length", "min_os"], ["ConnectedApp"])[0][:41]
    'PIN Length (connected apps): read-only Co'
    """
    wanted = set(kinds)
    notes = []
    for fid in field_ids:
        f = catalog.field(fid)
        for kind in (catalog.CA, catalog.ECA):
            binding = f.binding(kind)
            if kind in wanted and binding is not None and not f.writable(kind):
                notes.append(f"{f.label} ({KIND_NAMES[kind]}): {binding.why_not}")
    return notes


def differing_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose displayed values are not all the same (a single app never differs).

    >>> df = pd.DataFrame({"A": [6, "ios"], "B": [6.0, "android"]}, index=["pin_length", "platform"])
    >>> list(differing_rows(df).index)
    ['platform']
    """
    keep = [len({cell_text(v) for v in row}) > 1 for _, row in frame.iterrows()]
    return frame[keep]


class MobileComparison(widgets.VBox):  # type: ignore[misc]
    """Mobile settings side by side: kind and platform filters, "only settings that differ", app picker.

    Rows carry the Setup UI labels of the field catalog; settings no API can write are marked with
    :data:`READ_ONLY_MARK` and explained in the note under the table. An empty app selection means
    every app that passes the filters. Apps are shown :data:`PAGE_SIZE` at a time (``previous``/``next``),
    so the table never scrolls sideways; cells are coloured as in the report (:func:`toolkit.mobile_matrix`).

    >>> from toolkit.model.bundle import AppBundle, Inventory
    >>> from toolkit.analysis.tables import build_tables
    >>> app = AppBundle(name="A", kind="ConnectedApp", soql={"PinLength": "6"})
    >>> tables = build_tables(Inventory(apps=[app]))
    >>> view = MobileComparison(tables)
    >>> view.frame().loc["PIN Length", "A"], "PIN Length" in view.note.value
    (6, True)
    """

    def __init__(self, tables: dict[str, pd.DataFrame] | None = None, *, page_size: int = PAGE_SIZE) -> None:
        self.page_size = max(1, int(page_size))
        self.page = 0
        self.previous = widgets.Button(description="◀ Previous apps", layout=widgets.Layout(width="auto"))
        self.next = widgets.Button(description="Next apps ▶", layout=widgets.Layout(width="auto"))
        self.page_label = widgets.HTML()
        self.previous.on_click(lambda _b: self.turn(-1))
        self.next.on_click(lambda _b: self.turn(1))
        self._states: dict[tuple[str, str], str] = {}
        self.kind = widgets.Dropdown(
            description="Kind",
            options=[
                ("All kinds", ALL), ("Connected apps", catalog.CA), ("External client apps", catalog.ECA)
            ],
        )
        platforms = catalog.field("platform").allowed
        self.platform = widgets.Dropdown(
            description="Platform",
            options=[("All platforms", ALL), *[(_PLATFORM_NAMES.get(p, p), p) for p in platforms]],
        )
        self.only_differ = widgets.Checkbox(description="only settings that differ", indent=False)
        self.apps = widgets.SelectMultiple(description="Apps", options=[], rows=6)
        self.table = widgets.HTML()
        self.note = widgets.HTML()
        self._tables: dict[str, pd.DataFrame] = {}
        self._quiet = False
        for w in (self.kind, self.platform):
            w.observe(lambda change: None if self._quiet else self._filters_changed(change), names="value")
        for w in (self.only_differ, self.apps):
            w.observe(self._selection_changed, names="value")
        super().__init__(
            [
                style_widget(),
                widgets.HBox([self.kind, self.platform, self.only_differ]),
                self.apps,
                widgets.HBox([self.previous, self.page_label, self.next]),
                self.table,
                self.note,
            ]
        )
        self.set_tables(tables or {})

    def _selection_changed(self, _change: Any) -> None:
        if not self._quiet:
            self.page = 0
            self.refresh()

    def turn(self, step: int) -> None:
        """Show the previous (``-1``) or next (``1``) page of apps."""
        pages = max(1, -(-len(self.selected()) // self.page_size))
        self.page = min(max(0, self.page + step), pages - 1)
        self.refresh()

    def set_tables(self, tables: dict[str, pd.DataFrame]) -> None:
        """Show the mobile settings of new audit tables: filters and app selection start afresh."""
        self._tables = tables
        self._states = _judged(tables)
        self.page = 0
        self._quiet = True
        try:
            self.apps.value = ()
            self.kind.value = self.platform.value = ALL
            self.only_differ.value = False
        finally:
            self._quiet = False
        self._filters_changed(None)

    def candidates(self) -> list[str]:
        """Apps with at least one mobile setting that pass the kind and platform filters.

        ECAs have no App Platform setting: choosing a platform keeps connected apps only.
        """
        apps = self._tables.get("apps")
        if apps is None or apps.empty:
            return []
        ids = [f.id for f in mobile_fields()]
        rows = apps[apps[ids].notna().any(axis=1)]
        if self.kind.value:
            rows = rows[rows["kind"] == self.kind.value]
        if self.platform.value:
            rows = rows[rows["platform"].astype("string").str.lower() == self.platform.value]
        return [str(n) for n in rows["name"]]

    def selected(self) -> list[str]:
        """The apps shown: the selection, or every candidate when nothing is selected."""
        return list(self.apps.value) or list(self.apps.options)

    def frame(self, *, labels: bool = True) -> pd.DataFrame:
        """The comparison as shown (after filters); rows by catalog label, or by field id."""
        chosen = self.selected()
        if not chosen:
            return pd.DataFrame()
        frame = compare_mobile(self._tables, chosen, labels=False)
        if self.only_differ.value:
            frame = pd.concat([frame.loc[["kind"]], differing_rows(frame.drop(index="kind"))])
        if labels:
            names = {f.id: f.label for f in mobile_fields()}
            frame.index = ["Kind" if i == "kind" else names[str(i)] for i in frame.index]
        return frame

    def refresh(self) -> None:
        """Re-render the table and the read-only note from the current filters and selection."""
        frame = self.frame(labels=False)
        self._page_buttons(len(frame.columns))
        if frame.empty:
            self.table.value = "<i>No app with mobile settings matches the filters.</i>"
            self.note.value = ""
            return
        first = self.page * self.page_size
        frame = frame[frame.columns[first : first + self.page_size]]
        kinds = set(frame.loc["kind"])
        field_ids = [str(i) for i in frame.index if i != "kind"]
        if not field_ids:
            self.table.value = "<i>No setting differs between the apps shown.</i>"
            self.note.value = ""
            return
        read_only = {fid for fid in field_ids if read_only_notes([fid], kinds)}
        self.table.value = _comparison_html(frame, read_only, self._coverage(), self._states)
        notes = read_only_notes(field_ids, kinds)
        self.note.value = (
            f"<div class='ca-note'><b>{READ_ONLY_MARK} Read-only via API</b> (change them in Setup):<ul>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in notes)
            + f"</ul>{_LEGEND}<br>{_JUDGEMENT}</div>"
            if notes
            else "<div class='ca-note'>Every setting shown can be written through the Metadata API. "
            f"{_LEGEND}<br>{_JUDGEMENT}</div>"
        )

    def _page_buttons(self, n_apps: int) -> None:
        pages = max(1, -(-n_apps // self.page_size))
        self.page = min(self.page, pages - 1)
        first = self.page * self.page_size
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
        self.page_label.value = (
            f"<span class='ca-caption'>apps {first + 1}–{min(first + self.page_size, n_apps)} of "
            f"{n_apps}</span>" if n_apps else ""
        )

    def _coverage(self) -> dict[str, str]:
        apps = self._tables.get("apps")
        if apps is None or "coverage" not in apps:
            return {}
        return {str(n): str(c) for n, c in zip(apps["name"], apps["coverage"], strict=True)}

    def _filters_changed(self, _change: Any) -> None:
        self.page = 0
        options = self.candidates()
        keep = tuple(a for a in self.apps.value if a in options)
        self._quiet = True  # one render for the whole update, not one per trait change
        try:
            self.apps.options = options
            self.apps.value = keep
        finally:
            self._quiet = False
        self.refresh()


def _judged(tables: dict[str, pd.DataFrame]) -> dict[tuple[str, str], str]:
    """(app, field id) -> the rules' status of the cell (``baseline``, ``majority``...), as the report judges
    it (:func:`toolkit.reports.sections.judged_cells`); empty when the tables cannot be judged (the
    comparison is then shown without colours, never not at all)."""
    if tables.get("apps") is None or tables["apps"].empty:
        return {}
    try:
        judged = judged_cells(tables)
    except ToolkitError:
        return {}
    return judged[1] if judged is not None else {}


def _comparison_html(
    frame: pd.DataFrame, read_only: set[str], coverage: dict[str, str], states: dict[tuple[str, str], str]
) -> str:
    labels = {f.id: f.label for f in mobile_fields()}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    kinds = {str(app): str(k) for app, k in frame.loc["kind"].items()}
    for fid, row in frame.iterrows():
        label = "Kind" if fid == "kind" else labels[str(fid)]
        mark = READ_ONLY_MARK if fid in read_only else ""
        if fid == "kind":
            texts = [catalog.KIND_LABELS.get(str(v), str(v)) for v in row]
        else:
            texts = [display_value(str(fid), None if v == NOT_APPLICABLE else v, kinds[str(app)],
                                   coverage.get(str(app), "metadata+soql")) for app, v in row.items()]
        css = [
            "" if fid == "kind" else _JUDGED.get(states.get((str(app), str(fid)), ""), "")
            for app in row.index
        ]
        cells = "".join(
            f"<td class='{c}'>{html.escape(t)}</td>" if c else f"<td>{html.escape(t)}</td>"
            for t, c in zip(texts, css, strict=True)
        )
        rows.append(f"<tr><th style='text-align:left'>{html.escape(label)}{mark}</th>{cells}</tr>")
    return (
        "<div><table class='ca-mobile'>"
        f"<thead><tr><th>Setting</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
