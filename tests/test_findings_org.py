"""Findings, the CI gate and drift on the demo org (HTTPS through simple-salesforce).

Expected findings derive from what the seed planted (``truth()["apps"][name]["settings"]``), not from rules.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from simple_salesforce import Salesforce

import toolkit
from toolkit.commands import main
from toolkit.demoorg import DemoOrg
from toolkit.demoorg.seed import ADMIN_USERNAME


def _connect(demo: DemoOrg) -> Any:
    return toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
    )


def _org_args(demo: DemoOrg) -> list[str]:
    return [
        "--instance-url",
        demo.instance_url,
        "--access-token",
        demo.access_token,
        "--ca-file",
        demo.ca_file,
    ]


@pytest.fixture(scope="module")
def audited(demo_org: DemoOrg) -> dict[str, pd.DataFrame]:
    return toolkit.audit(_connect(demo_org), strict=True)


def _failed(f: pd.DataFrame, rule: str) -> set[str]:
    return set(f[(f["status"] == "fail") & (f["rule"] == rule) & (f["kind"] == "ConnectedApp")]["app"])


def test_findings_match_what_the_seed_planted(audited: dict[str, pd.DataFrame], demo_org: DemoOrg) -> None:
    truth = demo_org.truth()
    f = toolkit.findings(audited)
    oauth = {n: a for n, a in truth["apps"].items() if not a["packaged"] and a["kind"] != "saml"}
    planted = {n: a["settings"] for n, a in oauth.items()}
    mobile = {n: a for n, a in oauth.items() if a["kind"] in ("ios", "android")}

    assert _failed(f, "NET-01") == {n for n, s in planted.items() if s["ip_relaxation"] == "BYPASS"}
    assert _failed(f, "NET-04") == {
        n for n, s in planted.items() if s["ip_relaxation"] in ("ENFORCE_RELAXREFRESH", "BYPASS_2FACTOR")
    }
    assert _failed(f, "TOK-01") == {n for n, s in planted.items() if s["refresh_policy"] == "infinite"}
    assert _failed(f, "OAU-06") == {n for n, s in planted.items() if "Full" in s["scopes"]}
    assert _failed(f, "OAU-09") == {
        n for n, s in planted.items() if any(u.startswith("http://") for u in s["callbacks"])
    }
    assert _failed(f, "OAU-02") == {
        n for n, s in planted.items() if not s["rtr"] and "RefreshToken" in s["scopes"]
    }
    assert _failed(f, "SES-01") == {
        n for n, s in planted.items() if s["session_timeout"] is None or s["session_timeout"] > 60
    }
    assert _failed(f, "MOB-01") == {
        n for n, a in mobile.items() if a["PinLength"] is None or int(a["PinLength"]) < 8
    }
    assert _failed(f, "MOB-02") == {
        n for n, a in mobile.items() if a["MobileSessionTimeout"] not in ("M1", "M5")
    }
    # SAML apps have no OAuth settings, so no "Permitted Users" (isAdminApproved lives in oauthConfig)
    assert _failed(f, "ACC-02") == set(truth["admin_approved_without_grants"]) & set(oauth)
    assert _failed(f, "ACC-04") == set(truth["categories"]["phantom"])
    # SAML apps sign users in through IdpEventLog (no OAuth token, no OAuth login): used ones pass
    assert _failed(f, "USE-01") == set(truth["unused"])
    # SAML apps seeded with SHA1 signing: Salesforce's control says SHA256 (SAML-02); none uses Triple DES
    saml = {n: a["settings"] for n, a in truth["apps"].items() if a["kind"] == "saml" and not a["packaged"]}
    assert saml and _failed(f, "SAML-02") == {n for n, s in saml.items() if s["saml_algo"] == "SHA1"}
    assert 0 < len(_failed(f, "SAML-02")) < len(saml)
    assert _failed(f, "SAML-01") == set()
    # full-content push of a connected app: Setup only (its SOQL bit is internal): unknown, never a pass
    mob09 = f[(f["rule"] == "MOB-09") & f["app"].isin(set(mobile))]
    assert set(mob09["app"]) == set(mobile) and set(mob09["status"]) == {"cannot check"}
    assert mob09["message"].str.contains("internal use only").all()
    # the client-credentials app runs as the admin: its permissions are not read, so "cannot check" naming it
    local_cc = {n for n, a in oauth.items() if a["kind"] == "cc"}
    cc = f[(f["rule"] == "OAU-17") & f["app"].isin(local_cc)]
    assert "Demo_Client_Credentials" in local_cc and set(cc["app"]) == local_cc
    assert set(cc["status"]) == {"cannot check"} and cc["message"].str.contains(ADMIN_USERNAME).all()
    # migration candidates carry Salesforce's caveats (IP allowlist not migrated, read-only connected app)
    gov = f[(f["rule"] == "GOV-04") & (f["status"] == "fail")]
    assert len(gov) and set(gov["app"]) <= set(truth["categories"]["local"])
    assert gov["message"].str.contains("005387022").all() and gov["message"].str.contains("read-only").all()
    # packaged apps: what SOQL cannot tell is "cannot check", never a pass or a fail
    packaged = set(truth["categories"]["packaged"])
    net = f[(f["rule"] == "NET-01") & f["app"].isin(packaged)]
    assert set(net["app"]) == packaged and set(net["status"]) == {"cannot check"}


def test_check_gate_fails_then_passes_after_the_fixes_through_the_edits_layer(
    fresh_demo_org: DemoOrg, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check --fail-on high`` exits 1 on the demo org; ``toolkit.fix_plan`` applies every API-fixable fix
    through the edits layer; what no API can fix is ignored with a reason; then the gate exits 0."""
    demo = fresh_demo_org
    args = ["check", *_org_args(demo), "--fail-on", "high", "--format", "json"]
    assert main(args) == 1
    before = pd.DataFrame(json.loads(capsys.readouterr().out)["findings"])
    high = before[(before["status"] == "fail") & before["severity"].isin(["critical", "high"])]
    assert high["fixable_by_api"].any() and not high["fixable_by_api"].all()

    org = _connect(demo)
    plan = toolkit.fix_plan(before, org)
    assert plan.problems.empty, plan.problems.to_string()
    result = plan.apply(journal_dir=tmp_path / "journal")
    assert result.exit_code == 0

    assert main(args) == 1  # left: findings no API can fix (phantoms, packaged apps, flows in use...)
    after = pd.DataFrame(json.loads(capsys.readouterr().out)["findings"])
    left = after[(after["status"] == "fail") & after["severity"].isin(["critical", "high"])]
    assert not left["fixable_by_api"].any()
    pairs = set(zip(left["app"], left["rule"], strict=True))
    assert pairs <= set(zip(high["app"], high["rule"], strict=True))
    fixed = high[high["fixable_by_api"]]
    assert not set(zip(fixed["app"], fixed["rule"], strict=True)) & pairs
    baseline = tmp_path / "accepted.toml"
    baseline.write_text(
        "".join(
            f'[[ignore]]\napp = "{a}"\nrule = "{r}"\nreason = "no API can fix it: {m}"\n\n'
            for a, r, m in zip(left["app"], left["rule"], left["setup_path"], strict=True)
        ),
        encoding="utf-8",
    )
    assert main([*args, "--baseline", str(baseline)]) == 0
    capsys.readouterr()


