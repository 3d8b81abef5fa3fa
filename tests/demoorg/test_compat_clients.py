"""The demo org driven by clients other than simple-salesforce (issue #3).

- zeep with the OFFICIAL v66 partner and metadata WSDLs (``../shared/wsdl``) in strict mode: every response
  must parse against the published schema (element order, required elements, xsi:type).
- plain ``requests``: the documented REST and SOAP wire shapes, field by field.

jsforce (Node.js) is in ``test_compat_clients_jsforce.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep import xsd
from zeep.exceptions import Fault, XMLParseError

from toolkit.demoorg import DemoOrg

pytestmark = pytest.mark.xdist_group("demo_org")
MD = "http://soap.sforce.com/2006/04/metadata"
PARTNER = "urn:partner.soap.sforce.com"
ECA_TYPES = [
    "ExternalClientApplication",
    "ExtlClntAppOauthSettings",
    "ExtlClntAppGlobalOauthSettings",
    "ExtlClntAppOauthConfigurablePolicies",
    "ExtlClntAppConfigurablePolicies",
    "ExtlClntAppMobileSettings",
    "ExtlClntAppMobileConfigurablePolicies",
    "ExtlClntAppPushSettings",
]


def _client(wsdl: Path, org: DemoOrg) -> Any:
    session = requests.Session()
    session.verify, session.trust_env = org.ca_file, False
    settings = zeep.Settings(strict=True, xsd_ignore_sequence_order=False)
    return zeep.Client(str(wsdl), transport=zeep.Transport(session=session), settings=settings)


@pytest.fixture(scope="module")
def partner(shared_dir: Path, demo_org: DemoOrg) -> Iterator[Any]:
    client = _client(shared_dir / "wsdl" / "partner-v66.wsdl", demo_org)
    yield client.create_service(f"{{{PARTNER}}}SoapBinding", f"{demo_org.instance_url}/services/Soap/u/66.0")


@pytest.fixture(scope="module")
def mdapi(shared_dir: Path, demo_org: DemoOrg) -> Iterator[Any]:
    client = _client(shared_dir / "wsdl" / "metadata-v66.wsdl", demo_org)
    yield client.create_service(f"{{{MD}}}MetadataBinding", f"{demo_org.instance_url}/services/Soap/m/66.0")


def _hdr(org: DemoOrg, batch: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"SessionHeader": {"sessionId": org.access_token}}
    if batch:
        out["QueryOptions"] = {"batchSize": batch, "scope": xsd.SkipValue}
    return out


def _any(record: Any) -> dict[str, Any]:
    """The ``any`` fields of a partner sObject: {local name: text or nested sObject}."""
    out: dict[str, Any] = {}
    for item in record._value_1 or []:
        if isinstance(item, etree._Element):
            out[etree.QName(item).localname] = item.text
        else:
            out[item.type] = item
    return out


# --- partner SOAP ---------------------------------------------------------------------------------------
def test_partner_login_parses_strictly(partner: Any, demo_org: DemoOrg) -> None:
    result = partner.login(demo_org.username, demo_org.password)
    assert result.serverUrl.startswith(f"{demo_org.instance_url}/services/Soap/u/66.0/")
    assert result.metadataServerUrl.startswith(f"{demo_org.instance_url}/services/Soap/m/66.0/")
    info = result.userInfo
    assert info.userName == demo_org.username and info.chatterExternal is False and info.roleId is None
    assert info.organizationId.startswith("00D") and info.sessionSecondsValid == 7200


def test_partner_login_fault(partner: Any, demo_org: DemoOrg) -> None:
    with pytest.raises(Fault) as info:
        partner.login(demo_org.username, "wrong")
    assert info.value.code == "sf:INVALID_LOGIN" and demo_org.password not in str(info.value)
    assert etree.QName(info.value.detail[0]).localname == "LoginFault"


def test_partner_query_and_query_more_page_through_every_row(partner: Any, demo_org: DemoOrg) -> None:
    total = len(demo_org.state.objects["LoginHistory"])
    page = partner.query(
        "SELECT Id, LoginTime FROM LoginHistory", _soapheaders=_hdr(demo_org, 200)
    ).body.result
    assert page.size == total and page.done is False and len(page.records) == 200
    ids = [r.Id for r in page.records]
    while not page.done:
        page = partner.queryMore(page.queryLocator, _soapheaders=_hdr(demo_org)).body.result
        ids += [r.Id for r in page.records]
    assert len(ids) == len(set(ids)) == total and page.queryLocator is None
    # Id is repeated in the any-part when selected (as Salesforce does); dateTimes end in Z
    fields = _any(
        partner.query(
            "SELECT Id, LoginTime FROM LoginHistory LIMIT 1", _soapheaders=_hdr(demo_org)
        ).body.result.records[0]
    )
    assert fields["Id"] and fields["LoginTime"].endswith(".000Z")


def test_partner_query_parents_nulls_and_aggregates(partner: Any, demo_org: DemoOrg) -> None:
    result = partner.query(
        "SELECT Name, CreatedBy.Name, MobileStartUrl FROM ConnectedApplication ORDER BY Name LIMIT 5",
        _soapheaders=_hdr(demo_org),
    ).body.result
    first = result.records[0]
    assert first.type == "ConnectedApplication" and first.Id is None  # Id not selected: nil
    fields = _any(first)
    assert fields["User"].type == "User" and _any(fields["User"])["Name"] == "Demo Admin"
    count = partner.query("SELECT COUNT() FROM ConnectedApplication", _soapheaders=_hdr(demo_org)).body.result
    assert count.size == len(demo_org.truth()["apps"]) and count.records == []
    grouped = partner.query(
        "SELECT Type, COUNT(Id) n FROM AppMenuItem GROUP BY Type", _soapheaders=_hdr(demo_org)
    ).body.result
    assert grouped.records[0].type == "AggregateResult"
    assert isinstance(grouped.records[0]._value_1[1], int)  # xsi:type="xsd:int" reached the client


def test_partner_query_faults(partner: Any, demo_org: DemoOrg) -> None:
    with pytest.raises(Fault) as info:
        partner.query("SELECT Nope FROM User", _soapheaders=_hdr(demo_org))
    assert info.value.code == "sf:INVALID_FIELD"
    detail = info.value.detail[0]
    assert etree.QName(detail).localname == "InvalidFieldFault"
    assert [etree.QName(e).localname for e in detail] == [
        "exceptionCode",
        "exceptionMessage",
        "row",
        "column",
    ]
    with pytest.raises(Fault) as info:
        partner.queryMore("01gNOPE-200", _soapheaders=_hdr(demo_org))
    assert info.value.code == "sf:INVALID_QUERY_LOCATOR"
    with pytest.raises(Fault) as info:
        partner.query("SELECT Id FROM User", _soapheaders={"SessionHeader": {"sessionId": "00Dx!bad"}})
    assert info.value.code == "sf:INVALID_SESSION_ID"


def test_partner_get_user_info(partner: Any, demo_org: DemoOrg) -> None:
    info = partner.getUserInfo(_soapheaders=_hdr(demo_org)).body.result
    assert info.userName == demo_org.username


# --- Metadata API -------------------------------------------------------------------------------------
def test_describe_metadata_parses_strictly(mdapi: Any, demo_org: DemoOrg) -> None:
    result = mdapi.describeMetadata(66.0, _soapheaders=_hdr(demo_org))
    names = {o.xmlName for o in result.metadataObjects}
    assert {"ConnectedApp", *ECA_TYPES} <= names and result.partialSaveAllowed is True


def test_every_record_of_every_type_parses_strictly(mdapi: Any, demo_org: DemoOrg) -> None:
    # unloadable installed apps fail a whole readMetadata call (tested in tests/test_org_partial.py)
    future = set(demo_org.truth()["future_element_apps"]) | set(demo_org.truth()["unloadable"])
    read = 0
    for type_name in ["ConnectedApp", *ECA_TYPES]:
        props = mdapi.listMetadata([{"type": type_name}], 66.0, _soapheaders=_hdr(demo_org))
        names = [p.fullName for p in props if p.fullName not in future]
        assert all(p.type == type_name and p.id and p.fileName for p in props)
        for i in range(0, len(names), 10):
            records = mdapi.readMetadata(type_name, names[i : i + 10], _soapheaders=_hdr(demo_org))
            read += sum(1 for r in records if r is not None and r.fullName)
    assert read >= len(demo_org.truth()["apps"]) - len(future) - len(
        demo_org.truth()["categories"]["packaged"]
    )
    # the seeded "future" element is not in the v66 schema: a strict v66 client refuses it (documented)
    future_apps = demo_org.truth()["future_element_apps"]
    if future_apps:
        with pytest.raises(XMLParseError, match="isFutureFlag2030"):
            mdapi.readMetadata("ConnectedApp", sorted(future_apps)[:1], _soapheaders=_hdr(demo_org))


def test_update_metadata_result_shape(mdapi: Any, fresh_demo_org: DemoOrg) -> None:
    name = fresh_demo_org.truth()["categories"]["local"][0]
    record = mdapi.readMetadata("ConnectedApp", [name], _soapheaders=_hdr(fresh_demo_org))[0]
    record.description = "edited by zeep"
    (result,) = mdapi.updateMetadata([record], _soapheaders=_hdr(fresh_demo_org))
    assert (result.fullName, result.success, result.errors) == (name, True, [])
    record.fullName = "No_Such_App"  # zeep itself refuses records that miss required elements
    (failed,) = mdapi.updateMetadata([record], _soapheaders=_hdr(fresh_demo_org))
    assert failed.success is False and failed.errors[0].statusCode == "INVALID_CROSS_REFERENCE_KEY"
    assert failed.errors[0].message and failed.errors[0].fields == ["fullName"]


# --- raw HTTP: the documented shapes ------------------------------------------------------------------
def test_raw_rest_query_shape(demo_org: DemoOrg) -> None:
    s = demo_org.requests_session()
    base = f"{demo_org.instance_url}/services/data/v66.0"
    auth = {"Authorization": f"Bearer {demo_org.access_token}", "Sforce-Query-Options": "batchSize=200"}
    r = s.get(f"{base}/query", params={"q": "SELECT Id FROM LoginHistory"}, headers=auth, timeout=30)
    body = r.json()
    assert r.headers["Content-Type"].startswith("application/json")
    assert list(body) == ["totalSize", "done", "nextRecordsUrl", "records"] and body["done"] is False
    assert body["nextRecordsUrl"].startswith("/services/data/v66.0/query/")
    rec = body["records"][0]
    assert rec["attributes"]["type"] == "LoginHistory"
    assert rec["attributes"]["url"] == f"/services/data/v66.0/sobjects/LoginHistory/{rec['Id']}"
    more = s.get(demo_org.instance_url + body["nextRecordsUrl"], headers=auth, timeout=30).json()
    assert more["totalSize"] == body["totalSize"] and len(more["records"]) == 200
    bad = s.get(f"{base}/query", params={"q": "SELECT FROM"}, headers=auth, timeout=30)
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "MALFORMED_QUERY"
    assert set(bad.json()[0]) == {"message", "errorCode"}
    unauth = s.get(f"{base}/limits", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert unauth.status_code == 401 and unauth.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_raw_partner_soap_fault_shape(demo_org: DemoOrg) -> None:
    body = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:p="{PARTNER}"><soapenv:Header><p:SessionHeader><p:sessionId>{demo_org.access_token}'
        "</p:sessionId></p:SessionHeader></soapenv:Header><soapenv:Body><p:query><p:queryString>"
        "SELECT Id FROM Nope</p:queryString></p:query></soapenv:Body></soapenv:Envelope>"
    )
    r = demo_org.requests_session().post(
        f"{demo_org.instance_url}/services/Soap/u/66.0",
        data=body.encode(),
        headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
        timeout=30,
    )
    assert r.status_code == 500 and r.headers["Content-Type"].startswith("text/xml")
    fault = etree.fromstring(r.content).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault is not None and fault.findtext("faultcode") == "sf:INVALID_TYPE"
    assert fault.findtext("faultstring", "").startswith("INVALID_TYPE: ")
    detail = fault.find("detail")[0]  # type: ignore[index]
    assert detail.tag == "{urn:fault.partner.soap.sforce.com}InvalidSObjectFault"
