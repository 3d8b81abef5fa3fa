"""``python -m toolkit report``: the report notebook run by papermill, exported without code, offline,
holding no secret.

One report of the demo org is built per module (the kernel start is the slow part) and read by every test.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import toolkit
from toolkit import audit
from toolkit.analysis.display import LEGEND, display_value, people_table
from toolkit.analysis.markers import NOT_APPLICABLE, NOT_SET, UNKNOWN
from toolkit.commands import main
from toolkit.demoorg import DemoOrg
from toolkit.reports import ReportData, sections
from toolkit.reports.export import external_references

REPO = Path(__file__).resolve().parent.parent
_TOKEN = re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}")


def demo_secrets(org: DemoOrg) -> list[str]:
    """Every secret the demo org holds (the JWT app's consumer key is an identifier: never shown whole)."""
    found = [org.access_token, org.password, org.security_token, org.client_secret, org.refresh_token,
             org.jwt_consumer_key]
    return [s for s in found if s]


def assert_no_secret(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{where}: a demo org secret is written"
    assert "-----BEGIN" not in text and not _TOKEN.search(text), where


@pytest.fixture(scope="module")
def demo_report(demo_org: DemoOrg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    code = main(["report", "--instance-url", demo_org.instance_url, "--access-token", demo_org.access_token,
                 "--ca-file", demo_org.ca_file, "--out", str(out)])
    assert code == 0
    return out


def test_report_is_one_offline_file_without_code(demo_report: Path) -> None:
    page = (demo_report / "report.html").read_text()
    assert external_references(page) == [] and page.lower().count("<script") == 1  # the inline one, no src
    assert "<script>" in page and "fetch(" not in page and "XMLHttpRequest" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<h1>Connected apps of Demo Org</h1>" in page and "127.0.0.1:" not in page.split("</h1>")[0]
    assert "<svg" in page and "Mobile settings" in page and "Usage" in page
    assert "toolkit.connect" not in page and "import " not in page  # no code
    assert "shareable report" not in page  # the notebook-only intro stays out
    assert ".jp-OutputArea-output" not in page  # and the notebook's own (scoped) stylesheet
    for marker, meaning in LEGEND.items():
        assert f"<code>{marker}</code> {meaning}" in page.replace("&#x27;", "'")
    assert "ENFORCE_RELAXREFRESH" not in page and "Enforce IP restrictions, but relax" in page
    assert ">True<" not in page and ">true<" not in page and ">False<" not in page


def test_report_writes_the_full_data_beside_it(demo_report: Path) -> None:
    apps = pd.read_csv(demo_report / "apps.csv")
    assert len(apps) == 73 and "ip_relaxation" in apps.columns
    book = openpyxl.load_workbook(demo_report / "audit.xlsx", read_only=True)
    assert {"Apps", "Usage", "Mobile", "Tokens"} <= set(book.sheetnames)
    assert book["Apps"].max_row == 74
    assert not list(demo_report.glob(".*.tmp"))  # written atomically: no temporary file left


def test_report_and_data_hold_no_secret(demo_org: DemoOrg, demo_report: Path) -> None:
    secrets = demo_secrets(demo_org)
    for path in demo_report.iterdir():
        if path.suffix in (".html", ".csv"):
            assert_no_secret(path.read_text(), secrets, path.name)
    book = openpyxl.load_workbook(demo_report / "audit.xlsx", read_only=True)
    cells = "\n".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    assert_no_secret(cells, secrets, "audit.xlsx")


def test_report_of_a_folder_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--project", str(REPO / "examples"), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'r' / 'report.html'}" in out
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Connected apps of examples" in page and "Usage is only known for org audits" in page
    assert main(["report", "--project", str(tmp_path / "none"), "--out", str(tmp_path / "x")]) == 2
    assert "no such folder" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_markers_tell_not_set_from_unknown() -> None:
    tables = audit(REPO / "examples")  # a folder: SOQL-only settings (PIN Length) are unknown, not unset
    table = people_table(tables["apps"], ["name", "kind", "pin_length", "pkce", "description"])
    assert set(table.loc[table["Kind"] == "Connected app", "PIN Length"]) == {UNKNOWN}
    assert set(table.loc[table["Kind"] == "External client app", "PIN Length"]) == {NOT_APPLICABLE}
    pkce = table["Require Proof Key for Code Exchange (PKCE)"]
    assert NOT_SET in set(table["Description"]) and set(pkce) <= {"Yes", "No", NOT_SET}
    assert display_value("pkce", None, "ConnectedApp", "tokens_only") == UNKNOWN


def test_sections_split_wide_content_and_leave_out_missing_findings() -> None:
    names = [f"App_{i}" for i in range(10)]
    apps = pd.DataFrame({"name": names, "kind": "ConnectedApp", "coverage": "metadata+soql",
                         "platform": ["ios"] * 9 + ["android"], "pin_length": [6] * 9 + [4]})
    data = ReportData({"apps": apps})
    matrix = sections.mobile_matrix(data)
    assert matrix.count("<table") == 2  # 7 apps per block
    assert matrix.count("<td class='dev'>") == 2  # the odd platform and the odd PIN length
    assert sections.section("Findings", sections.findings(data)) == ""
    findings = pd.DataFrame({"app": ["App_1", "App_2"], "rule": ["ip-relaxed"] * 2, "severity": ["high"] * 2,
                             "field": ["ip_relaxation"] * 2, "remedy": ["Enforce IP restrictions"] * 2,
                             "fixable_by_api": [True, True]})
    with_findings = ReportData({"apps": apps}, findings=findings)
    table = sections.findings(with_findings)
    assert "<a href='#card-App_1'>App_<wbr>1</a>, <a href='#card-App_2'>App_<wbr>2</a>" in table
    assert "IP Relaxation" in table
    assert "Findings by severity" in sections.summary(with_findings)


def test_report_folder_is_replaced_whole_and_foreign_folders_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    assert main(["report", "--project", str(REPO / "examples"), "--out", str(out)]) == 0
    (out / "usage.csv").write_text("stale")  # a file of an earlier (org) run: gone after the next one
    assert main(["report", "--project", str(REPO / "examples"), "--out", str(out)]) == 0
    assert not (out / "usage.csv").exists() and (out / "report.html").is_file()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert main(["report", "--project", str(REPO / "examples"), "--out", str(tmp_path / "mine")]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_workbook_text_is_never_a_formula() -> None:
    import io

    from toolkit.reports.files import workbook_bytes

    frame = pd.DataFrame({"description": ['=HYPERLINK("http://x","y")', "@SUM(A1)", "plain"], "n": [1, 2, 3]})
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes({"apps": frame})))
    cells = [c for row in book["Apps"].iter_rows(min_row=2, max_col=1) for c in row]
    assert [c.value for c in cells] == list(frame["description"]) and {c.data_type for c in cells} == {"s"}


def test_without_the_notebook_the_report_is_the_same_sections(tmp_path: Path) -> None:
    """Without the notebook the report is still written, from the sections, without papermill."""
    from toolkit.reports import collect, write_report

    data, inventory = collect(REPO / "examples")
    files = write_report(data, tmp_path / "out", notebook=tmp_path / "missing.ipynb")
    page = files.html.read_text()
    assert "<h2 id='findings'>Findings</h2>" in page
    assert "<h2 id='mobile-settings'>Mobile settings</h2>" in page
    assert "<svg" in page
    assert external_references(page) == [] and page.lower().count("<script") == 1
    assert (tmp_path / "out" / "audit.xlsx").is_file()


def test_setting_names_with_password_in_them_are_not_masked(demo_report: Path) -> None:
    """Redaction removes secrets, not words: "Username-Password Flows" is a setting's name, kept whole."""
    for name in ("org.csv", "findings.csv"):
        text = (demo_report / name).read_text()
        assert "****" not in text, name
    assert "Allow OAuth Username-Password Flows" in (demo_report / "org.csv").read_text()


def _card(doc: object, label: str) -> int:
    [value] = doc.xpath(f"//div[@class='card'][contains(., {label!r})]/b/text()")  # type: ignore[attr-defined]
    return int(value)


def test_one_number_per_idea_on_card_chart_and_table(demo_report: Path) -> None:
    """Issue 15: "12 relax IP restrictions" on the card, 11 in the chart. The card, the chart's bar and the
    findings row now say the same: the rule's apps (toolkit.rules.score.affected_apps)."""
    import lxml.html

    from toolkit.model.catalog import value_label

    doc = lxml.html.fromstring((demo_report / "report.html").read_text())
    findings = pd.read_csv(demo_report / "findings.csv")
    fails = findings[findings["status"] == "fail"]
    ideas = (("NET-01", "ip_relaxation", "BYPASS"), ("TOK-01", "refresh_policy", "infinite"))
    for rule, field, value in ideas:
        card = _card(doc, f"apps: {rule} ")
        [row] = doc.xpath(f"//table[contains(@class,'findings')]//tr[td/b[text()='{rule}']]"
                          "/td[@class='num']")
        label = value_label(field, value)
        [bar_title] = doc.xpath("//svg[title[starts-with(., 'Apps by')]]/g/title"
                                f"[starts-with(., {label + ':'!r})]")
        bar = int(bar_title.text.rsplit(": ", 1)[1])
        assert card == int(row.text) == bar == fails.loc[fails["rule"] == rule, "app"].nunique() > 0, rule


def test_pdf_without_chromium_is_refused_before_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLKIT_CHROMIUM", str(tmp_path / "no-chromium"))
    out = tmp_path / "r"
    assert main(["report", "--project", str(REPO / "examples"), "--out", str(out), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert "--pdf needs Chromium" in err and "apt-get install chromium" in err and not out.exists()
    assert main(["report", "--project", str(REPO / "examples"), "--out", str(out), "--paper", "a5"]) == 2
    assert "--paper cannot be 'a5'; allowed: a4, letter" in capsys.readouterr().err and not out.exists()


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def test_no_user_names_leaves_every_output_without_them(demo_org: DemoOrg, tmp_path: Path) -> None:
    """``report --no-user-names``: token owners, run-as users and contact e-mails are (hidden) in the page,
    every CSV and the workbook; the counts stay."""
    out = tmp_path / "shared"
    assert main(["report", "--instance-url", demo_org.instance_url, "--access-token", demo_org.access_token,
                 "--ca-file", demo_org.ca_file, "--out", str(out), "--no-user-names"]) == 0
    names = set(pd.read_csv(out / "tokens.csv")["username"])
    assert names == {"(hidden)"}
    assert set(pd.read_csv(out / "apps.csv")["run_as"].dropna()) == {"(hidden)"}
    assert pd.read_csv(out / "usage.csv")["users"].sum() > 0  # counts name no one
    for path in out.iterdir():
        if path.suffix in (".html", ".csv"):
            assert not _EMAIL.search(path.read_text()), path.name
    book = openpyxl.load_workbook(out / "audit.xlsx", read_only=True)
    cells = [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert not any(_EMAIL.search(c) for c in cells)


def test_audit_no_user_names(tmp_path: Path) -> None:
    out = tmp_path / "a"
    assert main(["audit", "--project", str(REPO / "examples"), "--out", str(out), "--no-user-names"]) == 0
    apps = pd.read_csv(out / "apps.csv")
    assert set(apps["contact_email"].dropna()) <= {"(hidden)"} and apps["contact_email"].notna().any()
    for path in out.iterdir():
        assert not _EMAIL.search(path.read_text()), path.name


def test_workbook_for_people(demo_report: Path) -> None:
    """Summary and Findings first, Setup labels as headers, frozen header rows, a filter on every column."""
    book = openpyxl.load_workbook(demo_report / "audit.xlsx")
    assert book.sheetnames[:3] == ["Summary", "Findings", "Apps"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Report"] == "Connected apps of Demo Org" and 0 <= summary["Score (out of 100)"] <= 100
    assert summary["Grade"][0] in "ABCDF" and "Top actions" in summary and "Riskiest apps" in summary
    apps = book["Apps"]
    headers = [c.value for c in apps[1]]
    assert headers[0] == "App" and "IP Relaxation" in headers and "ip_relaxation" not in headers
    assert len(set(headers)) == len(headers)
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes in ("A2", "B2"), sheet.title
        assert sheet.auto_filter.ref == sheet.dimensions, sheet.title
    assert book["Findings"].freeze_panes == "B2" and [c.value for c in book["Findings"][1]][:3] == [
        "App", "Kind", "Rule"]


def test_notebook_06_in_jupyterlab_gets_the_report_css() -> None:
    """Opened in JupyterLab the notebook looks like the report: a notebook-only cell shows the report's CSS
    scoped to the output area (it never restyles JupyterLab itself, and is left out of the export)."""
    import nbformat

    book = nbformat.read(REPO / "notebooks" / "06_report.ipynb", as_version=4)
    [cell] = [c for c in book.cells if "notebook_style()" in c.source]
    assert "notebook-only" in cell.metadata.get("tags", [])
    css = sections.scoped_css()
    rules = [r.split("{")[0] for r in css.replace("@media", "}@media").split("}") if "{" in r]
    for selectors in rules:
        for selector in selectors.split(","):
            assert selector.startswith(("@media", sections.NOTEBOOK_SCOPE)), selector
    assert "@media print" not in css and "main{" not in css and ".scoreboard" in css


def test_top_actions_say_who_their_bulk_edit_would_break(demo_org: DemoOrg, demo_report: Path) -> None:
    """Issue 16: each top action's "fixable now" says how many users its edit would break, the same count as
    the dry-run plan's own impact (nothing written: the org keeps failing the rule)."""
    from toolkit.edits.impact import users_breaking
    from toolkit.reports.data import action_impacts
    from toolkit.rules.score import bulk_changes, failed, top_actions

    page = (demo_report / "report.html").read_text()
    summary = page[page.index("Top 5 actions"):page.index("Riskiest apps")]
    assert "breaks " in summary and " users in " in summary
    with toolkit.connect(instance_url=demo_org.instance_url, access_token=demo_org.access_token,
                         ca_file=demo_org.ca_file) as org:
        found = toolkit.findings(toolkit.audit(org))
        impacts = action_impacts(org, found)
        first = next(a for a in top_actions(found).to_dict("records") if a["changes"])
        fails = failed(found)
        changes = bulk_changes(fails[fails["rule"] == first["rule"]])
        plan = toolkit.plan_edits(org, changes[["app", "field", "value", "op"]]).without_refused()
        assert impacts[first["rule"]]["users"] == users_breaking(plan.impact())
        again = toolkit.findings(toolkit.audit(org))
    still = again[(again["rule"] == first["rule"]) & (again["status"] == "fail")]
    assert set(still["app"]) == set(fails.loc[fails["rule"] == first["rule"], "app"])  # nothing written
    if impacts[first["rule"]]["users"]:
        assert f"breaks {impacts[first['rule']]['users']} users in" in summary


def test_every_link_of_the_report_has_its_target(demo_report: Path) -> None:
    """Every in-page link (contents, rules, app cards, (org)) lands on an element of the page."""
    import lxml.html

    doc = lxml.html.fromstring((demo_report / "report.html").read_text())
    ids = set(doc.xpath("//@id"))
    targets = {h[1:] for h in doc.xpath("//a/@href") if h.startswith("#")}
    assert targets and targets - ids == set()
    assert {"summary", "findings", "apps", "app-cards", "org-wide-settings"} <= targets
    assert len({t for t in targets if t.startswith("card-")}) == 73
