"""``report --pdf``: the report printed to ``report.pdf`` by a headless Chromium (Debian's ``chromium``).

The page is printed with its own print stylesheet (:data:`toolkit.reports.sections.CSS`: the contents and
table controls hidden, every "and N more" open, tables that wrap instead of clipping) on A4 or Letter paper.
No Chromium, no PDF: :func:`find_chromium` returns None and the command says so before auditing anything
(exit 2). ``TOOLKIT_CHROMIUM`` names another Chromium or Chrome binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ArgumentError, ToolkitError


class PdfError(ToolkitError):
    """Chromium could not print the report (the message says why)."""


REPORT_PDF = "report.pdf"
PAPERS = {"a4": "A4", "letter": "Letter"}
PRINT_TIMEOUT_S = 120
# the one @page rule the PDF adds (every <details> is printed open, without relying on the script)
_PAPER_CSS = "<style>@page{{size:{size}}}</style>"


def find_chromium() -> str | None:
    """The Chromium to print with: ``TOOLKIT_CHROMIUM``, else ``chromium`` (Debian) or Chrome on the PATH."""
    named = os.environ.get("TOOLKIT_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def require_chromium() -> str:
    """:func:`find_chromium`, or a :class:`PdfError` saying how to get one (exit 2, nothing written)."""
    found = find_chromium()
    if found is None:
        raise PdfError(
            "--pdf needs Chromium to print the report and none was found (looked for TOOLKIT_CHROMIUM, "
            "chromium, chromium-browser, google-chrome); install it (Debian: apt-get install chromium) or "
            "leave out --pdf and print report.html from a browser"
        )
    return found


def paper(name: str) -> str:
    """The paper size for ``@page`` (``a4`` or ``letter``, any case)."""
    key = name.lower()
    if key not in PAPERS:
        raise ArgumentError("--paper", name, ", ".join(PAPERS))
    return PAPERS[key]


def print_pdf(document: str, *, chromium: str, size: str = "A4") -> bytes:
    """``document`` (the report's HTML) printed by ``chromium --headless --print-to-pdf``: the PDF's bytes."""
    printable = document.replace("<details ", "<details open ")  # "and N more" and the app cards, open
    printable = printable.replace("</head>", _PAPER_CSS.format(size=size) + "</head>", 1)
    with tempfile.TemporaryDirectory(prefix="toolkit-pdf-") as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / REPORT_PDF
        page.write_text(printable, encoding="utf-8")
        cmd = [chromium, "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={Path(tmp) / 'profile'}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=PRINT_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(f"{chromium} could not print the report: {exc}") from None
        if not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF-"):
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise PdfError(f"{chromium} printed no PDF (exit {done.returncode}): {tail[0][:200]}")
        return pdf.read_bytes()
