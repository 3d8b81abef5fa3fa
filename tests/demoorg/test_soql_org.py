"""The SOQL engine over the seeded demo org's own RowSource: the auditor queries of the domain doc (§2.8).

Invariants only (the seed may change): every query runs, shapes are Salesforce's, filters agree with the rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.demoorg.soql import SoqlError, run

seed = pytest.importorskip("toolkit.demoorg.seed")
sobjects = pytest.importorskip("toolkit.demoorg.sobjects")


@pytest.fixture(scope="module")
def src() -> Any:
    return sobjects.OrgRowSource(seed.build(apps=60, ecas=10, seed=1).state)


AUDITOR_QUERIES = {
    "inventory": "SELECT Id, Name, CreatedDate, CreatedBy.Name, LastModifiedDate, LastModifiedBy.Name, "
    "OptionsAllowAdminApprovedUsersOnly, OptionsRefreshTokenValidityMetric, RefreshTokenValidityPeriod, "
    "OptionsHasSessionLevelPolicy, StartUrl, MobileStartUrl, MobileSessionTimeout, PinLength, "
    "NamedUserUvidTimeout FROM ConnectedApplication ORDER BY Name",
    "installed": "SELECT ApplicationId, Name, Label, NamespacePrefix, IsUsingAdminAuthorization, "
    "IsAccessible, IsVisible, StartUrl, MobileStartUrl, MobilePlatform, MobileDeviceType, MobileMinOsVer, "
    "MobileAppVer, MobileAppInstallUrl, MobileAppInstalledVersion, IsRegisteredDeviceOnly FROM AppMenuItem "
    "WHERE Type = 'ConnectedApplication'",
    "preauthorised": "SELECT SetupEntityId, ParentId, Parent.Name, Parent.Label, Parent.IsOwnedByProfile, "
    "Parent.Profile.Name FROM SetupEntityAccess WHERE SetupEntityType = 'ConnectedApplication'",
    "tokens": "SELECT AppName, AppMenuItemId, UserId, User.Username, User.IsActive, LastUsedDate, UseCount, "
    "CreatedDate FROM OauthToken ORDER BY AppName, LastUsedDate DESC",
    "inactive": "SELECT AppName, UserId, User.Username, LastUsedDate, UseCount FROM OauthToken "
    "WHERE User.IsActive = false",
    "stale": "SELECT AppName, UserId, LastUsedDate FROM OauthToken WHERE LastUsedDate < LAST_N_DAYS:90",
    "phantom": "SELECT AppName, COUNT_DISTINCT(UserId) FROM OauthToken WHERE AppMenuItemId = null "
    "GROUP BY AppName",
    "logins": "SELECT Application, LoginType, LoginSubType, COUNT(Id) n, MAX(LoginTime) lastLogin "
    "FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:180 GROUP BY Application, LoginType, LoginSubType",
    "ecas": "SELECT Id, DeveloperName, CreatedBy.Name, CreatedDate, LastModifiedBy.Name, LastModifiedDate "
    "FROM ExternalClientApplication",
    "eca_policies": "SELECT ExternalClientApplicationId, PermittedUsersPolicyType, IpRelaxationPolicyType, "
    "RefreshTokenPolicyType, RefreshTokenValidityPeriod, RefreshTokenValidityUnit, RequiredSessionLevel "
    "FROM ExtlClntAppOauthPlcyCnfg",
}


@pytest.mark.parametrize("name", sorted(AUDITOR_QUERIES))
def test_auditor_queries_run(src: Any, name: str) -> None:
    result = run(AUDITOR_QUERIES[name], src)
    assert result.total_size == len(result) > 0
    count = run(
        "SELECT COUNT() FROM "
        + AUDITOR_QUERIES[name].split(" FROM ", 1)[1].split(" GROUP BY")[0].split(" ORDER BY")[0],
        src,
    )
    if not result.aggregate:
        assert count.total_size == result.total_size
        assert result[0].sobject == result.sobject


def test_inventory_is_sorted_and_nested(src: Any) -> None:
    rows = run(AUDITOR_QUERIES["inventory"], src)
    assert [r["Name"].lower() for r in rows] == sorted(r["Name"].lower() for r in rows)
    assert all(r["CreatedBy"] is None or set(r["CreatedBy"]) == {"Name"} for r in rows)
    assert all(r["CreatedDate"].endswith("+0000") for r in rows)


def test_relationship_filter_matches_rows(src: Any) -> None:
    inactive = {r["Id"][:15] for r in run("SELECT Id FROM User WHERE IsActive = false", src)}
    rows = run(AUDITOR_QUERIES["inactive"], src)
    assert rows and all(r["UserId"][:15] in inactive for r in rows)
    semi = run(
        "SELECT AppName FROM OauthToken WHERE UserId IN (SELECT Id FROM User WHERE IsActive = false)", src
    )
    assert semi.total_size == rows.total_size


def test_object_names_answer_in_api_casing(src: Any) -> None:
    result = run("select id, createdby.name from connectedapplication limit 1", src)
    assert result.sobject == "ConnectedApplication" and list(result[0]) == ["Id", "CreatedBy"]


def test_login_history_application_is_not_filterable(src: Any) -> None:
    with pytest.raises(SoqlError) as info:
        run("SELECT Application FROM LoginHistory WHERE Application = 'x'", src)
    assert info.value.error_code == "INVALID_FIELD"
    assert info.value.detail == "field 'Application' can not be filtered in a query call"
