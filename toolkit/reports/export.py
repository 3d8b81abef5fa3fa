"""Run the report notebook with papermill and export it to one self-contained HTML file without code.

The notebook (``notebooks/06_report.ipynb``) reads the data :func:`toolkit.reports.data.save` wrote (its
``data_dir`` parameter), so no credential is ever a notebook parameter. nbconvert's ``basic`` template gives
the cells' HTML without any script or stylesheet link (cells tagged ``notebook-only`` left out); :func:`page`
wraps it with the report's own CSS and script (:mod:`.interactive`) under a Content-Security-Policy that
loads nothing: nothing is fetched when the file is opened (no CDN), the charts are inline SVG.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import checks
from ..analysis.summary import check_replaceable, replace_folder
from ..errors import SourceError, ToolkitError
from ..redact import redact
from .data import ReportData, save
from .files import data_files
from .interactive import CSP, SCRIPT
from .pdf import REPORT_PDF, print_pdf
from .sections import CSS

REPO = Path(__file__).resolve().parents[2]


def _report_notebook() -> Path:
    """The checkout's ``notebooks/06_report.ipynb``, else the copy an installed wheel holds
    (``toolkit/notebooks/``, pyproject's package-dir): the same page either way."""
    checkout = REPO / "notebooks" / "06_report.ipynb"
    packaged = Path(__file__).resolve().parents[1] / "notebooks" / "06_report.ipynb"
    return checkout if checkout.is_file() or not packaged.is_file() else packaged


REPORT_NOTEBOOK = _report_notebook()
REPORT_HTML = "report.html"
NOTEBOOK_ONLY = "notebook-only"  # cells with this tag (the notebook's own intro) stay out of the report
KERNEL_TIMEOUT_S = 300
_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


APP_CARDS_INTRO = ("One card per app: its settings, its failed findings with their fix, and its usage. Every "
                   "table links its app names here.")


class ReportError(ToolkitError):
    """The report notebook failed (the message names the cell's error)."""


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    data: list[Path]
    pdf: Path | None = None


def page(body: str, title: str) -> str:
    """A whole HTML document around ``body``: inline CSS, one inline script (:mod:`.interactive`: sorting,
    filtering, search) and a Content-Security-Policy under which the browser fetches nothing.

    >>> doc = page("<p>hi</p>", "A <b> report")
    >>> doc.startswith("<!DOCTYPE html>") and "<title>A &lt;b&gt; report</title>" in doc
    True
    """
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body><main>{body}</main>"
        f"<script>{SCRIPT}</script></body></html>"
    )


def static_page(data: ReportData) -> str:
    """The report's sections as one page, without running the notebook (``audit`` writes it as summary.html).

    The same fragments as ``notebooks/06_report.ipynb`` in the same order, so the quick page and the shared
    report read alike; the notebook adds nothing but the prose around them.

    >>> import pandas as pd
    >>> from toolkit.analysis.tables import build_tables
    >>> from toolkit.model.bundle import Inventory
    >>> "<h2 id='problems'>Problems</h2>" in static_page(ReportData(tables=build_tables(Inventory())))
    True
    """
    from . import sections as s

    body = [
        s.summary(data) + s.legend(),
        s.section("Orgs", s.fleet(data), s.FLEET_INTRO),
        s.section("Findings", s.findings(data),
                  "One row per rule, most severe first: the affected apps, what to change, and whether a "
                  "bulk edit can.") if data.findings is not None else "",
        s.section("Org-wide settings", s.org_posture(data),
                  "The org settings every app lives under; findings about them are listed as (org)."),
        s.section("Mobile settings", s.mobile_matrix(data),
                  "Apps with mobile settings side by side (Setup labels); settings no app sets are left "
                  "out."),
        s.section("Apps", s.apps_table(data),
                  "Who each app is and how it authorizes; the coverage says how much of it could be read."),
        s.section("App cards", s.app_cards(data), APP_CARDS_INTRO),
        s.section("Usage", s.usage(data)) if "usage" in data.tables else "",
        s.section("Problems", s.problems(data)),
    ]
    return page("\n".join(b for b in body if b), data.title)


def external_references(document: str) -> list[str]:
    """Links that would make a browser fetch something (``src``/``href`` to another host).

    >>> external_references('<a href="#x">x</a><script src="https://cdn.example/x.js"></script>')
    ['src="https://']
    """
    return _EXTERNAL.findall(document)


def export_html(notebook: Path) -> str:
    """The executed notebook's markdown and outputs as HTML, without code or prompts."""
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = {NOTEBOOK_ONLY}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        config=config, template_name="basic", exclude_input=True, exclude_input_prompt=True,
        exclude_output_prompt=True, anchor_link_text="",
    )
    book = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]
    body, _resources = exporter.from_notebook_node(book)
    return str(body)


def run_notebook(data_dir: Path, output: Path, notebook: Path = REPORT_NOTEBOOK) -> None:
    """Execute the report notebook on ``data_dir`` with papermill (the kernel imports this checkout)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if not notebook.is_file():
        raise SourceError(f"{notebook}: the report notebook is missing (reinstall the toolkit)")
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), saved) if p)
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters={"data_dir": str(data_dir)}, kernel_name="python3",
            cwd=str(notebook.parent), progress_bar=False, log_output=False,
            execution_timeout=KERNEL_TIMEOUT_S,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no kernel start-up chatter on stderr
        )
    except PapermillExecutionError as exc:
        raise ReportError(f"the report notebook failed in cell {exc.exec_count}: {exc.ename}: "
                          f"{redact(str(exc.evalue))[:300]}") from None
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def write_report(
    data: ReportData, out: str | Path, *, secrets: Iterable[str] = (), notebook: Path = REPORT_NOTEBOOK,
    chromium: str = "", paper: str = "A4",
) -> ReportFiles:
    """Write ``report.html`` (self-contained, no code), every table as CSV and ``audit.xlsx`` into ``out``;
    with ``chromium`` (:func:`toolkit.reports.pdf.require_chromium`) also ``report.pdf`` on ``paper``.

    ``out`` is replaced as a whole, atomically (see :mod:`.files`); :class:`~toolkit.errors.OutputError` when
    it holds files no audit or report writes. The notebook is the checkout's or the installed wheel's
    (``toolkit/notebooks/``); without it (``notebook=`` a missing file) the page is :func:`static_page`: the
    same sections, no papermill.
    """
    folder = checks.folder_path("out", out)
    check_replaceable(folder)  # before the slow part: a folder holding other files is refused, not emptied
    secret_list = [s for s in secrets if s]
    if notebook.is_file():
        with tempfile.TemporaryDirectory(prefix="toolkit-report-") as tmp:
            work = Path(tmp)
            save(data, work / "data")
            executed = work / "report.ipynb"
            run_notebook(work / "data", executed, notebook)
            html_page = page(export_html(executed), data.title)
    else:  # no notebook: the same sections, without the notebook's prose
        html_page = static_page(data)
    # known secret values, tokens and PEM blocks go; words after "password" stay (rule titles are prose)
    document = redact(html_page, secret_list, keywords=False)
    if external_references(document):  # a guard: the report must open offline
        raise ReportError(f"the report would fetch {external_references(document)[0]}…; refusing to write it")
    files = data_files(data, secret_list)
    files[REPORT_HTML] = document
    if chromium:
        files[REPORT_PDF] = print_pdf(document, chromium=chromium, size=paper)
    replace_folder(folder, files)
    return ReportFiles(html=folder / REPORT_HTML,
                       data=[folder / n for n in files if n not in (REPORT_HTML, REPORT_PDF)],
                       pdf=folder / REPORT_PDF if chromium else None)
