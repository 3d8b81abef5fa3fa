"""Control endpoints, fault injection, latency, session expiry, reset (real server, real clients)."""

from __future__ import annotations

import time

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceGeneralError

from toolkit.demoorg import DemoOrg
from toolkit.demoorg.auth import new_session

pytestmark = pytest.mark.xdist_group("demo_org")


def _http(org: DemoOrg) -> tuple[requests.Session, dict[str, str]]:
    return org.requests_session(), {"Authorization": "Bearer " + org.access_token}


def _sf(org: DemoOrg, token: str | None = None) -> Salesforce:
    return Salesforce(
        instance_url=org.instance_url, session_id=token or org.access_token, session=org.requests_session()
    )


def test_stats_counts_requests_by_operation(fresh_demo_org: DemoOrg) -> None:
    org = fresh_demo_org
    sf = _sf(org)
    sf.query("SELECT Id FROM User LIMIT 1")
    sf.limits()
    sf.limits()
    s, h = _http(org)
    body = s.get(org.instance_url + "/__emulator/stats", headers=h).json()
    assert body["requests"]["query"] == 1 and body["requests"]["limits"] == 2
    assert org.stats()["requests"] == body["requests"]


def test_stats_needs_a_valid_session(demo_org: DemoOrg) -> None:
    s, _ = _http(demo_org)
    r = s.get(demo_org.instance_url + "/__emulator/stats", headers={"Authorization": "Bearer bad"})
    assert r.status_code == 401 and r.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_reset_over_http_restores_counts_and_faults(fresh_demo_org: DemoOrg) -> None:
    org = fresh_demo_org
    s, h = _http(org)
    _sf(org).limits()
    s.post(org.instance_url + "/__emulator/faults", headers=h, json={"kind": "http500", "operation": "query"})
    assert s.post(org.instance_url + "/__emulator/reset", headers=h).status_code == 200
    assert org.stats()["requests"] == {} and org.stats()["faults"] == []
    assert _sf(org).query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1


def test_expire_sessions_then_relogin(fresh_demo_org: DemoOrg) -> None:
    org = fresh_demo_org
    token = new_session(org.state, org.username).token
    s, h = _http(org)
    r = s.post(org.instance_url + "/__emulator/expire-sessions", headers=h, json={"token": token})
    assert r.json() == {"expired": 1}
    with pytest.raises(SalesforceExpiredSession):
        _sf(org, token).query("SELECT Id FROM User LIMIT 1")
    org.expire_sessions()
    with pytest.raises(SalesforceExpiredSession):
        _sf(org).limits()
    fresh = Salesforce(
        username=org.username,
        password=org.password,
        security_token="",
        domain=org.domain,
        session=org.requests_session(),
    )
    assert fresh.limits()
    org.reset()  # the admin session is valid again
    assert _sf(org).limits()


def test_http500_and_503_faults_with_count(fresh_demo_org: DemoOrg) -> None:
    org = fresh_demo_org
    s, h = _http(org)
    r = s.post(
        org.instance_url + "/__emulator/faults",
        headers=h,
        json={"kind": "http500", "operation": "query", "count": 2},
    )
    assert r.status_code == 200
    sf = _sf(org)
    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as info:
            sf.query("SELECT Id FROM User LIMIT 1")
        assert info.value.status == 500
    assert sf.query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1
    assert sf.limits()  # other operations were never affected
    org.inject_fault("http503", count=1)
    with pytest.raises(SalesforceGeneralError) as info:
        sf.limits()
    assert info.value.status == 503


def test_request_limit_exceeded_rest_and_soap(fresh_demo_org: DemoOrg) -> None:
    org = fresh_demo_org
    org.inject_fault("request_limit", operation="limits", count=1)
    s, h = _http(org)
    r = s.get(org.instance_url + "/services/data/v66.0/limits", headers=h)
    assert r.status_code == 403 and r.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    org.inject_fault("request_limit", operation="listMetadata", count=1)
    envelope = (
        '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:m="http://soap.sforce.com/2006/04/metadata"><soapenv:Header><m:SessionHeader><m:sessionId>'
        f"{org.access_token}</m:sessionId></m:SessionHeader></soapenv:Header><soapenv:Body><m:listMetadata>"
        "<m:queries><m:type>ConnectedApp</m:type></m:queries></m:listMetadata></soapenv:Body></soapenv:Envelope>"
    )
    r = s.post(
        org.instance_url + "/services/Soap/m/66.0",
        data=envelope,
        headers={"Content-Type": "text/xml", "SOAPAction": '""'},
    )
    assert r.status_code == 500 and b"sf:REQUEST_LIMIT_EXCEEDED" in r.content


def test_connection_reset_fault(fresh_demo_org: DemoOrg) -> None:
    org = fresh_demo_org
    org.inject_fault("reset", operation="limits", count=1)
    s, h = _http(org)
    with pytest.raises(requests.ConnectionError):
        s.get(org.instance_url + "/services/data/v66.0/limits", headers=h)
    assert s.get(org.instance_url + "/services/data/v66.0/limits", headers=h).status_code == 200


def test_fault_rate_is_deterministic_and_partial(fresh_demo_org: DemoOrg) -> None:
    org = fresh_demo_org
    org.inject_fault("http500", operation="limits", rate=0.5)
    s, h = _http(org)
    codes = [
        s.get(org.instance_url + "/services/data/v66.0/limits", headers=h).status_code for _ in range(40)
    ]
    assert 5 < codes.count(500) < 35 and codes.count(200) + codes.count(500) == 40


def test_bad_fault_kind_is_400_naming_allowed_kinds(demo_org: DemoOrg) -> None:
    s, h = _http(demo_org)
    r = s.post(demo_org.instance_url + "/__emulator/faults", headers=h, json={"kind": "boom"})
    assert r.status_code == 400 and "http500" in r.json()[0]["message"]


def test_latency_injection(fresh_demo_org: DemoOrg) -> None:
    org = fresh_demo_org
    s, h = _http(org)
    s.post(org.instance_url + "/__emulator/latency", headers=h, json={"ms": 60})
    t = time.perf_counter()
    s.get(org.instance_url + "/services/data/v66.0/limits", headers=h)
    assert time.perf_counter() - t >= 0.055
    org.set_latency(0)


def test_keep_alive_reuses_one_connection_and_is_fast(demo_org: DemoOrg) -> None:
    s, h = _http(demo_org)
    s.get(demo_org.instance_url + "/services/data/v66.0/limits", headers=h)
    t = time.perf_counter()
    for _ in range(30):
        r = s.get(demo_org.instance_url + "/services/data/v66.0/limits", headers=h)
        assert r.headers.get("Connection", "").lower() != "close"
    per_request = (time.perf_counter() - t) / 30
    print(f"keep-alive request: {per_request * 1000:.1f} ms")
    assert per_request < 0.03  # without TCP_NODELAY each one costs ~40 ms
