"""Compatibility: unmodified simple-salesforce 1.12.10 against the demo org (login modes, REST, errors)."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
)

from toolkit.demoorg import DemoOrg

pytestmark = pytest.mark.xdist_group("demo_org")


def _sf(org: DemoOrg, token: str | None = None) -> Salesforce:
    return Salesforce(
        instance_url=org.instance_url, session_id=token or org.access_token, session=org.requests_session()
    )


def test_soap_login_with_domain(demo_org: DemoOrg) -> None:
    sf = Salesforce(
        username=demo_org.username,
        password=demo_org.password,
        security_token=demo_org.security_token,
        domain=demo_org.domain,
        session=demo_org.requests_session(),
    )
    assert sf.sf_instance == demo_org.instance_url.removeprefix("https://")
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1


def test_soap_login_wrong_password_is_invalid_login(demo_org: DemoOrg) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(
            username=demo_org.username,
            password="wrong",
            security_token="",
            domain=demo_org.domain,
            session=demo_org.requests_session(),
        )
    assert "INVALID_LOGIN" in str(info.value)
    assert demo_org.password not in str(info.value)


def test_oauth_password_flow(demo_org: DemoOrg) -> None:
    sf = Salesforce(
        username=demo_org.username,
        password=demo_org.password,
        consumer_key=demo_org.client_id,
        consumer_secret=demo_org.client_secret,
        domain=demo_org.domain,
        session=demo_org.requests_session(),
    )
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000


def test_oauth_jwt_bearer_flow(demo_org: DemoOrg) -> None:
    sf = Salesforce(
        username=demo_org.username,
        consumer_key=demo_org.jwt_consumer_key,
        privatekey_file=demo_org.jwt_private_key_file,
        domain=demo_org.domain,
        session=demo_org.requests_session(),
    )
    assert sf.query("SELECT Id FROM ConnectedApplication LIMIT 1")["totalSize"] == 1


def test_oauth_jwt_with_a_foreign_key_is_refused(demo_org: DemoOrg, tmp_path: object) -> None:
    from toolkit.demoorg.auth import generate_jwt_keypair

    key, _ = generate_jwt_keypair()
    path = tmp_path / "other.pem"  # type: ignore[operator]
    path.write_bytes(key)
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(
            username=demo_org.username,
            consumer_key=demo_org.jwt_consumer_key,
            privatekey_file=str(path),
            domain=demo_org.domain,
            session=demo_org.requests_session(),
        )
    assert "invalid_grant" in str(info.value)


def test_oauth_client_credentials_flow(demo_org: DemoOrg) -> None:
    sf = Salesforce(
        consumer_key=demo_org.client_id,
        consumer_secret=demo_org.client_secret,
        domain=demo_org.domain,
        session=demo_org.requests_session(),
    )
    assert sf.query(f"SELECT Username FROM User WHERE Username = '{demo_org.username}'")["totalSize"] == 1


def test_oauth_client_credentials_bad_secret(demo_org: DemoOrg) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(
            consumer_key=demo_org.client_id,
            consumer_secret="nope",
            domain=demo_org.domain,
            session=demo_org.requests_session(),
        )
    assert "invalid_client" in str(info.value)


def test_refresh_token_grant(demo_org: DemoOrg) -> None:
    s = demo_org.requests_session()
    r = s.post(
        demo_org.instance_url + "/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": demo_org.refresh_token,
            "client_id": demo_org.client_id,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["instance_url"] == demo_org.instance_url and body["token_type"] == "Bearer"
    assert _sf(demo_org, body["access_token"]).limits()
    bad = s.post(
        demo_org.instance_url + "/services/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": "nope"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_query_all_over_several_pages(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    sf.headers["Sforce-Query-Options"] = "batchSize=200"
    first = sf.query("SELECT Id, AppName, UserId, LastUsedDate FROM OauthToken")
    assert first["done"] is False and len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith("/services/data/v")
    everything = sf.query_all("SELECT Id, AppName, UserId, LastUsedDate FROM OauthToken")
    assert everything["totalSize"] == demo_org.truth()["tokens"] == len(everything["records"])
    assert everything["totalSize"] > 1000
    pages = demo_org.stats()["requests"]["queryMore"]
    assert pages >= (everything["totalSize"] // 200) - 1


def test_query_default_batch_is_2000(demo_org: DemoOrg) -> None:
    first = _sf(demo_org).query("SELECT Id, LoginTime FROM LoginHistory")
    assert len(first["records"]) == 2000 and not first["done"]


def test_query_parent_fields_and_attributes(demo_org: DemoOrg) -> None:
    rec = _sf(demo_org).query(
        "SELECT Id, Name, CreatedBy.Name, PinLength, MobileSessionTimeout FROM ConnectedApplication "
        "ORDER BY Name LIMIT 5"
    )["records"][0]
    assert rec["attributes"]["type"] == "ConnectedApplication"
    assert rec["attributes"]["url"].endswith("/" + rec["Id"])
    assert rec["CreatedBy"]["attributes"]["type"] == "User" and rec["CreatedBy"]["Name"] == "Demo Admin"


def test_connected_application_matches_truth(demo_org: DemoOrg) -> None:
    truth = demo_org.truth()
    rows = _sf(demo_org).query_all(
        "SELECT Id, Name, PinLength, MobileSessionTimeout FROM ConnectedApplication"
    )
    by_id = {r["Id"]: r for r in rows["records"]}
    assert len(by_id) == len(truth["apps"])
    for app in truth["apps"].values():
        row = by_id[app["id"]]
        assert row["Name"] == app["label"]
        assert row["PinLength"] == app["PinLength"]
        assert row["MobileSessionTimeout"] == app["MobileSessionTimeout"]


def test_tooling_query(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    assert sf.toolingexecute("query/?q=SELECT+Id,Name+FROM+ConnectedApplication+LIMIT+2")["totalSize"] == 2
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.toolingexecute("query/?q=SELECT+Id+FROM+ExtlClntAppOauthPlcyCnfg")
    assert "INVALID_TYPE" in str(info.value)


def test_malformed_query_is_400(demo_org: DemoOrg) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        _sf(demo_org).query("SELEKT nope")
    assert info.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_limits_and_limit_info_header(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    before = sf.limits()["DailyApiRequests"]["Remaining"]
    after = sf.limits()["DailyApiRequests"]["Remaining"]
    assert after == before - 1
    assert sf.api_usage["api-usage"].used >= 1 and sf.api_usage["api-usage"].total == 15000


def test_describe_and_picklists(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    names = {s["name"] for s in sf.describe()["sobjects"]}
    assert {"ConnectedApplication", "OauthToken", "LoginHistory", "ExtlClntAppOauthPlcyCnfg"} <= names
    fields = {f["name"]: f for f in sf.ConnectedApplication.describe()["fields"]}
    assert [v["value"] for v in fields["PinLength"]["picklistValues"]] == ["4", "5", "6", "7", "8"]
    assert fields["MobileSessionTimeout"]["picklistValues"]


def test_connected_application_is_read_only(demo_org: DemoOrg) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        _sf(demo_org).ConnectedApplication.create({"Name": "x"})
    assert info.value.content[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


def test_bad_session_is_expired_session(demo_org: DemoOrg) -> None:
    with pytest.raises(SalesforceExpiredSession):
        _sf(demo_org, demo_org.access_token[:-4] + "XXXX").query("SELECT Id FROM User")


def test_unknown_resource_is_404_json(demo_org: DemoOrg) -> None:
    r = demo_org.requests_session().get(
        demo_org.instance_url + "/services/data/v66.0/nope/nothing",
        headers={"Authorization": "Bearer " + demo_org.access_token},
    )
    assert r.status_code == 404 and r.json() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_versions_need_no_session_and_carry_no_limit_header(demo_org: DemoOrg) -> None:
    r = requests.Session()
    r.trust_env = False
    resp = r.get(demo_org.instance_url + "/services/data/", verify=demo_org.ca_file)
    assert resp.json()[-1]["version"] == "66.0"
    assert "Sforce-Limit-Info" not in resp.headers


def test_bulk2_query_csv_pages(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    chunks = list(
        sf.bulk2.LoginHistory.query(
            "SELECT Application, UserId, LoginTime FROM LoginHistory", max_records=1000, wait=0.05
        )
    )
    lines = sum(len(c.strip().splitlines()) - 1 for c in chunks)
    assert len(chunks) > 1 and lines == demo_org.truth()["logins"]
    assert chunks[0].splitlines()[0] == '"Application","UserId","LoginTime"'


def test_oauth_token_stops_at_2500_rows_count_is_exact_and_bulk_serves_it() -> None:
    """Object Reference, OauthToken: 500-row batches, 2,500 rows in all, COUNT() exact; Bulk API 2.0
    serves it (sfdx-hardis) with string CSV cells, also stopping at 2,500 rows (sfdx-hardis PR #1408)."""
    with DemoOrg(apps=100, ecas=0, seed=1) as big:
        n = big.truth()["tokens"]
        assert n > 2500
        sf = _sf(big)
        first = sf.query("SELECT AppName, UserId FROM OauthToken")
        assert len(first["records"]) == 500 and first["done"] is False
        everything = sf.query_all("SELECT AppName, UserId FROM OauthToken")
        assert len(everything["records"]) == 2500 == everything["totalSize"]
        assert sf.query("SELECT COUNT() FROM OauthToken")["totalSize"] == n
        some = sf.query("SELECT COUNT() FROM OauthToken WHERE CreatedDate < 2100-01-01T00:00:00Z")
        assert some["totalSize"] == n
        hardis = (
            "SELECT AppName, AppMenuItem.IsUsingAdminAuthorization, LastUsedDate, CreatedDate, User.Name, "
            "UseCount FROM OAuthToken ORDER BY CreatedDate ASC"
        )
        chunks = list(sf.bulk2.OauthToken.query(hardis, wait=0.05))
        rows = [r for c in chunks for r in csv.DictReader(io.StringIO(c))]
        assert len(rows) == 2500
        assert {r["AppMenuItem.IsUsingAdminAuthorization"] for r in rows} <= {"true", "false", ""}
        assert all(r["UseCount"].isdigit() for r in rows)
