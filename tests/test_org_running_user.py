"""Integration: the audit reads what the running user may see (UserPermissionAccess) first. Run by a user
without Customize Application (OauthToken then shows only their own tokens) and without Manage Users /
Monitor Login History (LoginHistory: only their own logins), usage is unknown with the missing permission
named, never "unused". Demo org over HTTPS through simple-salesforce, as the admin and as the auditor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

import toolkit
from toolkit.demoorg import DemoOrg
from toolkit.rules.model import unknown_reason

TOKENS_WHY = (
    "OauthToken (the running user lacks Customize Application, so OauthToken shows only their own tokens)"
)
LOGINS_WHY = (
    "LoginHistory (the running user lacks Manage Users or Monitor Login History, so LoginHistory shows only "
    "their own logins)"
)


@pytest.fixture(scope="module")
def auditor_org() -> Iterator[DemoOrg]:
    with DemoOrg(apps=60, ecas=10, seed=1, user="auditor") as org:
        yield org


def _audit(demo: DemoOrg, **kw: Any) -> dict[str, pd.DataFrame]:
    org = toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
    )
    return toolkit.audit(org, **kw)


@pytest.fixture(scope="module")
def auditor_tables(auditor_org: DemoOrg) -> dict[str, pd.DataFrame]:
    return _audit(auditor_org)


def test_auditor_usage_is_unknown_with_the_permission_named(auditor_tables: Any) -> None:
    apps = auditor_tables["apps"]
    local = apps[apps["kind"] == "ConnectedApp"]
    assert len(local) and all(TOKENS_WHY in u and LOGINS_WHY in u for u in local["unknown"])
    usage = auditor_tables["usage"]
    assert usage["tokens"].isna().all() and usage["logins"].isna().all()
    # never "unused": unknown (IdpEventLog is refused to the auditor too: tests/test_org_saml_access.py)
    assert not (usage["used"] == False).fillna(False).any()  # noqa: E712
    assert usage.loc[usage["used"].notna(), "saml_logins"].gt(0).all()
    problems = " ".join(auditor_tables["problems"]["problem"])
    assert "lacks Customize Application" in problems and "Monitor Login History" in problems
    assert not apps["partial"].any()  # a visibility limit is not a failed read


def test_auditor_gets_no_unused_finding_only_cannot_check(auditor_tables: Any) -> None:
    f = toolkit.findings(auditor_tables)
    use01 = f[f["rule"] == "USE-01"]
    assert len(use01) and set(use01["status"]) == {"cannot check"}
    assert all("Customize Application" in m for m in use01["message"])
    assert not use01["message"].str.contains("unused app").any()


def test_admin_audit_is_unchanged_but_one_call(demo_org: DemoOrg) -> None:
    before = dict(demo_org.state.queried)
    tables = _audit(demo_org)
    served = {k: n - before.get(k, 0) for k, n in demo_org.state.queried.items()}
    apps = tables["apps"]
    assert not any("lacks" in str(u) for u in apps["unknown"])
    usage = tables["usage"].set_index("app")
    for name, t in demo_org.truth()["apps"].items():
        assert usage.loc[name, "tokens"] == t["tokens"], name
    assert not any("UserPermissionAccess" in p for p in tables["problems"]["problem"])
    assert "lacks" not in " ".join(tables["problems"]["problem"])
    assert served["UserPermissionAccess"] == 1  # one query, with the audit's other reads
    api = tables["api_calls"].set_index("kind")["calls"]
    assert api["TOTAL"] <= 1.1 * api["lower_bound"] + 10  # the bound counts it (+ the split reads)


def test_unknown_reason_reads_a_reason_entry() -> None:
    row = {"kind": "ConnectedApp", "coverage": "metadata+soql", "unknown": f"SetupEntityAccess; {TOKENS_WHY}"}
    why = unknown_reason(row, "tokens")
    assert why is not None and "lacks Customize Application" in why
    assert unknown_reason(row, "logins") is None
    assert "could not be read" in str(unknown_reason(row, "profiles"))


def test_permissions_the_org_cannot_tell_are_unknown_not_a_failure(fresh_demo_org: DemoOrg) -> None:
    demo = fresh_demo_org
    demo.remove_from_schema("UserPermissionAccess", "PermissionsMonitorLoginHistory")  # INVALID_FIELD
    try:
        tables = _audit(demo)
    finally:
        demo.reset()
    problems = " ".join(tables["problems"]["problem"])
    assert "query UserPermissionAccess skipped" in problems and "permissions are unknown" in problems
    assert not tables["apps"]["partial"].any()
    usage = tables["usage"].set_index("app")  # the tables are kept as read
    for name, t in demo.truth()["apps"].items():
        assert usage.loc[name, "tokens"] == t["tokens"], name


def test_auditor_strict_audit_is_not_a_failure(auditor_org: DemoOrg) -> None:
    tables = _audit(auditor_org, strict=True)  # a visibility limit raises nothing
    assert not (tables["usage"]["used"] == False).fillna(False).any()  # noqa: E712


# IdpEventLog refused to the running user (issue 14, item 2 with item 6): the demo org answers a user without
# Manage Users / Monitor Login History INSUFFICIENT_ACCESS (a guess, docs/demo-org.md); SAML usage is then
# unknown naming the permission, never "unused"; not partial, and a strict audit does not fail
SAML_WHY = "the running user lacks Manage Users or Monitor Login History"


def test_the_auditor_is_refused_idp_event_log_with_insufficient_access(auditor_org: DemoOrg) -> None:
    sf = Salesforce(
        instance_url=auditor_org.instance_url,
        session_id=auditor_org.access_token,
        session=auditor_org.requests_session(),
    )
    with pytest.raises(SalesforceError) as err:
        sf.query("SELECT AppId, COUNT(Id) n FROM IdpEventLog GROUP BY AppId")
    assert err.value.status == 403
    assert err.value.content[0]["errorCode"] == "INSUFFICIENT_ACCESS"
    assert sf.query("SELECT COUNT() FROM OauthToken")["totalSize"] == 0  # other objects: own rows, no error


def test_refused_saml_sign_ins_are_unknown_naming_the_permission(auditor_org: DemoOrg) -> None:
    truth = auditor_org.truth()
    tables = _audit(auditor_org, strict=True)  # a refusal to read the object does not stop the audit
    saml = truth["kinds"]["saml"]
    apps = tables["apps"].set_index("name")
    for name in saml:
        assert f"IdpEventLog ({SAML_WHY}" in apps.loc[name, "unknown"], name
    usage = tables["usage"].set_index("app")
    assert usage.loc[saml, "saml_logins"].isna().all()
    assert not (usage["used"] == False).fillna(False).any()  # noqa: E712  (never "unused")
    f = toolkit.findings(tables)
    use01 = f[(f["rule"] == "USE-01") & f["app"].isin(saml)].set_index("app")
    assert set(use01["status"]) == {"cannot check"}
    assert use01["message"].str.contains("Manage Users or Monitor Login History").all()
    assert not use01["message"].str.contains("unused app").any()
    assert not tables["apps"]["partial"].any()
    problems = " ".join(tables["problems"]["problem"].astype(str))
    assert "IdpEventLog" in problems and "INSUFFICIENT_ACCESS" in problems


def test_the_admin_reads_idp_event_log(demo_org: DemoOrg) -> None:
    tables = _audit(demo_org, strict=True)
    assert not tables["apps"]["unknown"].fillna("").str.contains("IdpEventLog").any()
    used = demo_org.truth()["saml"]["used"]
    assert (tables["usage"].set_index("app").loc[used, "saml_logins"] > 0).all()
