"""The forms in a real JupyterLab + Debian chromium, one JupyterLab for the module:

- ``03_audit_panel.ipynb``: audit examples/ with the AuditPanel, compare mobile settings;
- ``05_bulk_edit_form.ipynb`` (when the edits layer is installed): connect to the demo org through the
  ConnectForm (access token typed into the password box), pick apps with a filter, set two settings, preview,
  apply, see per-app results, roll back; the demo org's state is checked after each step. Screenshots are
  saved in each test's tmp_path.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_harness import CHROMIUM_ARGS, chromium_path, jupyter_lab

import toolkit
from toolkit.demoorg import DemoOrg

REPO = Path(__file__).resolve().parents[2]
PANEL, EDIT = "03_audit_panel.ipynb", "05_bulk_edit_form.ipynb"

# A real browser against a real JupyterLab: kernel start-up races are outside our code, so a failed run is
# retried once from scratch (a fresh page) before it counts as a failure.
pytestmark = [pytest.mark.browser, pytest.mark.flaky(reruns=1)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ...]]:
    """One JupyterLab (on copies of the notebooks: JupyterLab saves outputs) and one chromium."""
    chromium = chromium_path()  # skips when Debian chromium is missing
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    base = tmp_path_factory.mktemp("lab")
    root, home = base / "root", base / "home"
    (root / "notebooks").mkdir(parents=True)
    home.mkdir()
    for name in (PANEL, EDIT):
        shutil.copy(REPO / "notebooks" / name, root / "notebooks" / name)
    shutil.copytree(REPO / "examples", root / "examples")
    with jupyter_lab(root, home) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield url, browser, root  # root: the notebooks' folder parent (a test may add a notebook)
        finally:
            browser.close()


def open_and_run(lab: tuple[Any, ...], notebook: str, ready_text: str) -> tuple[Any, Any]:
    """Open ``notebook``, Run All Cells until ``ready_text`` shows in an output; (page, outputs locator)."""
    from playwright.sync_api import expect

    url, browser = lab[:2]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    # ?reset: a fresh workspace, so the notebook of an earlier test does not open again (hidden) beside it
    page.goto(url.replace("/?token=", f"/lab/tree/notebooks/{notebook}?reset&token="))
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Cell").first.wait_for()
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first).to_be_attached()
    # the status bar names the kernel once its session is connected: Run All before that may run nothing now
    # and everything later, twice (widgets drawn by a run the page no longer talks to)
    kernel = page.get_by_role("contentinfo").get_by_role("button", name=re.compile(r"\(ipykernel\) \| Idle"))
    expect(kernel.first).to_be_visible(timeout=90_000)
    out = panel.locator(".jp-OutputArea-output")  # outputs only: the cell sources hold the same words
    ready = out.get_by_text(ready_text, exact=True).first
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    # "Run All Cells" clicked before the kernel session is connected runs nothing, and JupyterLab may ask for
    # a kernel while the session starts: retry until the widgets show
    running = panel.locator(".jp-InputPrompt", has_text="[*]")
    for _attempt in range(4):
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-content .lm-Menu-item", has_text="Run All Cells").first.click()
        try:
            expect(ready.or_(dialog).first).to_be_visible(timeout=15_000)
        except AssertionError:
            if not running.count():
                continue  # nothing ran: the session was not connected yet
            # a slow first import: wait for this run rather than queue another (it would redraw the forms)
            expect(ready.or_(dialog).first).to_be_visible(timeout=90_000)
        if not dialog.is_visible():
            break
        while dialog.count():  # one per Run All that found no kernel; keep the notebook's kernel
            dialog.first.locator("button.jp-mod-accept").click()
            page.wait_for_timeout(200)
    expect(ready).to_be_visible()
    expect(running).to_have_count(0, timeout=90_000)  # every cell done: no later output replaces the forms
    return page, out


def test_audit_panel_runs_in_jupyterlab(lab: tuple[Any, ...], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page, out = open_and_run(lab, PANEL, "SFDX folder")
    try:
        out.locator(".widget-toggle-button", has_text="SFDX folder").click()
        folder = out.locator(".widget-text", has_text="Folder").locator("input")
        expect(folder).to_be_visible()  # the kernel shows the folder box: clicks reach it
        expect(folder).to_have_value("../examples")
        out.locator("button", has_text="Run audit").click()
        expect(out.locator(".widget-html", has_text="Audited 8 apps")).to_be_visible()
        expect(out.locator("table.ca-table").first).to_contain_text("Field_Sales_iOS")

        out.locator(".lm-TabBar-tab", has_text="Mobile comparison").click()
        mobile = out.locator("table.ca-mobile")
        expect(mobile).to_be_visible()
        expect(mobile.locator("tr", has_text="Minimum OS Version")).to_contain_text("16.0")  # Field_Sales_iOS
        expect(out.locator(".ca-note")).to_contain_text("PIN Length")
        page.screenshot(path=str(tmp_path / "audit_panel.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)  # for the failure report
        raise
    finally:
        page.close()
    assert (tmp_path / "audit_panel.png").stat().st_size > 10_000


def _state(org: DemoOrg, names: list[str]) -> dict[str, tuple[str, str]]:
    with toolkit.connect(
        instance_url=org.instance_url, access_token=org.access_token, ca_file=org.ca_file
    ) as live:
        apps = toolkit.audit(live)["apps"].set_index("name")
    return {n: (str(apps.loc[n, "ip_relaxation"]), str(apps.loc[n, "refresh_policy"])) for n in names}


def _connect_with_token(page: Any, out: Any, org: DemoOrg) -> None:
    """The ConnectForm's access-token way: URL, CA file, the token typed into the password box, Connect."""
    from playwright.sync_api import expect

    out.locator(".widget-toggle-button", has_text="Access token").click()
    out.locator(".widget-text", has=page.locator("label", has_text="Instance URL")).locator("input").fill(
        org.instance_url
    )
    out.locator(".widget-text", has=page.locator("label", has_text="CA file")).locator(
        "input"
    ).first.fill(org.ca_file)
    out.locator("input[type='password']").fill(org.access_token)
    out.locator("button", has_text="Connect").click()
    expect(out.get_by_text("Connected to https://127.0.0.1")).to_be_visible()
    expect(out.locator("input[type='password']")).to_have_value("")  # the token is not kept


