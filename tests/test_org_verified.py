"""Dual-mode tests (docs/testing.md): what holds on any org (demo by default, real on demand).

``TOOLKIT_TEST_ORG=<sf alias> .venv/bin/python -m pytest -m org_verified`` runs the read tests against that
org (nothing is written: no apply, no validate); ``TOOLKIT_TEST_SCRATCH_ORG=<sf alias> ... -m org_writes``
runs the write test against a scratch org. Nothing here depends on the demo org's seed, only on what
Salesforce promises (shapes, unknown vs not set, no secret in any table, lossless round trips).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.edits.targets import OrgTarget
from toolkit.model import catalog as cat
from toolkit.model.document import MetadataDocument

pytestmark = pytest.mark.xdist_group("demo_org")
KINDS = {"ConnectedApp", "ExternalClientApplication"}


@pytest.fixture(scope="module")
def tables(verified_org: Any) -> dict[str, pd.DataFrame]:
    return toolkit.audit(verified_org)


@pytest.mark.org_verified
def test_the_audit_has_its_tables_and_every_app_a_known_kind(tables: dict[str, pd.DataFrame]) -> None:
    for name in ("apps", "usage", "tokens", "logins", "grants", "api_calls", "problems"):
        assert name in tables, name
    apps = tables["apps"]
    assert len(apps) > 0, "an org always has connected apps (Salesforce's own at least)"
    assert set(apps["kind"]) <= KINDS
    assert apps["name"].is_unique
    # every catalog field the audit promises is a column, with a Setup label in the catalog
    for key in ("ip_relaxation", "refresh_policy", "permitted_users", "session_timeout", "pin_length"):
        assert key in apps.columns and cat.field(key).label


@pytest.mark.org_verified
def test_what_could_not_be_read_is_unknown_with_a_reason(tables: dict[str, pd.DataFrame]) -> None:
    apps = tables["apps"]
    for row in apps.to_dict("records"):
        if row["coverage"] not in ("metadata", "metadata+soql"):
            why = str(row["coverage_reason"]).strip()
            assert why, f"{row['name']}: coverage {row['coverage']} without why"
        if row["coverage"] in ("unreadable", "metadata_unknown"):
            assert pd.isna(row["editable"]), f"{row['name']}: editable is known although its metadata is not"
            for key in ("callback_urls", "session_timeout", "description"):
                value = row[key]
                assert value is None or pd.isna(value) or value == "", (
                    f"{row['name']}: metadata unknown and yet {key} holds {value!r}"
                )
        if not row["editable"] and row["editable"] is not pd.NA and not pd.isna(row["editable"]):
            assert str(row["not_editable_reason"]).strip(), f"{row['name']}: not editable without why"


@pytest.mark.org_verified
def test_no_secret_reaches_any_table(tables: dict[str, pd.DataFrame]) -> None:
    secret_fields = [f.id for f in cat.fields() if f.secret]
    for name, table in tables.items():
        for key in secret_fields:
            assert key not in table.columns, f"{name} has a {key} column"
    tokens = tables["tokens"]
    for column in ("AccessToken", "RefreshToken", "DeleteToken", "access_token", "delete_token"):
        assert column not in tokens.columns, f"the tokens table carries {column}"


@pytest.mark.org_verified
def test_findings_and_the_mobile_matrix_run_on_any_org(tables: dict[str, pd.DataFrame]) -> None:
    findings = toolkit.findings(tables)
    assert set(findings["severity"]) <= {"critical", "high", "medium", "low", "info"}
    assert set(findings["app"]) <= set(tables["apps"]["name"]) | {"(org)", ""}
    matrix = toolkit.mobile_matrix(tables)
    assert len(matrix) >= 0


@pytest.mark.org_verified
def test_metadata_reads_round_trip_byte_for_byte(verified_org: Any) -> None:
    """Each app's document goes back on the wire (the updateMetadata record) with every leaf the org sent,
    fields the code does not know included: the basis of every lossless read-modify-write."""
    inventory, _ = OrgTarget(verified_org).load(None)
    checked = 0
    for app in inventory.apps:
        for doc in app.documents[:1]:
            again = MetadataDocument.from_soap_record(doc.to_soap_metadata("records"))
            assert again.leaves() == doc.leaves(), f"{app.name}: {doc.type_name} does not round-trip"
            checked += 1
        if checked >= 25:
            break
    assert checked > 0


@pytest.mark.org_verified
def test_a_dry_run_plan_writes_nothing_and_previews_every_change(verified_org: Any) -> None:
    apps = [a for a in toolkit.audit(verified_org)["apps"].to_dict("records") if a["editable"]]
    if not apps:
        pytest.skip("no editable app in this org")
    plan = toolkit.plan_edits(verified_org, ["session_timeout=120"], apps=[apps[0]["name"]])
    preview = plan.preview()
    assert len(preview) >= 1 and set(preview["app"]) == {apps[0]["name"]}


@pytest.mark.org_writes
def test_apply_verify_and_roll_back_on_a_writable_org(writable_org: Any, tmp_path: Path) -> None:
    apps = [a for a in toolkit.audit(writable_org)["apps"].to_dict("records") if a["editable"]]
    if not apps:
        pytest.skip("no editable app in this org")
    name = apps[0]["name"]
    before = apps[0]["session_timeout"]
    target = 120 if before != 120 else 90
    plan = toolkit.plan_edits(writable_org, [f"session_timeout={target}"], apps=[name])
    applied = plan.apply(journal_dir=str(tmp_path))
    assert applied.ok, applied.results
    after = toolkit.audit(writable_org)["apps"].set_index("name").loc[name, "session_timeout"]
    assert after == target
    undone = toolkit.rollback_edits(applied.journal, writable_org)
    assert undone.ok, undone.results
    restored = toolkit.audit(writable_org)["apps"].set_index("name").loc[name, "session_timeout"]
    assert (pd.isna(restored) and pd.isna(before)) or restored == before
