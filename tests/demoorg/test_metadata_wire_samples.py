"""The captured simple-salesforce/zeep Metadata API requests (../shared/docs/wire-samples) against the
handler: each is understood, and each answer carries at least the elements the captured answer had."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from toolkit.demoorg.metadata_api import handle_metadata_soap, put_component
from toolkit.demoorg.models import OrgState
from toolkit.model.document import MetadataDocument

MD = "http://soap.sforce.com/2006/04/metadata"
USER = {"Id": "0055g0000000001AAA", "Username": "admin@example.com", "client_id": None}


def body_of(path: Path) -> bytes:
    """The HTTP body of a captured request/response (after the header lines and the blank line)."""
    text = path.read_bytes()
    return text.split(b"\n\n", 1)[1].strip()


def tags(data: bytes) -> set[str]:
    """Element names of a response, without the content of records (that is the org's data, not the shape)."""
    out: set[str] = set()
    for e in etree.fromstring(data).iter():
        if isinstance(e.tag, str) and not any(
            etree.QName(a).localname == "records" for a in e.iterancestors()
        ):
            out.add(etree.QName(e).localname)
    return out


@pytest.fixture
def wire(shared_dir: Path) -> Path:
    return shared_dir / "docs" / "wire-samples"


@pytest.fixture
def org() -> OrgState:
    st = OrgState(org_id="00D5g0000000001AAA")
    names = [f"App_{i:03d}" for i in range(1, 12)] + ["New_App", "Deployed_App"]
    for name in names:
        xml = (
            f'<ConnectedApp xmlns="{MD}"><contactEmail>o@example.com</contactEmail><label>{name}</label>'
            "<oauthConfig><callbackUrl>https://x.example.com/cb</callbackUrl><scopes>Api</scopes></oauthConfig>"
            "</ConnectedApp>"
        )
        put_component(st, MetadataDocument.from_bytes(xml.encode(), full_name=name))
    return st


@pytest.mark.parametrize(
    "op", ["describeMetadata", "listMetadata", "readMetadata", "updateMetadata", "renameMetadata"]
)
def test_captured_request_is_answered_with_the_captured_shape(wire: Path, org: OrgState, op: str) -> None:
    status, data = handle_metadata_soap(org, body_of(wire / f"md_{op}.request.xml"), USER)
    assert status == 200, data[:300]
    expected = body_of(wire / f"md_{op}.response.xml")
    assert tags(expected) <= tags(data)
    assert b"<success>false</success>" not in data


def test_captured_delete_after_rename(wire: Path, org: OrgState) -> None:
    handle_metadata_soap(org, body_of(wire / "md_renameMetadata.request.xml"), USER)
    status, data = handle_metadata_soap(org, body_of(wire / "md_deleteMetadata.request.xml"), USER)
    assert status == 200 and b"<success>true</success>" in data
    assert ("ConnectedApp", "Renamed_App") not in org.metadata


@pytest.mark.parametrize("op", ["createMetadata", "upsertMetadata"])
def test_captured_create_of_a_connected_app_is_refused(wire: Path, org: OrgState, op: str) -> None:
    del org.metadata[("ConnectedApp", "New_App")]
    status, data = handle_metadata_soap(org, body_of(wire / f"md_{op}.request.xml"), USER)
    assert status == 200 and b"INSUFFICIENT_ACCESS_OR_READONLY" in data
    assert ("ConnectedApp", "New_App") not in org.metadata


def test_captured_read_of_eleven_names_gives_the_captured_fault(wire: Path, org: OrgState) -> None:
    status, data = handle_metadata_soap(org, body_of(wire / "md_readMetadata_fault.request.xml"), USER)
    expected = body_of(wire / "md_readMetadata_fault.response.xml")
    assert status == 500 and tags(expected) <= tags(data)
    assert re.search(rb"<faultcode>sf:EXCEEDED_ID_LIMIT</faultcode>", data)


def _job(data: bytes) -> str:
    found = etree.fromstring(data).find(f".//{{{MD}}}id")
    assert found is not None and found.text
    return found.text


def test_captured_deploy_and_retrieve_flow(wire: Path, org: OrgState) -> None:
    status, data = handle_metadata_soap(org, body_of(wire / "md_deploy.request.xml"), USER)
    assert status == 200 and tags(body_of(wire / "md_deploy.response.xml")) <= tags(data)
    check = body_of(wire / "md_checkDeployStatus.request.xml").replace(
        b"0Af5gDFBCCC8969", _job(data).encode()
    )
    status, data = handle_metadata_soap(org, check, USER)
    assert status == 200 and b"<status>Succeeded</status>" in data
    assert tags(body_of(wire / "md_checkDeployStatus.response.xml")) <= tags(data)
    status, data = handle_metadata_soap(org, body_of(wire / "md_retrieve.request.xml"), USER)
    assert status == 200
    check = body_of(wire / "md_checkRetrieveStatus.request.xml").replace(
        b"09S5gB1EB97999B", _job(data).encode()
    )
    status, data = handle_metadata_soap(org, check, USER)
    assert status == 200 and tags(body_of(wire / "md_checkRetrieveStatus.response.xml")) <= tags(data)
    assert data.count(b"<fileProperties>") == 2
