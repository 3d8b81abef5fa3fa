"""What the demo org serves for the Salesforce CLI, checked over HTTPS without Node.js: the OpenID Connect
UserInfo endpoint, ``query?columns=true``, ``retrieve`` with jsforce's ``<request>`` element, a
``componentType`` on every DeployResult row and the ``Organization`` fields sf's deploy reads."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from typing import Any

import pytest
import requests

from toolkit.demoorg import DemoOrg

pytestmark = pytest.mark.xdist_group("demo_org")
MD = "http://soap.sforce.com/2006/04/metadata"


def _get(org: DemoOrg, path: str, token: str | None = None, **params: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or org.access_token}"}
    return org.requests_session().get(org.instance_url + path, headers=headers, params=params, timeout=30)


def _soap(org: DemoOrg, body: str) -> str:
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soapenv:Header><SessionHeader xmlns="{MD}"><sessionId>{org.access_token}</sessionId>'
        f'</SessionHeader></soapenv:Header><soapenv:Body xmlns="{MD}">{body}</soapenv:Body>'
        "</soapenv:Envelope>"
    )
    r = org.requests_session().post(
        org.instance_url + "/services/Soap/m/66.0",
        data=envelope.encode(),
        headers={"Content-Type": "text/xml", "SOAPAction": '""'},
        timeout=30,
    )
    assert r.status_code == 200, r.text[:500]
    return r.text


def _tag(xml: str, name: str) -> str:
    m = re.search(f"<{name}>([^<]*)</{name}>", xml)
    assert m, f"no <{name}> in {xml[:300]}"
    return m.group(1)


def test_userinfo(demo_org: DemoOrg) -> None:
    info: dict[str, Any] = _get(demo_org, "/services/oauth2/userinfo").json()
    assert info["organization_id"] == demo_org.state.org_id
    assert info["preferred_username"] == demo_org.username and info["user_id"].startswith("005")
    assert info["sub"] == f"{demo_org.instance_url}/id/{info['organization_id']}/{info['user_id']}"
    assert info["urls"]["rest"].endswith("/services/data/v{version}/") and info["active"] is True
    bad = _get(demo_org, "/services/oauth2/userinfo", token="00Dx!nope")
    assert bad.status_code == 403 and bad.text == "Bad_OAuth_Token"


def test_query_columns(demo_org: DemoOrg) -> None:
    soql = "SELECT Id, Name, CreatedBy.Name, CreatedBy.Profile.Name FROM ConnectedApplication LIMIT 2"
    out = _get(demo_org, "/services/data/v66.0/query", q=soql, columns="true").json()
    assert "records" not in out and out["entityName"] == "ConnectedApplication"
    assert out["idSelected"] is True and out["keyPrefix"] == "0H4" and out["groupBy"] is False
    cols = out["columnMetadata"]
    assert [c["columnName"] for c in cols] == ["Id", "Name", "CreatedBy"]
    assert cols[0]["apexType"] == "Id" and cols[1]["textType"] is True
    joined = cols[2]["joinColumns"]
    assert [c["columnName"] for c in joined] == ["Name", "Profile"]
    assert joined[1]["joinColumns"][0]["displayName"] == "CreatedBy.Profile.Name"
    agg = _get(
        demo_org,
        "/services/data/v66.0/query",
        q="SELECT Application, COUNT(Id) n, MAX(LoginTime) FROM LoginHistory GROUP BY Application",
        columns="true",
    ).json()
    assert [(c["columnName"], c["displayName"], c["aggregate"]) for c in agg["columnMetadata"]] == [
        ("Application", "Application", False),
        ("n", "COUNT(Id)", True),
        ("expr0", "MAX(LoginTime)", True),
    ]
    assert agg["groupBy"] is True
    bad = _get(demo_org, "/services/data/v66.0/query", q="SELECT Nope FROM User", columns="true")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_organization_fields_sf_deploy_reads(demo_org: DemoOrg) -> None:
    soql = (
        "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType "
        "FROM Organization"
    )
    row = _get(demo_org, "/services/data/v66.0/query", q=soql).json()["records"][0]
    assert row["TrialExpirationDate"] is None and row["IsSandbox"] is False


def test_retrieve_with_jsforce_request_element(demo_org: DemoOrg) -> None:
    name = "Demo_JWT_Integration"
    queued = _soap(
        demo_org,
        "<retrieve><request><apiVersion>66.0</apiVersion><unpackaged><types>"
        f"<members>{name}</members><name>ConnectedApp</name></types><version>66.0</version>"
        "</unpackaged></request></retrieve>",
    )
    job = _tag(queued, "id")
    done = _soap(
        demo_org, f"<checkRetrieveStatus><asyncProcessId>{job}</asyncProcessId></checkRetrieveStatus>"
    )
    assert _tag(done, "status") == "Succeeded"
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(_tag(done, "zipFile")))) as zf:
        assert f"unpackaged/connectedApps/{name}.connectedApp" in zf.namelist()


def test_every_deploy_row_has_a_component_type(demo_org: DemoOrg) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "package.xml",
            f'<Package xmlns="{MD}"><types><members>Nope</members><name>ConnectedApp</name></types>'
            "<version>66.0</version></Package>",
        )
    zipped = base64.b64encode(buf.getvalue()).decode()
    queued = _soap(
        demo_org,
        f"<deploy><ZipFile>{zipped}</ZipFile><DeployOptions><checkOnly>true</checkOnly>"
        "<singlePackage>true</singlePackage></DeployOptions></deploy>",
    )
    job = _tag(queued, "id")
    done = _soap(
        demo_org,
        f"<checkDeployStatus><asyncProcessId>{job}</asyncProcessId><includeDetails>true</includeDetails>"
        "</checkDeployStatus>",
    )
    rows = re.findall(r"<(componentSuccesses|componentFailures)>(.*?)</\1>", done)
    assert len(rows) == 2 and all("<componentType>" in row for _, row in rows)
    assert "<componentType></componentType>" in dict(rows)["componentSuccesses"]  # package.xml's row


def test_single_access_url_and_record_counts(demo_org: DemoOrg) -> None:
    url = _get(demo_org, "/services/oauth2/singleaccess", redirect_uri="/lightning/setup/SetupOneHome/home")
    front = url.json()["frontdoor_uri"]
    assert front.startswith(demo_org.instance_url + "/secur/frontdoor.jsp?otp=")
    assert "startURL=%2Flightning%2Fsetup" in front and demo_org.access_token not in front
    counts = _get(demo_org, "/services/data/v66.0/limits/recordCount", sObjects="User,Nope").json()
    assert counts == {"sObjects": [{"count": len(demo_org.state.objects["User"]), "name": "User"}]}
