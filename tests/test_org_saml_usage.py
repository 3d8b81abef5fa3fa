"""SAML sign-ins count as use (issue 14, item 6): Salesforce records them in ``IdpEventLog`` (``AppId`` ->
``ConnectedApplication``), not in ``OauthToken`` or ``LoginHistory``. Against the demo org through
simple-salesforce and the toolkit; expectations derive from the seed's truth (``truth()["saml"]``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from simple_salesforce import Salesforce

import toolkit
from toolkit.api import audit_org
from toolkit.sources.org_inventory import soql_queries
from toolkit.sources.resilience import RetryPolicy

FAST = RetryPolicy(attempts=2, base=0.001, cap=0.001, limit_wait=0.001, limit_attempts=2)


def _connect(demo: Any) -> Any:
    return toolkit.connect(
        "demo",
        instance_url=demo.instance_url,
        access_token=demo.access_token,
        ca_file=demo.ca_file,
        policy=FAST,
    )


def _use01(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    f = toolkit.findings(tables)
    return f[(f["rule"] == "USE-01") & (f["kind"] == "ConnectedApp")].set_index("app")


def test_the_demo_org_serves_idp_event_log_for_its_used_saml_apps(demo_org: Any) -> None:
    truth = demo_org.truth()
    saml = truth["saml"]
    assert saml["used"] and saml["unused"], saml  # the seed plants both
    assert set(saml["used"]) | set(saml["unused"]) == set(truth["kinds"]["saml"])
    sf = Salesforce(
        instance_url=demo_org.instance_url,
        session_id=demo_org.access_token,
        session=demo_org.requests_session(),
    )
    described = {f["name"] for f in sf.IdpEventLog.describe()["fields"]}
    assert {
        "AppId",
        "ErrorCode",
        "Timestamp",
        "UserId",
        "SamlEntityUrl",
        "SsoType",
        "InitiatedBy",
    } <= described
    rows = sf.query_all("SELECT AppId, ErrorCode, Timestamp FROM IdpEventLog WHERE ErrorCode = 'Success'")
    ids = {r["AppId"][:15] for r in rows["records"]}
    by_name = {n: a["id"][:15] for n, a in truth["apps"].items()}
    assert ids == {by_name[n] for n in saml["used"]}


def test_used_saml_apps_are_not_flagged_unused_and_unused_ones_are(demo_org: Any) -> None:
    truth = demo_org.truth()
    tables = toolkit.audit(_connect(demo_org), strict=True)
    use01 = _use01(tables)
    failed = set(use01[use01["status"] == "fail"].index)
    assert not set(truth["saml"]["used"]) & failed
    assert set(truth["saml"]["unused"]) <= failed
    assert failed == set(truth["unused"])  # SAML or not: only what the seed left unused
    usage = tables["usage"].set_index("app")
    for name in truth["saml"]["used"]:
        assert usage.loc[name, "saml_logins"] == truth["apps"][name]["saml_logins"] > 0, name
        assert bool(usage.loc[name, "used"]) and pd.notna(usage.loc[name, "last_used"]), name
    for name in truth["saml"]["unused"]:  # failed sign-ins are not use
        assert usage.loc[name, "saml_logins"] == 0 and not usage.loc[name, "used"], name


def test_without_idp_event_log_saml_usage_is_cannot_check_never_unused(fresh_demo_org: Any) -> None:
    demo = fresh_demo_org
    try:
        demo.remove_from_schema("IdpEventLog")  # an org or user that cannot read the object: INVALID_TYPE
        truth = demo.truth()
        tables = toolkit.audit(_connect(demo), strict=True)  # a missing object does not stop the audit
        use01 = _use01(tables)
        for name in truth["kinds"]["saml"]:
            assert use01.loc[name, "status"] == "cannot check", name
            assert "SAML sign-ins (IdpEventLog" in use01.loc[name, "message"], name
        usage = tables["usage"].set_index("app")
        assert usage.loc[truth["kinds"]["saml"], "saml_logins"].isna().all()
        oauth_unused = {n for n in truth["unused"] if truth["apps"][n]["kind"] != "saml"}
        local = set(truth["categories"]["local"])
        failed = set(use01[use01["status"] == "fail"].index)
        assert oauth_unused & local <= failed  # apps known not to be SAML: still checked
        assert not tables["apps"]["partial"].any()
        problems = " ".join(tables["problems"]["problem"].astype(str))
        assert "query IdpEventLog skipped" in problems and "INVALID_TYPE" in problems
    finally:
        demo.reset()


def test_idp_event_log_costs_exactly_one_query(fresh_demo_org: Any) -> None:
    every = set(soql_queries())
    assert "IdpEventLog" in every
    inv_all, _ = audit_org(_connect(fresh_demo_org), objects=every)
    inv_less, _ = audit_org(_connect(fresh_demo_org), objects=every - {"IdpEventLog"})
    calls_all, calls_less = inv_all.extra["api"]["calls"], inv_less.extra["api"]["calls"]
    assert calls_all["query"] == calls_less["query"] + 1
    assert inv_all.extra["lower_bound"] == inv_less.extra["lower_bound"] + 1
