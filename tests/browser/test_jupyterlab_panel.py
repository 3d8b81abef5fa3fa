"""AuditPanel in a real JupyterLab + Debian chromium: run the notebook, audit examples/, compare mobile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jupyter_harness import CHROMIUM_ARGS, chromium_path, jupyter_lab

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = "03_audit_panel.ipynb"

# A real browser against a real JupyterLab: kernel start-up races are outside our code, so a failed run is
# retried once from scratch (a fresh server and browser) before it counts as a failure.
pytestmark = [pytest.mark.browser, pytest.mark.flaky(reruns=1)]


def test_audit_panel_runs_in_jupyterlab(tmp_path: Path) -> None:
    chromium = chromium_path()  # skips when Debian chromium is missing
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)

    # a copy: JupyterLab saves the notebook with outputs, and the repo's notebooks stay clean
    root, home = tmp_path / "root", tmp_path / "home"
    (root / "notebooks").mkdir(parents=True)
    home.mkdir()
    shutil.copy(REPO / "notebooks" / NOTEBOOK, root / "notebooks" / NOTEBOOK)
    shutil.copytree(REPO / "examples", root / "examples")

    with jupyter_lab(root, home) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(url.replace("/?token=", f"/lab/tree/notebooks/{NOTEBOOK}?token="))
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first).to_be_attached(
                timeout=30_000
            )
            out = page.locator(".jp-OutputArea-output")  # outputs only: the cell sources hold the same words
            source_button = out.locator(".widget-toggle-button", has_text="SFDX folder")
            dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
            # "Run All Cells" clicked before the kernel session is connected runs nothing, and JupyterLab may
            # ask for a kernel while the session starts: retry until the panel shows
            for _attempt in range(4):
                page.locator(".lm-MenuBar-item", has_text="Run").first.click()
                page.locator(".lm-Menu-content .lm-Menu-item", has_text="Run All Cells").first.click()
                try:
                    expect(source_button.or_(dialog).first).to_be_visible(timeout=15_000)
                except AssertionError:
                    continue
                if not dialog.is_visible():
                    break
                while dialog.count():  # one per Run All that found no kernel; keep the notebook's kernel
                    dialog.first.locator("button.jp-mod-accept").click()
                    page.wait_for_timeout(200)
            source_button.click()
            folder = out.locator(".widget-text", has_text="Folder").locator("input")
            expect(folder).to_have_value("../examples")
            out.locator("button", has_text="Run audit").click()
            expect(out.locator(".widget-html", has_text="Audited 8 apps")).to_be_visible()
            expect(out.locator("table.ca-table").first).to_contain_text("Field_Sales_iOS")

            out.locator(".lm-TabBar-tab", has_text="Mobile comparison").click()
            mobile = out.locator("table.ca-mobile")
            expect(mobile).to_be_visible()
            row = mobile.locator("tr", has_text="Minimum OS Version")
            expect(row).to_contain_text("16.0")  # Field_Sales_iOS (examples/)
            expect(out.locator(".ca-note")).to_contain_text("PIN Length")
            page.screenshot(path=str(tmp_path / "audit_panel.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)  # for the failure report
            raise
        finally:
            browser.close()
    assert (tmp_path / "audit_panel.png").stat().st_size > 10_000
