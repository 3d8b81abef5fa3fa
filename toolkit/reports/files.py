"""The full data beside the report: one CSV per table and one Excel workbook (a sheet per table).

The workbook is for people: a **Summary** sheet first (score, grade, counts, the top actions, the riskiest
apps), then **Findings** and **Apps**, then every other table; columns headed by their Setup labels (the CSVs
keep the canonical column names, for programs), the header row frozen (and the app column), a filter on
every column, widths fitted to the text.

The output folder is written like every audit output (:func:`toolkit.analysis.summary.replace_folder`): all
files into a temporary folder that then replaces ``out`` by rename, so a failure leaves the previous report as
it was. CSV cells that a spreadsheet would run as a formula are neutralised (``to_csv``); text passes through
:func:`toolkit.redact.redact` with the inventory's secret values as a last guard.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..analysis.compare import compare_mobile
from ..analysis.display import column_label
from ..analysis.summary import to_csv
from ..redact import redact
from ..rules import score
from ..rules.model import SEVERITIES
from .data import ReportData

WORKBOOK = "audit.xlsx"
FIRST_SHEETS = ("findings", "apps")  # after the Summary sheet
SUMMARY_SHEET = "Summary"
_KEEP_HEADERS = frozenset({"mobile"})  # its columns are app names, not fields
_MAX_WIDTH = 60


def data_tables(data: ReportData) -> dict[str, pd.DataFrame]:
    """Every table the report is built from: the audit tables, ``findings`` and the ``mobile`` matrix."""
    out = dict(data.tables)
    if data.findings is not None:
        out["findings"] = data.findings
    matrix = compare_mobile(data.tables)
    empty = pd.DataFrame(columns=["setting"])
    out["mobile"] = matrix.reset_index(names="setting") if matrix.shape[1] else empty
    return out


def _for_excel(frame: pd.DataFrame, secrets: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[col] = series.dt.tz_convert("UTC").dt.tz_localize(None)  # Excel has no time zones
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[col] = [redact(v, secrets, keywords=False) if isinstance(v, str) else v for v in series]
    return out


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with Setup labels as column headers (a label two columns share keeps its id after it).

    >>> list(labelled(pd.DataFrame(columns=["name", "ip_relaxation", "tokens"])).columns)
    ['App', 'IP Relaxation', 'OAuth tokens']
    """
    labels = [column_label(str(c)) for c in frame.columns]
    twice = {label for label in labels if labels.count(label) > 1}
    return frame.set_axis([f"{label} ({c})" if label in twice else label
                           for label, c in zip(labels, frame.columns, strict=True)], axis=1)


def summary_rows(data: ReportData) -> list[list[object]]:
    """The Summary sheet: who and when, the score and grade, counts, then the top actions and the riskiest
    apps as two small tables (a header row each)."""
    apps = [str(n) for n in data.tables["apps"]["name"]]
    rows: list[list[object]] = [
        ["Report", data.title], ["Source", data.origin or "unknown"],
        ["Generated (UTC)", data.generated.strftime("%Y-%m-%d %H:%M")], ["Apps", len(apps)],
    ]
    if data.partial_reason:
        rows.append(["PARTIAL audit", data.partial_reason])
    if data.findings is None:
        return rows
    org = score.org_score(data.findings, apps)
    fails = score.failed(data.findings)
    rows += [["Score (out of 100)", org.score], ["Grade", f"{org.grade} ({score.GRADE_WORDS[org.grade]})"],
             ["Failed findings", len(fails)]]
    rows += [[f"{s.capitalize()} findings", int((fails["severity"] == s).sum())] for s in SEVERITIES]
    rows += [[], ["Top actions"], ["#", "Severity", "Rule", "Title", "Apps", "What to do",
                                   "Bulk-edit changes", "In apps"]]
    for i, a in enumerate(score.top_actions(data.findings).to_dict("records"), 1):
        rows.append([i, a["severity"], a["rule"], a["title"], a["apps"], a["remedy"], a["changes"],
                     a["change_apps"]])
    rows += [[], ["Riskiest apps"], ["App", "Score", "Grade", "Findings", *(s.capitalize() for s in
                                                                          SEVERITIES[:4])]]
    riskiest = score.app_scores(data.findings, apps)
    for r in riskiest[riskiest["points"] > 0].head(10).to_dict("records"):
        rows.append([r["app"], r["score"], r["grade"], r["findings"], *(r[s] for s in SEVERITIES[:4])])
    return rows


def _text_only(sheet: Any) -> None:
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # openpyxl stores "=..." as a formula Excel would run: text it stays
                cell.data_type = "s"


def _fit(sheet: Any, rows: int = 200) -> None:
    """Column widths from the first ``rows`` rows' text, within bounds."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows(max_row=min(rows, sheet.max_row)):  # never past the data: it would add rows
        for cell in row:
            if cell.value is not None:
                widths[cell.column] = max(widths.get(cell.column, 0), len(str(cell.value)))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(_MAX_WIDTH, max(8, width + 2))


def workbook_bytes(tables: dict[str, pd.DataFrame], secrets: Iterable[str] = (),
                   summary: list[list[object]] | None = None) -> bytes:
    """An ``.xlsx``: the ``summary`` rows first (a Summary sheet), then Findings and Apps, then one sheet per
    other table; Setup labels as headers, the header row frozen (and the first column of app tables), a
    filter on every column. Text is always text (a cell starting with ``=`` never becomes a formula)."""
    secret_list = [s for s in secrets if s]
    ordered = [n for n in FIRST_SHEETS if n in tables] + [n for n in tables if n not in FIRST_SHEETS]
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        if summary is not None:
            sheet = writer.book.create_sheet(SUMMARY_SHEET)
            for values in summary:
                sheet.append([redact(v, secret_list, keywords=False) if isinstance(v, str) else v
                              for v in values])
                if len(values) == 1 or (values and values[0] in ("#", "App")):
                    for cell in sheet[sheet.max_row]:
                        cell.font = Font(bold=True)
            for cell in sheet["A"]:
                cell.font = Font(bold=True)
            _text_only(sheet)
            _fit(sheet)
        for name in ordered:
            frame = _for_excel(tables[name], secret_list)
            title = name[:31].capitalize()
            shown = frame if name in _KEEP_HEADERS else labelled(frame)
            shown.to_excel(writer, sheet_name=title, index=False)
            sheet = writer.sheets[title]
            _text_only(sheet)
            first = str(tables[name].columns[0]) if len(tables[name].columns) else ""
            sheet.freeze_panes = "B2" if first in ("app", "name", "setting") else "A2"
            if sheet.max_column and len(frame.columns):
                sheet.auto_filter.ref = sheet.dimensions
            _fit(sheet)
    return buffer.getvalue()


def data_files(data: ReportData, secrets: Iterable[str] = ()) -> dict[str, str | bytes]:
    """``{file name: content}``: ``<table>.csv`` for every table and ``audit.xlsx``."""
    secret_list = [s for s in secrets if s]
    tables = data_tables(data)
    files: dict[str, str | bytes] = {
        f"{name}.csv": redact(to_csv(frame), secret_list, keywords=False) for name, frame in tables.items()
    }
    files[WORKBOOK] = workbook_bytes(tables, secret_list, summary_rows(data))
    return files
