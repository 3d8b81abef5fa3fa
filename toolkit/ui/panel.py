"""``AuditPanel``: choose a source (demo org, your org, SFDX folder), run the audit, browse the tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..analysis.audit import audit
from ..analysis.counts import counts_line
from ..errors import SourceError
from .connect import ConnectForm
from .html import DEFAULT_MAX_ROWS, error_text, frame_html, status_html
from .mobile import MobileComparison

DEMO, ORG, FOLDER = "demo", "org", "folder"
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
        self.table = widgets.HTML()
        self.mobile = MobileComparison()
        self.tabs = widgets.Tab(
            [widgets.VBox([widgets.HBox([self.table_picker, self.max_rows]), self.table]), self.mobile]
        )
        self.tabs.set_title(0, "Tables")
        self.tabs.set_title(1, "Mobile comparison")
        self.source.observe(self._source_changed, names="value")
        self.run_button.on_click(lambda _button: self.run())
        for w in (self.table_picker, self.max_rows):
            w.observe(lambda _change: self.show_table(), names="value")
        self._source_changed(None)
        super().__init__(
            [widgets.HBox([self.source, self.run_button]), self.folder, self.connect, self.status, self.tabs]
        )

    def run(self) -> None:
        """Audit the chosen source; the status line says what happened (never a traceback)."""
        self.run_button.disabled = True
        self.status.value = status_html("Auditing…")
        try:
            tables, where = self._audit()
            if tables["apps"].empty:
                raise SourceError(f"{where}: no connected app or external client app found")
            self._show(tables)
            self.status.value = status_html(summary_line(tables, where))
        except Exception as exc:  # any failure is one line for the user; the tables keep the last good run
            self.status.value = status_html(error_text(exc), error=True)
        finally:
            self.run_button.disabled = False

    def _show(self, tables: dict[str, pd.DataFrame]) -> None:
        self.tables = tables
        self.table_picker.disabled = False
        if list(self.table_picker.options) != list(tables):
            self.table_picker.options = list(tables)  # selects the first table (apps)
        self.table_picker.value = "apps"
        self.show_table()
        self.mobile.set_tables(tables)

    def show_table(self) -> None:
        """Render the picked table (at most ``max_rows`` rows)."""
        name = self.table_picker.value
        if name in self.tables:
            self.table.value = frame_html(self.tables[name], int(self.max_rows.value or DEFAULT_MAX_ROWS))

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


