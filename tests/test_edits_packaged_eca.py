# ruff: noqa: F811
"""Packaged external client apps (issue 14, reads on a real org, item 3): in a subscriber org the publisher's
settings files stay read-only and the subscriber's policy files (``...ConfigurablePolicies``) are changed
through the Metadata API ("Policies files - configured by the external client app subscriber",
help: xcloud.meta_enable_oauth_plugin.htm; "All changes are made through the metadata API",
help: xcloud.meta_configure_external_client_app_policies.htm)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from lxml import etree
from simple_salesforce import Salesforce
from test_edits_org import DemoProcess, _journal, demo, org  # noqa: F401 - the fixtures

import toolkit
from toolkit.demoorg import DemoOrg
from toolkit.model import catalog
from toolkit.model.schema import POLICY_TYPES

WHY = "set by the publisher of package acme; only its policies can be changed in this org"


def _packaged_eca(client: toolkit.Org) -> str:
    rows = client.list_metadata(["ExternalClientApplication"])
    names = sorted(r["fullName"] for r in rows if r.get("namespacePrefix") == "acme")
    assert names, "the seed packages every fifth ECA"
    return names[0]


def _components(client: toolkit.Org, app: str) -> dict[tuple[str, str], bytes]:
    """Every component of one ECA as readMetadata returns it, packaged ones included."""
    rows = client.list_metadata(sorted(catalog.ECA_FAMILY))
    out: dict[tuple[str, str], bytes] = {}
    for r in rows:
        if not r["fullName"].startswith(app):
            continue
        for rec in client.read_metadata(r["type"], [r["fullName"]]):
            out[(r["type"], r["fullName"])] = etree.tostring(rec)
    return out


def test_a_policy_change_on_a_packaged_eca_plans_applies_verifies_and_rolls_back(org: DemoProcess) -> None:
    client = org.org()
    app = _packaged_eca(client)
    pristine = _components(client, app)
    plan = toolkit.plan_edits(client, ["session_timeout=45", "ip_relaxation=ENFORCE"], apps=[app])
    assert plan.ok, plan.problems
    applied = org.edit(
        "--apps", app, "--set", "session_timeout=45", "--set", "ip_relaxation=ENFORCE", "--apply"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = toolkit.audit(client)["apps"].set_index("name").loc[app]
    assert after["session_timeout"] == 45 and after["ip_relaxation"] == "ENFORCE"
    changed = {k for k in pristine if _components(client, app)[k] != pristine[k]}
    assert changed and {t for t, _ in changed} <= POLICY_TYPES  # only the subscriber's policy file moved
    back = org.edit("--rollback", _journal(applied.stdout))
    assert back.returncode == 0, back.stdout + back.stderr
    assert _components(client, app) == pristine


@pytest.mark.parametrize(
    ("change", "type_name"),
    [
        ("callback_urls+=https://x.example.com/cb", "ExtlClntAppGlobalOauthSettings"),
        ("pkce=true", "ExtlClntAppGlobalOauthSettings"),
        ("scopes+=Api", "ExtlClntAppOauthSettings"),
        ("ExtlClntAppOauthSettings:singleLogoutUrl=https://x.example.com/logout", "ExtlClntAppOauthSettings"),
    ],
)
def test_a_settings_change_on_a_packaged_eca_is_refused_at_plan_time(
    org: DemoProcess, change: str, type_name: str
) -> None:
    client = org.org()
    app = _packaged_eca(client)
    writes = org.requests().get("updateMetadata", 0)
    field, _, value = change.partition("+=") if "+=" in change else change.partition("=")
    plan = toolkit.plan_edits(client, [change], apps=[app])
    assert not plan.ok
    problems = plan.problems.to_dict("records")
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p["app"], p["field"], p["value"]) == (app, field, value)
    assert type_name in p["problem"] and WHY in p["problem"], p["problem"]
    assert "policies" in p["allowed"], p["allowed"]
    cli = org.edit("--apps", app, "--set", change)
    assert cli.returncode != 0 and WHY in cli.stdout + cli.stderr, cli.stdout + cli.stderr
    assert org.requests().get("updateMetadata", 0) == writes


def test_the_apps_table_and_findings_say_policies_only(fresh_demo_org: DemoOrg) -> None:
    client = toolkit.connect(
        "demo",
        instance_url=fresh_demo_org.instance_url,
        access_token=fresh_demo_org.access_token,
        ca_file=fresh_demo_org.ca_file,
    )
    tables = toolkit.audit(client)
    app = _packaged_eca(client)
    row = tables["apps"].set_index("name").loc[app]
    assert bool(row["editable"]) and str(row["not_editable_reason"]).startswith("policies only"), row
    read_only = set(str(row["read_only"]).split("; "))
    assert "ExtlClntAppGlobalOauthSettings" in read_only and "ExtlClntAppOauthSettings" in read_only
    assert not read_only & POLICY_TYPES
    local = tables["apps"][tables["apps"]["kind"] == "ExternalClientApplication"]
    assert (local[local["name"] != app]["read_only"].fillna("") != "").sum() == 1  # the other packaged ECA
    f = toolkit.findings(tables)
    mine = f[(f["app"] == app) & (f["status"] == "fail")]
    seen: set[bool] = set()
    for r in mine.to_dict("records"):
        source = (
            catalog.write_source(r["field"], "ExternalClientApplication")
            if r["field"] in catalog.CATALOG
            else None
        )
        if source is None:
            continue
        if source.type_name in read_only:
            assert not r["fixable_by_api"], r
            seen.add(False)
        elif r["fixable_by_api"]:
            seen.add(True)
    assert seen == {True, False}, mine[["rule", "field", "fixable_by_api"]]


def _sf(demo: DemoOrg, monkeypatch: pytest.MonkeyPatch) -> Salesforce:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", demo.ca_bundle_file)  # zeep builds its own session
    return Salesforce(
        instance_url=demo.instance_url, session_id=demo.access_token, session=demo.requests_session()
    )


def test_the_demo_org_accepts_the_policy_file_and_refuses_the_settings(
    fresh_demo_org: DemoOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = _sf(fresh_demo_org, monkeypatch)
    client = toolkit.connect(
        "demo",
        instance_url=fresh_demo_org.instance_url,
        access_token=fresh_demo_org.access_token,
        ca_file=fresh_demo_org.ca_file,
    )
    app = _packaged_eca(client)
    policy: Any = sf.mdapi.ExtlClntAppOauthConfigurablePolicies.read(f"{app}_oauth_defaultPolicy")
    policy.sessionTimeoutInMinutes = 45
    sf.mdapi.ExtlClntAppOauthConfigurablePolicies.update(policy)  # raises on a refusal
    again = sf.mdapi.ExtlClntAppOauthConfigurablePolicies.read(f"{app}_oauth_defaultPolicy")
    assert again.sessionTimeoutInMinutes == 45
    settings: Any = sf.mdapi.ExtlClntAppOauthSettings.read(f"{app}_oauth")
    settings.commaSeparatedOauthScopes = "Api"
    with pytest.raises(Exception, match="CANNOT_MODIFY_MANAGED_OBJECT"):
        sf.mdapi.ExtlClntAppOauthSettings.update(settings)
    glbl: Any = sf.mdapi.ExtlClntAppGlobalOauthSettings.read(f"{app}_glbl")
    glbl.isPkceRequired = not glbl.isPkceRequired
    with pytest.raises(Exception, match="CANNOT_MODIFY_MANAGED_OBJECT"):
        sf.mdapi.ExtlClntAppGlobalOauthSettings.update(glbl)
    # deleting the subscriber's policy file is still the package's business
    with pytest.raises(Exception, match="CANNOT_MODIFY_MANAGED_OBJECT"):
        sf.mdapi.ExtlClntAppOauthConfigurablePolicies.delete(f"{app}_oauth_defaultPolicy")
    tables = toolkit.audit(client)
    assert pd.Series(tables["apps"].set_index("name").loc[app, ["session_timeout"]]).tolist() == [45]


def test_where_read_only_is_not_set_selects_the_apps_whose_settings_can_change(org: DemoProcess) -> None:
    client = org.org()
    where = "kind == 'ExternalClientApplication' and editable == True and is_not_set(read_only)"
    plan = toolkit.plan_edits(client, ["pkce=true"], where=where)
    assert plan.ok, plan.problems
    chosen = set(plan.preview()["app"])
    assert chosen and _packaged_eca(client) not in chosen


def test_fix_plan_fixes_a_packaged_ecas_policies_and_lists_its_settings_as_manual(
    fresh_demo_org: DemoOrg, tmp_path: Any
) -> None:
    client = toolkit.connect(
        instance_url=fresh_demo_org.instance_url,
        access_token=fresh_demo_org.access_token,
        ca_file=fresh_demo_org.ca_file,
        api_version="66.0",
    )
    try:
        packaged = sorted(
            r["fullName"]
            for r in client.list_metadata(["ExternalClientApplication"])
            if r.get("namespacePrefix") == "acme"
        )
        pristine = {app: _components(client, app) for app in packaged}
        findings = toolkit.findings(toolkit.audit(client))
        plan = toolkit.fix_plan(findings, client)
        assert plan.ok, plan.problems
        changed = plan.preview().query("status == 'change'")
        mine = changed[changed["app"].isin(packaged)]
        assert not mine.empty
        assert {str(c).split(":")[0] for c in mine["component"]} <= POLICY_TYPES | {"SetupEntityAccess"}
        manual = toolkit.manual_fixes(findings)
        assert set(manual["app"]) & set(packaged)  # their settings findings: for the publisher
        result = plan.apply(journal_dir=str(tmp_path))
        assert result.exit_code == 0, result.results
        assert {app: _components(client, app) for app in packaged} != pristine
        assert toolkit.rollback_edits(result.journal, client).exit_code == 0
        assert {app: _components(client, app) for app in packaged} == pristine
    finally:
        fresh_demo_org.reset()
