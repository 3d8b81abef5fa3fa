"""simple-salesforce's Metadata API client (zeep) through core's routing: session check, counting, the
5000-app full readMetadata sweep. Metadata behaviours themselves are tested by the metadata part."""

from __future__ import annotations

import time

import pytest
from simple_salesforce import Salesforce
from zeep.exceptions import Fault

from toolkit.demoorg import DemoOrg

pytestmark = pytest.mark.xdist_group("demo_org")


def _sf(org: DemoOrg, monkeypatch: pytest.MonkeyPatch, token: str | None = None) -> Salesforce:
    # zeep builds its own requests session: it trusts the org through REQUESTS_CA_BUNDLE
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", org.ca_bundle_file)
    return Salesforce(
        instance_url=org.instance_url, session_id=token or org.access_token, session=org.requests_session()
    )


def test_list_and_read_through_core(fresh_demo_org: DemoOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    org = fresh_demo_org
    sf = _sf(org, monkeypatch)
    props = sf.mdapi.list_metadata([sf.mdapi.ListMetadataQuery(type="ConnectedApp")])
    assert {p.fullName for p in props} == set(org.truth()["apps"])
    local = org.truth()["categories"]["local"][:10]
    records = sf.mdapi.ConnectedApp.read(local)
    assert [r.fullName for r in records] == local
    assert org.stats()["requests"]["readMetadata"] == 1 and org.stats()["requests"]["listMetadata"] == 1


def test_bad_session_is_a_soap_fault(demo_org: DemoOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    sf = _sf(demo_org, monkeypatch, token="00Dbogus!AQbogus")
    with pytest.raises(Fault) as info:
        sf.mdapi.list_metadata([sf.mdapi.ListMetadataQuery(type="ConnectedApp")])
    assert "INVALID_SESSION_ID" in str(info.value.code)


def test_5000_apps_full_read_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    with DemoOrg(apps=5000, ecas=10, seed=4) as org:
        sf = _sf(org, monkeypatch)
        t = time.perf_counter()
        unloadable = set(org.truth()["unloadable"])  # these fail a whole call: left out here
        names = [
            p.fullName
            for p in sf.mdapi.list_metadata([sf.mdapi.ListMetadataQuery(type="ConnectedApp")])
            if p.fullName not in unloadable
        ]
        read = nil = 0
        for i in range(0, len(names), 10):
            for record in sf.mdapi.ConnectedApp.read(names[i : i + 10]):
                read += 1
                nil += record is None or record.fullName is None
        elapsed = time.perf_counter() - t
        print(f"readMetadata sweep of {read} apps in {elapsed:.2f} s ({nil} packaged apps read as nil)")
        assert read == 5000 - len(unloadable)
        assert nil == len(org.truth()["categories"]["packaged"]) - len(unloadable)
        assert org.stats()["requests"]["readMetadata"] == -(-read // 10)
