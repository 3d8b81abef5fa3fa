"""Org-level rules (ACC-05, ACC-06, NET-03, GOV-05): each triggers on a demo org seeded with a weak posture
and not on one seeded strong; the expectations derive from the seed's truth (``truth["org"]``), not from the
rules. A settings read that fails leaves its facts unknown (``org`` table, audit partial) and the rules
"cannot check" with the reason; a folder audit does not run them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.demoorg import DemoOrg
from toolkit.rules.org_rules import ORG_RULES
from toolkit.sources.resilience import RetryPolicy

FAST = RetryPolicy(attempts=2, base=0.001, cap=0.001, limit_wait=0.001, limit_attempts=2)
ORG_IDS = {r.id for r in ORG_RULES}


@pytest.fixture(scope="module")
def strong() -> Iterator[DemoOrg]:
    """A small demo org seeded with a strong posture (even seed)."""
    with DemoOrg(apps=12, ecas=0, seed=2) as org:
        yield org


@pytest.fixture
def fresh_demo_org(fresh_demo_org: Any) -> Any:
    """The shared demo org, reset before and after: faults must not leak to other tests."""
    yield fresh_demo_org
    fresh_demo_org.reset()


def _audit(demo: Any) -> dict[str, pd.DataFrame]:
    org = toolkit.connect(
        "demo",
        instance_url=demo.instance_url,
        access_token=demo.access_token,
        ca_file=demo.ca_file,
        policy=FAST,
    )
    return toolkit.audit(org)


def _findings(demo: Any) -> pd.DataFrame:
    return toolkit.findings(_audit(demo)).set_index("rule")


def expected(truth: dict[str, Any]) -> set[str]:
    """The org rules that must fail, from the seed's truth alone."""
    settings, holders = truth["org"]["settings"], truth["org"]["assignees"]
    oauth = settings["OauthOidcSettings"]
    continuous = settings["SecuritySettings"]["sessionSettings"]["enforceIpRangesEveryRequest"]
    local = set(truth["categories"]["local"])
    relaxed = [
        n
        for n, a in truth["apps"].items()
        if n in local and a["settings"].get("ip_relaxation") not in (None, "ENFORCE")
    ]
    out = set()
    if any(holders.values()):
        out.add("ACC-05")
    if not settings["ConnectedAppSettings"]["enableAdminApprovedAppsOnly"]:
        out.add("ACC-06")
    if continuous and relaxed:
        out.add("NET-03")
    if not (
        oauth["blockOAuthUnPwFlow"]
        and oauth["blockOAuthUsrAgtFlow"]
        and oauth["isPkceRequired"]
        and continuous
    ):
        out.add("GOV-05")
    eca = settings["ExternalClientAppSettings"]
    if eca["enableConsumerSecretApiAccess"] or eca["enableClientSecretInRestApiAccess"]:
        out.add("GOV-06")
    return out


def _failed(f: pd.DataFrame) -> set[str]:
    org = f[f["kind"] == "org"]
    return set(org[org["status"] == "fail"].index)


def test_weak_and_strong_orgs_give_the_planted_findings(demo_org: DemoOrg, strong: DemoOrg) -> None:
    weak_expected, strong_expected = expected(demo_org.truth()), expected(strong.truth())
    # every org rule triggers on one of the two orgs and passes on the other
    assert weak_expected ^ strong_expected == ORG_IDS, (weak_expected, strong_expected)
    weak_f, strong_f = _findings(demo_org), _findings(strong)
    assert _failed(weak_f) == weak_expected
    assert _failed(strong_f) == strong_expected
    row = weak_f.loc["ACC-05"]
    assert row["app"] == "(org)" and "Users with Use Any API Client" in row["observed"]
    assert not weak_f[weak_f["kind"] == "org"]["fixable_by_api"].any()


def test_a_failed_settings_read_is_cannot_check(strong: DemoOrg) -> None:
    strong.inject_fault("http500", operation="readMetadata", full_name="OauthOidcSettings")
    strong.inject_fault("http500", operation="readMetadata", full_name="ConnectedAppSettings")
    try:
        f = _findings(strong)
    finally:
        strong.reset()
    for rule in ("GOV-05", "ACC-06"):
        assert f.loc[rule, "status"] == "cannot check", rule
    assert "readMetadata OauthOidcSettings" in f.loc["GOV-05", "message"]
    assert "readMetadata ConnectedAppSettings" in f.loc["ACC-06", "message"]


