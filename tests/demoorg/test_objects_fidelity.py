"""Demo org objects as the Object Reference describes them, over HTTPS through simple-salesforce:
``ConnectedApplication.Options*`` are filter-only, ``AppMenuItem`` and ``LoginHistory`` have their documented
fields (domain notes §2.1, §2.4, §2.5), and readMetadata of an unloadable installed app fails whole."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from toolkit.demoorg import DemoOrg
from toolkit.demoorg.metadata_api import handle_metadata_soap


def _sf(org: DemoOrg) -> Salesforce:
    return Salesforce(
        instance_url=org.instance_url, session_id=org.access_token, session=org.requests_session()
    )


def _refused(sf: Salesforce, soql: str) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query(soql)
    first: dict[str, Any] = err.value.content[0]
    return first


@pytest.mark.parametrize("field", ["OptionsAllowAdminApprovedUsersOnly", "OptionsHasSessionLevelPolicy"])
def test_connected_application_options_are_filter_only(demo_org: DemoOrg, field: str) -> None:
    sf = _sf(demo_org)
    assert sf.query(f"SELECT Id FROM ConnectedApplication WHERE {field} = true")["totalSize"] >= 0
    grouped = _refused(sf, f"SELECT {field}, COUNT(Id) FROM ConnectedApplication GROUP BY {field}")
    assert grouped["errorCode"] == "INVALID_FIELD" and "can not be grouped" in grouped["message"]
    ordered = _refused(sf, f"SELECT Id FROM ConnectedApplication ORDER BY {field}")
    assert ordered["errorCode"] == "INVALID_FIELD" and "can not be sorted" in ordered["message"]
    described = {f["name"]: f for f in sf.ConnectedApplication.describe()["fields"]}
    assert (described[field]["filterable"], described[field]["groupable"], described[field]["sortable"]) == (
        True,
        False,
        False,
    )


def test_app_menu_item_has_the_documented_fields(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    fields = {f["name"]: f for f in sf.AppMenuItem.describe()["fields"]}
    documented = {
        "ApplicationId", "CanvasAccessMethod", "CanvasEnabled", "CanvasOptions", "CanvasReferenceId",
        "CanvasSelectedLocations", "CanvasUrl", "Description", "IconUrl", "InfoUrl", "IsAccessible",
        "IsDeleted", "IsRegisteredDeviceOnly", "IsUsingAdminAuthorization", "IsVisible", "Label", "LogoUrl",
        "MobileAppBinaryId", "MobileAppInstallUrl", "MobileAppInstalledDate", "MobileAppInstalledVersion",
        "MobileAppVer", "MobileDeviceType", "MobileMinOsVer", "MobilePlatform", "MobileStartUrl", "Name",
        "NamespacePrefix", "SortOrder", "StartUrl", "Type", "UserSortOrder",
    }  # fmt: skip
    assert documented <= set(fields)
    assert [v["value"] for v in fields["CanvasAccessMethod"]["picklistValues"]] == ["Get", "Post"]
    rows = sf.query_all(
        "SELECT Name, CanvasOptions, CanvasSelectedLocations, CanvasReferenceId, CanvasAccessMethod "
        "FROM AppMenuItem WHERE CanvasEnabled = true"
    )["records"]
    canvas = [r for r in rows if r["CanvasOptions"]]
    assert canvas and all(
        r["CanvasReferenceId"] and r["CanvasAccessMethod"] in ("Get", "Post") for r in canvas
    )


def test_login_history_has_the_documented_fields_and_filters(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    fields = {f["name"]: f for f in sf.LoginHistory.describe()["fields"]}
    documented = {
        "ApiType", "ApiVersion", "Application", "AuthenticationServiceId", "Browser", "CipherSuite",
        "ClientVersion", "CountryIso", "LoginGeoId", "LoginTime", "LoginType", "LoginUrl", "NetworkId",
        "Platform", "SourceIp", "Status", "TlsProtocol", "UserId", "OptionsIsGet", "OptionsIsPost",
    }  # fmt: skip
    assert documented <= set(fields)
    filterable = {
        "AuthenticationServiceId", "CipherSuite", "CountryIso", "Id", "LoginTime", "LoginType", "LoginUrl",
        "NetworkId", "OptionsIsGet", "OptionsIsPost", "TlsProtocol", "UserId",
    }  # fmt: skip
    assert {n for n, f in fields.items() if f["filterable"]} == filterable
    posts = sf.query("SELECT COUNT() FROM LoginHistory WHERE OptionsIsPost = true")["totalSize"]
    assert posts == demo_org.truth()["logins"]
    refused = _refused(sf, "SELECT Id FROM LoginHistory WHERE ClientVersion = 'N/A'")
    assert refused["errorCode"] == "INVALID_FIELD" and "can not be filtered" in refused["message"]


def test_an_unloadable_installed_app_fails_the_whole_read_call(demo_org: DemoOrg) -> None:
    truth = demo_org.truth()
    bad = truth["unloadable"][0]
    good = truth["categories"]["local"][:3]
    names = "".join(f"<m:fullNames>{n}</m:fullNames>" for n in [*good, bad])
    body = (
        '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        '<m:readMetadata xmlns:m="http://soap.sforce.com/2006/04/metadata"><m:type>ConnectedApp</m:type>'
        f"{names}</m:readMetadata></e:Body></e:Envelope>"
    ).encode()
    status, data = handle_metadata_soap(demo_org.state, body, {"Id": "005", "Username": "a@b.c"})
    assert status == 500 and b"sf:UNKNOWN_EXCEPTION" in data
    assert b"Load of metadata from db failed" in data and bad.encode() in data
    ok = body.replace(f"<m:fullNames>{bad}</m:fullNames>".encode(), b"")
    status, data = handle_metadata_soap(demo_org.state, ok, {"Id": "005", "Username": "a@b.c"})
    assert status == 200 and data.count(b"<records") == 3


# Object Reference, LoginHistory (API v67), LoginSubType: the whole restricted picklist, in its order.
# It has no JWT-bearer value.
DOCUMENTED_SUBTYPES = [
    "InternalSalesforceAuthentication", "OauthClientCredentials", "OauthHybridRefreshToken",
    "OauthHybridTokenExchange", "OauthHybridUserAgent", "OauthHybridWebServer", "OauthOtpLogin",
    "OauthRefreshToken", "OauthTokenExchange", "OauthUserAgent", "OauthUserAgentIdToken",
    "OauthUsernamePassword", "OauthWebServer", "SoapApiLogin", "SoapApiLoginMobile",
    "SoapApiLoginNetworksPortal", "SoapApiLoginPortal", "SoapApiLoginSelfService", "UiPasswordReset",
    "UsernamePasswordUiLogin",
]  # fmt: skip


def test_login_subtypes_are_the_documented_picklist(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    fields = {f["name"]: f for f in sf.LoginHistory.describe()["fields"]}
    assert [v["value"] for v in fields["LoginSubType"]["picklistValues"]] == DOCUMENTED_SUBTYPES
    assert fields["LoginSubType"]["restrictedPicklist"] and fields["LoginSubType"]["nillable"]
    rows = sf.query_all("SELECT LoginSubType, COUNT(Id) n FROM LoginHistory GROUP BY LoginSubType")["records"]
    seen = {r["LoginSubType"]: r["n"] for r in rows}
    assert set(seen) - {None} <= set(DOCUMENTED_SUBTYPES), seen
    assert "OauthClientCredentials" in seen
    # JWT-bearer logins: the picklist has no value for them, the seed leaves the subtype empty (a guess)
    jwt = [n for n, a in demo_org.truth()["apps"].items() if a["kind"] == "jwt" and a["logins"]]
    assert jwt and seen.get(None)
