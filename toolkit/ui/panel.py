"""``AuditPanel``: choose a source (demo org, your org, SFDX folder), run the audit, browse the tables."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..analysis.audit import audit
from ..analysis.counts import counts_line
from ..analysis.display import column_label, people_frame
from ..errors import SourceError
from .connect import ConnectForm
from .findings import FindingsView
from .html import DEFAULT_MAX_ROWS, error_text, frame_html, safe_frame, status_html, style_widget
from .mobile import MobileComparison

DEMO, ORG, FOLDER = "demo", "org", "folder"
TABLE_ORDER = "(table order)"
READY = "Choose a source and click <b>Run audit</b>."


def _audit_org(demo_options: dict[str, Any], connect_options: dict[str, Any]) -> dict[str, pd.DataFrame]:
    # imported late: the emulator and simple-salesforce are only needed for this source
    from ..sources.connect import connect

    if connect_options:  # an org that is already running (e.g. a demo org started elsewhere)
        org = connect("demo", **connect_options)
    else:
        org = connect("demo", demo_options=demo_options)
    with org:  # an embedded org stops when the audit is done
        return audit(org)


def summary_line(tables: dict[str, pd.DataFrame], where: str) -> str:
    """The status line after an audit: apps by what is known of them, then API calls and the partial flag.

    >>> apps = pd.DataFrame({"name": ["A", "B"], "kind": ["ConnectedApp", "ExternalClientApplication"]})
    >>> summary_line({"apps": apps}, "examples")
    'Audited 2 apps: 1 connected app with metadata, 1 external client app; from examples.'
    """
    apps = tables["apps"]
    line = f"Audited {counts_line(apps)}; from {where}"
    calls = tables.get("api_calls")
    if calls is not None and (calls["kind"] == "TOTAL").any():
        line += f"; {int(calls.loc[calls['kind'] == 'TOTAL', 'calls'].iloc[0])} API calls"
    if apps.attrs.get("partial"):
        line += f"; PARTIAL: {apps.attrs.get('partial_reason') or 'some data could not be read'}"
    return line + "."


def origin_html(where: str, *, stale: bool = False) -> str:
    """The line above the tables: which source and when they were read (and that they are not this run's).

    >>> origin_html("examples at 2026-12-04 10:00 UTC", stale=True)[:60]
    "<div class='ca-caption'><b>The tables below are from the las"
    """
    text = html.escape(where)
    if stale:
        return (f"<div class='ca-caption'><b>The tables below are from the last good run</b> ({text}), "
                "not from the run that failed.</div>")
    return f"<div class='ca-caption'>Tables from {text}.</div>"


def _sort_key(column: pd.Series) -> pd.Series:
    # text sorts as people read it (case-insensitively); numbers, booleans and dates as themselves
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        return column.astype("string").str.lower()
    return column


class AuditPanel(widgets.VBox):  # type: ignore[misc]
    """Run an audit from JupyterLab: source picker, "Run audit", status line, table picker, mobile comparison.

    The "Demo org" source starts an embedded demo org for each run (``demo_options``: its size and seed),
    or attaches to a running one with ``connect_options`` (``instance_url``, ``access_token``, ``ca_file``:
    the arguments of :func:`toolkit.connect`). Errors (a missing folder, an org that cannot be reached)
    become a one-line message in :attr:`status`; the tables (:attr:`tables`) and the mobile comparison
    (:attr:`mobile`) are filled after a good run.

    >>> panel = AuditPanel(folder="/no/such/folder")
    >>> panel.source.value = "folder"
    >>> panel.run_button.click()
    >>> "no such folder" in panel.status.value
    True
    """

    def __init__(
        self,
        folder: str | Path = "",
        *,
        source: str = DEMO,
        demo_options: dict[str, Any] | None = None,
        connect_options: dict[str, Any] | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> None:
        self.demo_options = dict(demo_options or {})
        self.connect_options = dict(connect_options or {})
        self.tables: dict[str, pd.DataFrame] = {}
        self.source = widgets.ToggleButtons(
            options=[("Demo org", DEMO), ("Your org", ORG), ("SFDX folder", FOLDER)], value=source,
            description="Source",
        )
        # "Your org": the ConnectForm (Salesforce CLI alias, access token or JWT); its org is audited
        self.connect = ConnectForm(method="alias")
        self.folder = widgets.Text(
            value=str(folder), description="Folder", placeholder="SFDX project or metadata folder"
        )
        self.run_button = widgets.Button(description="Run audit", button_style="primary", icon="play")
        self.status = widgets.HTML(READY)
        self.table_picker = widgets.Dropdown(description="Table", options=[], disabled=True)
        self.max_rows = widgets.BoundedIntText(value=max_rows, min=1, max=100_000, description="Rows")
        # sorted in Python on the audit's own values (numbers as numbers, dates as dates), shown with labels
        self.sort_by = widgets.Dropdown(description="Sort by", options=[(TABLE_ORDER, "")], disabled=True)
        self.descending = widgets.Checkbox(description="descending", indent=False, value=False)
        self.origin = widgets.HTML()  # which source and when the tables shown come from
        self.table = widgets.HTML()
        self.findings = FindingsView()
        self.mobile = MobileComparison()
        controls = widgets.HBox([self.table_picker, self.max_rows, self.sort_by, self.descending])
        self.tabs = widgets.Tab([widgets.VBox([controls, self.table]), self.findings, self.mobile])
        for i, title in enumerate(("Tables", "Findings", "Mobile comparison")):
            self.tabs.set_title(i, title)
        self._where = ""
        self.source.observe(self._source_changed, names="value")
        self.run_button.on_click(lambda _button: self.run())
        self.table_picker.observe(lambda _change: self._table_changed(), names="value")
        for w in (self.max_rows, self.sort_by, self.descending):
            w.observe(lambda _change: self.show_table(), names="value")
        self._source_changed(None)
        super().__init__(
            [
                style_widget(),
                widgets.HBox([self.source, self.run_button]),
                self.folder,
                self.connect,
                self.status,
                self.origin,
                self.tabs,
            ]
        )

    def run(self) -> None:
        """Audit the chosen source; the status line says what happened (never a traceback)."""
        self.run_button.disabled = True
        self.status.value = status_html("Auditing…")
        try:
            tables, where = self._audit()
            if tables["apps"].empty:
                raise SourceError(f"{where}: no connected app or external client app found")
            self._show(tables, where)
            self.status.value = status_html(summary_line(tables, where))
        except Exception as exc:  # any failure is one line for the user; the tables keep the last good run
            self.status.value = status_html(error_text(exc), error=True)
            if self.tables:  # said under the error: what is shown is not this run's
                self.origin.value = origin_html(self._where, stale=True)
        finally:
            self.run_button.disabled = False

    def _show(self, tables: dict[str, pd.DataFrame], where: str) -> None:
        self.tables = tables
        self._where = f"{where} at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        self.origin.value = origin_html(self._where)
        self.table_picker.disabled = False
        if list(self.table_picker.options) != list(tables):
            self.table_picker.options = list(tables)  # selects the first table (apps)
        self.table_picker.value = "apps"
        self._table_changed()
        self.findings.set_tables(tables)
        self.mobile.set_tables(tables)

    def _table_changed(self) -> None:
        frame = self.tables.get(self.table_picker.value)
        columns = [] if frame is None else [(column_label(str(c)), str(c)) for c in frame.columns]
        self.sort_by.options = [(TABLE_ORDER, ""), *columns]  # resets to the table's own order
        self.sort_by.value = ""
        self.sort_by.disabled = frame is None
        self.show_table()

    def view(self) -> pd.DataFrame:
        """The picked table as shown: sorted as asked (missing values last), Setup labels and markers."""
        frame = self.tables.get(self.table_picker.value)
        if frame is None:
            return pd.DataFrame()
        if self.sort_by.value in frame.columns:
            frame = frame.sort_values(
                self.sort_by.value, ascending=not self.descending.value, na_position="last", kind="stable",
                key=_sort_key,
            )
        return people_frame(safe_frame(frame))  # keys masked and secrets dropped by their own names

    def show_table(self) -> None:
        """Render the picked table (at most ``max_rows`` rows)."""
        if self.table_picker.value in self.tables:
            self.table.value = frame_html(self.view(), int(self.max_rows.value or DEFAULT_MAX_ROWS))

    def _audit(self) -> tuple[dict[str, pd.DataFrame], str]:
        if self.source.value == DEMO:
            return _audit_org(self.demo_options, self.connect_options), "the demo org"
        if self.source.value == ORG:
            org = self.connect.org
            if org is None:
                raise SourceError("connect to your org first (Salesforce CLI alias, access token or JWT)")
            return audit(org), org.instance_url
        text = self.folder.value.strip()
        if not text:
            raise SourceError("enter the path of an SFDX project or metadata folder")
        path = Path(text).expanduser()
        if not path.is_dir():
            raise SourceError(f"{text}: no such folder")
        return audit(path), text

    def _source_changed(self, _change: Any) -> None:
        self.folder.layout.display = "" if self.source.value == FOLDER else "none"
        self.connect.layout.display = "" if self.source.value == ORG else "none"


