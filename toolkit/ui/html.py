"""HTML rendering shared by the widgets: capped, escaped DataFrames and one-line status messages."""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..model import catalog
from ..redact import mask_key, redact

DEFAULT_MAX_ROWS = 50
_SECRET_COLUMNS = frozenset(f.id for f in catalog.fields() if f.secret)
_MASKED_COLUMNS = frozenset(f.id for f in catalog.fields() if f.masked)


# One stylesheet for every widget's tables and buttons (JupyterLab applies a <style> in an HTML widget to the
# page): padded tables with a header band, the preview's before/after coloured as a diff, and disabled buttons
# that look disabled (Lab keeps a warning/danger button's colour when disabled).
WIDGET_CSS = """
.ca-table{border-collapse:collapse;font-size:12px;margin:4px 0 8px;max-width:100%}
.ca-table th,.ca-table td{padding:3px 8px;border-bottom:1px solid #e0e0e0;text-align:left;vertical-align:top;
  overflow-wrap:anywhere}
.ca-table thead th{background:#f3f4f6;font-weight:600}
.ca-table tbody tr:hover{background:#fafafa}
.ca-table td.ca-before{background:#fdecea;color:#8a1c12;text-decoration:line-through;
  text-decoration-color:#e3a39c}
.ca-table td.ca-after{background:#e6f4ea;color:#0b5a2a}
.ca-table td.ca-bad{color:#b00020;font-weight:600}
.ca-caption{font-size:11px;color:#555}
.ca-mobile{border-collapse:collapse;font-size:12px;table-layout:fixed;width:100%}
.ca-mobile th,.ca-mobile td{padding:3px 6px;border-bottom:1px solid #e0e0e0;text-align:left;
  overflow-wrap:anywhere}
.ca-mobile thead th{background:#f3f4f6}
.ca-fail{background:#f8d7da;color:#58151c}
.ca-dev{background:#fff3cd;color:#664d03}
.jupyter-widgets.jupyter-button:disabled,.jupyter-widgets.widget-button:disabled,
.jupyter-button:disabled{opacity:.45;filter:grayscale(80%);cursor:not-allowed;box-shadow:none}
"""


def style_widget() -> widgets.HTML:
    """The :data:`WIDGET_CSS` stylesheet as a (zero-height) HTML widget, put first in every form."""
    return widgets.HTML(f"<style>{WIDGET_CSS}</style>", layout=widgets.Layout(height="0px", margin="0"))


def cell_text(value: Any) -> str:
    """A cell as display text: blanks for missing values, ``6`` rather than ``6.0``.

    >>> cell_text(6.0), cell_text(None), cell_text(float("nan")), cell_text(True), cell_text("ios")
    ('6', '', '', 'True', 'ios')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value)


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy fit for display: secret columns dropped, consumer keys masked (even if a caller unmasked them).

    >>> df = pd.DataFrame({"name": ["A"], "consumer_key": ["3MVG9abcdefghijklmnop1234"],
    ...                    "consumer_secret": ["s3cr3t"]})
    >>> safe_frame(df).to_dict("records")
    [{'name': 'A', 'consumer_key': '3MVG…1234'}]
    """
    out = df.drop(columns=[c for c in df.columns if c in _SECRET_COLUMNS])
    for col in _MASKED_COLUMNS & set(out.columns):
        out[col] = [v if not isinstance(v, str) or "…" in v else mask_key(v) for v in out[col]]
    return out


def frame_html(df: pd.DataFrame, max_rows: int = DEFAULT_MAX_ROWS, *, css_class: str = "ca-table") -> str:
    """A DataFrame as an HTML table (escaped, at most ``max_rows`` rows, with a line saying how many).

    >>> out = frame_html(pd.DataFrame({"a": range(5)}), max_rows=2)
    >>> "first 2 of 5 rows" in out, out.count("<tr")
    (True, 3)
    """
    shown = safe_frame(df).head(max_rows)
    # to_html renders NaN floats in object columns as "NaN"/"None" and 6.0 as "6.0": format cells first
    body = shown.map(cell_text).to_html(classes=css_class, index=False, escape=True, border=0)
    total = len(df)
    caption = f"{total} rows" if total <= max_rows else f"first {max_rows} of {total} rows"
    return f'<div class="ca-caption">{caption}</div>{body}'


def status_html(message: str, *, error: bool = False) -> str:
    """A one-line status (escaped, secrets redacted); errors in red.

    >>> status_html("no such folder: x<y", error=True)
    '<span style="color:#b00020">Error: no such folder: x&lt;y</span>'
    """
    text = html.escape(redact(" ".join(message.split())))
    if error:
        return f'<span style="color:#b00020">Error: {text}</span>'
    return f"<span>{text}</span>"


def error_text(exc: BaseException) -> str:
    """An exception as one line for the user: the toolkit's own messages as they are, others with their type.

    >>> error_text(ValueError("bad")), error_text(OSError("gone"))
    ('ValueError: bad', 'gone')
    """
    message = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] == "toolkit":
        return message
    return f"{type(exc).__name__}: {message}"
