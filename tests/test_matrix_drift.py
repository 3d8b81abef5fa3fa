"""The mobile matrix (statuses, twins, unknown apart from unset, Styler), compare_mobile's "only settings
that differ", and drift between snapshots."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.analysis.drift import MANIFEST
from toolkit.analysis.markers import NOT_APPLICABLE, NOT_SET, UNKNOWN
from toolkit.errors import SourceError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _app(name: str, platform: str | None, **kw: object) -> dict[str, object]:
    return {
        "name": name,
        "kind": "ConnectedApp",
        "coverage": "metadata+soql",
        "platform": platform,
        "has_mobile_config": True,
        "pin_length": 8,
        "lock_after": 5,
        "min_os": "16.0",
        **kw,
    }


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    apps = pd.DataFrame(
        [
            _app("Sales_iOS", "ios", pin_length=4),
            _app("Sales_Android", "android", min_os="12.0"),
            _app("Field_iOS", "ios"),
            _app("Notes_iOS", "ios", min_os="15.0"),
            _app("Old_iOS", "ios", coverage="metadata", pin_length=None, lock_after=None),
            _app("Spare_iOS", "ios", lock_after=None),
            {
                "name": "Eca_Mobile",
                "kind": "ExternalClientApplication",
                "coverage": "metadata",
                "mobile_plugin": True,
                "screen_lock": False,
                "lock_after": 5,
            },
            {"name": "Web", "kind": "ConnectedApp", "coverage": "metadata", "callback_urls": "https://x/cb"},
        ]
    )
    return {"apps": apps}


def test_matrix_layout_and_statuses(tables: dict[str, pd.DataFrame]) -> None:
    values = toolkit.mobile_matrix(tables)
    status = toolkit.mobile_matrix(tables, status=True)
    assert list(values.index.get_level_values("group").unique()) == ["iOS", "Android", "External client app"]
    assert ("iOS", "Web") not in values.index and ("External client app", "Eca_Mobile") in values.index
    # iOS/Android twins: named side by side
    assert values.loc[("iOS", "Sales_iOS"), "twin"] == "Sales_Android"
    assert values.loc[("Android", "Sales_Android"), "twin"] == "Sales_iOS"
    ios = values.loc["iOS"].index.tolist()
    assert ios.index("Sales_iOS") == len(ios) - 2  # sorted by stem within the group
    assert status.loc[("iOS", "Sales_iOS"), "PIN Length"] == "baseline"
    # unknown (a folder cannot read PIN Length) is not unset
    assert values.loc[("iOS", "Old_iOS"), "PIN Length"] == UNKNOWN
    assert status.loc[("iOS", "Old_iOS"), "PIN Length"] == "unknown"
    assert values.loc[("iOS", "Spare_iOS"), "Lock App After (minutes)"] == NOT_SET
    assert status.loc[("iOS", "Spare_iOS"), "Lock App After (minutes)"] == "baseline"  # unset fails 1-5 min
    assert values.loc[("External client app", "Eca_Mobile"), "PIN Length"] == NOT_APPLICABLE
    assert status.loc[("External client app", "Eca_Mobile"), "Enable Screen Lock (PIN Protect)"] == "baseline"
    # majority of its platform group: 4 of 5 iOS apps have 16.0
    assert status.loc[("iOS", "Notes_iOS"), "Minimum OS Version"] == "majority"
    assert status.loc[("Android", "Sales_Android"), "Minimum OS Version"] == "ok"  # a group of one


def test_twins_side_by_side(tables: dict[str, pd.DataFrame]) -> None:
    twins = toolkit.mobile_twins(tables)
    assert set(twins["stem"]) == {"sales"}
    row = twins.set_index("setting").loc["PIN Length"]
    pair = (row["ios_app"], row["ios"], row["android_app"], row["android"])
    assert pair == ("Sales_iOS", 4, "Sales_Android", 8)
    assert "Minimum OS Version" in set(twins["setting"]) and "App Platform" not in set(twins["setting"])


def test_matrix_follows_a_user_baseline(tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[expect]\npin_length = ">= 4"\n', encoding="utf-8")
    status = toolkit.mobile_matrix(tables, toolkit.load_baseline(path), status=True)
    assert status.loc[("iOS", "Sales_iOS"), "PIN Length"] == "majority"  # meets ">= 4"; most iOS apps have 8


def test_styler_renders_colours_and_tooltips(tables: dict[str, pd.DataFrame]) -> None:
    html = toolkit.style_mobile_matrix(tables).to_html()
    assert (
        "#f8d7da" in html and "font-style: italic" in html
        and "Salesforce recommended expects \\3e = 8" in html  # CSS-escaped: shows ">= 8"
    )


def test_compare_mobile_only_differ_drops_all_empty_rows() -> None:
    tables = toolkit.audit(EXAMPLES)
    both = ["Field_Sales_iOS", "Field_Service_Android"]
    full = toolkit.compare_mobile(tables, both)
    only = toolkit.compare_mobile(tables, both, only_differ=True)
    assert len(only) < len(full) and "App Platform" in only.index
    for label, row in only.iloc[1:].iterrows():
        texts = {"" if pd.isna(v) else str(v) for v in row}
        assert len(texts) > 1, label
    assert "Private App" not in only.index or only.loc["Private App"].nunique(dropna=False) > 1


def test_snapshot_round_trip_and_diff(tmp_path: Path) -> None:
    tables = toolkit.audit(EXAMPLES)
    manifest = toolkit.save_snapshot(tables, tmp_path / "snap", source="examples")
    assert manifest.name == MANIFEST
    loaded, meta = toolkit.load_snapshot(tmp_path / "snap")
    assert meta["source"] == "examples" and set(loaded) == set(tables)
    assert toolkit.diff_audits(tables, tmp_path / "snap").empty  # a round trip changes nothing
    # a snapshot keeps the catalog's types: the same findings as the live tables
    cols = ["app", "rule", "status", "observed"]
    assert toolkit.findings(loaded)[cols].astype(str).equals(toolkit.findings(tables)[cols].astype(str))
    changed = {k: v.copy() for k, v in tables.items()}
    apps = changed["apps"]
    apps.loc[apps["name"] == "Legacy_Partner_Portal", "ip_relaxation"] = "ENFORCE"
    changed["apps"] = apps[apps["name"] != "HR_Portal_SAML"]
    extra = apps[apps["name"] == "Expense_Canvas"].assign(name="Expense_Canvas_2")
    changed["apps"] = pd.concat([changed["apps"], extra], ignore_index=True)
    diff = toolkit.diff_audits(tmp_path / "snap", changed)
    assert diff[["app", "change", "field", "old", "new"]].values.tolist() == [
        ["Legacy_Partner_Portal", "changed", "ip_relaxation", "BYPASS", "ENFORCE"],
        ["Expense_Canvas_2", "added", "", None, None],
        ["HR_Portal_SAML", "removed", "", None, None],
    ]


def test_diff_command_between_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from toolkit.commands import main

    toolkit.save_snapshot(toolkit.audit(EXAMPLES), tmp_path / "old", source="examples")
    assert main(["diff", str(tmp_path / "old"), str(EXAMPLES)]) == 0
    assert "0 settings changed in 0 apps, 0 apps added, 0 removed" in capsys.readouterr().out
    with pytest.raises(SourceError, match="not a snapshot"):
        toolkit.load_snapshot(tmp_path)
