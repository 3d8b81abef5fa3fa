"""The full data beside the report: one CSV per table and one Excel workbook (a sheet per table).

Every file is written to a temporary name and renamed into place, so a failure never leaves half a file;
text passes through :func:`toolkit.redact.redact` with the inventory's secret values as a last guard.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from ..analysis.compare import compare_mobile
from ..errors import SourceError
from ..redact import redact
from .data import ReportData

WORKBOOK = "audit.xlsx"


def output_folder(out: str | Path) -> Path:
    """The output folder, created when missing; :class:`SourceError` (one line) when it cannot be."""
    folder = Path(out)
    if not folder.is_dir():
        try:
            os.makedirs(folder)
        except OSError as exc:
            raise SourceError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    return folder


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return write_atomic(path, write)


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
            out[col] = [redact(v, secrets) if isinstance(v, str) else v for v in series]
    return out


def write_data_files(data: ReportData, out: Path, secrets: Iterable[str] = ()) -> list[Path]:
    """``<table>.csv`` for every table and ``audit.xlsx`` with one sheet each; returns the paths."""
    secret_list = [s for s in secrets if s]
    tables = data_tables(data)
    written = [
        write_text_atomic(out / f"{name}.csv", redact(frame.to_csv(index=False), secret_list))
        for name, frame in tables.items()
    ]

    def workbook(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in tables.items():
                sheet = name[:31].capitalize()
                _for_excel(frame, secret_list).to_excel(writer, sheet_name=sheet, index=False)

    written.append(write_atomic(out / WORKBOOK, workbook))
    return written
