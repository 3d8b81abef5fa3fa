"""Reports people read and share: ``python -m toolkit report`` (and ``make demo``) write ``report.html``.

:func:`collect` audits a source into :class:`ReportData`; :func:`write_report` runs the report notebook
(``notebooks/06_report.ipynb``) with papermill, exports it without code (nbconvert) into one self-contained
HTML file (inline CSS and SVG charts, one inline script that sorts and filters its tables, nothing
fetched), and writes the full data beside it: one CSV per table and ``audit.xlsx`` (and ``report.pdf``:
:mod:`.pdf`). :mod:`.sections` builds the report's HTML fragments, :mod:`toolkit.rules.score` its score.
"""

from __future__ import annotations

from . import pdf, sections
from .data import ReportData, collect, hide_user_names, inventory_secrets, load, save
from .export import REPORT_HTML, REPORT_NOTEBOOK, ReportError, ReportFiles, static_page, write_report

__all__ = [
    "REPORT_HTML", "REPORT_NOTEBOOK", "ReportData", "ReportError", "ReportFiles", "collect",
    "hide_user_names", "inventory_secrets", "load", "pdf", "save", "sections", "static_page", "write_report",
]
