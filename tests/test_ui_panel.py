"""AuditPanel and MobileComparison driven like a user would, without a browser (set values, click)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from toolkit.demoorg import DemoOrg
from toolkit.model import catalog
from toolkit.ui import AuditPanel, MobileComparison

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
_TOKEN = re.compile(r"00D[A-Za-z0-9]{12,15}!")

CA_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>admin@example.com</contactEmail>
    <label>{name}</label>
    <mobileAppConfig>
        <devicePlatform>{platform}</devicePlatform>
        <minimumOsVersion>{min_os}</minimumOsVersion>
        <version>1.0</version>
    </mobileAppConfig>
    <oauthConfig>
        <callbackUrl>myapp://cb</callbackUrl>
        <consumerKey>3MVG9SYNTHETIC{name}000000000000000000001</consumerKey>
        <scopes>Api</scopes>
    </oauthConfig>
</ConnectedApp>
"""


def _panel_texts(panel: AuditPanel) -> str:
    views = (panel.status, panel.table, panel.mobile.table, panel.mobile.note)
    return "\n".join(w.value for w in views)


def _folder(tmp_path: Path, apps: dict[str, tuple[str, str]]) -> Path:
    folder = tmp_path / "connectedApps"
    folder.mkdir()
    for name, (platform, min_os) in apps.items():
        (folder / f"{name}.connectedApp-meta.xml").write_text(
            CA_XML.format(name=name, platform=platform, min_os=min_os)
        )
    return tmp_path


@pytest.fixture
def example_panel() -> AuditPanel:
    panel = AuditPanel(folder=str(EXAMPLES), source="folder")
    panel.run_button.click()
    return panel


def test_folder_audit_fills_status_tables_and_mobile(example_panel: AuditPanel) -> None:
    panel = example_panel
    assert "Audited 8 apps: 7 connected apps with metadata, 1 external client app;" in panel.status.value
    assert panel.table_picker.value == "apps" and not panel.table_picker.disabled
    assert "Field_Sales_iOS" in panel.table.value and "8 rows" in panel.table.value
    assert "FieldSalesIos" not in panel.table.value  # consumer key masked: first/last four only
    assert "3MVG…0001" in panel.table.value
    assert set(panel.mobile.apps.options) == {"Field_Sales_iOS", "Field_Service_Android", "Field_Sales_Next"}
    assert "Minimum OS Version" in panel.mobile.table.value and "16.0" in panel.mobile.table.value
    assert not panel.run_button.disabled


def test_table_picker_and_row_cap(example_panel: AuditPanel) -> None:
    panel = example_panel
    panel.table_picker.value = "scopes"
    assert "<th>Scope</th>" in panel.table.value and "<th>scope</th>" not in panel.table.value  # labels
    panel.max_rows.value = 2
    assert "first 2 of" in panel.table.value and panel.table.value.count("<tr") == 3


@pytest.mark.parametrize(
    ("folder", "expected"),
    [("", "enter the path"), ("/no/such/folder", "no such folder"), ("EMPTY", "no connected app")],
)
def test_bad_input_is_one_line_in_the_status(tmp_path: Path, folder: str, expected: str) -> None:
    panel = AuditPanel(folder=str(tmp_path) if folder == "EMPTY" else folder, source="folder")
    panel.run_button.click()
    assert expected in panel.status.value and "Error:" in panel.status.value
    assert "Traceback" not in panel.status.value and "\n" not in panel.status.value
    assert panel.tables == {} and panel.table_picker.disabled


def test_a_failed_run_keeps_the_last_good_tables_marked_with_their_source(example_panel: AuditPanel) -> None:
    assert f"Tables from {EXAMPLES} at " in example_panel.origin.value
    example_panel.folder.value = "/no/such/folder"
    example_panel.run_button.click()
    assert "no such folder" in example_panel.status.value
    assert "Field_Sales_iOS" in example_panel.table.value
    origin = example_panel.origin.value
    assert "from the last good run" in origin and str(EXAMPLES) in origin and "failed" in origin


def test_tables_sort_by_a_setup_labelled_column_on_the_audits_values(example_panel: AuditPanel) -> None:
    panel = example_panel
    labels = dict(panel.sort_by.options)
    assert labels["App"] == "name" and labels[catalog.field("ip_relaxation").label] == "ip_relaxation"
    panel.sort_by.value = "name"
    names = panel.view()["App"].tolist()
    assert names == sorted(names, key=str.lower)
    panel.descending.value = True
    assert panel.view()["App"].tolist() == sorted(names, key=str.lower, reverse=True)
    assert "<th>App</th>" in panel.table.value and "<th>name</th>" not in panel.table.value
    assert "Yes" in panel.table.value or "No" in panel.table.value  # booleans as people read them
    panel.table_picker.value = "scopes"  # another table: its own columns, its own order
    assert panel.sort_by.value == "" and "Scope" in dict(panel.sort_by.options)


def test_findings_tab_judges_the_audited_tables(example_panel: AuditPanel) -> None:
    panel = example_panel
    assert panel.tabs.titles == ("Tables", "Findings", "Mobile comparison")
    assert panel.findings.findings is not None and len(panel.findings.findings)
    assert "high" in panel.findings.counts.value.lower()


def test_folder_field_only_shows_for_the_folder_source() -> None:
    panel = AuditPanel()
    assert panel.folder.layout.display == "none"
    panel.source.value = "folder"
    assert panel.folder.layout.display == ""


