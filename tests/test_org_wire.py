"""Pure parts of the live-org source: SOAP envelopes and answers, retry policy, accounting, joins.

The SOAP checks compare against the requests unmodified simple-salesforce/zeep sent (../shared wire samples);
the joins run on hand-built rows. No server here: the integration tests talk HTTPS to the demo org.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import requests
from lxml import etree

from toolkit.errors import OrgError
from toolkit.model.document import MetadataDocument
from toolkit.sources import mdapi_client as soap
from toolkit.sources.joins import OrgFacts, join
from toolkit.sources.ledger import Ledger, kind_of
from toolkit.sources.resilience import CallFailed, RetryPolicy, with_retries

SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
MD = "{http://soap.sforce.com/2006/04/metadata}"


def _wire(shared: Path, name: str) -> bytes:
    """The XML part of a wire sample (after the >>>/<<< header lines)."""
    data = (shared / "docs" / "wire-samples" / name).read_bytes()
    return data[data.index(b"<?xml") :].strip()


def _op(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope)
    return root.find(f"{SOAP}Body")[0]


@pytest.mark.shared
def test_list_request_matches_what_zeep_sends(shared_dir: Path) -> None:
    theirs = _op(_wire(shared_dir, "md_listMetadata.request.xml"))
    ours = _op(soap.list_metadata_request("SID", ["ConnectedApp"], "59.0"))
    assert ours.tag == theirs.tag
    assert [c.tag for c in ours.iter()] == [c.tag for c in theirs.iter()]
    assert [c.text for c in ours.iter() if len(c) == 0] == [c.text for c in theirs.iter() if len(c) == 0]


@pytest.mark.shared
def test_read_request_matches_what_zeep_sends(shared_dir: Path) -> None:
    theirs = _op(_wire(shared_dir, "md_readMetadata.request.xml"))
    ours = _op(soap.read_metadata_request("SID", "ConnectedApp", ["App_001"]))
    assert [(c.tag, c.text) for c in ours] == [(c.tag, c.text) for c in theirs]
    header = etree.fromstring(soap.read_metadata_request("SECRET-SID", "ConnectedApp", ["A"])).find(
        f"{SOAP}Header"
    )
    assert header.find(f"{MD}SessionHeader/{MD}sessionId").text == "SECRET-SID"


@pytest.mark.shared
def test_list_and_read_answers_parse(shared_dir: Path) -> None:
    rows = soap.parse_list_result(soap.parse_body(_wire(shared_dir, "md_listMetadata.response.xml"), 200))
    assert len(rows) == 25 and rows[0]["fullName"] == "App_001" and rows[0]["id"].startswith("0H4")
    assert rows[0]["manageableState"] == "unmanaged"
    records = soap.parse_read_records(soap.parse_body(_wire(shared_dir, "md_readMetadata.response.xml"), 200))
    doc = soap.record_to_document(records[0], "ConnectedApp", "https://org")
    assert (doc.type_name, doc.full_name, doc.get("label")) == ("ConnectedApp", "App_001", "App 001")
    assert doc.get_all("oauthConfig.scopes") == ["Api", "RefreshToken", "Web"]


@pytest.mark.shared
def test_fault_answer_is_a_typed_failure(shared_dir: Path) -> None:
    with pytest.raises(CallFailed) as err:
        soap.parse_body(_wire(shared_dir, "md_readMetadata_fault.response.xml"), 500)
    assert err.value.code == "EXCEEDED_ID_LIMIT" and err.value.category == "fatal"


def test_unknown_elements_and_nil_records_survive() -> None:
    body = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b"<s:Body><readMetadataResponse><result>"
        b'<records xsi:type="ConnectedApp"><fullName>A</fullName><label>A</label>'
        b'<brandNewSetting2027><deep>x</deep></brandNewSetting2027><contactEmail xsi:nil="true"/></records>'
        b'<records xsi:nil="true"/></result></readMetadataResponse></s:Body></s:Envelope>'
    )
    records = soap.parse_read_records(soap.parse_body(body, 200))
    assert [soap.record_full_name(r) for r in records] == ["A", None]
    doc = soap.record_to_document(records[0], "ConnectedApp", "https://org")
    assert doc.get("brandNewSetting2027.deep") == "x" and doc.is_nil("contactEmail")


def test_consumer_secret_never_kept() -> None:
    rec = etree.fromstring(
        b'<records xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        b' xsi:type="ExtlClntAppGlobalOauthSettings"><fullName>E_glbl</fullName>'
        b"<consumerKey>3MVG9KEYKEYKEY</consumerKey><consumerSecret>TOPSECRET123</consumerSecret></records>"
    )
    doc = soap.record_to_document(rec, "ExtlClntAppGlobalOauthSettings", "https://org")
    assert b"TOPSECRET123" not in doc.to_bytes() and doc.get("consumerKey") == "3MVG9KEYKEYKEY"


def test_batch_limits_enforced() -> None:
    with pytest.raises(ValueError):
        soap.read_metadata_request("S", "ConnectedApp", [f"A{i}" for i in range(11)])
    with pytest.raises(ValueError):
        soap.list_metadata_request("S", ["a", "b", "c", "d"], "66.0")


# --- retries -----
def _flaky(failures: list[BaseException]) -> tuple[list[int], object]:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "ok"

    return calls, fn


def test_transient_faults_are_retried_with_growing_backoff() -> None:
    waits: list[float] = []
    calls, fn = _flaky(
        [
            CallFailed("HTTP_503", "x", status=503),
            requests.ConnectionError("reset"),
            CallFailed("SERVER_UNAVAILABLE", "x"),
        ]
    )
    assert (
        with_retries(
            fn, what="q", policy=RetryPolicy(base=1.0, cap=100), sleep=waits.append, rng=random.Random(3)
        )
        == "ok"
    )
    assert len(calls) == 4 and len(waits) == 3
    assert all(0 <= w <= 2 ** (i + 1) for i, w in enumerate(waits))


def test_limit_errors_wait_then_give_up_with_a_typed_error() -> None:
    waits: list[float] = []
    _, fn = _flaky([CallFailed("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", retry_after=7)] * 5)
    with pytest.raises(OrgError) as err:
        with_retries(
            fn, what="readMetadata ConnectedApp", policy=RetryPolicy(limit_attempts=3), sleep=waits.append
        )
    assert err.value.kind == "REQUEST_LIMIT_EXCEEDED" and waits == [7, 7]
    assert "readMetadata ConnectedApp" in str(err.value)


def test_persistent_5xx_becomes_org_error_after_the_policy() -> None:
    calls, fn = _flaky([CallFailed("HTTP_500", "boom", status=500)] * 10)
    with pytest.raises(OrgError, match="still failing after 3 tries"):
        with_retries(fn, what="q", policy=RetryPolicy(attempts=3), sleep=lambda s: None)
    assert len(calls) == 3


def test_expired_session_relogs_in_once_and_only_when_possible() -> None:
    relogins: list[int] = []

    def reauth() -> bool:
        relogins.append(1)
        return True

    _, fn = _flaky([CallFailed("INVALID_SESSION_ID", "expired")])
    assert with_retries(fn, what="q", policy=RetryPolicy(), reauth=reauth, sleep=lambda s: None) == "ok"
    _, fn = _flaky([CallFailed("INVALID_SESSION_ID", "expired")] * 2)
    with pytest.raises(OrgError, match="cannot log in again"):
        with_retries(fn, what="q", policy=RetryPolicy(), reauth=reauth, sleep=lambda s: None)
    assert len(relogins) == 2
    _, fn = _flaky([CallFailed("INVALID_SESSION_ID", "expired")])
    with pytest.raises(OrgError):
        with_retries(fn, what="q", policy=RetryPolicy(), reauth=None, sleep=lambda s: None)


def test_errors_never_show_secrets() -> None:
    token = "00D000000000001!AQ" + "x" * 40
    _, fn = _flaky([CallFailed("INVALID_FIELD", f"bad field near sessionId={token} and pw hunter2secret")])
    with pytest.raises(OrgError) as err:
        with_retries(fn, what="q", policy=RetryPolicy(), sleep=lambda s: None, secrets=("hunter2secret",))
    assert token not in str(err.value) and "hunter2secret" not in str(err.value)


# --- accounting -----
def test_call_kinds() -> None:
    assert kind_of("GET", "https://h/services/data/") == "versions"
    assert kind_of("GET", "https://h/services/data/v66.0/limits/") == "limits"
    assert kind_of("GET", "https://h/services/data/v66.0/query/01g5gDA57443CAC-2000") == "query"
    assert kind_of("POST", "https://h/services/data/v66.0/jobs/query") == "bulk2"
    assert kind_of("GET", "https://h/services/data/v66.0/jobs/query/750x/results") == "bulk2"
    assert kind_of(
        "POST", "https://h/services/Soap/m/66.0/", soap.list_metadata_request("s", ["X"], "66.0")
    ) == ("listMetadata")
    assert kind_of("POST", "https://h/.salesforce.com/services/oauth2/token") == "auth"
    led = Ledger()
    led.record("query", "api-usage=5/100")
    led.record("versions")
    assert led.counted_calls() == 1 and led.usage_last == 5


# --- joins -----
def _ca_doc(name: str, label: str) -> MetadataDocument:
    return MetadataDocument.from_bytes(
        f'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata"><label>{label}</label></ConnectedApp>'.encode(),
        full_name=name,
    )


def test_join_classifies_every_kind_of_app() -> None:
    facts = OrgFacts(origin="https://org")
    facts.listing = [
        {
            "type": "ConnectedApp",
            "fullName": "ById",
            "id": "0H4000000000001AAA",
            "manageableState": "unmanaged",
        },
        {
            "type": "ConnectedApp",
            "fullName": "ByLabel",
            "id": "0H4999999999999AAA",
            "manageableState": "unmanaged",
        },
        {
            "type": "ConnectedApp",
            "fullName": "Pkg",
            "id": "0H4000000000003AAA",
            "namespacePrefix": "acme",
            "manageableState": "installed",
        },
        {
            "type": "ConnectedApp",
            "fullName": "Ghost",
            "id": "0H4000000000009AAA",
            "manageableState": "unmanaged",
        },
    ]
    facts.documents = {
        ("ConnectedApp", "ById"): _ca_doc("ById", "By Id"),
        ("ConnectedApp", "ByLabel"): _ca_doc("ByLabel", "By Label"),
        ("ConnectedApp", "Ghost"): _ca_doc("Ghost", "Nobody"),
    }
    facts.soql = {
        "ConnectedApplication": [
            {"Id": "0H4000000000001AAA", "Name": "By Id", "PinLength": "6"},
            {"Id": "0H4000000000002AAA", "Name": "By Label", "PinLength": "4"},
            {"Id": "0H4000000000003AAA", "Name": "Acme Mobile"},
            {"Id": "0H4000000000004AAA", "Name": "Installed Elsewhere"},
        ],
        "AppMenuItem": [
            {"Id": "0DS000000000001AAA", "ApplicationId": "0H4000000000001AAA"},
            {"Id": "0DS000000000004AAA", "ApplicationId": "0H4000000000004", "NamespacePrefix": "ie"},
        ],
        "SetupEntityAccess": [{"SetupEntityId": "0H4000000000001AAA", "Parent": {"Name": "PS1"}}],
        "OauthToken": [
            {"AppName": "By Id", "AppMenuItemId": "0DS000000000001AAA", "UserId": "005A"},
            {"AppName": "By Label", "AppMenuItemId": None, "UserId": "005B"},
            {"AppName": "Phantom Thing", "AppMenuItemId": None, "UserId": "005C"},
        ],
        "LoginHistory": [
            {"Application": "Phantom Thing", "UserId": "005C"},
            {"Application": "Installed Elsewhere", "UserId": "005D"},
        ],
    }
    apps = {b.name: b for b in join(facts)}
    assert (apps["ById"].coverage, apps["ById"].soql["join_key"], apps["ById"].soql["installed"]) == (
        "metadata+soql",
        "id",
        True,
    )
    assert apps["ById"].soql["ConnectedApplication"]["PinLength"] == "6"
    assert len(apps["ById"].soql["SetupEntityAccess"]) == 1
    assert (apps["ByLabel"].coverage, apps["ByLabel"].soql["join_key"]) == ("metadata+soql", "label")
    assert (apps["Pkg"].coverage, apps["Pkg"].editable) == ("soql_only", False)
    assert "namespace acme" in apps["Pkg"].coverage_reason
    assert (
        apps["Installed Elsewhere"].coverage == "soql_only" and apps["Installed Elsewhere"].soql["installed"]
    )
    assert (
        apps["Ghost"].coverage == "metadata"
        and "no ConnectedApplication row" in apps["Ghost"].coverage_reason
    )
    assert apps["Phantom Thing"].coverage == "tokens_only" and not apps["Phantom Thing"].editable
    assert [r["_app"] for r in facts.soql["OauthToken"]] == ["ById", "ByLabel", "Phantom Thing"]
    assert [r["_app"] for r in facts.soql["LoginHistory"]] == ["Phantom Thing", "Installed Elsewhere"]


def test_ambiguous_labels_are_not_joined() -> None:
    facts = OrgFacts(
        origin="https://org",
        listing=[
            {"type": "ConnectedApp", "fullName": n, "id": f"0H4{i:015d}"} for i, n in enumerate(["A1", "A2"])
        ],
    )
    facts.documents = {("ConnectedApp", n): _ca_doc(n, "Same") for n in ("A1", "A2")}
    facts.soql = {"ConnectedApplication": [{"Id": "0H4999999999999AAA", "Name": "Same"}]}
    apps = {b.name: b for b in join(facts)}
    assert apps["A1"].coverage == apps["A2"].coverage == "metadata"
    assert apps["Same"].coverage == "soql_only"