def _failing(org: DemoOrg, rule: str) -> set[str]:
    with toolkit.connect(instance_url=org.instance_url, access_token=org.access_token,
                         ca_file=org.ca_file) as live:
        found = toolkit.findings(toolkit.audit(live))
    return set(found.loc[(found["rule"] == rule) & (found["status"] == "fail"), "app"])


def test_from_a_finding_to_its_applied_and_rolled_back_fix(
    lab: tuple[Any, ...], fresh_demo_org: DemoOrg, tmp_path: Path
) -> None:
    """Issue 15: FindingsView → "Fix these apps" → the EditForm holds the rule's whole remedy and its failing
    apps → Preview → Apply → Confirm → the org no longer fails the rule there → Roll back → as before."""
    from playwright.sync_api import expect

    org = fresh_demo_org
    failing = _failing(org, "TOK-01")
    assert failing, "the demo org seeds apps whose refresh token never expires"
    page, out = open_and_run(lab, EDIT, "Access token")
    try:
        _connect_with_token(page, out, org)
        rule = out.locator(".widget-dropdown", has=page.locator("label", has_text="Rule")).locator("select")
        expect(rule.locator("option", has_text="TOK-01 Refresh token never expires")).to_have_count(1)
        label = rule.locator("option", has_text="TOK-01 ").first.text_content() or ""
        rule.select_option(label=label.strip())
        out.locator("button", has_text="Fix these apps").click()
        expect(out.get_by_text("Fix for TOK-01 Refresh token never expires")).to_be_visible()
        out.locator("button", has_text="Preview").click()
        expect(out.get_by_text("to change in")).to_be_visible()
        expect(out.locator("table.ca-table", has_text="Before").first).to_contain_text("Refresh Token Policy")
        page.screenshot(path=str(tmp_path / "fix_preview.png"), full_page=True)
        skip = out.locator(".widget-checkbox", has_text="Skip refused apps").locator("input")
        if skip.is_visible():
            skip.check()  # packaged apps the org refuses stay as they are
        ack = out.locator(".widget-checkbox", has_text="I accept that the users").locator("input")
        if ack.is_visible():
            ack.check()
        expect(out.locator("button", has_text="Apply")).to_be_enabled()
        out.locator("button", has_text="Apply").click()
        out.locator("button", has_text="Confirm").click()
        expect(out.get_by_text("Applied:")).to_be_visible(timeout=60_000)
        page.screenshot(path=str(tmp_path / "fix_applied.png"), full_page=True)
        fixed = failing - _failing(org, "TOK-01")
        assert fixed, "the fix took TOK-01 off some of its apps"
        out.locator("button", has_text="Roll back").click()
        expect(out.get_by_text("Rolled back:")).to_be_visible(timeout=60_000)
        assert _failing(org, "TOK-01") == failing
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        raise
    finally:
        page.close()