# --- the org table under faults --------------------------------------------------------------------------
def test_a_failed_settings_read_is_unknown_and_partial(fresh_demo_org: Any) -> None:
    fresh_demo_org.inject_fault("http500", operation="readMetadata", full_name="OauthOidcSettings")
    tables = _audit(fresh_demo_org)
    org = tables["org"].set_index("setting")
    oauth = org[org["source"].str.startswith("OauthOidcSettings.")]
    assert len(oauth) == 3 and not oauth["known"].any() and oauth["value"].isna().all()
    assert oauth["reason"].str.contains("readMetadata OauthOidcSettings").all()
    assert org.loc["api_access_control", "known"] and org.loc["continuous_ip_enforcement", "known"]
    apps = tables["apps"]
    assert apps["partial"].all() and "readMetadata OauthOidcSettings" in apps["partial_reason"].iloc[0]


def test_a_failed_holder_query_is_unknown(fresh_demo_org: Any) -> None:
    fresh_demo_org.inject_fault("http500", operation="query", full_name="PermissionsUseAnyApiClient")
    org = _audit(fresh_demo_org)["org"].set_index("setting")
    assert not org.loc["use_any_api_client_users", "known"]
    assert org.loc["approve_uninstalled_users", "known"]


def test_folder_audits_do_not_run_org_rules(tmp_path: Path) -> None:
    app = tmp_path / "connectedApps" / "A.connectedApp-meta.xml"
    app.parent.mkdir()
    app.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<contactEmail>a@example.com</contactEmail><label>A</label></ConnectedApp>\n"
    )
    f = toolkit.findings(toolkit.audit(str(tmp_path)))
    assert not set(f["rule"]) & ORG_IDS
    for rule in ORG_IDS:
        assert f.attrs["not_run"][rule].startswith("needs an org audit"), rule


def test_folder_with_settings_files_runs_org_rules(tmp_path: Path) -> None:
    test_folder_audits_do_not_run_org_rules(tmp_path)  # the app
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "OauthOidc.settings-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OauthOidcSettings xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<blockOAuthUnPwFlow>false</blockOAuthUnPwFlow><blockOAuthUsrAgtFlow>true</blockOAuthUsrAgtFlow>"
        "<isPkceRequired>true</isPkceRequired></OauthOidcSettings>\n"
    )
    tables = toolkit.audit(str(tmp_path))
    org = tables["org"].set_index("setting")
    assert org.loc["block_username_password_flow", "value"] is False
    assert not org.loc["api_access_control", "known"]
    f = toolkit.findings(tables).set_index("rule")
    assert f.loc["GOV-05", "status"] == "fail"  # a known weak setting fails even with others unknown
    assert "Block OAuth username-password" in f.loc["GOV-05", "observed"]
    for rule in ("ACC-05", "ACC-06"):
        assert f.loc[rule, "status"] == "cannot check" and "needs an org audit" in f.loc[rule, "message"]


def test_org_findings_from_a_built_table_can_be_ignored(tmp_path: Path) -> None:
    org = pd.DataFrame(
        [
            {"setting": "use_any_api_client_users", "value": 2, "known": True, "reason": ""},
            {"setting": "approve_uninstalled_users", "value": 0, "known": True, "reason": ""},
            {"setting": "api_access_control", "value": None, "known": True, "reason": ""},  # absent: off
        ]
    )
    apps = pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "coverage": "metadata"}])
    f = toolkit.findings({"apps": apps, "org": org}).set_index("rule")
    assert f.loc["ACC-05", "status"] == "fail" and f.loc["ACC-06", "status"] == "fail"
    assert f.loc["GOV-05", "status"] == "cannot check"  # not in the table: never a pass
    assert "NET-03" not in f.index  # no app relaxes IP restrictions
    baseline = tmp_path / "b.toml"
    baseline.write_text('[[ignore]]\napp = "(org)"\nrule = "ACC-05"\nreason = "break-glass users, SEC-7"\n')
    ignored = toolkit.findings({"apps": apps, "org": org}, baseline=str(baseline)).set_index("rule")
    assert ignored.loc["ACC-05", "status"] == "ignored"


