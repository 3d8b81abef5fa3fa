"""App data never runs as script in the auditor's notebook (issue 13, item 15).

A demo org with the hostile seed (``DemoOrg(hostile=True)``: labels, descriptions, URLs, bundle ids, callback
URLs, e-mails and user names holding ``<img onerror>``, ``<script>``, ``<svg onload>``, ``javascript:`` and
``{{7*7}}``) is audited in a real JupyterLab; every widget (AuditPanel, FindingsView, MobileComparison,
EditForm), the Styler (``style_mobile_matrix``), every report section and summary.html are displayed. No
script may run (``window.__pwned`` stays undefined), no element may be injected into the outputs, and the
hostile text must show as text.
"""

# ruff: noqa: F811
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from test_jupyterlab_panel import lab, open_and_run  # noqa: F401 - the module's JupyterLab fixture

from toolkit.demoorg import DemoOrg
from toolkit.demoorg.seed import HOSTILE_MARKER

pytestmark = [pytest.mark.browser, pytest.mark.flaky(reruns=1)]
NOTEBOOK = "hostile_render.ipynb"

CELLS: list[tuple[str, str]] = [
    ("setup", '''import json, pandas as pd
from IPython.display import HTML, display
import toolkit
from toolkit.reports import ReportData, sections
from toolkit.analysis.summary import summary_html
from toolkit.ui import AuditPanel, EditForm, FindingsView, MobileComparison
conn = json.load(open("conn.json"))
org = toolkit.connect(**conn)
tables = toolkit.audit(org)
found = toolkit.findings(tables) if hasattr(toolkit, "findings") else None
hostile = sorted(n for n in tables["apps"]["name"] if n.startswith("Hostile_"))
print("apps read:", len(tables["apps"]), "hostile:", ", ".join(hostile))'''),
    ("AuditPanel", '''panel = AuditPanel(connect_options=conn)
panel.run()
display(panel)'''),
    ("FindingsView", '''view = FindingsView(tables)
mine = view.failed()
mine = mine[mine["app"].astype(str).str.startswith("Hostile_")]
view.rule.value = mine["rule"].iloc[0] if len(mine) else view.rule.value
display(view)'''),
    ("MobileComparison", '''display(MobileComparison(tables))'''),
    ("EditForm", '''form = EditForm(org)
form.picker.select(hostile)
form.form.add("ip_relaxation")
form.form.set_changes({"ip_relaxation": "ENFORCE"})
form.preview()
display(form)'''),
    ("style_mobile_matrix", '''display(toolkit.style_mobile_matrix(tables))'''),
    ("report sections", '''data = ReportData(tables, org_name="Demo Org", findings=found)
for part in (sections.summary, sections.findings, sections.mobile_matrix, sections.apps_table,
             sections.usage, sections.org_posture, sections.problems):
    display(HTML(part(data)))'''),
    ("summary.html", '''display(HTML(summary_html(tables, title="Hostile demo org",
                         origin=conn["instance_url"])))'''),
    ("done", '''print("ALL-CELLS-DONE")'''),
]


INJECTED = (
    "img[src='x'], svg[onload], [onerror], [onload], a[href^='javascript:'], iframe, object, embed"
)


def test_hostile_app_data_renders_as_text_everywhere(lab: tuple[Any, ...], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    notebooks = Path(lab[2]) / "notebooks"
    nb = nbformat.v4.new_notebook()  # the notebooks' kernel, so JupyterLab asks nothing
    nb.metadata = nbformat.read(notebooks / "03_audit_panel.ipynb", as_version=4).metadata
    nb.cells = [nbformat.v4.new_code_cell(source) for _name, source in CELLS]
    nbformat.write(nb, notebooks / NOTEBOOK)
    with DemoOrg(apps=20, ecas=3, seed=1, hostile=True) as org:
        conn = {"instance_url": org.instance_url, "access_token": org.access_token, "ca_file": org.ca_file}
        (notebooks / "conn.json").write_text(json.dumps(conn))
        page, out = open_and_run(lab, NOTEBOOK, "ALL-CELLS-DONE")
        try:
            expect(out.get_by_text("Hostile_Web_App").first).to_be_attached()
            page.wait_for_timeout(1500)  # an onerror/onload would have fired by now
            assert page.evaluate("typeof window.__pwned") == "undefined", "app data ran as script"
            injected = out.locator(INJECTED)
            assert injected.count() == 0, injected.first.evaluate("e => e.outerHTML")
            scripts = page.locator(".jp-OutputArea-output script")
            for i in range(scripts.count()):
                assert "__pwned" not in (scripts.nth(i).text_content() or "")
            text = " ".join(out.all_inner_texts())
            assert HOSTILE_MARKER in text  # shown, as text
            assert "onerror=" in text or "<img" in text  # the markup itself is visible, escaped
            assert "Traceback" not in text, text[text.find("Traceback") - 300 :][:1500]  # every cell ran
            page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise
        finally:
            page.close()
