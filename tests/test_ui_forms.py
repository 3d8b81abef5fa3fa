"""The catalog-driven form library, ConnectForm and AppPicker driven headless (set values, click, assert)."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from toolkit.demoorg import DemoOrg
from toolkit.model import catalog
from toolkit.ui import AppPicker, ConnectForm, FieldForm, FieldInput
from toolkit.ui.forms import field_widget, form_fields

REPO = Path(__file__).resolve().parent.parent


def test_every_form_field_gets_a_widget_labelled_from_the_catalog() -> None:
    for f in form_fields():
        w = field_widget(f)
        assert w.description == f.label
        if f.type == "enum":  # Setup labels shown, canonical values kept
            assert [str(v) for _label, v in w.options] == list(f.allowed)


def test_enum_dropdown_shows_setup_labels() -> None:
    row = FieldInput("refresh_policy")
    assert ("Refresh token is valid until revoked", "infinite") in row.input.options
    row.input.value = "zero"
    assert row.include.value and row.value == "zero"


def test_read_only_field_is_disabled_with_the_catalogs_reason() -> None:
    row = FieldInput("lock_after", kinds=[catalog.CA])
    assert row.read_only and row.input.disabled and row.include.disabled
    assert catalog.field("lock_after").ca.why_not in row.message.value  # type: ignore[union-attr]
    ecas = FieldInput("lock_after", kinds=[catalog.ECA])  # an ECA's screen lock is metadata: writable
    assert not ecas.read_only and ecas.input.options[0] == ("Never", 0)


def test_a_setting_only_some_kinds_take_stays_usable_with_a_note() -> None:
    partial = [f for f in form_fields() if f.writable(catalog.CA) != f.writable(catalog.ECA)
               and f.binding(catalog.CA) and f.binding(catalog.ECA)]
    if not partial:
        pytest.skip("every setting is writable on both kinds or neither")
    f = partial[0]
    blocked = catalog.ECA if f.writable(catalog.CA) else catalog.CA
    row = FieldInput(f.id)
    assert not row.read_only and not row.input.disabled
    assert f.why_not_writable(blocked) in html.unescape(row.message.value)
    assert FieldInput(f.id, kinds=[blocked]).read_only


@pytest.mark.parametrize(
    ("field_id", "bad", "message"),
    [("logo_url", "not a url", "is not a URL"), ("contact_email", "nobody", "is not an e-mail"),
     ("callback_urls", "https://ok/cb\nno-scheme", "'no-scheme' is not a URL"),
     ("scopes", "Api\nNope", "'Nope' is not a scope")],
)
def test_inline_validation(field_id: str, bad: str, message: str) -> None:
    form = FieldForm([field_id])
    form.inputs[field_id].input.value = bad
    assert message in html.unescape(form.inputs[field_id].message.value)
    assert form.problems() and message in form.problems()[0]


def test_bounded_integer_and_list_values_become_changes() -> None:
    form = FieldForm(["id_token_validity", "callback_urls", "pkce"])
    box = form.inputs["id_token_validity"].input
    assert (box.min, box.max) == (1, 720)
    box.value = 5000  # clamped by the widget itself
    form.inputs["callback_urls"].input.value = "https://a.example/cb\n  myapp://cb \n"
    assert form.changes() == {"id_token_validity": 720, "callback_urls": ["https://a.example/cb", "myapp://cb"]}
    form.inputs["pkce"].input.value = True
    form.inputs["id_token_validity"].include.value = False  # un-ticked: not a change any more
    assert form.changes() == {"callback_urls": ["https://a.example/cb", "myapp://cb"], "pkce": True}
    assert form.problems() == []


def test_changes_round_trip_and_remove() -> None:
    form = FieldForm()
    changes = {"ip_relaxation": "ENFORCE", "session_timeout": 30, "scopes": ["Api", "RefreshToken"]}
    form.set_changes(changes)
    assert form.changes() == changes and list(form.inputs) == list(changes)
    form.remove("scopes")
    assert "scopes" not in form.changes() and len(form.children) == 2


def test_connect_form_demo_org_token_and_jwt(demo_org: DemoOrg, tmp_path: Path) -> None:
    form = ConnectForm(demo_connect={"instance_url": demo_org.instance_url,
                                     "access_token": demo_org.access_token, "ca_file": demo_org.ca_file},
                       aliases=[])
    seen = []
    form.on_connect(seen.append)
    form.connect_button.click()
    assert form.org is not None and "Connected to https://127.0.0.1" in form.status.value
    assert seen == [form.org]

    form.method.value = "token"
    assert form._groups["token"].layout.display == "" and form._groups["demo"].layout.display == "none"
    form.instance_url.value, form.ca_file.value = demo_org.instance_url, demo_org.ca_file
    form.access_token.value = demo_org.access_token
    form.connect_button.click()
    assert form.org.auth == "access_token" and form.access_token.value == ""  # the token is not kept
    assert demo_org.access_token not in form.status.value

    form.method.value = "jwt"
    form.login_url.value, form.username.value = demo_org.instance_url, demo_org.username
    form.consumer_key.value, form.key_file.value = demo_org.jwt_consumer_key, demo_org.jwt_private_key_file
    form.connect_button.click()
    assert form.org.auth == "jwt", form.status.value
    assert len(seen) == 3
    form.close_org()


def test_connect_form_errors_are_messages_and_keep_the_last_org(demo_org: DemoOrg) -> None:
    form = ConnectForm(method="token", aliases=[])
    form.instance_url.value, form.ca_file.value = demo_org.instance_url, demo_org.ca_file
    form.access_token.value = demo_org.access_token
    form.connect_button.click()
    good = form.org
    form.access_token.value = "00Dbad!" + "y" * 40
    form.connect_button.click()
    assert "Error:" in form.status.value and "yyyyyyyy" not in form.status.value
    assert form.org is good and not form.connect_button.disabled
    form.method.value = "jwt"
    form.connect_button.click()
    assert "JWT needs username, consumer key, private key file" in form.status.value
    form.method.value = "alias"
    form.connect_button.click()
    assert "choose or type a Salesforce CLI alias" in form.status.value
    form.close_org()


def test_app_picker_filters_and_selects() -> None:
    from toolkit import audit

    tables = audit(REPO / "examples")
    picker = AppPicker(tables)
    assert len(picker.shown()) == 8 and picker.selected() == []
    picker.platform.value = "ios"
    assert picker.shown() == ["Field_Sales_iOS"]
    picker.platform.value = ""
    picker.text.value = "field"
    assert set(picker.shown()) == {"Field_Sales_iOS", "Field_Service_Android", "Field_Sales_Next"}
    chosen: list[list[str]] = []
    picker.on_select(chosen.append)
    picker.select_all.click()
    assert set(picker.selected()) == set(picker.shown()) and chosen[-1] == picker.selected()
    picker.kind.value = catalog.CA  # the ECA drops out of the filter and of the selection
    assert set(picker.selected()) == {"Field_Sales_iOS", "Field_Service_Android"}
    assert "2 of 2 shown apps selected (8 in all)" in picker.summary.value
    picker.table.selected_rows = [0]  # a click in the table
    assert picker.selected() == [picker.shown()[0]]
    picker.clear.click()
    assert picker.selected() == []
    cells = picker.table.df.to_dict("records")  # Setup labels and markers, never raw codes
    assert cells[0]["Kind"] == "Connected app"


def test_app_picker_finding_filter() -> None:
    import pandas as pd

    from toolkit import audit

    tables = audit(REPO / "examples")
    findings = pd.DataFrame({"app": ["Field_Sales_iOS"], "rule": ["ip-relaxed"], "severity": ["high"]})
    picker = AppPicker(tables, findings)
    assert picker.finding.layout.display == ""
    picker.finding.value = "ip-relaxed"
    assert picker.shown() == ["Field_Sales_iOS"]
    assert AppPicker(tables).finding.layout.display == "none"


def test_app_picker_keeps_every_row_of_a_large_org() -> None:
    import pandas as pd

    names = [f"Integration_App_{i:05d}_with_a_long_name" for i in range(3000)]
    apps = pd.DataFrame({"name": names, "kind": "ConnectedApp", "coverage": "metadata+soql"})
    picker = AppPicker({"apps": apps})
    assert not picker.table._dt_args.get("downsampling_warning")  # the browser gets all 3,000 rows
    picker.table.selected_rows = [2999]
    assert picker.selected() == [names[2999]]
    picker.text.value = "0299"
    assert not picker.table._dt_args.get("downsampling_warning") and len(picker.shown()) == 11