def test_bulk_edit_form_in_jupyterlab(lab: tuple[Any, ...], fresh_demo_org: DemoOrg, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    org = fresh_demo_org
    with toolkit.connect(
        instance_url=org.instance_url, access_token=org.access_token, ca_file=org.ca_file
    ) as live:
        apps = toolkit.audit(live)["apps"]
    ios = apps[(apps["kind"] == "ConnectedApp") & (apps["platform"] == "ios")]
    chosen = sorted(n for n in ios["name"] if "Portal" in n)
    assert chosen, "the demo org has iOS portal apps"
    before = _state(org, chosen)

    page, out = open_and_run(lab, EDIT, "Access token")
    shot = 0

    def screenshot(name: str) -> None:
        nonlocal shot
        shot += 1
        page.screenshot(path=str(tmp_path / f"{shot:02d}_{name}.png"), full_page=True)

    def dropdown(label: str) -> Any:
        return out.locator(".widget-dropdown", has=page.locator("label", has_text=label)).locator("select")

    try:
        _connect_with_token(page, out, org)

        dropdown("Kind").select_option(label="Connected apps")
        dropdown("Platform").select_option(label="iOS")
        search = out.locator(".widget-text", has=page.locator("label", has_text="Search")).locator("input")
        search.fill("Portal")
        search.press("Enter")
        expect(out.get_by_text(f"of {len(chosen)} shown apps selected")).to_be_visible()
        out.locator("button", has_text="Select all shown").click()
        expect(out.get_by_text(f"{len(chosen)} of {len(chosen)} shown apps selected")).to_be_visible()
        screenshot("picked")

        dropdown("IP Relaxation").select_option(label="Enforce IP restrictions")
        dropdown("Refresh Token Policy").select_option(label="Immediately expire refresh token")
        out.locator("button", has_text="Preview").click()
        expect(out.get_by_text("to change in")).to_be_visible()
        expect(out.locator("table.ca-table", has_text="Before").first).to_contain_text(chosen[0])
        screenshot("preview")
        assert _state(org, chosen) == before  # a preview writes nothing
        # the impact before Apply (issue 16): the ENFORCE of the seed truth's users, and "Immediately expire"
        # signs out every user with a token still in use: Apply waits for the acknowledgement, saying why
        expect(out.get_by_text("Impact (who this edit would stop")).to_be_visible()
        expect(out.get_by_text("users would break").first).to_be_visible()
        expect(out.locator("button", has_text="Apply")).to_be_disabled()
        screenshot("impact")
        out.locator(".widget-checkbox", has_text="I accept that the users").locator("input").check()
        expect(out.locator("button", has_text="Apply")).to_be_enabled()

        out.locator("button", has_text="Apply").click()
        confirm = out.get_by_text("about to write: org")  # the CLI's line: org URL and id, apps, journal
        expect(confirm).to_contain_text(org.instance_url)
        expect(confirm).to_contain_text(f"(org id {org.state.org_id}); {len(chosen)} apps")
        assert _state(org, chosen) == before  # nothing written before Confirm
        out.locator("button", has_text="Confirm").click()
        expect(out.get_by_text("Applied:")).to_be_visible(timeout=60_000)
        expect(out.locator("table.ca-table", has_text="Component").first).to_contain_text("applied")
        screenshot("applied")
        assert set(_state(org, chosen).values()) == {("ENFORCE", "zero")}

        out.locator("button", has_text="Roll back").click()
        expect(out.get_by_text("Rolled back:")).to_be_visible(timeout=60_000)
        screenshot("rolled_back")
        assert _state(org, chosen) == before
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        raise
    finally:
        page.close()
    assert len(list(tmp_path.glob("0*.png"))) == 5
