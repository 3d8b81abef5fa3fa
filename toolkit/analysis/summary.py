"""Write audit tables to a folder: one CSV per table and a self-contained ``summary.html``.

Used by every audit path (folder, org, demo): build the tables first, then :func:`write_outputs`.
Nothing secret is written: the tables hold no secrets (see :mod:`toolkit.analysis.tables`), and every
text is passed through :func:`toolkit.redact.redact` with the inventory's secret values as a last guard.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..errors import SourceError
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
.counts td:first-child{font-weight:600}.note{color:#666}"""


def write_outputs(
    tables: dict[str, pd.DataFrame],
    out: str | Path,
    *,
    title: str = "Connected app audit",
    origin: str = "",
    secrets: Iterable[str] = (),
) -> list[Path]:
    """Write ``apps.csv``, one CSV per long table and ``summary.html`` into ``out``; return the paths.

    >>> import tempfile
    >>> from toolkit.model.bundle import Inventory
    >>> from toolkit.analysis.tables import build_tables
    >>> paths = write_outputs(build_tables(Inventory()), tempfile.mkdtemp())
    >>> sorted(p.name for p in paths)[:3]
    ['apps.csv', 'attributes.csv', 'callbacks.csv']
    """
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    secret_list = [s for s in secrets if s]
    written = []
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        path.write_text(redact(frame.to_csv(index=False), secret_list), encoding="utf-8")
        written.append(path)
    page = folder / "summary.html"
    page.write_text(redact(summary_html(tables, title=title, origin=origin), secret_list), encoding="utf-8")
    written.append(page)
    return written


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
    tables: dict[str, pd.DataFrame], *, title: str = "Connected app audit", origin: str = ""
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
