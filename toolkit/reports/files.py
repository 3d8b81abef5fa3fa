"""The full data beside the report: one CSV per table and one Excel workbook (a sheet per table).

The output folder is written like every audit output (:func:`toolkit.analysis.summary.replace_folder`): all
files into a temporary folder that then replaces ``out`` by rename, so a failure leaves the previous report as
it was. CSV cells that a spreadsheet would run as a formula are neutralised (``to_csv``); text passes through
:func:`toolkit.redact.redact` with the inventory's secret values as a last guard.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pandas as pd

from ..analysis.compare import compare_mobile
from ..analysis.summary import to_csv
from ..redact import redact
from .data import ReportData

WORKBOOK = "audit.xlsx"


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


def workbook_bytes(tables: dict[str, pd.DataFrame], secrets: Iterable[str] = ()) -> bytes:
    """An ``.xlsx`` with one sheet per table; text is always text (openpyxl would store ``=...`` as a formula
    that Excel runs: such cells are turned back into strings)."""
    secret_list = [s for s in secrets if s]
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables.items():
            sheet = name[:31].capitalize()
            _for_excel(frame, secret_list).to_excel(writer, sheet_name=sheet, index=False)
            for row in writer.sheets[sheet].iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        cell.data_type = "s"
    return buffer.getvalue()


def data_files(data: ReportData, secrets: Iterable[str] = ()) -> dict[str, str | bytes]:
    """``{file name: content}``: ``<table>.csv`` for every table and ``audit.xlsx``."""
    secret_list = [s for s in secrets if s]
    tables = data_tables(data)
    files: dict[str, str | bytes] = {
        f"{name}.csv": redact(to_csv(frame), secret_list, keywords=False) for name, frame in tables.items()
    }
    files[WORKBOOK] = workbook_bytes(tables, secret_list)
    return files
