"""Saved plans through ``python -m toolkit edit`` against a demo org: save, show, apply, stale, other org,
edited plan, --skip-refused, read once, re-run exits 0."""

from __future__ import annotations

import json
from pathlib import Path

from test_edits_org import DemoProcess, apps, demo, org  # noqa: F401 - the fixtures

import toolkit

SETS = ["--set", "session_timeout=120"]


def test_save_show_apply_and_rerun(org: DemoProcess, apps: list[str], tmp_path: Path) -> None:  # noqa: F811
    plan = tmp_path / "plan.json"
    out = org.edit("--apps", ",".join(apps[:3]), *SETS, "--plan-out", str(plan))
    assert out.returncode == 0, out.stderr
    doc = json.loads(plan.read_text())
    assert doc["target"]["org_id"].startswith("00D") and len(doc["components"]) == 3
    assert org.token not in plan.read_text()
    shown = org.edit("--show", str(plan))
    assert shown.returncode == 0 and "3 to change" in shown.stdout
    assert json.loads(org.edit("--show", str(plan), "--json").stdout)["digest"] == doc["digest"]
    applied = org.edit("--apply", str(plan), "--journal-dir", str(tmp_path / "j"))
    assert applied.returncode == 0, applied.stderr
    assert "org id 00D" in applied.stdout
    again = org.edit("--apps", ",".join(apps[:3]), *SETS, "--apply")
    assert again.returncode == 0 and "0 to change" in again.stdout, again.stderr


def test_stale_edited_and_foreign_plans_are_refused(
    org: DemoProcess,  # noqa: F811
    apps: list[str],  # noqa: F811
    tmp_path: Path,  # noqa: F811
) -> None:
    plan = tmp_path / "plan.json"
    assert org.edit("--apps", ",".join(apps[:3]), *SETS, "--plan-out", str(plan)).returncode == 0
    edited = tmp_path / "edited.json"
    doc = json.loads(plan.read_text())
    doc["components"][0]["ops"][0]["value"] = "1"
    edited.write_text(json.dumps(doc))
    out = org.edit("--apply", str(edited))
    assert out.returncode == 2 and "edited after it was saved" in out.stderr
    doc = json.loads(plan.read_text())
    doc["target"]["org_id"] = "00D000000000001AAA"
    body = {k: v for k, v in doc.items() if k != "digest"}
    from toolkit.edits.saved import _digest

    doc["digest"] = _digest(body)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(doc))
    out = org.edit("--apply", str(foreign))
    assert out.returncode == 2 and "a plan for the org" in out.stderr
    toolkit.plan_edits(org.org(), ["description=moved"], apps=[apps[1]]).apply(journal_dir=str(tmp_path))
    out = org.edit("--apply", str(plan))
    assert out.returncode == 2 and apps[1] in out.stderr and "moved since the plan" in out.stderr


def test_skip_refused_applies_the_rest(org: DemoProcess, apps: list[str], tmp_path: Path) -> None:  # noqa: F811
    names = ",".join([*apps[:2], "No_Such_App"])
    out = org.edit("--apps", names, *SETS, "--apply")
    assert out.returncode == 2 and "--skip-refused" in out.stderr
    out = org.edit("--apps", names, *SETS, "--apply", "--skip-refused")
    assert out.returncode == 0, out.stderr
    assert "skipped: No_Such_App" in out.stderr


def test_apply_reads_once(org: DemoProcess, apps: list[str], tmp_path: Path) -> None:  # noqa: F811
    client = org.org()
    plan = toolkit.plan_edits(client, SETS[1:], apps=apps[:20])
    client.ledger.calls.clear()
    result = plan.apply(journal_dir=str(tmp_path))
    assert result.exit_code == 0
    assert client.ledger.calls["readMetadata"] == 2 and client.ledger.calls["updateMetadata"] == 2
