"""Write audit tables to a folder: one CSV per table and a self-contained ``summary.html``.

Used by every audit path (folder, org, demo): build the tables first, then :func:`write_outputs`.
Nothing secret is written: the tables hold no secrets (see :mod:`toolkit.analysis.tables`), and every
text is passed through :func:`toolkit.redact.redact` with the inventory's secret values as a last guard.

Outputs are written atomically: every file goes into a temporary folder beside ``out``, which then replaces
``out`` by rename. A run that fails (disk full, no permission...) leaves the previous outputs as they were and
no half-written file; files of an earlier run (``usage.csv`` of an org audit, say) never survive a later one.
``out`` must be new, empty, or hold only files an audit writes (``*.csv``, ``summary.html``): a folder with
anything else in it is refused, never emptied. CSV cells that start with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return get a leading ``'`` (OWASP's advice against spreadsheet formula injection).
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .. import checks
from ..errors import OutputError
from ..redact import redact
from .compare import compare_mobile
from .counts import app_counts

SUMMARY_COLUMNS = (
    "name",
    "kind",
    "label",
    "coverage",
    "editable",
    "unknown",
    "permitted_users",
    "ip_relaxation",
    "refresh_policy",
    "pkce",
    "rtr",
    "secret_web_server",
    "consumer_key",
    "has_certificate",
    "certificate_expires",
    "scopes",
)
_CSS = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:12px}th,td{border:1px solid #ccc;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f2f4f7}h1{font-size:20px}h2{font-size:16px;margin-top:2em}
.counts td:first-child{font-weight:600}.note{color:#666}
.partial{background:#fff3cd;border:1px solid #e0b000;padding:.6em}"""


