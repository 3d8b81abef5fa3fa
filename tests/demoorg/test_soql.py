"""The demo org's SOQL engine, table-driven over a small synthetic org (no server, no real data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from toolkit.demoorg.soql import QueryResult, SoqlError, TableSource, literal_dates, parse, run

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)  # a Sunday


def _id(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


def ref(target: str, rel: str | None) -> dict[str, Any]:
    return {"type": "reference", "referenceTo": [target], "relationshipName": rel}


AUDIT = {
    "CreatedDate": "datetime",
    "CreatedById": ref("User", "CreatedBy"),
    "LastModifiedById": ref("User", "LastModifiedBy"),
}

DESCRIBES: dict[str, Any] = {
    "User": {
        "Id": "id",
        "Username": "string",
        "Name": "string",
        "IsActive": "boolean",
        "ProfileId": ref("Profile", "Profile"),
        "LastLoginDate": "datetime",
        **AUDIT,
    },
    "Profile": {"Id": "id", "Name": "string"},
    "PermissionSet": {
        "Id": "id",
        "Name": "string",
        "Label": "string",
        "IsOwnedByProfile": "boolean",
        "ProfileId": ref("Profile", "Profile"),
    },
    # the REST describe shape, as core serves it
    "ConnectedApplication": {
        "name": "ConnectedApplication",
        "fields": [
            {"name": "Id", "type": "id"},
            {"name": "Name", "type": "string"},
            {"name": "CreatedDate", "type": "datetime"},
            {
                "name": "CreatedById",
                "type": "reference",
                "referenceTo": ["User"],
                "relationshipName": "CreatedBy",
            },
            {"name": "PinLength", "type": "picklist"},
            {"name": "MobileSessionTimeout", "type": "picklist"},
            {"name": "OptionsAllowAdminApprovedUsersOnly", "type": "boolean"},
            {"name": "RefreshTokenValidityPeriod", "type": "int"},
            {"name": "MobileStartUrl", "type": "url"},
            {"name": "Scopes__c", "type": "multipicklist", "custom": True},
            {
                "name": "Description",
                "type": "textarea",
                "filterable": False,
                "sortable": False,
                "groupable": False,
            },
            {"name": "LaunchDate__c", "type": "date", "custom": True},
            {"name": "IsDeleted", "type": "boolean"},
        ],
    },
    "SetupEntityAccess": {
        "Id": "id",
        "ParentId": ref("PermissionSet", "Parent"),
        "SetupEntityId": ref("ConnectedApplication", None),
        "SetupEntityType": "picklist",
    },
    "OauthToken": {
        "Id": "id",
        "AppName": "string",
        "AppMenuItemId": ref("AppMenuItem", None),
        "UserId": ref("User", "User"),
        "LastUsedDate": "datetime",
        "UseCount": "int",
        "CreatedDate": "datetime",
        "DeleteToken": "string",
    },
    "LoginHistory": {
        "Id": "id",
        "UserId": ref("User", None),
        "LoginTime": "datetime",
        "LoginType": {"type": "picklist"},
        "Status": {"type": "string", "filterable": False},
        "Application": {"type": "string", "filterable": False},
    },
}

PROFILES = [
    {"Id": _id("00e", 1), "Name": "System Administrator"},
    {"Id": _id("00e", 2), "Name": "Standard User"},
]
USERS = [
    {
        "Id": _id("005", 1),
        "Username": "admin@demo.org",
        "Name": "Demo Admin",
        "IsActive": True,
        "ProfileId": _id("00e", 1),
        "LastLoginDate": NOW - timedelta(hours=1),
        "CreatedDate": NOW - timedelta(days=900),
        "CreatedById": _id("005", 1),
    },
    {
        "Id": _id("005", 2),
        "Username": "ann@demo.org",
        "Name": "Ann Active",
        "IsActive": True,
        "ProfileId": _id("00e", 2),
        "LastLoginDate": NOW - timedelta(days=3),
        "CreatedDate": NOW - timedelta(days=400),
        "CreatedById": _id("005", 1),
    },
    {
        "Id": _id("005", 3),
        "Username": "ivan@demo.org",
        "Name": "Ivan Inactive",
        "IsActive": False,
        "ProfileId": _id("00e", 2),
        "LastLoginDate": None,
        "CreatedDate": NOW - timedelta(days=700),
        "CreatedById": _id("005", 1),
    },
]
PERMSETS = [
    {
        "Id": _id("0PS", 1),
        "Name": "X00e1",
        "Label": "System Administrator",
        "IsOwnedByProfile": True,
        "ProfileId": _id("00e", 1),
    },
    {
        "Id": _id("0PS", 2),
        "Name": "Mobile_Users",
        "Label": "Mobile Users",
        "IsOwnedByProfile": False,
        "ProfileId": None,
    },
]
APPS = [
    {
        "Id": _id("0H4", 1),
        "Name": "Field Service iOS",
        "CreatedDate": "2024-01-12T10:00:00.000+0000",
        "CreatedById": _id("005", 1),
        "PinLength": "4",
        "MobileSessionTimeout": "MIN15",
        "OptionsAllowAdminApprovedUsersOnly": True,
        "RefreshTokenValidityPeriod": 30,
        "MobileStartUrl": "https://m.example.com",
        "Scopes__c": "api;refresh_token",
        "Description": "iOS app",
        "LaunchDate__c": "2024-02-01",
    },
    {
        "Id": _id("0H4", 2),
        "Name": "Field Service Android",
        "CreatedDate": "2025-06-01T08:30:00Z",
        "CreatedById": _id("005", 2),
        "PinLength": "6",
        "MobileSessionTimeout": "MIN5",
        "OptionsAllowAdminApprovedUsersOnly": False,
        "RefreshTokenValidityPeriod": 90,
        "MobileStartUrl": None,
        "Scopes__c": "api;web",
        "Description": None,
        "LaunchDate__c": "2025-06-02",
    },
    {
        "Id": _id("0H4", 3),
        "Name": "data_loader_50%",
        "CreatedDate": datetime(2026, 3, 14, 23, 0, tzinfo=UTC),
        "CreatedById": None,
        "PinLength": None,
        "MobileSessionTimeout": None,
        "OptionsAllowAdminApprovedUsersOnly": False,
        "RefreshTokenValidityPeriod": None,
        "MobileStartUrl": None,
        "Scopes__c": "full",
        "Description": "x",
        "LaunchDate__c": None,
    },
    {
        "Id": _id("0H4", 4),
        "Name": "Old Deleted App",
        "CreatedDate": "2020-01-01T00:00:00Z",
        "CreatedById": _id("005", 1),
        "PinLength": "4",
        "IsDeleted": True,
        "RefreshTokenValidityPeriod": 1,
    },
]
SEA = [
    {
        "Id": _id("0J0", 1),
        "ParentId": _id("0PS", 1),
        "SetupEntityId": _id("0H4", 1),
        "SetupEntityType": "ConnectedApplication",
    },
    {
        "Id": _id("0J0", 2),
        "ParentId": _id("0PS", 2),
        "SetupEntityId": _id("0H4", 1),
        "SetupEntityType": "ConnectedApplication",
    },
    {
        "Id": _id("0J0", 3),
        "ParentId": _id("0PS", 2),
        "SetupEntityId": "0H4000000000009AAA",
        "SetupEntityType": "ExternalClientApplication",
    },
]


def _token(
    app: str, menu_item: str | None, user: int, last_used_days: int, uses: int, age_days: int
) -> dict[str, Any]:
    # OauthToken.Id is documented as unusable (null)
    return {
        "Id": None,
        "AppName": app,
        "AppMenuItemId": menu_item,
        "UserId": _id("005", user),
        "LastUsedDate": NOW - timedelta(days=last_used_days),
        "UseCount": uses,
        "CreatedDate": NOW - timedelta(days=age_days),
    }


TOKENS = [
    _token("Field Service iOS", _id("0DS", 1), 2, 2, 10, 100),
    _token("Field Service iOS", _id("0DS", 1), 3, 200, 3, 300),
    _token("Phantom Tool", None, 3, 95, 1, 95),
    _token("Phantom Tool", None, 2, 1, 7, 20),
]
LOGINS = [
    {
        "Id": _id("0Ya", i),
        "UserId": USERS[i % 3]["Id"],
        "LoginTime": NOW - timedelta(days=i * 30),
        "LoginType": "Remote Access 2.0" if i % 2 else "Application",
        "Status": "Success",
        "Application": ["Field Service iOS", "Browser", "Phantom Tool"][i % 3],
    }
    for i in range(10)
]

ROWS = {
    "User": USERS,
    "Profile": PROFILES,
    "PermissionSet": PERMSETS,
    "ConnectedApplication": APPS,
    "SetupEntityAccess": SEA,
    "OauthToken": TOKENS,
    "LoginHistory": LOGINS,
}


def source() -> TableSource:
    return TableSource(DESCRIBES, ROWS)


SRC = source()
A1, A2, A3, A4 = (_id("0H4", n) for n in range(1, 5))


def q(text: str, **kw: Any) -> QueryResult:
    return run(text, SRC, now=kw.pop("now", NOW), **kw)


def names(text: str) -> list[str]:
    return [r["Name"] for r in q(text)]


# -- selection, casing, nesting ------------------------------------------------------------------------


def test_select_returns_api_casing_in_selection_order() -> None:
    rows = q("select name, id from connectedapplication where id = '0H4000000000001AAA'")
    assert rows == [{"Name": "Field Service iOS", "Id": A1}]
    assert list(rows[0]) == ["Name", "Id"]
    assert rows.sobject == "ConnectedApplication" and rows[0].sobject == "ConnectedApplication"
    assert rows[0].record_id == A1 and rows.total_size == 1


def test_parent_paths_nest_and_null_parent_is_none() -> None:
    rows = q(
        "SELECT Name, CreatedBy.Name, CreatedBy.Profile.Name, CreatedBy.Username FROM ConnectedApplication "
        "ORDER BY Name"
    )
    assert rows == [
        {"Name": "data_loader_50%", "CreatedBy": None},
        {
            "Name": "Field Service Android",
            "CreatedBy": {
                "Name": "Ann Active",
                "Profile": {"Name": "Standard User"},
                "Username": "ann@demo.org",
            },
        },
        {
            "Name": "Field Service iOS",
            "CreatedBy": {
                "Name": "Demo Admin",
                "Profile": {"Name": "System Administrator"},
                "Username": "admin@demo.org",
            },
        },
    ]
    nested = rows[1]["CreatedBy"]
    assert nested.sobject == "User" and nested.record_id == USERS[1]["Id"]
    assert nested["Profile"].sobject == "Profile"


def test_setup_entity_access_parent_profile_path() -> None:
    rows = q(
        "SELECT SetupEntityId, Parent.Label, Parent.IsOwnedByProfile, Parent.Profile.Name "
        "FROM SetupEntityAccess WHERE SetupEntityType = 'ConnectedApplication'"
    )
    assert rows == [
        {
            "SetupEntityId": A1,
            "Parent": {
                "Label": "System Administrator",
                "IsOwnedByProfile": True,
                "Profile": {"Name": "System Administrator"},
            },
        },
        {
            "SetupEntityId": A1,
            "Parent": {"Label": "Mobile Users", "IsOwnedByProfile": False, "Profile": None},
        },
    ]


def test_values_are_json_ready() -> None:
    rows = q("SELECT CreatedDate, LaunchDate__c FROM ConnectedApplication ORDER BY CreatedDate")
    assert [r["CreatedDate"] for r in rows] == [
        "2024-01-12T10:00:00.000+0000",
        "2025-06-01T08:30:00.000+0000",
        "2026-03-14T23:00:00.000+0000",
    ]
    assert rows[0]["LaunchDate__c"] == "2024-02-01"


def test_object_alias_and_object_prefix() -> None:
    assert names("SELECT ca.Name FROM ConnectedApplication ca WHERE ca.PinLength = '6'") == [
        "Field Service Android"
    ]
    assert names("SELECT ConnectedApplication.Name FROM ConnectedApplication WHERE PinLength = '6'") == [
        "Field Service Android"
    ]


def test_fields_function() -> None:
    rows = q("SELECT FIELDS(STANDARD) FROM Profile")
    assert rows[0] == {"Id": PROFILES[0]["Id"], "Name": "System Administrator"}
    assert list(q("SELECT FIELDS(CUSTOM) FROM ConnectedApplication LIMIT 1")[0]) == [
        "Scopes__c",
        "LaunchDate__c",
    ]


# -- WHERE ------------------------------------------------------------------------------------------------

WHERE_CASES = [
    ("Name = 'field service ios'", ["Field Service iOS"]),  # = is case-insensitive on text
    ("Name != 'Field Service iOS'", ["Field Service Android", "data_loader_50%"]),
    ("Name <> 'Field Service iOS'", ["Field Service Android", "data_loader_50%"]),
    ("PinLength = null", ["data_loader_50%"]),
    ("PinLength != null", ["Field Service iOS", "Field Service Android"]),
    ("PinLength != '4'", ["Field Service Android", "data_loader_50%"]),  # null != '4' is true in SOQL
    ("RefreshTokenValidityPeriod > 30", ["Field Service Android"]),
    ("RefreshTokenValidityPeriod >= 30", ["Field Service iOS", "Field Service Android"]),
    ("RefreshTokenValidityPeriod < 90", ["Field Service iOS"]),
    ("RefreshTokenValidityPeriod <= 90.0", ["Field Service iOS", "Field Service Android"]),
    ("OptionsAllowAdminApprovedUsersOnly = true", ["Field Service iOS"]),
    ("OptionsAllowAdminApprovedUsersOnly = FALSE", ["Field Service Android", "data_loader_50%"]),
    ("NOT OptionsAllowAdminApprovedUsersOnly = true", ["Field Service Android", "data_loader_50%"]),
    ("Name LIKE 'field%'", ["Field Service iOS", "Field Service Android"]),
    ("Name LIKE '%ANDROID'", ["Field Service Android"]),
    ("Name LIKE 'Field Service i_S'", ["Field Service iOS"]),
    ("Name LIKE '%\\_50\\%'", ["data_loader_50%"]),  # escaped _ and % are literal
    ("Name LIKE 'data\\_loader'", []),
    ("NOT Name LIKE 'Field%'", ["data_loader_50%"]),
    ("PinLength IN ('4', '6')", ["Field Service iOS", "Field Service Android"]),
    ("PinLength NOT IN ('4')", ["Field Service Android", "data_loader_50%"]),
    ("Id IN ('0H4000000000001', '0H4000000000003AAA')", ["Field Service iOS", "data_loader_50%"]),
    ("Id = '0H4000000000002'", ["Field Service Android"]),  # 15-character ids match 18-character ones
    ("PinLength = '4' AND OptionsAllowAdminApprovedUsersOnly = true", ["Field Service iOS"]),
    ("PinLength = '6' OR Name = 'data_loader_50%'", ["Field Service Android", "data_loader_50%"]),
    ("(PinLength = '6' OR PinLength = '4') AND NOT (Name LIKE '%iOS')", ["Field Service Android"]),
    ("NOT (PinLength = '6' OR PinLength = '4')", ["data_loader_50%"]),
    ("CreatedBy.Name = 'Demo Admin'", ["Field Service iOS"]),
    ("CreatedBy.Profile.Name = 'Standard User'", ["Field Service Android"]),
    ("CreatedBy.IsActive = true", ["Field Service iOS", "Field Service Android"]),
    ("CreatedById = null", ["data_loader_50%"]),
    ("CreatedDate > 2025-01-01T00:00:00Z", ["Field Service Android", "data_loader_50%"]),
    ("CreatedDate < 2025-06-01T10:30:00+02:00", ["Field Service iOS"]),
    ("CreatedDate <= 2025-06-01T10:30:00+02:00", ["Field Service iOS", "Field Service Android"]),
    ("LaunchDate__c >= 2025-01-01", ["Field Service Android"]),
    ("LaunchDate__c = LAST_N_YEARS:2", ["Field Service iOS", "Field Service Android"]),
    ("CreatedDate = TODAY", []),
    ("CreatedDate = YESTERDAY", ["data_loader_50%"]),
    ("CreatedDate = LAST_N_DAYS:1", ["data_loader_50%"]),
    ("CreatedDate = THIS_WEEK", []),  # NOW is a Sunday: the week starts today
    ("CreatedDate = LAST_WEEK", ["data_loader_50%"]),
    ("CreatedDate = THIS_MONTH", ["data_loader_50%"]),
    ("CreatedDate = THIS_YEAR", ["data_loader_50%"]),
    ("CreatedDate = LAST_YEAR", ["Field Service Android"]),
    ("CreatedDate < LAST_N_DAYS:365", ["Field Service iOS"]),
    ("CreatedDate > LAST_YEAR", ["data_loader_50%"]),
    ("CreatedDate != THIS_YEAR", ["Field Service iOS", "Field Service Android"]),
    ("CreatedDate >= N_YEARS_AGO:1", ["Field Service Android", "data_loader_50%"]),
    ("CreatedDate <= LAST_QUARTER", ["Field Service iOS", "Field Service Android"]),
    ("Scopes__c INCLUDES ('web')", ["Field Service Android"]),
    ("Scopes__c INCLUDES ('api;refresh_token', 'full')", ["Field Service iOS", "data_loader_50%"]),
    ("Scopes__c EXCLUDES ('api')", ["data_loader_50%"]),
    (
        "Id IN (SELECT SetupEntityId FROM SetupEntityAccess WHERE Parent.IsOwnedByProfile = false)",
        ["Field Service iOS"],
    ),
    ("Id NOT IN (SELECT SetupEntityId FROM SetupEntityAccess)", ["Field Service Android", "data_loader_50%"]),
]


@pytest.mark.parametrize(("where", "expected"), WHERE_CASES, ids=[c[0] for c in WHERE_CASES])
def test_where(where: str, expected: list[str]) -> None:
    assert names(f"SELECT Name FROM ConnectedApplication WHERE {where}") == expected


def test_string_escapes() -> None:
    src = TableSource(
        {"Profile": {"Id": "id", "Name": "string"}},
        {"Profile": [{"Id": _id("00e", 9), "Name": "O'Brien \\ Co\n"}]},
    )
    assert run("SELECT Name FROM Profile WHERE Name = 'o\\'brien \\\\ co\\n'", src) == [
        {"Name": "O'Brien \\ Co\n"}
    ]


def test_query_all_includes_deleted_rows() -> None:
    assert "Old Deleted App" not in names("SELECT Name FROM ConnectedApplication")
    rows = q("SELECT Name FROM ConnectedApplication WHERE PinLength = '4'", include_deleted=True)
    assert [r["Name"] for r in rows] == ["Field Service iOS", "Old Deleted App"]


def test_relationship_filter_on_token_user() -> None:
    rows = q(
        "SELECT AppName, User.Username, UseCount FROM OauthToken WHERE User.IsActive = false "
        "ORDER BY LastUsedDate DESC"
    )
    assert rows == [
        {"AppName": "Phantom Tool", "User": {"Username": "ivan@demo.org"}, "UseCount": 1},
        {"AppName": "Field Service iOS", "User": {"Username": "ivan@demo.org"}, "UseCount": 3},
    ]
    assert [
        r["AppName"] for r in q("SELECT AppName FROM OauthToken WHERE LastUsedDate < LAST_N_DAYS:90")
    ] == ["Field Service iOS", "Phantom Tool"]


# -- ORDER BY, LIMIT, OFFSET ------------------------------------------------------------------------------

ORDER_CASES = [
    ("Name", ["data_loader_50%", "Field Service Android", "Field Service iOS"]),  # case-insensitive
    ("Name DESC", ["Field Service iOS", "Field Service Android", "data_loader_50%"]),
    ("PinLength", ["data_loader_50%", "Field Service iOS", "Field Service Android"]),  # nulls first
    ("PinLength NULLS LAST", ["Field Service iOS", "Field Service Android", "data_loader_50%"]),
    ("PinLength DESC", ["data_loader_50%", "Field Service Android", "Field Service iOS"]),
    ("PinLength DESC NULLS LAST", ["Field Service Android", "Field Service iOS", "data_loader_50%"]),
    (
        "OptionsAllowAdminApprovedUsersOnly DESC, Name",
        ["Field Service iOS", "data_loader_50%", "Field Service Android"],
    ),
    (
        "OptionsAllowAdminApprovedUsersOnly, Name DESC",
        ["Field Service Android", "data_loader_50%", "Field Service iOS"],
    ),
    ("CreatedBy.Name NULLS LAST", ["Field Service Android", "Field Service iOS", "data_loader_50%"]),
    ("CreatedDate DESC", ["data_loader_50%", "Field Service Android", "Field Service iOS"]),
    (
        "RefreshTokenValidityPeriod ASC NULLS FIRST",
        ["data_loader_50%", "Field Service iOS", "Field Service Android"],
    ),
]


@pytest.mark.parametrize(("order", "expected"), ORDER_CASES, ids=[c[0] for c in ORDER_CASES])
def test_order_by(order: str, expected: list[str]) -> None:
    assert names(f"SELECT Name FROM ConnectedApplication ORDER BY {order}") == expected


def test_limit_offset() -> None:
    base = "SELECT Name FROM ConnectedApplication ORDER BY Name"
    assert names(f"{base} LIMIT 2") == ["data_loader_50%", "Field Service Android"]
    assert names(f"{base} LIMIT 2 OFFSET 2") == ["Field Service iOS"]
    assert names(f"{base} OFFSET 1") == ["Field Service Android", "Field Service iOS"]
    assert names(f"{base} LIMIT 0") == []
    assert q(f"{base} OFFSET 2000") == []


def test_no_order_by_keeps_source_order() -> None:
    assert names("SELECT Name FROM ConnectedApplication") == [
        "Field Service iOS",
        "Field Service Android",
        "data_loader_50%",
    ]


# -- aggregates -------------------------------------------------------------------------------------------


def test_count_star_returns_total_size_only() -> None:
    result = q("SELECT COUNT() FROM ConnectedApplication")
    assert result == [] and result.total_size == 3 and result.count_only
    assert q("SELECT COUNT() FROM ConnectedApplication WHERE PinLength != null").total_size == 2
    assert q("SELECT COUNT() FROM ConnectedApplication LIMIT 1").total_size == 1
    assert q("SELECT COUNT() FROM OauthToken GROUP BY AppName").total_size == 2


AGGREGATE_CASES = [
    ("SELECT COUNT(Id) FROM ConnectedApplication", [{"expr0": 3}]),
    (
        "SELECT COUNT(PinLength) n, COUNT_DISTINCT(CreatedById) FROM ConnectedApplication",
        [{"n": 2, "expr0": 2}],
    ),
    (
        "SELECT MAX(RefreshTokenValidityPeriod), MIN(RefreshTokenValidityPeriod), "
        "SUM(RefreshTokenValidityPeriod), "
        "AVG(RefreshTokenValidityPeriod) FROM ConnectedApplication",
        [{"expr0": 90, "expr1": 30, "expr2": 120, "expr3": 60.0}],
    ),
    (
        "SELECT MAX(CreatedDate) latest, MIN(Name) FROM ConnectedApplication",
        [{"latest": "2026-03-14T23:00:00.000+0000", "expr0": "data_loader_50%"}],
    ),
    (
        "SELECT AppName, COUNT_DISTINCT(UserId) FROM OauthToken WHERE AppMenuItemId = null GROUP BY AppName",
        [{"AppName": "Phantom Tool", "expr0": 2}],
    ),
    (
        "SELECT AppName, MAX(LastUsedDate) lastUsed, SUM(UseCount) uses FROM OauthToken GROUP BY AppName "
        "ORDER BY SUM(UseCount) DESC",
        [
            {"AppName": "Field Service iOS", "lastUsed": "2026-03-13T12:00:00.000+0000", "uses": 13},
            {"AppName": "Phantom Tool", "lastUsed": "2026-03-14T12:00:00.000+0000", "uses": 8},
        ],
    ),
    (
        "SELECT User.IsActive, COUNT(UserId) FROM OauthToken GROUP BY User.IsActive ORDER BY User.IsActive",
        [{"IsActive": False, "expr0": 2}, {"IsActive": True, "expr0": 2}],
    ),
    (
        "SELECT AppName FROM OauthToken GROUP BY AppName HAVING COUNT(UserId) > 1 AND MAX(UseCount) > 7",
        [{"AppName": "Field Service iOS"}],
    ),
    (
        "SELECT AppName FROM OauthToken GROUP BY AppName HAVING AppName LIKE 'phan%'",
        [{"AppName": "Phantom Tool"}],
    ),
    (
        "SELECT Application, LoginType, COUNT(Id) n, MAX(LoginTime) lastLogin FROM LoginHistory "
        "WHERE LoginTime = LAST_N_DAYS:180 GROUP BY Application, LoginType ORDER BY Application, LoginType",
        [
            {
                "Application": "Browser",
                "LoginType": "Application",
                "n": 1,
                "lastLogin": "2025-11-15T12:00:00.000+0000",
            },
            {
                "Application": "Browser",
                "LoginType": "Remote Access 2.0",
                "n": 1,
                "lastLogin": "2026-02-13T12:00:00.000+0000",
            },
            {
                "Application": "Field Service iOS",
                "LoginType": "Application",
                "n": 2,  # 180 days ago counts
                "lastLogin": "2026-03-15T12:00:00.000+0000",
            },
            {
                "Application": "Field Service iOS",
                "LoginType": "Remote Access 2.0",
                "n": 1,
                "lastLogin": "2025-12-15T12:00:00.000+0000",
            },
            {
                "Application": "Phantom Tool",
                "LoginType": "Application",
                "n": 1,
                "lastLogin": "2026-01-14T12:00:00.000+0000",
            },
            {
                "Application": "Phantom Tool",
                "LoginType": "Remote Access 2.0",
                "n": 1,
                "lastLogin": "2025-10-16T12:00:00.000+0000",
            },
        ],
    ),
    (
        "SELECT CALENDAR_YEAR(LoginTime), COUNT(Id) FROM LoginHistory GROUP BY CALENDAR_YEAR(LoginTime) "
        "ORDER BY CALENDAR_YEAR(LoginTime)",
        [{"expr0": 2025, "expr1": 7}, {"expr0": 2026, "expr1": 3}],
    ),
    (
        "SELECT CALENDAR_QUARTER(LoginTime) q, COUNT(Id) n FROM LoginHistory "
        "WHERE LoginTime = LAST_N_DAYS:100 GROUP BY CALENDAR_QUARTER(LoginTime) "
        "ORDER BY CALENDAR_QUARTER(LoginTime) DESC",
        [{"q": 4, "n": 1}, {"q": 1, "n": 3}],
    ),
    (
        "SELECT DAY_ONLY(LoginTime) d, COUNT(Id) FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:31 "
        "GROUP BY DAY_ONLY(LoginTime) ORDER BY DAY_ONLY(LoginTime)",
        [{"d": "2026-02-13", "expr0": 1}, {"d": "2026-03-15", "expr0": 1}],
    ),
    (
        "SELECT LoginType, DAY_IN_WEEK(LoginTime), MAX(LoginTime) FROM LoginHistory "
        "WHERE CALENDAR_MONTH(LoginTime) = 3 AND DAY_ONLY(LoginTime) = LAST_N_DAYS:7 "
        "GROUP BY LoginType, DAY_IN_WEEK(LoginTime)",
        [{"LoginType": "Application", "expr0": 1, "expr1": "2026-03-15T12:00:00.000+0000"}],  # 1 = Sunday
    ),
    ("SELECT COUNT(Id) FROM ConnectedApplication WHERE Name = 'none'", [{"expr0": 0}]),
    ("SELECT MAX(Name) FROM ConnectedApplication WHERE Name = 'none'", [{"expr0": None}]),
    (
        "SELECT AppName, COUNT(Id) FROM OauthToken GROUP BY AppName ORDER BY AppName DESC LIMIT 1 OFFSET 1",
        [{"AppName": "Field Service iOS", "expr0": 0}],
    ),  # OauthToken Ids are null, as Salesforce documents
]


@pytest.mark.parametrize(("text", "expected"), AGGREGATE_CASES, ids=[c[0][:70] for c in AGGREGATE_CASES])
def test_aggregates(text: str, expected: list[dict[str, Any]]) -> None:
    result = q(text)
    assert result == expected
    assert result.aggregate and all(r.sobject == "AggregateResult" for r in result)
    assert all(list(r) == list(e) for r, e in zip(result, expected, strict=True))


# -- errors -----------------------------------------------------------------------------------------------

ERROR_CASES = [
    ("SELEKT nope", "MALFORMED_QUERY", "unexpected token: SELEKT"),
    ("SELECT Id FRM ConnectedApplication", "MALFORMED_QUERY", "unexpected token: FRM"),
    ("SELECT Id FROM ConnectedApplication WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id, FROM ConnectedApplication", "MALFORMED_QUERY", "unexpected token: FROM"),
    (
        "SELECT Id FROM ConnectedApplication WHERE Name = 'a' AND PinLength = '4' OR PinLength = '6'",
        "MALFORMED_QUERY",
        "unexpected token: OR",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Name = 'abc",
        "MALFORMED_QUERY",
        "mismatched character '<EOF>'",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Name = 'a\\qb'",
        "MALFORMED_QUERY",
        "Illegal character sequence",
    ),
    ("SELECT Id FROM ConnectedApplication LIMIT -1", "MALFORMED_QUERY", "unexpected token: -1"),
    (
        "SELECT Id FROM ConnectedApplication WHERE CreatedDate = LAST_N_DAYS",
        "MALFORMED_QUERY",
        "unexpected token: <EOF>",
    ),
    ("SELECT Id FROM ConnectedApplication WHERE Name = :name", "MALFORMED_QUERY", "Bind variables"),
    (
        "SELECT Id x FROM ConnectedApplication",
        "MALFORMED_QUERY",
        "Only aggregate expressions use field aliasing",
    ),
    ("SELECT Id, Id FROM ConnectedApplication", "MALFORMED_QUERY", "duplicate field selected: Id"),
    (
        "SELECT Name, COUNT(Id) FROM ConnectedApplication",
        "MALFORMED_QUERY",
        "Field must be grouped or aggregated: Name",
    ),
    (
        "SELECT AppName, COUNT(Id) FROM OauthToken GROUP BY AppName ORDER BY UseCount",
        "MALFORMED_QUERY",
        "Field must be grouped or aggregated: UseCount",
    ),
    ("SELECT COUNT(Id) c, MAX(Name) c FROM ConnectedApplication", "MALFORMED_QUERY", "duplicate alias: c"),
    ("SELECT Id, COUNT() FROM ConnectedApplication", "MALFORMED_QUERY", "COUNT()"),
    ("SELECT Id FROM ConnectedApplication WHERE COUNT(Id) > 1", "MALFORMED_QUERY", "HAVING"),
    (
        "SELECT Id FROM ConnectedApplication WHERE Id IN (SELECT SetupEntityId FROM SetupEntityAccess) "
        "OR Name = 'x'",
        "MALFORMED_QUERY",
        "'OR' operator",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Id IN (SELECT SetupEntityId FROM SetupEntityAccess WHERE "
        "ParentId IN (SELECT Id FROM PermissionSet))",
        "MALFORMED_QUERY",
        "Nesting of semi join",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Id IN (SELECT Id, ParentId FROM SetupEntityAccess)",
        "MALFORMED_QUERY",
        "single Id or reference field",
    ),
    ("SELECT FIELDS(ALL) FROM ConnectedApplication", "MALFORMED_QUERY", "LIMIT of at most 200"),
    ("SELECT Id FROM ConnectedApplication GROUP BY ROLLUP(Name)", "MALFORMED_QUERY", "ROLLUP"),
    (
        "SELECT Id, (SELECT Id FROM Tokens) FROM ConnectedApplication",
        "INVALID_TYPE",
        "Didn't understand relationship 'Tokens' in FROM part of query call",
    ),
    ("SELECT Id FROM Account", "INVALID_TYPE", "sObject type 'Account' is not supported."),
    (
        "SELECT Id FROM ConnectedApplication WHERE Id IN (SELECT Id FROM Nope__c)",
        "INVALID_TYPE",
        "sObject type 'Nope__c' is not supported.",
    ),
    (
        "SELECT Nope FROM ConnectedApplication",
        "INVALID_FIELD",
        "No such column 'Nope' on entity 'ConnectedApplication'. If you are attempting to use a custom field",
    ),
    (
        "SELECT CreatedBy.Nope FROM ConnectedApplication",
        "INVALID_FIELD",
        "No such column 'Nope' on entity 'User'",
    ),
    (
        "SELECT Owner.Name FROM ConnectedApplication",
        "INVALID_FIELD",
        "Didn't understand relationship 'Owner' in field path.",
    ),
    ("SELECT Name.Foo FROM ConnectedApplication", "INVALID_FIELD", "Didn't understand relationship 'Name'"),
    ("SELECT Id FROM ConnectedApplication ORDER BY Nope", "INVALID_FIELD", "No such column 'Nope'"),
    (
        "SELECT Application, COUNT(Id) FROM LoginHistory WHERE Application = 'x' GROUP BY Application",
        "INVALID_FIELD",
        "field 'Application' can not be filtered in a query call",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Description = 'x'",
        "INVALID_FIELD",
        "field 'Description' can not be filtered in a query call",
    ),
    (
        "SELECT Id FROM ConnectedApplication ORDER BY Description",
        "INVALID_FIELD",
        "field 'Description' can not be sorted in a query call",
    ),
    (
        "SELECT Description, COUNT(Id) FROM ConnectedApplication GROUP BY Description",
        "INVALID_FIELD",
        "field 'Description' can not be grouped in a query call",
    ),
    (
        "SELECT SUM(Name) FROM ConnectedApplication",
        "INVALID_FIELD",
        "field Name does not support aggregate operator SUM",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Name = 5",
        "INVALID_FIELD",
        "value of filter criterion for field 'Name' must be of type string and should be enclosed in quotes",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE OptionsAllowAdminApprovedUsersOnly = 'true'",
        "INVALID_FIELD",
        "must be of type boolean and should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE RefreshTokenValidityPeriod = '5'",
        "INVALID_FIELD",
        "must be of type integer and should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE CreatedDate > 2026-01-01",
        "INVALID_FIELD",
        "field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE CreatedDate > '2026-01-01T00:00:00Z'",
        "INVALID_FIELD",
        "must be of type dateTime",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE LaunchDate__c > 2026-01-01T00:00:00Z",
        "INVALID_FIELD",
        "must be of type date and",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Id = 'abc'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field: abc",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Id LIKE '0H4%'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid operator on id field",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE Name INCLUDES ('a')",
        "INVALID_QUERY_FILTER_OPERATOR",
        "only valid on multipicklist field",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE OptionsAllowAdminApprovedUsersOnly > false",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid operator on boolean field",
    ),
    (
        "SELECT CALENDAR_YEAR(CreatedDate) FROM ConnectedApplication",
        "MALFORMED_QUERY",
        "Field must be grouped or aggregated: CALENDAR_YEAR(CreatedDate)",
    ),
    (
        "SELECT COUNT(Id) FROM ConnectedApplication GROUP BY HOUR_IN_DAY(LaunchDate__c)",
        "MALFORMED_QUERY",
        "HOUR_IN_DAY can only be applied to dateTime fields",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE CALENDAR_YEAR(Name) = 2026",
        "MALFORMED_QUERY",
        "CALENDAR_YEAR can only be applied to date or dateTime fields",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE CALENDAR_YEAR(CreatedDate) = '2026'",
        "INVALID_FIELD",
        "must be of type integer and should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE toLabel(PinLength) = '4'",
        "MALFORMED_QUERY",
        "Unknown function: toLabel",
    ),
    (
        "SELECT Id FROM ConnectedApplication OFFSET 2001",
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Maximum SOQL offset allowed is 2000",
    ),
    (
        "SELECT Id FROM ConnectedApplication WHERE " + " OR ".join(["Name = 'x'"] * 301),
        "QUERY_TOO_COMPLICATED",
        "Query is either selecting too many fields or the filter conditions are too complicated.",
    ),
]


@pytest.mark.parametrize(("text", "code", "detail"), ERROR_CASES, ids=[c[0][:70] for c in ERROR_CASES])
def test_errors(text: str, code: str, detail: str) -> None:
    with pytest.raises(SoqlError) as info:
        q(text)
    assert info.value.error_code == code
    assert detail in info.value.message, info.value.message
    assert info.value.as_rest() == [{"message": info.value.message, "errorCode": code}]


def test_error_message_is_located_like_salesforce() -> None:
    with pytest.raises(SoqlError) as info:
        q("SELECT Id, Nam FROM ConnectedApplication")
    assert info.value.message.startswith(
        "\nSELECT Id, Nam FROM ConnectedApplication\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Nam'"
    )
    with pytest.raises(SoqlError) as info:
        q("SELECT Id\nFROM Nope")
    assert "\nFROM Nope\n     ^\nERROR at Row:2:Column:6\n" in info.value.message


def test_query_too_long() -> None:
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id FROM User WHERE Name = '" + "x" * 100_001 + "'")
    assert info.value.error_code == "MALFORMED_QUERY"


def test_describe_may_raise_key_error_for_unknown_objects() -> None:
    class Source:
        def describe(self, sobject: str) -> Any:
            raise KeyError(sobject)

        def rows(self, sobject: str) -> list[dict[str, Any]]:
            return []

    with pytest.raises(SoqlError) as info:
        run("SELECT Id FROM Foo", Source())
    assert info.value.error_code == "INVALID_TYPE"


def test_source_may_provide_joined_parents() -> None:
    src = TableSource(
        {"OauthToken": DESCRIBES["OauthToken"], "User": DESCRIBES["User"]},
        {
            "OauthToken": [
                {
                    "AppName": "A",
                    "UserId": "005000000000009AAA",
                    "User": {"Id": "005000000000009AAA", "Username": "x@y"},
                }
            ]
        },
    )
    assert run("SELECT User.Username FROM OauthToken", src) == [{"User": {"Username": "x@y"}}]


def test_now_defaults_to_utc_now() -> None:
    assert names("SELECT Name FROM ConnectedApplication WHERE CreatedDate < TOMORROW") == [
        "Field Service iOS",
        "Field Service Android",
        "data_loader_50%",
    ]


def test_date_literals_follow_the_user_time_zone() -> None:
    # 2026-03-14T23:00Z is already the 15th in Paris: TODAY there, YESTERDAY in UTC
    text = "SELECT Name FROM ConnectedApplication WHERE CreatedDate = TODAY"
    assert [r["Name"] for r in run(text, SRC, now=NOW, tz="Europe/Paris")] == ["data_loader_50%"]
    assert [r["Name"] for r in run(text, SRC, now=NOW)] == []
    # date fields compare on days in that zone
    src = TableSource({"X": {"Id": "id", "D": "date"}}, {"X": [{"Id": _id("a01", 1), "D": "2026-03-15"}]})
    late = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)
    assert len(run("SELECT Id FROM X WHERE D = TODAY", src, now=late, tz="Europe/Paris")) == 1
    assert len(run("SELECT Id FROM X WHERE D = TODAY", src, now=late)) == 0


DATE_LITERAL_CASES = [  # NOW is Sunday 2026-03-15
    ("TODAY", "2026-03-15", "2026-03-16"),
    ("YESTERDAY", "2026-03-14", "2026-03-15"),
    ("TOMORROW", "2026-03-16", "2026-03-17"),
    ("N_DAYS_AGO:3", "2026-03-12", "2026-03-13"),
    ("LAST_N_DAYS:1", "2026-03-14", "2026-03-16"),
    ("NEXT_N_DAYS:2", "2026-03-16", "2026-03-18"),
    ("LAST_90_DAYS", "2025-12-15", "2026-03-16"),
    ("NEXT_90_DAYS", "2026-03-16", "2026-06-14"),
    ("THIS_WEEK", "2026-03-15", "2026-03-22"),
    ("LAST_WEEK", "2026-03-08", "2026-03-15"),
    ("NEXT_WEEK", "2026-03-22", "2026-03-29"),
    ("LAST_N_WEEKS:2", "2026-03-01", "2026-03-15"),
    ("NEXT_N_WEEKS:2", "2026-03-22", "2026-04-05"),
    ("N_WEEKS_AGO:2", "2026-03-01", "2026-03-08"),
    ("THIS_MONTH", "2026-03-01", "2026-04-01"),
    ("LAST_MONTH", "2026-02-01", "2026-03-01"),
    ("NEXT_MONTH", "2026-04-01", "2026-05-01"),
    ("LAST_N_MONTHS:3", "2025-12-01", "2026-03-01"),
    ("NEXT_N_MONTHS:2", "2026-04-01", "2026-06-01"),
    ("N_MONTHS_AGO:1", "2026-02-01", "2026-03-01"),
    ("THIS_QUARTER", "2026-01-01", "2026-04-01"),
    ("LAST_QUARTER", "2025-10-01", "2026-01-01"),
    ("NEXT_QUARTER", "2026-04-01", "2026-07-01"),
    ("LAST_N_QUARTERS:2", "2025-07-01", "2026-01-01"),
    ("N_QUARTERS_AGO:1", "2025-10-01", "2026-01-01"),
    ("THIS_YEAR", "2026-01-01", "2027-01-01"),
    ("LAST_YEAR", "2025-01-01", "2026-01-01"),
    ("LAST_N_YEARS:2", "2024-01-01", "2026-01-01"),
    ("NEXT_N_YEARS:1", "2027-01-01", "2028-01-01"),
    ("N_YEARS_AGO:1", "2025-01-01", "2026-01-01"),
    ("THIS_FISCAL_YEAR", "2026-01-01", "2027-01-01"),
    ("LAST_N_FISCAL_QUARTERS:1", "2025-10-01", "2026-01-01"),
]


@pytest.mark.parametrize(
    ("literal", "first", "end"), DATE_LITERAL_CASES, ids=[c[0] for c in DATE_LITERAL_CASES]
)
def test_date_literal_ranges(literal: str, first: str, end: str) -> None:
    name, _, n = literal.partition(":")
    assert [d.isoformat() for d in literal_dates(name, int(n) if n else None, NOW)] == [first, end]
    # and the parser/evaluator agree at the boundaries: the first day is in, the end day is out
    src = TableSource(
        {"X": {"Id": "id", "D": "date"}},
        {"X": [{"Id": _id("a01", 1), "D": first}, {"Id": _id("a01", 2), "D": end}]},
    )
    assert [r["D"] for r in run(f"SELECT D FROM X WHERE D = {literal}", src, now=NOW)] == [first]
    assert [r["D"] for r in run(f"SELECT D FROM X WHERE D >= {literal}", src, now=NOW)] == [first, end]
    assert [r["D"] for r in run(f"SELECT D FROM X WHERE D > {literal}", src, now=NOW)] == [end]
    assert [r["D"] for r in run(f"SELECT D FROM X WHERE D < {literal}", src, now=NOW)] == []


def test_unparsable_row_values_read_as_null() -> None:
    src = TableSource(
        {"X": {"Id": "id", "N": "int", "T": "datetime"}},
        {"X": [{"Id": _id("a01", 1), "N": "n/a", "T": "garbage"}, {"Id": _id("a01", 2), "N": 3, "T": NOW}]},
    )
    assert run("SELECT Id FROM X WHERE N > 1 AND T = TODAY", src, now=NOW) == [{"Id": _id("a01", 2)}]
    assert run("SELECT T FROM X ORDER BY T NULLS LAST", src, now=NOW) == [
        {"T": "2026-03-15T12:00:00.000+0000"},
        {"T": "garbage"},
    ]
