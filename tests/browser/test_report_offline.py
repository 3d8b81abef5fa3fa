"""The demo org's report in Debian chromium with the network off, at 1,024 and 1,400 px: the summary first, a
table sorted and filtered by clicking, an "and N more" opened, an app's card reached from a finding, no
sideways scroll, nothing fetched but the file itself, no secret; its print layout at A4 and Letter width, a
PDF through Chromium, and a hostile org's report driven by its script without anything running."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jupyter_harness import CHROMIUM_ARGS, chromium_path

from toolkit.commands import main
from toolkit.demoorg import DemoOrg

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def report_file(demo_org: DemoOrg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report"
    assert main(["report", "--instance-url", demo_org.instance_url, "--access-token", demo_org.access_token,
                 "--ca-file", demo_org.ca_file, "--out", str(out)]) == 0
    return out / "report.html"


def no_sideways_scroll(page: Any) -> None:
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner, f"sideways scroll: {width} px content in a {inner} px window"


def column(page: Any, table: str, index: int) -> list[str]:
    return [t.strip() for t in page.locator(f"{table} tbody tr:not([hidden]) td:nth-child({index})")
            .all_inner_texts()]


@pytest.mark.parametrize("width", [1024, 1400])
def test_report_reads_offline(demo_org: DemoOrg, report_file: Path, tmp_path: Path, width: int) -> None:
    chromium = chromium_path()  # skips when Debian chromium is missing
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": width, "height": 900})

            def only_files(route: Any) -> None:  # anything but the file itself would be a fetch
                requested.append(route.request.url)
                if route.request.url == report_file.as_uri():
                    route.continue_()
                else:
                    route.abort()

            context.route("**/*", only_files)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report_file.as_uri())
            page.wait_for_load_state("load")
            no_sideways_scroll(page)
            assert page.locator("h1").inner_text() == "Connected apps of Demo Org"

            # the summary first: contents, then the score and grade, the top 5 actions, the riskiest apps
            assert page.locator("h2").first.inner_text() == "Summary"
            assert page.locator("nav.toc a").first.get_attribute("href") == "#summary"
            score = page.locator(".scoreboard .score")
            assert score.is_visible() and score.bounding_box()["y"] < 900  # above the fold
            assert page.locator("table.actions tbody tr").count() == 5
            assert "Fixable now by bulk edit:" in page.locator("table.actions").inner_text()
            assert page.locator("table.riskiest tbody tr").count() >= 5
            assert page.locator("svg rect").count() >= 3

            # the findings table sorts by a click on a header, then filters by severity and by search
            findings = "#findings-table"
            page.locator(f"{findings} th:nth-child(3)").click()
            counts = [int(n) for n in column(page, findings, 3)]
            assert counts == sorted(counts) and len(counts) > 10
            page.locator(f"{findings} th:nth-child(3)").click()
            assert [int(n) for n in column(page, findings, 3)] == sorted(counts, reverse=True)
            page.locator(".tablectl select[aria-label='Filter by Severity']").first.select_option("critical")
            assert set(column(page, findings, 1)) == {"critical"}
            page.locator(".tablectl select[aria-label='Filter by Severity']").first.select_option("")
            page.locator("#findings-table-search").fill("NET-01")
            assert [r.split()[0] for r in column(page, findings, 2)] == ["NET-01"]
            page.locator("#findings-table-search").fill("")

            # the apps table: findings and risk columns, sorted by risk
            apps = "#apps-table"
            page.locator(f"{apps} th", has_text="Risk").click()
            risks = [int(r.split()[-1]) for r in column(page, apps, 3)]
            assert risks == sorted(risks) and len(risks) == 73
            page.locator("#apps-table-search").fill("Demo_JWT")
            assert page.locator(f"{apps} tbody tr:not([hidden])").count() == 1

            # "and N more" opens in place
            more = page.locator(f"{findings} details.more").first
            hidden_link = more.locator("a").first
            assert not hidden_link.is_visible()
            more.locator("summary").click()
            assert hidden_link.is_visible()
            no_sideways_scroll(page)

            # from a finding to its app's card, and the card holds the finding and the app's usage
            link = page.locator(f"{findings} tr#rule-NET-01 td:nth-child(4) a").first
            name = link.inner_text().replace("\u200b", "")
            link.click()
            card = page.locator("details.appcard:target")
            assert card.count() == 1 and card.get_attribute("open") is not None  # the link opened it
            assert card.locator("summary").inner_text().startswith(name)
            assert card.is_visible() and "NET-01" in card.inner_text() and "Logins" in card.inner_text()
            assert "Relax IP restrictions" in card.inner_text()
            no_sideways_scroll(page)

            text = page.locator("body").inner_text()
            for secret in (demo_org.access_token, demo_org.password, demo_org.client_secret):
                assert secret not in text
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert set(requested) == {report_file.as_uri()}, requested  # the file itself, nothing else
    assert (tmp_path / "report.png").stat().st_size > 10_000


# the printable width of A4 and Letter with the print stylesheet's 12 mm margins, in CSS pixels (96 per inch)
PRINT_WIDTHS = {"A4": round((210 - 24) / 25.4 * 96), "Letter": round((8.5 * 25.4 - 24) / 25.4 * 96)}


@pytest.mark.parametrize("paper", list(PRINT_WIDTHS))
def test_print_layout_clips_no_table(report_file: Path, paper: str) -> None:
    """Under the print stylesheet at the paper's printable width: no table wider than the page or its own box
    (a clipped column), the contents and table controls hidden, the mobile matrix in blocks."""
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    width = PRINT_WIDTHS[paper]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(offline=True, viewport={"width": width, "height": 1100}).new_page()
            page.goto(report_file.as_uri())
            page.wait_for_load_state("load")
            page.emulate_media(media="print")
            no_sideways_scroll(page)
            clipped = page.evaluate("""Array.from(document.querySelectorAll('table'))
                .filter(t => t.getBoundingClientRect().right > innerWidth + 0.5
                             || t.scrollWidth > t.clientWidth + 1)
                .map(t => t.className + ': ' + t.rows[0].textContent.slice(0, 60))""")
            assert clipped == []
            assert not page.locator("nav.toc").is_visible()
            assert not page.locator(".tablectl").first.is_visible()
            assert page.locator("table.words", has_text="App Platform").count() >= 2  # split in blocks
        finally:
            browser.close()


def test_report_pdf_through_chromium(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chromium_path()  # skips when Debian chromium is missing
    out = tmp_path / "r"
    repo = Path(__file__).resolve().parents[2]
    assert main(["report", "--project", str(repo / "examples"), "--out", str(out), "--pdf",
                 "--paper", "letter"]) == 0
    assert f"pdf (Letter): {out / 'report.pdf'}" in capsys.readouterr().out
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2
    assert b"/MediaBox [0 0 612 792]" in pdf  # Letter, points


INJECTED = "img[src='x'], svg[onload], [onerror], [onload], a[href^='javascript:'], iframe, object, embed"


def test_hostile_app_data_stays_text_when_the_report_is_sorted_filtered_and_opened(tmp_path: Path) -> None:
    """The report's script sorts, filters, searches and opens cards of apps whose labels, URLs and e-mails
    hold markup: nothing runs, nothing is injected (it moves cells and reads text, never parses HTML)."""
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    from toolkit.demoorg.seed import HOSTILE_MARKER

    out = tmp_path / "hostile"
    with DemoOrg(apps=20, ecas=3, seed=1, hostile=True) as org:
        assert main(["report", "--instance-url", org.instance_url, "--access-token", org.access_token,
                     "--ca-file", org.ca_file, "--out", str(out)]) == 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(offline=True, viewport={"width": 1024, "height": 900}).new_page()
            page.goto((out / "report.html").as_uri())
            page.wait_for_load_state("load")
            for table in ("#findings-table", "#apps-table"):
                headers = page.locator(f"{table} thead th")
                for i in range(headers.count()):
                    headers.nth(i).click()
                page.locator(f"{table}-search").fill("Hostile")
                assert page.locator(f"{table} tbody tr:not([hidden])").count() >= 1
            for select in page.locator(".tablectl select").all():
                options = select.locator("option")
                select.select_option(index=options.count() - 1)
                select.select_option(index=0)  # back to all rows
            for details in page.locator("details").all()[:40]:
                details.evaluate("d => { d.open = true; }")
            page.locator("#apps-table a", has_text="Hostile").first.click()
            assert page.locator("details.appcard:target[open]").count() == 1
            page.wait_for_timeout(500)  # an onerror/onload would have fired by now
            assert page.evaluate("typeof window.__pwned") == "undefined", "app data ran as script"
            assert page.locator(INJECTED).count() == 0
            assert page.locator("script").count() == 1 and HOSTILE_MARKER in page.locator("body").inner_text()
            no_sideways_scroll(page)
        finally:
            browser.close()
