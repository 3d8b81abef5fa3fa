"""Findings feed bulk edits: ``toolkit.fix_plan(findings, org)`` plans every API-fixable finding; applied, the
findings it fixed are gone; rolled back, every component is byte for byte as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import toolkit
from toolkit.edits.targets import OrgTarget


@pytest.fixture
def org(fresh_demo_org: Any) -> Iterator[toolkit.Org]:
    client = toolkit.connect(
        instance_url=fresh_demo_org.instance_url,
        access_token=fresh_demo_org.access_token,
        ca_file=fresh_demo_org.ca_file,
        api_version="66.0",
    )
    yield client
    fresh_demo_org.reset()  # the shared org goes back to its seed for the next test


def _raw(org: toolkit.Org) -> dict[tuple[str, str], bytes | None]:
    target = OrgTarget(org)
    target.load(None)
    return target.read([k for k, row in target.listing.items() if row.get("manageableState") != "installed"])


def test_fix_plan_of_findings_applies_and_rolls_back(org: toolkit.Org, tmp_path: Path) -> None:
    before = _raw(org)
    findings = toolkit.findings(toolkit.audit(org))
    plan = toolkit.fix_plan(findings, org)
    assert plan.ok, plan.problems
    result = plan.apply(journal_dir=str(tmp_path))
    assert result.exit_code == 0 and len(result.results) > 10
    after = toolkit.findings(toolkit.audit(org))
    fixed = set(plan.preview().query("status == 'change'")["app"])
    still = after[(after["app"].isin(fixed)) & (after["status"] == "fail")] if "status" in after else after
    assert len(still) < len(findings[(findings["app"].isin(fixed)) & (findings["status"] == "fail")])
    assert toolkit.rollback_edits(result.journal, org).exit_code == 0
    assert _raw(org) == before