def test_an_unknown_permission_field_is_unknown_with_a_problem_not_partial() -> None:
    """An org without the field answers INVALID_FIELD: the fact is unknown, a problem row says
    why, and the audit is not partial; any other failure makes it partial."""
    from concurrent.futures import Future

    from toolkit.errors import OrgError
    from toolkit.model.bundle import LoadProblem
    from toolkit.sources import org_posture

    def done(result: Any = None, error: Exception | None = None) -> Future[Any]:
        fut: Future[Any] = Future()
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)
        return fut

    futures = {t: done(error=OrgError("UNKNOWN_EXCEPTION", "boom")) for t in org_posture.SETTINGS_FULL_NAMES}
    futures["PermissionsUseAnyApiClient"] = done([{"AssigneeId": "005A", "PermissionSet": {"Name": "P"}}])
    futures["PermissionsCanApproveUninstalledApps"] = done(
        error=OrgError("INVALID_FIELD", "No such column 'PermissionsCanApproveUninstalledApps'")
    )
    problems: list[LoadProblem] = []
    partial: list[str] = []
    rows = org_posture.collect(futures, problems, lambda what, exc: partial.append(what), "https://x")
    by = {r["setting"]: r for r in rows}
    assert by["use_any_api_client_users"]["value"] == 1 and by["use_any_api_client_users"]["known"]
    assert not by["approve_uninstalled_users"]["known"]
    assert "INVALID_FIELD" in by["approve_uninstalled_users"]["reason"]
    assert len(problems) == 1 and "skipped" in problems[0].problem
    assert sorted(partial) == sorted(f"readMetadata {t}" for t in org_posture.SETTINGS_FULL_NAMES)


# --- "Approve Uninstalled Connected Apps": the documented field, only when the describe lists it ----------
APPROVE = "PermissionsCanApproveUninstalledApps"  # Permissions<permission API name> (Object Reference)


def test_approve_uninstalled_holders_come_from_the_described_field(fresh_demo_org: Any) -> None:
    from simple_salesforce import Salesforce

    demo = fresh_demo_org
    sf = Salesforce(
        instance_url=demo.instance_url, session_id=demo.access_token, session=demo.requests_session()
    )
    described = {f["name"] for f in sf.PermissionSet.describe()["fields"]}
    assert APPROVE in described and "PermissionsApproveUninstalledConnectedApps" not in described
    tables = _audit(demo)
    org = tables["org"].set_index("setting")
    row = org.loc["approve_uninstalled_users"]
    assert row["known"] and row["value"] == demo.truth()["org"]["assignees"][APPROVE]
    assert APPROVE in row["source"]
    calls = tables["api_calls"].set_index("kind")["calls"]
    assert calls["GET /sobjects/PermissionSet/describe"] == 1  # once, for every permission


def test_a_permission_the_describe_does_not_list_is_unknown_and_never_queried(fresh_demo_org: Any) -> None:
    demo = fresh_demo_org
    demo.remove_from_schema("PermissionSet", APPROVE)  # an org (or API version) without the field
    # were the holder query sent anyway, it would fail and make the audit partial
    demo.inject_fault("http500", operation="query", full_name=APPROVE)
    tables = _audit(demo)
    org = tables["org"].set_index("setting")
    row = org.loc["approve_uninstalled_users"]
    assert not row["known"] and pd.isna(row["value"])
    assert "Approve Uninstalled Connected Apps" in row["reason"] and "describe" in row["reason"]
    assert org.loc["use_any_api_client_users", "known"]
    assert not tables["apps"]["partial"].any()
    f = toolkit.findings(tables).set_index("rule")
    assert "Approve Uninstalled Connected Apps" in f.loc["ACC-05", "message"] + f.loc["ACC-05", "observed"]


def test_a_failed_permission_set_describe_leaves_the_holders_unknown(fresh_demo_org: Any) -> None:
    fresh_demo_org.inject_fault("http500", operation="describe")
    org = _audit(fresh_demo_org)["org"].set_index("setting")
    for s in ("use_any_api_client_users", "approve_uninstalled_users"):
        assert not org.loc[s, "known"] and "describe PermissionSet" in org.loc[s, "reason"], s


def test_oau01_checks_a_server_app_once_its_logins_use_the_code_flow(fresh_demo_org: Any) -> None:
    """Issue 14 (the peers' comparison): client credentials / a certificate mean server-to-server, but
    ``OauthWebServer`` logins in LoginHistory show the authorization code flow in use: PKCE applies."""
    demo = fresh_demo_org
    apps = ("Demo_Client_Credentials", "Demo_JWT_Integration")
    labels = {demo.truth()["apps"][a]["label"]: a for a in apps}

    def oau01() -> pd.Series:
        f = toolkit.findings(_audit(demo))
        return f[(f["rule"] == "OAU-01") & f["app"].isin(apps)].set_index("app")["status"]

    assert "fail" not in set(oau01())  # server-to-server: not checked
    with demo.state.lock:
        rows = demo.state.objects["LoginHistory"]
        seen = [r for r in rows if r.get("Application") in labels]
        assert {labels[r["Application"]] for r in seen} == set(apps)
        for r in {r["Application"]: r for r in seen}.values():
            rows.append({**r, "Id": r["Id"][:-3] + "ZZZ", "LoginSubType": "OauthWebServer"})
    status = oau01()
    assert set(status.index) == set(apps) and set(status) == {"fail"}  # seeded with PKCE off