def test_demo_org_audit_renders_no_secret(demo_org: DemoOrg) -> None:
    panel = AuditPanel(connect_options={"instance_url": demo_org.instance_url,
                                        "access_token": demo_org.access_token, "ca_file": demo_org.ca_file})
    panel.run_button.click()
    expected = (
        "Audited 73 apps: 54 connected apps with metadata, 6 installed connected apps (settings from SOQL "
        "only), 10 external client apps, 3 apps known only from OAuth tokens or logins (not installed); "
        "from the demo org"
    )
    assert expected in panel.status.value
    assert "API calls" in panel.status.value
    for name in panel.tables:
        panel.table_picker.value = name
        texts = _panel_texts(panel)
        for secret in (demo_org.access_token, demo_org.password, demo_org.creds.client_secret):
            assert secret not in texts, f"a demo org secret is rendered in table {name}"
        assert "-----BEGIN" not in texts and not _TOKEN.search(texts), name


def test_unreachable_org_is_one_line(tmp_path: Path) -> None:
    options = {"instance_url": "https://127.0.0.1:9", "access_token": "00Dx!" + "x" * 30,
               "ca_file": str(tmp_path / "none.pem")}
    panel = AuditPanel(connect_options=options)
    panel.run_button.click()
    assert "Error:" in panel.status.value and "xxxxxxxxxx" not in panel.status.value


def test_mobile_filters_differ_and_selection(tmp_path: Path) -> None:
    from toolkit import audit

    tables = audit(_folder(tmp_path, {"A_ios": ("ios", "16.0"), "B_ios": ("ios", "15.0"),
                                      "C_android": ("android", "12")}))
    view = MobileComparison(tables)
    assert list(view.apps.options) == ["A_ios", "B_ios", "C_android"]
    view.platform.value = "ios"
    assert list(view.apps.options) == ["A_ios", "B_ios"]
    assert "C_android" not in view.table.value
    view.only_differ.value = True
    assert list(view.frame().index) == ["Kind", catalog.field("min_os").label]  # same App Version: hidden
    view.apps.value = ("B_ios",)
    assert list(view.frame().columns) == ["B_ios"] and list(view.frame().index) == ["Kind"]
    view.kind.value = catalog.ECA
    assert view.apps.options == () and "No app" in view.table.value


def test_read_only_note_comes_from_the_catalog(example_panel: AuditPanel) -> None:
    view = example_panel.mobile
    pin, lock = catalog.field("pin_length"), catalog.field("lock_after")
    assert f"{pin.label}†" in view.table.value and f"{lock.label}†" in view.table.value
    assert f"{pin.label} (connected apps): {pin.ca.why_not}" in view.note.value  # type: ignore[union-attr]
    view.apps.value = ("Field_Sales_Next",)  # an ECA: Lock App After is writable there
    assert lock.label not in view.note.value and f"{lock.label}†" not in view.table.value


def test_new_tables_reset_the_mobile_filters_and_markers_tell_unknown(tmp_path: Path) -> None:
    from toolkit import audit

    view = MobileComparison(audit(_folder(tmp_path, {"A_ios": ("ios", "16.0"), "B_ios": ("ios", "16.0")})))
    view.platform.value, view.only_differ.value = "android", True
    assert "No app" in view.table.value and view.note.value == ""
    view.set_tables(audit(EXAMPLES))  # another source: the old filters would hide everything
    assert view.platform.value == "" and not view.only_differ.value
    assert "Field_Sales_iOS" in view.table.value
    assert "(unknown)" in view.table.value  # PIN Length of a folder audit: not read, not "not set"
    view.apps.value = ("Field_Sales_iOS",)
    view.only_differ.value = True  # one app: nothing differs, and no claim about writability
    assert "No setting differs" in view.table.value and "can be written" not in view.note.value


def test_your_org_source_audits_the_org_of_the_connect_form(demo_org: DemoOrg) -> None:
    panel = AuditPanel(source="org")
    assert panel.connect.layout.display == "" and panel.folder.layout.display == "none"
    panel.run_button.click()
    assert "connect to your org first" in panel.status.value
    panel.connect.method.value = "token"
    panel.connect.instance_url.value, panel.connect.ca_file.value = demo_org.instance_url, demo_org.ca_file
    panel.connect.access_token.value = demo_org.access_token
    panel.connect.connect_button.click()
    panel.run_button.click()
    assert "Audited 73 apps" in panel.status.value and demo_org.instance_url in panel.status.value
    assert demo_org.access_token not in _panel_texts(panel)
    panel.connect.close_org()


def test_mobile_apps_come_a_page_at_a_time_with_the_reports_colours(tmp_path: Path) -> None:
    """Eight iOS apps: six per page (no sideways scroll), next/previous pages; the one app whose minimum OS
    differs from the other seven is amber, as in the report's matrix."""
    from toolkit import audit

    apps = {f"App{i}_ios": ("ios", "16.0") for i in range(7)} | {"Odd_ios": ("ios", "12.0")}
    view = MobileComparison(audit(_folder(tmp_path, apps)))
    assert len(view.frame().columns) == 8  # the whole selection; the page shows six
    assert view.table.value.count("<th>App") == 6 and "apps 1–6 of 8" in view.page_label.value
    assert view.previous.disabled and not view.next.disabled
    view.next.click()
    assert "apps 7–8 of 8" in view.page_label.value and view.next.disabled
    assert "Odd_ios" in view.table.value and "App0_ios" not in view.table.value
    row = next(r for r in view.table.value.split("<tr>") if catalog.field("min_os").label in r)
    assert "<td class='ca-dev'>12.0</td>" in row and "<td>16.0</td>" in row
    assert "amber" in view.note.value
    view.platform.value = "ios"  # new filters: back to the first page
    assert view.page == 0 and "apps 1–6 of 8" in view.page_label.value
