"""``FindingsView``: an audit's findings: counts by severity, a chart, drill-down from a rule to its apps.

Findings come from the rules layer (:func:`toolkit.findings`); nothing is judged here. Where that layer is
not installed the view says so and stays empty.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..model import catalog
from ..reports.sections import SEVERITIES, bar_chart, severity_colors, severity_counts
from ..rules import engine
from ..rules.report import rule_label
from .html import error_text, status_html, style_widget

ALL = ""
FAIL = "fail"
DRILL_COLUMNS = (
    ("app", "App"),
    ("kind", "Kind"),
    ("setting", "Setting"),
    ("observed", "Observed"),
    ("expected", "Expected"),
    ("remedy", "Remedy"),
    ("fixable_by_api", "Fixable by API"),
)


def compute_findings(tables: dict[str, pd.DataFrame], baseline: Any = None) -> pd.DataFrame:
    """``toolkit.findings(tables, baseline)``."""
    return engine.findings(tables, baseline) if baseline is not None else engine.findings(tables)


class FindingsView(widgets.VBox):  # type: ignore[misc]
    """Counts by severity and a chart; pick a severity and a rule to see the apps it names and the remedy.

    ``selected_apps()`` are the apps of the rule shown (for an :class:`~toolkit.ui.AppPicker` or a bulk edit);
    ``on_drill(callback)`` is called with them whenever the drill-down changes.
    """

    def __init__(
        self,
        tables: dict[str, pd.DataFrame] | None = None,
        *,
        findings: pd.DataFrame | None = None,
        baseline: Any = None,
    ) -> None:
        self.baseline = baseline
        self.findings: pd.DataFrame | None = None
        self.counts = widgets.HTML()
        self.chart = widgets.HTML()
        self.severity = widgets.Dropdown(description="Severity", options=[("All", ALL)])
        self.rule = widgets.Dropdown(
            description="Rule", options=[("All rules", ALL)], layout=widgets.Layout(width="auto")
        )
        self.detail = widgets.HTML()
        self.status = widgets.HTML()
        # from a finding to its fix: an EditForm pre-filled with the rule's remedy and its failing apps
        self.fix_button = widgets.Button(
            description="Fix these apps",
            icon="wrench",
            button_style="warning",
            layout=widgets.Layout(display="none", width="auto"),
            tooltip="open the bulk edit pre-filled with this rule's remedy",
        )
        self.fix_button.on_click(lambda _b: self.fix())
        self._callbacks: list[Callable[[list[str]], None]] = []
        self._fix_callbacks: list[Callable[[str, list[str]], None]] = []
        self.severity.observe(lambda _c: self._severity_changed(), names="value")
        self.rule.observe(lambda _c: self._drill(), names="value")
        super().__init__(
            [
                style_widget(),
                self.status,
                self.counts,
                self.chart,
                widgets.HBox([self.severity, self.rule, self.fix_button]),
                self.detail,
            ]
        )
        if findings is not None:
            self.set_findings(findings)
        elif tables is not None:
            self.set_tables(tables)

    def set_tables(self, tables: dict[str, pd.DataFrame]) -> None:
        """Judge new audit tables (errors become the status line; the last findings stay)."""
        try:
            found = compute_findings(tables, self.baseline)
        except Exception as exc:  # a message in the view, never a traceback
            self.status.value = status_html(error_text(exc), error=True)
            return
        self.set_findings(found)

    def set_findings(self, findings: pd.DataFrame) -> None:
        self.findings = findings
        failed = self.failed()
        other = len(findings) - len(failed)
        kinds = failed["kind"] if "kind" in failed.columns else pd.Series("", index=failed.index)
        on_org = kinds.eq("org")  # findings about the org's settings, app "(org)": not an app
        apps = failed.loc[~on_org, "app"].nunique() if len(failed) else 0
        self.status.value = status_html(
            f"{len(failed)} findings in {apps} apps"
            + (f" and {int(on_org.sum())} about the org's settings" if on_org.any() else "")
            + (f"; {other} more could not be checked or are ignored" if other else "")
            + "."
        )
        sev = severity_counts(failed)
        self.counts.value = (
            "".join(
                f"<span style='display:inline-block;margin-right:14px'><b>{n}</b> {html.escape(s)}</span>"
                for s, n in sev
            )
            or "<i>No findings: every rule passed.</i>"
        )
        self.chart.value = (
            bar_chart(
                [(s.capitalize(), n) for s, n in sev],
                title="Findings by severity",
                colors=severity_colors([s for s, _ in sev]),
            )
            if sev
            else ""
        )
        present = [s for s in SEVERITIES if s in {x for x, _ in sev}]
        self.severity.options = [("All", ALL), *[(s.capitalize(), s) for s in present]]
        self._severity_changed()

    def failed(self) -> pd.DataFrame:
        """The findings that fail (not those that could not be checked or are ignored)."""
        if self.findings is None:
            return pd.DataFrame(columns=["app", "rule", "severity"])
        frame = self.findings
        return frame[frame["status"] == FAIL] if "status" in frame else frame

    def _shown(self) -> pd.DataFrame:
        rows = self.failed()
        if self.severity.value:
            rows = rows[rows["severity"].astype(str).str.lower() == self.severity.value]
        return rows

    def _severity_changed(self) -> None:
        rows = self._shown()
        counts = rows.groupby("rule", sort=False)["app"].nunique() if len(rows) else pd.Series(dtype=int)
        titles: dict[str, str] = {}
        if "title" in rows:
            titles = {str(r): str(t) for r, t in zip(rows["rule"], rows["title"], strict=True) if t}
        options = [(f"{rule_label(str(r), titles.get(str(r), ''))} ({n} apps)", r) for r, n in counts.items()]
        keep = self.rule.value if self.rule.value in counts.index else ALL
        self.rule.options = [("All rules", ALL), *options]
        self.rule.value = keep
        self._drill()

    def selected_apps(self) -> list[str]:
        """The apps of the rule (and severity) shown."""
        rows = self._shown()
        if self.rule.value:
            rows = rows[rows["rule"] == self.rule.value]
        return sorted({str(a) for a in rows["app"]})

    def on_drill(self, callback: Callable[[list[str]], None]) -> None:
        self._callbacks.append(callback)

    def on_fix(self, callback: Callable[[str, list[str]], None]) -> None:
        """Call ``callback(rule_id, apps)`` when "Fix these apps" is clicked (``EditForm.fix_finding``)."""
        self._fix_callbacks.append(callback)

    def link(self, form: Any) -> None:
        """ "Fix these apps" fills ``form`` (an :class:`~toolkit.ui.EditForm`) with the rule's remedy, and the
        view shows the findings of what the form reads (after connecting, applying, rolling back)."""
        self.on_fix(form.fix_finding)
        form.on_audit(self._audited)

    def _audited(self, tables: dict[str, pd.DataFrame], findings: pd.DataFrame | None) -> None:
        if findings is not None:
            self.set_findings(findings)
        else:
            self.set_tables(tables)

    def fixable(self) -> bool:
        """Whether the rule shown has failing apps an edit can fix (its remedy is API changes)."""
        rows = self._shown()
        rows = rows[rows["rule"] == self.rule.value] if self.rule.value else rows.iloc[0:0]
        fixable = rows["fixable_by_api"].astype(bool) if "fixable_by_api" in rows else rows["rule"].isna()
        return bool(fixable.any())

    def fix(self) -> None:
        """Hand the rule shown and its failing apps to the ``on_fix`` callbacks (the linked EditForm)."""
        if not self.fixable():
            self.status.value = status_html("Pick a rule whose remedy an edit can make first.", error=True)
            return
        apps = self.selected_apps()
        for callback in self._fix_callbacks:
            callback(str(self.rule.value), apps)

    def _drill(self) -> None:
        rows = self._shown()
        if not self.rule.value:
            pick = "<i>Pick a rule to see the apps it names and the remedy.</i>"
            self.detail.value = pick if len(rows) else ""
        else:
            rows = rows[rows["rule"] == self.rule.value]
            cols = [(c, label) for c, label in DRILL_COLUMNS if c in rows]
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(finding_cell(r, c))}</td>" for c, _ in cols) + "</tr>"
                for _, r in rows.iterrows()
            )
            head = "".join(f"<th>{html.escape(label)}</th>" for _, label in cols)
            message = str(rows["message"].iloc[0]) if "message" in rows and len(rows) else ""
            self.detail.value = (
                f"<p>{html.escape(message)}</p>" if message else ""
            ) + f"<table class='ca-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        self.fix_button.layout.display = "" if self.fixable() and self._fix_callbacks else "none"
        apps = self.selected_apps()
        for callback in self._callbacks:
            callback(apps)


def finding_cell(row: Any, column: str) -> str:
    """A finding's cell in Setup's words: the kind's name, the observed value's Setup label, an expected
    ``== VALUE`` / ``!= VALUE`` with the value's label (the findings table keeps canonical values).

    >>> row = {"kind": "ConnectedApp", "field": "permitted_users", "observed": "AllSelfAuthorized",
    ...        "expected": "== AdminApprovedPreAuthorized"}
    >>> finding_cell(row, "kind"), finding_cell(row, "observed"), finding_cell(row, "expected")
    ('Connected app', 'All users may self-authorize', '== Admin approved users are pre-authorized')
    """
    value = row[column]
    fld = catalog.CATALOG.get(str(row.get("field", "")))
    if column == "kind":
        return catalog.KIND_LABELS.get(str(value), str(value))
    if fld is not None and column == "observed" and isinstance(value, str) and value:
        return catalog.value_label(fld, value) if not fld.many else value
    if fld is not None and column == "expected" and isinstance(value, str) and value[:3] in ("== ", "!= "):
        return value[:3] + catalog.value_label(fld, value[3:])
    return _cell(value)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)
