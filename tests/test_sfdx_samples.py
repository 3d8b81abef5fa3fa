"""The real samples of ../shared reproduce the counts of domain doc §6.1 (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.analysis.tables import build_tables
from toolkit.sources.sfdx import load_folder

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def tables(shared_dir: Path) -> dict[str, pd.DataFrame]:
    return build_tables(load_folder(shared_dir / "samples" / "connected-apps"))


def test_134_connected_apps_load_without_problems(tables: dict[str, pd.DataFrame]) -> None:
    assert len(tables["apps"]) == 134
    assert (tables["apps"]["kind"] == "ConnectedApp").all()
    assert tables["problems"].empty
    assert "bobbywhitesfdc__GREENORG__Postman" in set(tables["apps"]["name"])  # the mdapi sample


def test_element_presence_counts(tables: dict[str, pd.DataFrame]) -> None:
    apps = tables["apps"]
    assert int(apps["has_oauth"].sum()) == 94
    assert int(apps["has_oauth_policy"].sum()) == 87
    assert int(apps["has_saml"].sum()) == 17
    assert int(apps["has_canvas"].sum()) == 5
    assert int(apps["has_session_policy"].sum()) == 3
    assert int(apps["mobile_start_url"].notna().sum()) == 4
    assert int(apps["profiles"].notna().sum()) == 12
    assert int(apps["permission_sets"].notna().sum()) == 5
    assert int(apps["consumer_key"].notna().sum()) == 91
    assert int(apps["has_certificate"].sum()) == 5
    assert int(apps["has_mobile_config"].sum()) == 0
    assert tables["ip_ranges"]["app"].nunique() == 1
    assert tables["attributes"]["app"].nunique() == 1


def test_oauth_values(tables: dict[str, pd.DataFrame]) -> None:
    apps = tables["apps"]
    assert apps["permitted_users"].value_counts().to_dict() == {
        "AllSelfAuthorized": 71,
        "AdminApprovedPreAuthorized": 16,
    }
    assert apps["ip_relaxation"].value_counts().to_dict() == {"ENFORCE": 73, "BYPASS": 14}
    assert apps["refresh_policy"].value_counts().to_dict() == {
        "infinite": 69,
        "zero": 16,
        "specific_lifetime": 2,
    }
    assert int((apps["pkce"] == True).sum()) == 2  # noqa: E712 - nullable boolean column
    assert int((apps["client_credentials"] == True).sum()) == 3  # noqa: E712
    assert int((apps["secret_web_server"] == False).sum()) == 1  # noqa: E712 - isConsumerSecretOptional true
    assert int((apps["secret_refresh"] == True).sum()) == 15  # noqa: E712
    assert sorted(apps["session_timeout"].dropna().tolist()) == [15, 60, 1440]


def test_callbacks(tables: dict[str, pd.DataFrame]) -> None:
    cb = tables["callbacks"]
    apps_by_scheme = cb.groupby("scheme")["app"].nunique()
    assert apps_by_scheme["https"] == 76
    assert apps_by_scheme["http"] == 11
    custom = cb[~cb["scheme"].isin(["http", "https"])]
    assert custom["scheme"].nunique() == 6  # six distinct custom schemes (7 apps: two share mymobileapp)
    assert int((cb.groupby("app").size() > 1).sum()) == 13
    assert cb.groupby("app")["localhost"].any().sum() == 16


def test_scope_frequencies(tables: dict[str, pd.DataFrame]) -> None:
    top = tables["scopes"]["scope"].value_counts()
    assert top.head(9).to_dict() == {
        "Full": 57,
        "RefreshToken": 55,
        "Api": 52,
        "Basic": 29,
        "Web": 22,
        "OpenID": 12,
        "Chatter": 10,
        "CustomPermissions": 10,
        "CustomApplications": 9,
    }


def test_saml_values(tables: dict[str, pd.DataFrame]) -> None:
    apps = tables["apps"]
    assert apps["saml_subject_type"].value_counts().to_dict() == {
        "Username": 12,
        "CustomAttribute": 3,
        "FederationId": 2,
    }
    assert apps["saml_signing_algo"].value_counts().to_dict() == {"SHA1": 13, "SHA256": 1}
    assert apps["saml_encryption"].value_counts().to_dict() == {"AES_128": 17}


def test_eca_samples_group_into_their_apps(shared_dir: Path) -> None:
    inv = load_folder(shared_dir / "samples" / "external-client-apps")
    assert inv.problems == []
    by_name = {a.name.rsplit("__", 1)[-1]: a for a in inv.apps}
    assert set(by_name) == {"ecaViaMetadata", "Onyx_Cloud"}
    assert sorted(d.type_name for d in by_name["ecaViaMetadata"].documents) == [
        "ExternalClientApplication",
        "ExtlClntAppGlobalOauthSettings",
        "ExtlClntAppOauthConfigurablePolicies",
        "ExtlClntAppOauthSettings",
    ]
    assert len(by_name["Onyx_Cloud"].documents) == 1
    apps = build_tables(inv)["apps"].set_index("name")
    eca = apps.loc[by_name["ecaViaMetadata"].name]
    assert (eca["ip_relaxation"], eca["refresh_policy"], eca["refresh_n"], eca["refresh_unit"]) == (
        "ENFORCE",
        "specific_lifetime",
        365,
        "DAYS",
    )
    assert eca["scopes"] == "Api; Web; OpenID"
    assert eca["distribution_state"] == "Local"


def test_whole_samples_folder_reports_the_doc_example_as_a_problem(shared_dir: Path) -> None:
    inv = load_folder(shared_dir / "samples")
    assert len(inv.apps) == 136  # 134 CAs + 2 ECAs; Mobile SDK configs are not metadata
    assert [Path(p.source).parent.name for p in inv.problems] == ["doc-examples"]
    assert inv.problems[0].line == 2
