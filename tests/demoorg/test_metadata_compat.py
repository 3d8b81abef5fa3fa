"""The demo org's Metadata API driven by unmodified simple-salesforce 1.12.10 (zeep) and by plain ``requests``
(a client that is not simple-salesforce) over the real HTTPS server."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from zeep.exceptions import Fault

from toolkit.demoorg import DemoOrg

pytestmark = pytest.mark.xdist_group("demo_org")
MD = "http://soap.sforce.com/2006/04/metadata"


@pytest.fixture(scope="module")
def shared_sf(demo_org: DemoOrg) -> Iterator[Salesforce]:
    # one client per module: zeep parses simple-salesforce's metadata WSDL once (about 0.7 s each time).
    # zeep builds its own requests session: it trusts the org through REQUESTS_CA_BUNDLE
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REQUESTS_CA_BUNDLE", demo_org.ca_bundle_file)
        yield Salesforce(
            instance_url=demo_org.instance_url,
            session_id=demo_org.access_token,
            session=demo_org.requests_session(),
        )


@pytest.fixture
def org(fresh_demo_org: DemoOrg) -> DemoOrg:
    return fresh_demo_org


@pytest.fixture
def sf(org: DemoOrg, shared_sf: Salesforce) -> Salesforce:
    return shared_sf


def local_apps(org: DemoOrg) -> list[str]:
    return list(org.truth()["categories"]["local"])


def test_list_metadata_shows_packaged_apps_with_namespace(sf: Salesforce, org: DemoOrg) -> None:
    props = sf.mdapi.list_metadata([sf.mdapi.ListMetadataQuery(type="ConnectedApp")])
    by_name = {p.fullName: p for p in props}
    packaged = org.truth()["categories"]["packaged"]
    assert set(by_name) == set(org.truth()["apps"]) and packaged
    assert by_name[packaged[0]].namespacePrefix and by_name[packaged[0]].manageableState == "installed"
    first = by_name[local_apps(org)[0]]
    assert first.manageableState == "unmanaged" and first.fileName.startswith("connectedApps/")


def test_read_one_and_ten_names(sf: Salesforce, org: DemoOrg) -> None:
    names = local_apps(org)
    one = sf.mdapi.ConnectedApp.read(names[0])
    assert one.fullName == names[0] and one.contactEmail and one.label
    ten = sf.mdapi.ConnectedApp.read(names[:10])
    assert [r.fullName for r in ten] == names[:10]
    assert all(r.oauthConfig is None or r.oauthConfig.consumerSecret is None for r in ten)


def test_eleven_names_is_a_fault(sf: Salesforce, org: DemoOrg) -> None:
    with pytest.raises(Fault) as info:
        sf.mdapi.ConnectedApp.read(local_apps(org)[:11])
    assert "EXCEEDED_ID_LIMIT" in str(info.value.code)


def test_packaged_and_unknown_apps_read_as_nil(sf: Salesforce, org: DemoOrg) -> None:
    packaged = org.truth()["categories"]["packaged"][0]
    records = sf.mdapi.ConnectedApp.read([packaged, "No_Such_App"])
    assert [getattr(r, "fullName", None) for r in records] == [None, None]


def test_update_changes_the_org_and_soql_sees_it(sf: Salesforce, org: DemoOrg) -> None:
    name = local_apps(org)[2]
    app = sf.mdapi.ConnectedApp.read(name)
    before = org.state.metadata[("ConnectedApp", name)].last_modified_date
    app.description = "Reviewed by the audit"
    app.label = "Relabelled by the audit"
    sf.mdapi.ConnectedApp.update(app)
    assert sf.mdapi.ConnectedApp.read(name).description == "Reviewed by the audit"
    app_id = org.state.metadata[("ConnectedApp", name)].id
    rows = sf.query(f"SELECT Name FROM ConnectedApplication WHERE Id = '{app_id}'")["records"]
    assert [r["Name"] for r in rows] == ["Relabelled by the audit"]
    assert org.state.metadata[("ConnectedApp", name)].last_modified_date > before
    assert org.stats()["requests"]["updateMetadata"] == 1


def test_consumer_key_change_is_a_failed_save_result(sf: Salesforce, org: DemoOrg) -> None:
    name = next(n for n in local_apps(org) if sf.mdapi.ConnectedApp.read(n).oauthConfig is not None)
    app = sf.mdapi.ConnectedApp.read(name)
    original = app.oauthConfig.consumerKey
    app.oauthConfig.consumerKey = "3MVG9ANOTHERKEYTHATISNEW"
    with pytest.raises(Exception) as info:
        sf.mdapi.ConnectedApp.update(app)
    assert "FIELD_INTEGRITY_EXCEPTION" in str(info.value) and "consumerKey" in str(info.value)
    assert original not in str(info.value)
    assert sf.mdapi.ConnectedApp.read(name).oauthConfig.consumerKey == original


def test_create_connected_app_is_refused(sf: Salesforce, org: DemoOrg) -> None:
    oauth = sf.mdapi.ConnectedAppOauthConfig(callbackUrl="https://new.example.com/cb", scopes=["Api"])
    app = sf.mdapi.ConnectedApp(
        fullName="Brand_New_App", label="Brand New", contactEmail="n@example.com", oauthConfig=oauth
    )
    with pytest.raises(Exception) as info:
        sf.mdapi.ConnectedApp.create(app)
    assert "INSUFFICIENT_ACCESS_OR_READONLY" in str(info.value) and "Spring '26" in str(info.value)
    assert ("ConnectedApp", "Brand_New_App") not in org.state.metadata


def test_packaged_app_cannot_be_updated(sf: Salesforce, org: DemoOrg) -> None:
    packaged = org.truth()["categories"]["packaged"][0]
    app = sf.mdapi.ConnectedApp(fullName=packaged, label="x", contactEmail="x@example.com")
    with pytest.raises(Exception) as info:
        sf.mdapi.ConnectedApp.update(app)
    assert "CANNOT_MODIFY_MANAGED_OBJECT" in str(info.value)


def test_describe_value_type(sf: Salesforce) -> None:
    result = sf.mdapi.ConnectedApp.describe()
    names = [f.name for f in result.valueTypeFields]
    assert result.apiCreatable is False and "oauthConfig" in names and "contactEmail" in names


def _zip(files: dict[str, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    buf.seek(0)
    return buf


def _package(*names: str) -> bytes:
    members = "".join(f"<members>{n}</members>" for n in names)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{MD}"><types>{members}'
        "<name>ConnectedApp</name></types><version>66.0</version></Package>"
    ).encode()


def test_retrieve_then_deploy_round_trip(sf: Salesforce, org: DemoOrg) -> None:
    names = local_apps(org)[2:4]
    async_id, state = sf.mdapi.retrieve("ignored", unpackaged={"ConnectedApp": names})
    assert async_id and state == "Queued"
    state, error, messages, raw = sf.mdapi.retrieve_zip(async_id)
    assert state == "Succeeded" and not error
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    path = f"connectedApps/{names[0]}.connectedApp"
    assert set(files) == {"package.xml", path, f"connectedApps/{names[1]}.connectedApp"}
    edited = re.sub(rb"<label>[^<]*</label>", b"<label>Deployed Label</label>", files[path])
    result = sf.deploy(_zip({"package.xml": _package(names[0]), path: edited}), sandbox=False)
    status = sf.checkDeployStatus(result["asyncId"])
    assert status["state"] == "Succeeded"
    assert status["deployment_detail"]["deployed_count"] == "1"
    assert sf.mdapi.ConnectedApp.read(names[0]).label == "Deployed Label"


def test_deploy_check_only_and_failures(sf: Salesforce, org: DemoOrg) -> None:
    name = local_apps(org)[3]
    path = f"connectedApps/{name}.connectedApp"
    before = org.state.metadata[("ConnectedApp", name)].doc.to_bytes()
    stored = re.sub(rb"<label>[^<]*</label>", b"<label>Dry Run</label>", before)
    result = sf.deploy(_zip({"package.xml": _package(name), path: stored}), sandbox=False, checkOnly=True)
    assert sf.checkDeployStatus(result["asyncId"])["state"] == "Succeeded"
    assert org.state.metadata[("ConnectedApp", name)].doc.to_bytes() == before
    bad = re.sub(rb"<contactEmail>[^<]*</contactEmail>", b"", before)
    result = sf.deploy(_zip({"package.xml": _package(name), path: bad}), sandbox=False)
    status = sf.checkDeployStatus(result["asyncId"])
    errors: Any = status["deployment_detail"]["errors"]  # type: ignore[index]
    assert status["state"] == "Failed" and "contactEmail" in errors[0]["message"]
    assert org.state.metadata[("ConnectedApp", name)].doc.to_bytes() == before


# --- a client that is not simple-salesforce: raw SOAP with requests -------------------------------------
def _raw(org: DemoOrg, op: str, inner: str) -> requests.Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv='
        f'"http://schemas.xmlsoap.org/soap/envelope/" xmlns:met="{MD}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header><met:SessionHeader>'
        f"<met:sessionId>{org.access_token}</met:sessionId></met:SessionHeader></soapenv:Header>"
        f"<soapenv:Body><met:{op}>{inner}</met:{op}></soapenv:Body></soapenv:Envelope>"
    )
    with requests.Session() as s:
        s.trust_env = False  # the environment's CA bundle would replace the org's
        return s.post(
            f"{org.instance_url}/services/Soap/m/66.0",
            data=body.encode(),
            verify=org.ca_file,
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
            timeout=30,
        )


def test_raw_soap_unknown_elements_survive_read_update_read(org: DemoOrg) -> None:
    from lxml import etree

    name = org.truth()["future_element_apps"][0]
    read = _raw(
        org, "readMetadata", f"<met:type>ConnectedApp</met:type><met:fullNames>{name}</met:fullNames>"
    )
    assert read.status_code == 200 and read.headers["Content-Type"].startswith("text/xml")
    record = etree.fromstring(read.content).find(f".//{{{MD}}}records")
    assert record.find(f"{{{MD}}}isFutureFlag2030") is not None
    # send the record back as it came, plus one more element this client invents
    record.tag = f"{{{MD}}}metadata"
    extra = etree.SubElement(record, f"{{{MD}}}anotherFutureSetting")
    extra.text = "42"
    update = _raw(org, "updateMetadata", etree.tostring(record).decode())
    assert update.status_code == 200 and b"<success>true</success>" in update.content
    again = etree.fromstring(
        _raw(
            org, "readMetadata", f"<met:type>ConnectedApp</met:type><met:fullNames>{name}</met:fullNames>"
        ).content
    )
    rec = again.find(f".//{{{MD}}}records")
    assert rec.findtext(f"{{{MD}}}isFutureFlag2030") == "true"
    assert rec.findtext(f"{{{MD}}}anotherFutureSetting") == "42"


def test_raw_soap_bad_session_and_unknown_operation(org: DemoOrg) -> None:
    with requests.Session() as s:
        s.trust_env = False
        body = (
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header>'
            f'<SessionHeader xmlns="{MD}"><sessionId>00Dbogus!AQbogus</sessionId></SessionHeader>'
            f'</soapenv:Header><soapenv:Body><listMetadata xmlns="{MD}"/></soapenv:Body></soapenv:Envelope>'
        )
        r = s.post(
            f"{org.instance_url}/services/Soap/m/66.0",
            data=body,
            verify=org.ca_file,
            headers={"Content-Type": "text/xml", "SOAPAction": '""'},
            timeout=30,
        )
    assert r.status_code == 500 and b"INVALID_SESSION_ID" in r.content
    r = _raw(org, "frobnicate", "")
    assert r.status_code == 500 and b"<faultcode>soapenv:Client</faultcode>" in r.content


def test_external_client_app_can_be_created_read_and_deleted(sf: Salesforce, org: DemoOrg) -> None:
    eca = sf.mdapi.ExternalClientApplication(
        fullName="Audit_Eca", label="Audit ECA", contactEmail="sec@example.com", distributionState="Local"
    )
    sf.mdapi.ExternalClientApplication.create(eca)
    oauth = sf.mdapi.ExtlClntAppOauthSettings(
        fullName="Audit_Eca_oauth",
        externalClientApplication="Audit_Eca",
        label="Audit ECA",
        commaSeparatedOauthScopes="Api, RefreshToken",
    )
    sf.mdapi.ExtlClntAppOauthSettings.create(oauth)
    props = sf.mdapi.list_metadata([sf.mdapi.ListMetadataQuery(type="ExternalClientApplication")])
    created = next(p for p in props if p.fullName == "Audit_Eca")
    assert created.manageableState == "unmanaged" and created.fileName == "externalClientApps/Audit_Eca.eca"
    assert (
        sf.mdapi.ExtlClntAppOauthSettings.read("Audit_Eca_oauth").commaSeparatedOauthScopes
        == "Api, RefreshToken"
    )
    sf.mdapi.ExtlClntAppOauthSettings.delete("Audit_Eca_oauth")
    assert ("ExtlClntAppOauthSettings", "Audit_Eca_oauth") not in org.state.metadata


def test_injected_save_failure_reaches_the_client(sf: Salesforce, org: DemoOrg) -> None:
    names = local_apps(org)[4:6]
    org.inject_fault(
        "save_failure",
        operation="updateMetadata",
        count=1,
        full_name=names[0],
        status_code="UNABLE_TO_LOCK_ROW",
        message="unable to obtain exclusive access to this record",
    )
    apps = sf.mdapi.ConnectedApp.read(names)
    original = apps[0].description
    for app in apps:
        app.description = "batch edit"
    with pytest.raises(Exception) as info:
        sf.mdapi.ConnectedApp.update(apps)
    assert "UNABLE_TO_LOCK_ROW" in str(info.value) and names[0] in str(info.value)
    # partial save: the other item of the call was saved
    assert [a.description for a in sf.mdapi.ConnectedApp.read(names)] == [original, "batch edit"]