def _sf(demo: DemoOrg, monkeypatch: pytest.MonkeyPatch) -> Salesforce:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", demo.ca_bundle_file)  # zeep builds its own session
    return Salesforce(
        instance_url=demo.instance_url, session_id=demo.access_token, session=demo.requests_session()
    )


def test_check_gate_after_a_metadata_api_fix(
    fresh_demo_org: DemoOrg,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The gate sees a fix made by another client too (simple-salesforce's Metadata API)."""
    demo = fresh_demo_org
    baseline = tmp_path / "ip.toml"
    rules = [r for r in toolkit.rule_table()["id"] if r != "NET-01"]
    baseline.write_text("[rules]\n" + "".join(f'"{r}" = "off"\n' for r in rules), encoding="utf-8")
    args = ["check", *_org_args(demo), "--baseline", str(baseline), "--fail-on", "high", "--format", "json"]
    assert main(args) == 1
    report = pd.DataFrame(json.loads(capsys.readouterr().out)["findings"])
    local = sorted(report[(report["kind"] == "ConnectedApp") & report["fixable_by_api"]]["app"])
    assert local
    sf = _sf(demo, monkeypatch)
    for name in local:
        record = sf.mdapi.ConnectedApp.read(name)
        record.oauthPolicy.ipRelaxation = "ENFORCE"
        sf.mdapi.ConnectedApp.update(record)
    main(args)
    left = pd.DataFrame(json.loads(capsys.readouterr().out)["findings"])
    assert not set(left[left["status"] == "fail"]["app"]) & set(local)


def test_diff_before_and_after_a_bulk_edit_shows_exactly_the_edited_fields(
    fresh_demo_org: DemoOrg, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = fresh_demo_org
    before = tmp_path / "before"
    assert main(["diff", str(before), *_org_args(demo)]) == 2  # no snapshot yet: one clear error
    assert "no such folder" in capsys.readouterr().err
    org = _connect(demo)
    toolkit.save_snapshot(toolkit.audit(org), before, source="demo before")
    planted = {n: a["settings"] for n, a in demo.truth()["apps"].items() if a["kind"] in ("web", "ios")}
    bypass = sorted(n for n, s in planted.items() if s["ip_relaxation"] != "ENFORCE")[:3]
    timeout = sorted(n for n, s in planted.items() if s["session_timeout"] != 30)[:2]
    changes = pd.DataFrame(
        [{"app": n, "field": "ip_relaxation", "value": "ENFORCE"} for n in bypass]
        + [{"app": n, "field": "session_timeout", "value": "30"} for n in timeout]
    )
    result = toolkit.plan_edits(org, changes).apply(journal_dir=tmp_path / "journal")
    assert result.exit_code == 0
    after = tmp_path / "after"
    assert main(["diff", str(before), *_org_args(demo), "--snapshot", str(after), "--format", "csv"]) == 0
    diff = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str)
    expected = [(n, "ip_relaxation", "ENFORCE") for n in bypass] + [
        (n, "session_timeout", "30") for n in timeout
    ]
    assert sorted(zip(diff["app"], diff["field"], diff["new"], strict=True)) == sorted(expected)
    assert set(diff["change"]) == {"changed"}
    manifest = json.loads((after / "manifest.json").read_text())
    assert manifest["toolkit_version"] == toolkit.__version__ and manifest["tables"]["apps"]["rows"] > 60
    # the edits layer's rollback puts every app back: no difference left
    toolkit.rollback_edits(result.journal, org)
    assert toolkit.diff_audits(before, toolkit.audit(org)).empty


def test_org_sarif_points_at_apps(
    demo_org: DemoOrg, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "org.sarif"
    assert main(["check", *_org_args(demo_org), "--format", "sarif", "--out", str(out)]) == 0
    log = json.loads(out.read_text())
    from tests.test_check_cli import validate_sarif

    validate_sarif(log)
    first = log["runs"][0]["results"][0]["locations"][0]
    assert "logicalLocations" in first and "physicalLocation" not in first
    assert demo_org.access_token not in out.read_text()
    capsys.readouterr()


def test_check_with_a_refused_token_is_exit_2(demo_org: DemoOrg, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "check",
        "--instance-url",
        demo_org.instance_url,
        "--access-token",
        "00Dbogus!AQbogus",
        "--ca-file",
        demo_org.ca_file,
        "--fail-on",
        "high",
    ]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "INVALID_SESSION_ID" in err and "AQbogus" not in err
