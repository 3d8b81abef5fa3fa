"""App data never becomes markup: every Styler, widget and report section rendered from audit tables whose
values are hostile (labels, descriptions, URLs, bundle ids, callbacks, e-mails) holds them as text only.

The HTML is parsed with lxml: no ``<img>``/``<script>`` element, no ``on*`` attribute, no ``<svg>`` inside a
table, and a Styler's tooltips cannot close its ``<style>`` element.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pandas as pd
import pytest

import toolkit
from toolkit.reports import ReportData, sections, static_page
from toolkit.reports.interactive import SCRIPT
from toolkit.ui.html import frame_html

REPO = Path(__file__).resolve().parents[1]
PAYLOADS = (
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '"><svg onload=window.__pwned=1>',
    "javascript:window.__pwned=1",
)
TEXT_COLUMNS = ("label", "description", "bundle_id", "mobile_start_url", "start_url", "install_url",
                "callback_urls", "contact_email", "min_os", "app_version", "info_url")


@pytest.fixture(scope="module")
def hostile() -> dict[str, pd.DataFrame]:
    """The audit tables of examples/, with a payload in every text setting of every app."""
    tables = toolkit.audit(str(REPO / "examples"))
    apps = tables["apps"].copy()
    for n, col in enumerate(c for c in TEXT_COLUMNS if c in apps.columns):
        apps[col] = [PAYLOADS[(n + i) % len(PAYLOADS)] for i in range(len(apps))]
    apps["platform"] = apps["platform"].fillna("ios") if "platform" in apps else "ios"
    return {**tables, "apps": apps}


def assert_inert(markup: str) -> None:
    doc = lxml.html.fromstring(f"<div>{markup}</div>")
    assert doc.xpath("//img | //script | //iframe | //object") == []
    assert doc.xpath("//table//svg | //td//svg") == []
    elements = [el for el in doc.iter() if isinstance(el.tag, str)]
    assert [a for el in elements for a in el.attrib if a.lower().startswith("on")] == []
    assert [h for h in doc.xpath("//@href | //@src") if h.strip().lower().startswith("javascript:")] == []
    for style in doc.xpath("//style"):
        assert "<" not in (style.text or "")  # a tooltip cannot close the style element


def test_payloads_are_detected() -> None:  # the checker itself fails on raw payloads
    for p in PAYLOADS[:3]:
        with pytest.raises(AssertionError):
            assert_inert(f"<table><tr><td>{p}</td></tr></table>")


def test_style_mobile_matrix_escapes(hostile: dict[str, pd.DataFrame]) -> None:
    styler = toolkit.style_mobile_matrix(hostile)
    assert len(styler.data) >= 1
    out = styler.to_html()
    assert_inert(out)
    assert "&lt;img src=x" in out  # shown as text


def test_style_mobile_matrix_tooltips_stay_in_style() -> None:
    from toolkit.analysis.display import css_string, escaped_style

    frame = pd.DataFrame({PAYLOADS[0]: [PAYLOADS[1]]}, index=[PAYLOADS[2]])
    tips = pd.DataFrame({PAYLOADS[0]: ["</style><script>window.__pwned=1</script>"]}, index=frame.index)
    assert_inert(escaped_style(frame).set_tooltips(tips.map(css_string)).to_html())


def test_widgets_escape(hostile: dict[str, pd.DataFrame]) -> None:
    from toolkit.ui import MobileComparison

    assert_inert(frame_html(hostile["apps"]))
    view = MobileComparison(hostile)
    assert_inert(view.table.value + view.note.value)


def test_report_sections_and_page_escape(hostile: dict[str, pd.DataFrame]) -> None:
    data = ReportData(hostile, org_name='<img src=x onerror="window.__pwned=1">',
                      findings=toolkit.findings(hostile) if hasattr(toolkit, "findings") else None)
    for part in (sections.summary(data), sections.mobile_matrix(data), sections.apps_table(data),
                 sections.problems(data), sections.org_posture(data), sections.findings(data),
                 sections.app_cards(data)):
        assert_inert(part)
    page = static_page(data)
    script = f"<script>{SCRIPT}</script>"  # the page's own script, once; nothing of the data runs
    assert page.count("<script") == 1 and page.count(script) == 1
    assert_inert(page.replace(script, ""))


def test_plain_summary_page_escapes(hostile: dict[str, pd.DataFrame]) -> None:
    from toolkit.analysis.summary import summary_html

    assert_inert(summary_html(hostile, title=PAYLOADS[0], origin=PAYLOADS[1]))
