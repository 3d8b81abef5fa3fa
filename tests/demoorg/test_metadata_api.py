"""The demo org's Metadata API handler on an in-memory org (no server): every operation and error path."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import pytest
from lxml import etree

from toolkit.demoorg.metadata_api import (
    handle_metadata_soap,
    invalid_session_fault,
    put_component,
    set_item_failure,
)
from toolkit.demoorg.models import OrgState
from toolkit.model.document import MetadataDocument

MD = "http://soap.sforce.com/2006/04/metadata"
NS = {
    "m": MD,
    "s": "http://schemas.xmlsoap.org/soap/envelope/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
USER = {"Id": "0055g0000000001AAA", "Username": "admin@example.com", "client_id": None}
KEY = "3MVG9SYNTHETICKEY0000000001"


def app_xml(name: str, *, key: str = KEY, extra: str = "", email: str = "o@example.com") -> bytes:
    return (
        f'<ConnectedApp xmlns="{MD}"><contactEmail>{email}</contactEmail><label>{name}</label>'
        "<oauthConfig><callbackUrl>https://x.example.com/cb</callbackUrl>"
        f"<consumerKey>{key}</consumerKey><scopes>Api</scopes></oauthConfig>"
        "<oauthPolicy><ipRelaxation>ENFORCE</ipRelaxation><refreshTokenPolicy>infinite</refreshTokenPolicy>"
        f"</oauthPolicy>{extra}</ConnectedApp>"
    ).encode()


@pytest.fixture
def org() -> OrgState:
    st = OrgState(org_id="00D5g0000000001AAA")
    for i in range(1, 13):
        put_component(
            st,
            MetadataDocument.from_bytes(app_xml(f"App_{i:03d}", key=f"{KEY}{i}"), full_name=f"App_{i:03d}"),
        )
    put_component(
        st,
        MetadataDocument.from_bytes(
            app_xml("Future", extra="<isFutureFlag2030>true</isFutureFlag2030>"), full_name="Future"
        ),
    )
    put_component(
        st,
        MetadataDocument.from_bytes(app_xml("ns__Vendor"), full_name="ns__Vendor"),
        namespace_prefix="ns",
        manageable_state="installed",
        readable=False,
    )
    put_component(
        st,
        MetadataDocument.from_bytes(
            f'<ExternalClientApplication xmlns="{MD}"><contactEmail>e@example.com</contactEmail>'
            "<distributionState>Local</distributionState><label>Eca</label></ExternalClientApplication>".encode(),
            full_name="Eca_One",
        ),
    )
    return st


def call(st: OrgState, op: str, inner: str, header: str = "") -> tuple[int, Any]:
    body = (
        '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Header>'
        f'<ns0:SessionHeader xmlns:ns0="{MD}"><ns0:sessionId>x</ns0:sessionId></ns0:SessionHeader>{header}'
        f'</soap-env:Header><soap-env:Body><ns0:{op} xmlns:ns0="{MD}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{inner}</ns0:{op}></soap-env:Body>'
        "</soap-env:Envelope>"
    ).encode()
    status, data = handle_metadata_soap(st, body, USER)
    return status, etree.fromstring(data)


def names(n: int) -> str:
    return "".join(f"<ns0:fullNames>App_{i:03d}</ns0:fullNames>" for i in range(1, n + 1))


def md_item(doc: bytes, name: str, type_name: str = "ConnectedApp") -> str:
    d = MetadataDocument.from_bytes(doc, full_name=name)
    inner = d.to_soap_metadata().decode().split(">", 1)[1].rsplit("</metadata>", 1)[0]
    inner = inner.replace("<", "<ns0:").replace("<ns0:/", "</ns0:")
    return f'<ns0:metadata xsi:type="ns0:{type_name}">{inner}</ns0:metadata>'


def results(root: Any) -> list[dict[str, Any]]:
    out = []
    for r in root.iterfind(".//m:result", NS):
        out.append(
            {
                "fullName": r.findtext("m:fullName", None, NS),
                "success": r.findtext("m:success", None, NS),
                "created": r.findtext("m:created", None, NS),
                "codes": [e.findtext("m:statusCode", None, NS) for e in r.iterfind("m:errors", NS)],
                "messages": [e.findtext("m:message", None, NS) for e in r.iterfind("m:errors", NS)],
                "fields": [f.text for e in r.iterfind("m:errors", NS) for f in e.iterfind("m:fields", NS)],
            }
        )
    return out


def fault(root: Any) -> str:
    return root.findtext(".//faultcode") or ""


# --- read side ------------------------------------------------------------------------------------------
def test_describe_metadata_lists_connected_app_and_eca_types(org: OrgState) -> None:
    status, root = call(org, "describeMetadata", "<ns0:asOfVersion>66.0</ns0:asOfVersion>")
    xml_names = [e.text for e in root.iterfind(".//m:xmlName", NS)]
    assert (
        status == 200 and "ConnectedApp" in xml_names and "ExtlClntAppMobileConfigurablePolicies" in xml_names
    )
    assert root.findtext(".//m:partialSaveAllowed", None, NS) == "true"


def test_list_metadata_includes_packaged_with_namespace_and_state(org: OrgState) -> None:
    status, root = call(
        org,
        "listMetadata",
        "<ns0:queries><ns0:type>ConnectedApp</ns0:type></ns0:queries><ns0:asOfVersion>66.0</ns0:asOfVersion>",
    )
    rows = {r.findtext("m:fullName", None, NS): r for r in root.iterfind(".//m:result", NS)}
    assert status == 200 and len(rows) == 14
    vendor = rows["ns__Vendor"]
    assert vendor.findtext("m:namespacePrefix", None, NS) == "ns"
    assert vendor.findtext("m:manageableState", None, NS) == "installed"
    assert rows["App_001"].findtext("m:fileName", None, NS) == "connectedApps/App_001.connectedApp"
    assert rows["App_001"].findtext("m:id", None, NS).startswith("0H4")
    assert rows["App_001"].find("m:namespacePrefix", NS) is None


def test_list_metadata_more_than_three_queries_is_a_fault(org: OrgState) -> None:
    q = "<ns0:queries><ns0:type>ConnectedApp</ns0:type></ns0:queries>" * 4
    status, root = call(org, "listMetadata", q)
    assert status == 500 and fault(root) == "sf:EXCEEDED_ID_LIMIT"


def test_read_returns_typed_records_and_nil_for_unknown_and_packaged(org: OrgState) -> None:
    inner = (
        "<ns0:type>ConnectedApp</ns0:type><ns0:fullNames>App_001</ns0:fullNames>"
        "<ns0:fullNames>Nope</ns0:fullNames><ns0:fullNames>ns__Vendor</ns0:fullNames>"
    )
    status, root = call(org, "readMetadata", inner)
    recs = root.findall(".//m:records", NS)
    assert status == 200 and len(recs) == 3
    assert recs[0].get(f"{{{NS['xsi']}}}type") == "ConnectedApp"
    assert recs[0].findtext("m:fullName", None, NS) == "App_001"
    assert [r.get(f"{{{NS['xsi']}}}nil") for r in recs[1:]] == ["true", "true"]


def test_read_keeps_unknown_elements_and_never_returns_secrets(org: OrgState) -> None:
    doc = MetadataDocument.from_bytes(
        app_xml("Sec").replace(
            b"</consumerKey>", b"</consumerKey><consumerSecret>TOPSECRETVALUE</consumerSecret>"
        ),
        full_name="Sec",
    )
    put_component(org, doc)
    _, root = call(
        org,
        "readMetadata",
        "<ns0:type>ConnectedApp</ns0:type><ns0:fullNames>Future</ns0:fullNames>"
        "<ns0:fullNames>Sec</ns0:fullNames>",
    )
    data = etree.tostring(root)
    assert b"isFutureFlag2030" in data and b"TOPSECRETVALUE" not in data


def test_read_eleven_names_is_the_exceeded_id_limit_fault(org: OrgState) -> None:
    status, root = call(org, "readMetadata", "<ns0:type>ConnectedApp</ns0:type>" + names(11))
    assert status == 500 and fault(root) == "sf:EXCEEDED_ID_LIMIT"
    assert "more than 10" in (root.findtext(".//faultstring") or "")


def test_unknown_operation_malformed_xml_and_unknown_type_are_faults(org: OrgState) -> None:
    status, root = call(org, "frobnicate", "")
    assert status == 500 and fault(root) == "soapenv:Client"
    status, data = handle_metadata_soap(org, b"<not-xml", USER)
    assert status == 500 and b"soapenv:Client" in data
    status, root = call(org, "readMetadata", "<ns0:type>Nonsense</ns0:type><ns0:fullNames>A</ns0:fullNames>")
    assert status == 500 and fault(root) == "sf:INVALID_TYPE"


def test_invalid_session_fault_shape() -> None:
    status, data = invalid_session_fault()
    root = etree.fromstring(data)
    assert status == 500 and fault(root) == "sf:INVALID_SESSION_ID"


def test_describe_value_type_lists_fields_with_enums(org: OrgState) -> None:
    status, root = call(org, "describeValueType", f"<ns0:type>{{{MD}}}ConnectedApp</ns0:type>")
    assert status == 200 and root.findtext(".//m:apiCreatable", None, NS) == "false"
    top = [f.findtext("m:name", None, NS) for f in root.iterfind(".//m:result/m:valueTypeFields", NS)]
    assert "contactEmail" in top and "oauthConfig" in top
    scopes = [v.text for v in root.iterfind(".//m:fields[m:name='scopes']/m:picklistValues/m:value", NS)]
    assert "RefreshToken" in scopes


# --- write side -----------------------------------------------------------------------------------------
def test_update_replaces_component_and_bumps_last_modified(org: OrgState) -> None:
    before = org.metadata[("ConnectedApp", "App_001")].last_modified_date
    new = app_xml("App 1 renamed label", key=f"{KEY}1", extra="<startUrl>https://s.example.com</startUrl>")
    status, root = call(org, "updateMetadata", md_item(new, "App_001"))
    assert status == 200 and results(root) == [
        {"fullName": "App_001", "success": "true", "created": None, "codes": [], "messages": [], "fields": []}
    ]
    comp = org.metadata[("ConnectedApp", "App_001")]
    assert (
        comp.doc.get("label") == "App 1 renamed label" and comp.doc.get("startUrl") == "https://s.example.com"
    )
    assert comp.last_modified_date > before


def test_update_stores_unknown_elements_sent_by_the_client(org: OrgState) -> None:
    new = app_xml("App_002", key=f"{KEY}2", extra="<brandNewSetting>on</brandNewSetting>")
    call(org, "updateMetadata", md_item(new, "App_002"))
    _, root = call(
        org, "readMetadata", "<ns0:type>ConnectedApp</ns0:type><ns0:fullNames>App_002</ns0:fullNames>"
    )
    assert root.findtext(".//m:records/m:brandNewSetting", None, NS) == "on"


def test_update_that_changes_consumer_key_fails_and_masks_it(org: OrgState) -> None:
    status, root = call(org, "updateMetadata", md_item(app_xml("App_003", key="3MVG9OTHERKEY999"), "App_003"))
    (res,) = results(root)
    assert res["success"] == "false" and res["codes"] == ["FIELD_INTEGRITY_EXCEPTION"]
    assert res["fields"] == ["oauthConfig.consumerKey"] and "3MVG9OTHERKEY999" not in res["messages"][0]
    assert org.metadata[("ConnectedApp", "App_003")].doc.get("oauthConfig.consumerKey") == f"{KEY}3"


def test_update_without_consumer_key_keeps_the_stored_key(org: OrgState) -> None:
    new = app_xml("App_004").replace(f"<consumerKey>{KEY}</consumerKey>".encode(), b"")
    _, root = call(org, "updateMetadata", md_item(new, "App_004"))
    assert results(root)[0]["success"] == "true"
    assert org.metadata[("ConnectedApp", "App_004")].doc.get("oauthConfig.consumerKey") == f"{KEY}4"


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        (
            lambda x: x.replace(b"<contactEmail>o@example.com</contactEmail>", b""),
            "REQUIRED_FIELD_MISSING",
            "contactEmail",
        ),
        (lambda x: x.replace(b"<label>App_005</label>", b""), "REQUIRED_FIELD_MISSING", "label"),
        (
            lambda x: x.replace(b"<callbackUrl>https://x.example.com/cb</callbackUrl>", b""),
            "REQUIRED_FIELD_MISSING",
            "oauthConfig.callbackUrl",
        ),
        (
            lambda x: x.replace(b"<ipRelaxation>ENFORCE</ipRelaxation>", b""),
            "REQUIRED_FIELD_MISSING",
            "oauthPolicy.ipRelaxation",
        ),
        (lambda x: x.replace(b"ENFORCE", b"LOOSE"), "FIELD_INTEGRITY_EXCEPTION", "oauthPolicy.ipRelaxation"),
        (
            lambda x: x.replace(b">infinite<", b">sometimes<"),
            "FIELD_INTEGRITY_EXCEPTION",
            "oauthPolicy.refreshTokenPolicy",
        ),
        (
            lambda x: x.replace(b"<scopes>Api</scopes>", b"<scopes>Everything</scopes>"),
            "FIELD_INTEGRITY_EXCEPTION",
            "oauthConfig.scopes",
        ),
    ],
)
def test_update_checks_required_fields_and_values(org: OrgState, mutate: Any, code: str, field: str) -> None:
    before = org.metadata[("ConnectedApp", "App_005")].doc.to_bytes()
    _, root = call(org, "updateMetadata", md_item(mutate(app_xml("App_005", key=f"{KEY}5")), "App_005"))
    (res,) = results(root)
    assert res["success"] == "false" and res["codes"] == [code] and res["fields"] == [field]
    assert "App_005" in res["messages"][0]
    assert org.metadata[("ConnectedApp", "App_005")].doc.to_bytes() == before


def test_update_of_packaged_and_unknown_apps_fails(org: OrgState) -> None:
    _, root = call(
        org,
        "updateMetadata",
        md_item(app_xml("ns__Vendor"), "ns__Vendor") + md_item(app_xml("Ghost"), "Ghost"),
    )
    res = results(root)
    assert [r["codes"] for r in res] == [["CANNOT_MODIFY_MANAGED_OBJECT"], ["INVALID_CROSS_REFERENCE_KEY"]]


def test_create_connected_app_is_refused_but_eca_can_be_created(org: OrgState) -> None:
    _, root = call(org, "createMetadata", md_item(app_xml("Brand_New"), "Brand_New"))
    (res,) = results(root)
    assert res["success"] == "false" and res["codes"] == ["INSUFFICIENT_ACCESS_OR_READONLY"]
    assert "Spring '26" in res["messages"][0] and ("ConnectedApp", "Brand_New") not in org.metadata
    eca = (
        f'<ExternalClientApplication xmlns="{MD}"><contactEmail>n@example.com</contactEmail>'
        "<distributionState>Local</distributionState><label>New Eca</label></ExternalClientApplication>"
    ).encode()
    _, root = call(org, "createMetadata", md_item(eca, "New_Eca", "ExternalClientApplication"))
    assert results(root)[0]["success"] == "true"
    assert org.metadata[("ExternalClientApplication", "New_Eca")].manageable_state == "unmanaged"


def test_create_eca_settings_needs_an_existing_eca(org: OrgState) -> None:
    mob = (
        f'<ExtlClntAppMobileSettings xmlns="{MD}">'
        "<externalClientApplication>Missing</externalClientApplication>"
        "<isScreenLockEnabled>true</isScreenLockEnabled><label>m</label></ExtlClntAppMobileSettings>"
    ).encode()
    _, root = call(org, "createMetadata", md_item(mob, "M1", "ExtlClntAppMobileSettings"))
    assert results(root)[0]["codes"] == ["INVALID_CROSS_REFERENCE_KEY"]
    ok = mob.replace(b">Missing<", b">Eca_One<")
    _, root = call(org, "createMetadata", md_item(ok, "M1", "ExtlClntAppMobileSettings"))
    assert results(root)[0]["success"] == "true"


def test_upsert_reports_created_and_refuses_new_connected_apps(org: OrgState) -> None:
    _, root = call(
        org,
        "upsertMetadata",
        md_item(app_xml("App_006", key=f"{KEY}6"), "App_006") + md_item(app_xml("Not_There"), "Not_There"),
    )
    res = results(root)
    assert [(r["success"], r["created"]) for r in res] == [("true", "false"), ("false", "false")]
    assert res[1]["codes"] == ["INSUFFICIENT_ACCESS_OR_READONLY"]


def test_all_or_none_fails_the_whole_batch_and_changes_nothing(org: OrgState) -> None:
    before = org.metadata[("ConnectedApp", "App_007")].doc.to_bytes()
    header = (
        f'<ns0:AllOrNoneHeader xmlns:ns0="{MD}"><ns0:allOrNone>true</ns0:allOrNone></ns0:AllOrNoneHeader>'
    )
    items = md_item(
        app_xml("App_007", key=f"{KEY}7", extra="<startUrl>https://a</startUrl>"), "App_007"
    ) + md_item(app_xml("App_008", key="3MVG9CHANGED"), "App_008")
    _, root = call(org, "updateMetadata", items, header)
    res = results(root)
    assert [r["success"] for r in res] == ["false", "false"]
    assert res[0]["codes"] == ["ALL_OR_NONE_OPERATION_ROLLED_BACK"] and res[1]["codes"] == [
        "FIELD_INTEGRITY_EXCEPTION"
    ]
    assert org.metadata[("ConnectedApp", "App_007")].doc.to_bytes() == before
    # without the header the good item is saved (partial save, the default since v34)
    _, root = call(org, "updateMetadata", items)
    assert [r["success"] for r in results(root)] == ["true", "false"]
    assert org.metadata[("ConnectedApp", "App_007")].doc.get("startUrl") == "https://a"


def test_injected_save_failure_is_reported_per_item(org: OrgState) -> None:
    set_item_failure(org, "App_009", "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
    items = md_item(app_xml("App_009", key=f"{KEY}9"), "App_009") + md_item(
        app_xml("App_010", key=f"{KEY}10"), "App_010"
    )
    _, root = call(org, "updateMetadata", items)
    assert [r["codes"] for r in results(root)] == [["UNABLE_TO_LOCK_ROW"], []]


def test_write_of_eleven_items_is_a_fault(org: OrgState) -> None:
    items = "".join(md_item(app_xml(f"App_{i:03d}", key=f"{KEY}{i}"), f"App_{i:03d}") for i in range(1, 12))
    status, root = call(org, "updateMetadata", items)
    assert status == 500 and fault(root) == "sf:EXCEEDED_ID_LIMIT"


def test_delete_and_rename(org: OrgState) -> None:
    _, root = call(
        org,
        "renameMetadata",
        "<ns0:type>ConnectedApp</ns0:type><ns0:oldFullName>App_011"
        "</ns0:oldFullName><ns0:newFullName>App_Eleven</ns0:newFullName>",
    )
    assert results(root)[0] == {
        "fullName": "App_Eleven",
        "success": "true",
        "created": None,
        "codes": [],
        "messages": [],
        "fields": [],
    }
    old_id = org.metadata[("ConnectedApp", "App_Eleven")].id
    assert ("ConnectedApp", "App_011") not in org.metadata and old_id.startswith("0H4")
    _, root = call(
        org,
        "deleteMetadata",
        "<ns0:type>ConnectedApp</ns0:type><ns0:fullNames>App_Eleven"
        "</ns0:fullNames><ns0:fullNames>ns__Vendor</ns0:fullNames><ns0:fullNames>Ghost</ns0:fullNames>",
    )
    assert [r["codes"] for r in results(root)] == [
        [],
        ["CANNOT_MODIFY_MANAGED_OBJECT"],
        ["INVALID_CROSS_REFERENCE_KEY"],
    ]
    assert ("ConnectedApp", "App_Eleven") not in org.metadata


# --- deploy / retrieve ----------------------------------------------------------------------------------
def make_zip(files: dict[str, bytes]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return base64.b64encode(buf.getvalue()).decode()


def package(*members: str, type_name: str = "ConnectedApp") -> bytes:
    m = "".join(f"<members>{x}</members>" for x in members)
    types = f"<types>{m}<name>{type_name}</name></types>"
    return f'<Package xmlns="{MD}">{types}<version>66.0</version></Package>'.encode()


def deploy(org: OrgState, files: dict[str, bytes], **opts: bool) -> Any:
    options = {"checkOnly": False, "rollbackOnError": True, "singlePackage": True, **opts}
    xml = "".join(f"<ns0:{k}>{str(v).lower()}</ns0:{k}>" for k, v in options.items())
    status, root = call(
        org,
        "deploy",
        f"<ns0:ZipFile>{make_zip(files)}</ns0:ZipFile><ns0:DeployOptions>{xml}</ns0:DeployOptions>",
    )
    assert status == 200 and root.findtext(".//m:state", None, NS) == "Queued"
    job = root.findtext(".//m:id", None, NS)
    status, root = call(
        org,
        "checkDeployStatus",
        f"<ns0:asyncProcessId>{job}</ns0:asyncProcessId><ns0:includeDetails>true</ns0:includeDetails>",
    )
    assert status == 200
    return root.find(".//m:result", NS)


def test_deploy_updates_existing_app(org: OrgState) -> None:
    new = app_xml("Deployed label", key=f"{KEY}1")
    res = deploy(org, {"package.xml": package("App_001"), "connectedApps/App_001.connectedApp": new})
    assert res.findtext("m:status", None, NS) == "Succeeded"
    assert res.findtext("m:numberComponentsDeployed", None, NS) == "1"
    assert org.metadata[("ConnectedApp", "App_001")].doc.get("label") == "Deployed label"


def test_deploy_check_only_changes_nothing(org: OrgState) -> None:
    before = org.metadata[("ConnectedApp", "App_001")].doc.to_bytes()
    res = deploy(
        org,
        {
            "package.xml": package("App_001"),
            "connectedApps/App_001.connectedApp": app_xml("Dry", key=f"{KEY}1"),
        },
        checkOnly=True,
    )
    assert (
        res.findtext("m:status", None, NS) == "Succeeded" and res.findtext("m:checkOnly", None, NS) == "true"
    )
    assert org.metadata[("ConnectedApp", "App_001")].doc.to_bytes() == before


def test_deploy_failures_roll_back_and_are_listed(org: OrgState) -> None:
    before = org.metadata[("ConnectedApp", "App_001")].doc.to_bytes()
    files = {
        "unpackaged/package.xml": package("App_001", "App_002", "Missing_File"),
        "unpackaged/connectedApps/App_001.connectedApp": app_xml("Ok", key=f"{KEY}1"),
        "unpackaged/connectedApps/App_002.connectedApp": app_xml("Bad", key="3MVG9CHANGED"),
    }
    res = deploy(org, files, singlePackage=False)
    assert res.findtext("m:status", None, NS) == "Failed"
    problems = {
        f.findtext("m:fullName", None, NS): f.findtext("m:problem", None, NS)
        for f in res.iterfind("m:details/m:componentFailures", NS)
    }
    assert set(problems) == {"App_002", "Missing_File"} and "consumerKey" in problems["App_002"]
    assert org.metadata[("ConnectedApp", "App_001")].doc.to_bytes() == before
    res = deploy(org, files, singlePackage=False, rollbackOnError=False)
    assert res.findtext("m:status", None, NS) == "SucceededPartial"
    assert org.metadata[("ConnectedApp", "App_001")].doc.get("label") == "Ok"


def test_deploy_new_connected_app_is_refused_and_destructive_changes_delete(org: OrgState) -> None:
    res = deploy(
        org,
        {"package.xml": package("Brand_New"), "connectedApps/Brand_New.connectedApp": app_xml("Brand_New")},
    )
    assert res.findtext("m:details/m:componentFailures/m:problem", None, NS).find("Spring '26") >= 0
    res = deploy(
        org,
        {
            "package.xml": f'<Package xmlns="{MD}"><version>66.0</version></Package>'.encode(),
            "destructiveChanges.xml": package("App_012"),
        },
    )
    assert (
        res.findtext("m:status", None, NS) == "Succeeded" and ("ConnectedApp", "App_012") not in org.metadata
    )


def test_deploy_bad_zip_fails_with_error_message(org: OrgState) -> None:
    status, root = call(org, "deploy", "<ns0:ZipFile>bm90IGEgemlw</ns0:ZipFile>")
    job = root.findtext(".//m:id", None, NS)
    _, root = call(org, "checkDeployStatus", f"<ns0:asyncProcessId>{job}</ns0:asyncProcessId>")
    assert root.findtext(".//m:status", None, NS) == "Failed" and root.findtext(".//m:errorMessage", None, NS)


def retrieve(org: OrgState, unpackaged: str, single: bool = True) -> tuple[Any, dict[str, bytes]]:
    status, root = call(
        org,
        "retrieve",
        "<ns0:retrieveRequest><ns0:apiVersion>66.0</ns0:apiVersion>"
        f"<ns0:singlePackage>{str(single).lower()}</ns0:singlePackage>"
        f"<ns0:unpackaged>{unpackaged}</ns0:unpackaged></ns0:retrieveRequest>",
    )
    job = root.findtext(".//m:id", None, NS)
    status, root = call(
        org,
        "checkRetrieveStatus",
        f"<ns0:asyncProcessId>{job}</ns0:asyncProcessId><ns0:includeZip>true</ns0:includeZip>",
    )
    res = root.find(".//m:result", NS)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(res.findtext("m:zipFile", None, NS)))) as zf:
        return res, {n: zf.read(n) for n in zf.namelist()}


def test_retrieve_wildcard_excludes_packaged_and_keeps_unknown_elements(org: OrgState) -> None:
    res, files = retrieve(org, "<types><members>*</members><name>ConnectedApp</name></types>")
    assert res.findtext("m:status", None, NS) == "Succeeded"
    assert "connectedApps/App_001.connectedApp" in files and "package.xml" in files
    assert "connectedApps/ns__Vendor.connectedApp" not in files
    assert b"isFutureFlag2030" in files["connectedApps/Future.connectedApp"]
    assert len(res.findall("m:fileProperties", NS)) == 13


def test_retrieve_named_members_reports_missing_and_packaged(org: OrgState) -> None:
    res, files = retrieve(
        org,
        "<types><members>App_002</members><members>Ghost</members>"
        "<members>ns__Vendor</members><name>ConnectedApp</name></types>",
        single=False,
    )
    assert sorted(files) == ["unpackaged/connectedApps/App_002.connectedApp", "unpackaged/package.xml"]
    problems = [m.findtext("m:problem", None, NS) for m in res.iterfind("m:messages", NS)]
    assert len(problems) == 2 and "Ghost" in problems[0] and "ns__Vendor" in problems[1]


def test_created_eca_global_settings_cannot_reuse_a_consumer_key(org: OrgState) -> None:
    glbl = (
        f'<ExtlClntAppGlobalOauthSettings xmlns="{MD}"><callbackUrl>https://e.example.com/cb</callbackUrl>'
        f"<consumerKey>{KEY}1</consumerKey><externalClientApplication>Eca_One</externalClientApplication>"
        "<label>g</label></ExtlClntAppGlobalOauthSettings>"
    ).encode()
    _, root = call(org, "createMetadata", md_item(glbl, "Eca_One_glbl", "ExtlClntAppGlobalOauthSettings"))
    (res,) = results(root)
    assert res["codes"] == ["DUPLICATE_VALUE"] and "already taken" in res["messages"][0]
    fresh = glbl.replace(f"{KEY}1<".encode(), b"3MVG9BRANDNEWKEY<")
    _, root = call(org, "createMetadata", md_item(fresh, "Eca_One_glbl", "ExtlClntAppGlobalOauthSettings"))
    assert results(root)[0]["success"] == "true"
