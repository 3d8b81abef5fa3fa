"""Audit tables and the mobile side-by-side view, on the synthetic example project."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.analysis.compare import compare_mobile
from toolkit.analysis.tables import LONG_TABLES, apps_columns, build_tables
from toolkit.model.bundle import Inventory
from toolkit.sources.sfdx import load_folder

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_folder(EXAMPLES)


@pytest.fixture(scope="module")
def tables(inventory: Inventory) -> dict[str, pd.DataFrame]:
    return build_tables(inventory)


def test_table_set_and_columns(tables: dict[str, pd.DataFrame]) -> None:
    assert set(tables) == {"apps", *LONG_TABLES}
    assert tuple(tables["apps"].columns) == apps_columns()
    assert "consumer_secret" not in tables["apps"].columns and "certificate" not in tables["apps"].columns


def test_ca_and_eca_share_canonical_columns(tables: dict[str, pd.DataFrame]) -> None:
    apps = tables["apps"].set_index("name")
    ios, eca = apps.loc["Field_Sales_iOS"], apps.loc["Field_Sales_Next"]
    assert (ios["kind"], eca["kind"]) == ("ConnectedApp", "ExternalClientApplication")
    assert (ios["refresh_policy"], ios["refresh_n"], ios["refresh_unit"]) == (
        "specific_inactivity",
        30,
        "DAYS",
    )
    assert (eca["refresh_policy"], eca["refresh_n"], eca["refresh_unit"]) == (
        "specific_inactivity",
        30,
        "DAYS",
    )
    assert eca["ip_relaxation"] == "ENFORCE" and eca["permitted_users"] == "AdminApprovedPreAuthorized"
    assert bool(ios["pkce"]) and bool(eca["pkce"]) and not bool(eca["secret_web_server"])
    assert eca["lock_after"] == 5 and bool(eca["screen_lock"]) and eca["push_service"] == "Apple"
    assert (ios["platform"], ios["min_os"], ios["bundle_id"]) == ("ios", "16.0", "com.example.fieldsales")
    assert pd.isna(ios["pin_length"])  # SOQL-only: empty for a folder


def test_certificate_is_a_flag_and_an_expiry(tables: dict[str, pd.DataFrame]) -> None:
    jwt = tables["apps"].set_index("name").loc["ERP_Integration_JWT"]
    assert bool(jwt["has_certificate"]) and str(jwt["certificate_expires"]) == "2030-01-01"


def test_long_tables(tables: dict[str, pd.DataFrame]) -> None:
    scopes = tables["scopes"]
    android = scopes[scopes["app"] == "Field_Service_Android"]
    assert android.set_index("scope")["equivalent"].to_dict()["OfflineAccess"] == "RefreshToken"
    cb = tables["callbacks"]
    legacy = cb[cb["app"] == "Legacy_Partner_Portal"]
    assert legacy["scheme"].tolist() == ["http", "http"] and legacy["localhost"].tolist() == [False, True]
    assert tables["ip_ranges"].iloc[0][["start", "end"]].tolist() == ["198.51.100.0", "198.51.100.255"]
    assert tables["attributes"].iloc[0]["key"] == "ENABLE_BIOMETRIC_AUTHENTICATION"
    grants = tables["grants"].groupby("grant_type").size().to_dict()
    assert grants == {"PermissionSet": 2, "Profile": 3}
    assert tables["problems"].empty


def test_org_rows_feed_soql_columns_and_grants(inventory: Inventory) -> None:
    app = next(a for a in inventory.apps if a.name == "Field_Sales_iOS")
    clone = type(app)(
        name=app.name,
        kind=app.kind,
        documents=app.documents,
        soql={
            "ConnectedApplication": {"PinLength": "6", "MobileSessionTimeout": "5"},
            "SetupEntityAccess": [
                {"Parent": {"IsOwnedByProfile": True, "Profile": {"Name": "Sales User"}}},
                {"Parent": {"IsOwnedByProfile": False, "Name": "Mobile_Access"}},
            ],
        },
    )
    t = build_tables(Inventory(apps=[clone]))
    assert t["apps"].loc[0, "pin_length"] == 6 and t["apps"].loc[0, "lock_after"] == 5
    assert t["grants"][["grant_type", "name", "source"]].values.tolist() == [
        ["Profile", "Sales User", "SetupEntityAccess"],
        ["PermissionSet", "Mobile_Access", "SetupEntityAccess"],
    ]


def test_compare_mobile_side_by_side(inventory: Inventory, tables: dict[str, pd.DataFrame]) -> None:
    view = compare_mobile(tables)
    assert list(view.columns) == ["Field_Sales_iOS", "Field_Service_Android", "Field_Sales_Next"]
    assert view.loc["App Platform", "Field_Sales_iOS"] == "ios"
    assert view.loc["App Platform", "Field_Service_Android"] == "android"
    assert view.loc["PIN Length", "Field_Sales_Next"] == "—"  # ECAs have no PIN length
    assert view.loc["Lock App After (minutes)", "Field_Sales_Next"] == 5
    assert view.loc["Kind", "Field_Sales_Next"] == "ExternalClientApplication"
    assert compare_mobile(inventory).equals(view)
    assert len(compare_mobile(tables, all_apps=True).columns) == 8
    ids = compare_mobile(tables, ["Field_Sales_iOS"], labels=False)
    assert ids.loc["min_os", "Field_Sales_iOS"] == "16.0"
    assert not any(i.startswith("push_cert") or "password" in i for i in ids.index)


def test_empty_inventory_gives_empty_tables_with_columns() -> None:
    t = build_tables(Inventory())
    assert t["apps"].empty and tuple(t["apps"].columns) == apps_columns()
    assert compare_mobile(t).columns.tolist() == []
