"""The demo org's report in Debian chromium with the network off, 1,400 px wide: no sideways scroll, a chart,
the mobile matrix, findings when the rules layer is installed, nothing fetched, no secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jupyter_harness import CHROMIUM_ARGS, chromium_path

import toolkit
from toolkit.commands import main
from toolkit.demoorg import DemoOrg

pytestmark = [pytest.mark.browser]


def test_report_reads_offline_at_1400px(demo_org: DemoOrg, tmp_path: Path) -> None:
    chromium = chromium_path()  # skips when Debian chromium is missing
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report"
    assert main(["report", "--instance-url", demo_org.instance_url, "--access-token", demo_org.access_token,
                 "--ca-file", demo_org.ca_file, "--out", str(out)]) == 0
    page_file = out / "report.html"
    requested: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1400, "height": 1000})

            def only_files(route: Any) -> None:  # anything but the file itself would be a fetch
                requested.append(route.request.url)
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", only_files)
            page = context.new_page()
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1400
            assert page.locator("svg").count() >= 1 and page.locator("svg rect").count() >= 3
            assert page.locator("h2", has_text="Mobile settings").count() == 1
            assert page.locator("table", has_text="App Platform").count() >= 1
            assert page.locator("h1").inner_text() == "Connected apps of Demo Org"
            if hasattr(toolkit, "findings"):
                assert page.locator("h2", has_text="Findings").count() == 1
            text = page.locator("body").inner_text()
            for secret in (demo_org.access_token, demo_org.password, demo_org.client_secret):
                assert secret not in text
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert [u for u in requested if not u.startswith("file:")] == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