SUMMARY_FILE = "summary.html"
# what else an output folder may hold (the report of toolkit.reports writes into the same kind of folder)
OTHER_OUTPUTS = frozenset({"report.html", "report.pdf", "audit.xlsx"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_outputs(
    tables: dict[str, pd.DataFrame],
    out: str | Path,
    *,
    title: str = "Connected app audit",
    origin: str = "",
    secrets: Iterable[str] = (),
    partial_reason: str = "",
    page: str | None = None,
) -> list[Path]:
    """Write ``apps.csv``, one CSV per long table and ``summary.html`` into ``out``; return the paths.

    ``page`` is the summary page to write (the ``audit`` command passes the report's sections); by default
    :func:`summary_html` renders a plain one.

    Atomic (see the module doc); :class:`~toolkit.errors.OutputError` when ``out`` cannot be written or
    holds files an audit did not write. ``partial_reason`` (an incomplete org audit) heads the summary.

    >>> from toolkit.model.bundle import Inventory
    >>> from toolkit.analysis.tables import build_tables
    >>> paths = write_outputs(build_tables(Inventory()), Path(tempfile.mkdtemp()) / "out")
    >>> sorted(p.name for p in paths)[:3]
    ['apps.csv', 'attributes.csv', 'callbacks.csv']
    """
    folder = checks.folder_path("out", out)
    check_replaceable(folder)
    secret_list = [s for s in secrets if s]
    # known secret values, token shapes and PEM blocks go; the word after "password" stays: these are tables
    # of settings ("Block OAuth username-password flows"), not log lines (secrets are never read into them)
    files = {
        f"{name}.csv": redact(to_csv(frame), secret_list, keywords=False) for name, frame in tables.items()
    }
    if page is None:
        page = summary_html(tables, title=title, origin=origin, partial_reason=partial_reason)
    files[SUMMARY_FILE] = redact(page, secret_list, keywords=False)
    replace_folder(folder, files)
    return [folder / name for name in files]


def to_csv(frame: pd.DataFrame) -> str:
    """The CSV text of a table, text cells that a spreadsheet would run as a formula neutralised.

    >>> print(to_csv(pd.DataFrame({"a": ["=1+1", "-2", "ok", None], "n": [1, -2, 3, 4]})), end="")
    a,n
    '=1+1,1
    '-2,-2
    ok,3
    ,4
    """
    safe = frame.copy(deep=False)
    for col in safe.columns:
        if pd.api.types.is_object_dtype(safe[col]) or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = pd.Series([_neutral(v) for v in safe[col]], index=safe.index, dtype=object)
    return str(safe.to_csv(index=False))


def _neutral(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _is_output_name(name: str) -> bool:
    return name.endswith(".csv") or name == SUMMARY_FILE or name in OTHER_OUTPUTS


def check_replaceable(folder: Path) -> None:
    """``folder`` may be replaced: absent, or a folder holding only regular files an audit writes."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise OutputError(f"{folder}: exists and is not a folder; give a new folder for the outputs")
    if not folder.exists():
        return
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        raise OutputError(f"{folder}: cannot list the output folder ({exc.strerror})") from None
    for entry in entries:
        if not _is_output_name(entry.name) or not entry.is_file(follow_symlinks=False):
            what = "folder" if entry.is_dir(follow_symlinks=False) else "file"
            raise OutputError(
                f"{folder}: holds the {what} {entry.name!r}, which no audit writes; the whole folder is "
                "replaced by each run, so give a new or empty folder (or a previous output folder)"
            )


def replace_folder(folder: Path, files: dict[str, str] | dict[str, str | bytes]) -> None:
    """Write ``files`` into a temporary folder beside ``folder``, then swap it in by rename."""
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    old: Path | None = None
    try:
        tmp.chmod(0o755)
        for name, content in files.items():
            if isinstance(content, bytes):
                (tmp / name).write_bytes(content)
            else:
                (tmp / name).write_text(content, encoding="utf-8")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=parent))
            os.replace(folder, old / "previous")
        try:
            os.replace(tmp, folder)
        except OSError:
            if old is not None:  # put the previous outputs back
                os.replace(old / "previous", folder)
            raise
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"{folder}: cannot write the outputs ({reason}); the previous outputs, if any, are unchanged"
        ) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _shown(apps: pd.DataFrame) -> pd.DataFrame:
    """The apps table for people: an unknown ``editable`` says "unknown" (empty cells mean "not set").

    >>> _shown(pd.DataFrame({"editable": pd.array([True, None], dtype="boolean")}))["editable"].tolist()
    [True, 'unknown']
    """
    if "editable" not in apps.columns or not apps["editable"].isna().any():
        return apps
    out = apps.copy()
    out["editable"] = out["editable"].astype(object).where(out["editable"].notna(), "unknown")
    return out


def summary_html(
    tables: dict[str, pd.DataFrame],
    *,
    title: str = "Connected app audit",
    origin: str = "",
    partial_reason: str = "",
) -> str:
    """A self-contained HTML page: counts, the apps table, mobile settings side by side, problems.

    >>> from toolkit.model.bundle import Inventory
    >>> from toolkit.analysis.tables import build_tables
    >>> "<h2>Problems</h2>" in summary_html(build_tables(Inventory()))
    True
    """
    apps = tables["apps"]
    problems = tables.get("problems", pd.DataFrame())
    counts = {
        "Apps": len(apps),
        **{label[:1].upper() + label[1:]: n for label, n in app_counts(apps).items()},
        "With OAuth": int(apps["has_oauth"].sum()),
        "Admin-approved (pre-authorized)": int(
            (apps["permitted_users"] == "AdminApprovedPreAuthorized").sum()
        ),
        "IP restrictions relaxed": int(apps["ip_relaxation"].isin(["BYPASS", "BYPASS_2FACTOR"]).sum()),
        "Refresh token valid until revoked": int((apps["refresh_policy"] == "infinite").sum()),
        "With SAML": int(apps["has_saml"].sum()),
        "With a certificate": int(apps["has_certificate"].sum()),
        "Problems (files not loaded, components or objects not read)": len(problems),
    }
    counts_html = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in counts.items())
    mobile = compare_mobile(tables)
    mobile_html = (
        mobile.to_html(na_rep="", border=0)
        if len(mobile.columns)
        else "<p class='note'>No app has a mobile setting.</p>"
    )
    cols = [c for c in SUMMARY_COLUMNS if c in apps.columns]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        (
            f"<p class='partial'><b>PARTIAL audit: the tables are incomplete.</b> "
            f"{html.escape(partial_reason)}</p>"
            if partial_reason
            else ""
        ),
        f"<p class='note'>{html.escape(origin)} · generated {stamp} · consumer keys masked; secrets and "
        "certificate bodies never shown</p>",
        f"<h2>Counts</h2><table class='counts'>{counts_html}</table>",
        "<h2>Mobile settings side by side</h2>",
        mobile_html,
        "<h2>Apps</h2>",
        _shown(apps[cols]).to_html(index=False, na_rep="", border=0),
        "<h2>Problems</h2>",
        problems.to_html(index=False, na_rep="", border=0) if len(problems) else "<p class='note'>None.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
