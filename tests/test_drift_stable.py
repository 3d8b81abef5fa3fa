"""Drift you can trust (issue 17): a demo seed gives the same consumer keys and record ids on every start, so
two audits of one seed diff to nothing; one real edit between two audits of a running org is one change."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.analysis.drift import diff_audits
from toolkit.commands import main
from toolkit.demoorg import DemoOrg
from toolkit.demoorg.seed import CLIENT_CREDENTIALS_APP, JWT_APP, build, consumer_key


def _audit(demo: DemoOrg) -> dict[str, pd.DataFrame]:
    with toolkit.connect(
        instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
    ) as org:
        return toolkit.audit(org)


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["origin"], errors="ignore").astype(object).fillna("").astype(str)


def test_two_starts_of_one_seed_audit_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audits = []
    for _ in range(2):
        with DemoOrg(apps=24, ecas=4, seed=5) as demo:
            assert demo.client_id == consumer_key(5, CLIENT_CREDENTIALS_APP)
            assert demo.jwt_consumer_key == consumer_key(5, JWT_APP)
            audits.append(_audit(demo))
    first, second = audits
    apps = _text(first["apps"])
    assert {"consumer_key", "soql_id", "ip_relaxation", "pin_length"} <= set(apps.columns)
    # settings, (masked) keys and record ids: the same table, row for row
    pd.testing.assert_frame_equal(apps, _text(second["apps"]))
    for table in ("scopes", "callbacks", "grants", "tokens", "usage"):
        if table in first:
            pd.testing.assert_frame_equal(_text(first[table]), _text(second[table]))
    assert diff_audits(first, second).empty
    toolkit.save_snapshot(first, tmp_path / "a")
    toolkit.save_snapshot(second, tmp_path / "b")
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "0 settings changed in 0 apps, 0 apps added, 0 removed" in capsys.readouterr().out


def test_keys_follow_the_app_not_the_org_size() -> None:
    small, large = build(apps=10, ecas=2, seed=9), build(apps=30, ecas=6, seed=9)

    def keys(state: object) -> dict[str, str]:  # the seeded keys (the two login apps take the org's)
        found = {
            c.full_name: c.doc.get("oauthConfig.consumerKey")
            for c in state.metadata.values()  # type: ignore[attr-defined]
            if c.type_name == "ConnectedApp" and c.full_name not in (JWT_APP, CLIENT_CREDENTIALS_APP)
        }
        return {name: key for name, key in found.items() if key}

    a, b = keys(small.state), keys(large.state)
    assert len(a) >= 5 and all(b[name] == key for name, key in a.items())
    assert not set(a.values()) & set(keys(build(apps=10, ecas=2, seed=10).state).values())  # another seed
    assert len(set(b.values())) == len(b)  # one key per app


def test_one_edit_between_two_audits_is_one_change(fresh_demo_org: DemoOrg, tmp_path: Path) -> None:
    before = _audit(fresh_demo_org)
    apps = before["apps"]
    target = apps.loc[(apps["ip_relaxation"] == "BYPASS") & apps["editable"].astype(bool), "name"].iloc[0]
    with toolkit.connect(
        instance_url=fresh_demo_org.instance_url,
        access_token=fresh_demo_org.access_token,
        ca_file=fresh_demo_org.ca_file,
    ) as org:
        plan = toolkit.plan_edits(org, ["ip_relaxation=ENFORCE"], apps=[target])
        result = plan.apply(journal_dir=str(tmp_path / "edits"))
        assert result.ok
    after = _audit(fresh_demo_org)
    diff = diff_audits(before, after)
    assert diff[["app", "change", "field", "old", "new"]].values.tolist() == [
        [target, "changed", "ip_relaxation", "BYPASS", "ENFORCE"]
    ]
