# ruff: noqa: F811
"""Undo you can trust, against the demo org (issue 13 items 4, 5, 6): a timeout does not poison the Org
object, an ECA whose change spans two types is all-or-nothing, a create whose answer was lost
is settled by reading (never sent twice)."""

from __future__ import annotations

import time

import pytest
from test_edits_org import DemoProcess, _journal, apps, demo, org  # noqa: F401 - the fixtures

import toolkit
from toolkit.edits.targets import OrgTarget

GRANTS = "SELECT Id FROM SetupEntityAccess WHERE SetupEntityType = 'ConnectedApplication'"


def test_a_create_whose_answer_was_lost_is_settled_by_reading(org: DemoProcess, apps: list[str]) -> None:
    client = org.org()
    rows = len(client.query(GRANTS))
    org.fault("drop_response", operation="create", count=1)
    applied = org.edit("--apps", apps[0], "--set", "profiles+=Standard User", "--apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert len(client.query(GRANTS)) == rows + 1  # landed once, never sent twice
    assert org.edit("--rollback", _journal(applied.stdout)).returncode == 0
    assert len(client.query(GRANTS)) == rows


def test_one_timeout_does_not_poison_the_org(org: DemoProcess, apps: list[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    pristine = org.raw()
    client = toolkit.connect(
        instance_url=org.url, access_token=org.token, ca_file=org.ca, api_version="66.0", timeout=1.0
    )
    plan = toolkit.plan_edits(client, ["session_timeout=120"], apps=apps[:20])
    assert plan.ok, plan.problems
    org.fault("slow", operation="updateMetadata", count=1, ms=2500)
    result = plan.apply(journal_dir=str(tmp_path))
    assert result.exit_code in (0, 3)
    time.sleep(3)  # the slow write lands after the client gave up on it
    back = toolkit.rollback_edits(result.journal, client)  # the same Org object, the org answers again
    assert back.exit_code == 0, back.results
    assert org.raw() == pristine


def test_an_eca_change_spanning_two_types_is_all_or_nothing(org: DemoProcess, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pristine = org.raw()
    target = OrgTarget(org.org())
    inventory, _ = target.load(None)
    eca = next(
        a
        for a in inventory.apps
        if a.kind == "ExternalClientApplication"
        and a.editable
        and a.docs("ExtlClntAppGlobalOauthSettings")
        and a.docs("ExtlClntAppOauthConfigurablePolicies")
    )
    policies = eca.docs("ExtlClntAppOauthConfigurablePolicies")[0].full_name
    org.fault("save_failure", full_name=policies, status_code="UNABLE_TO_LOCK_ROW", message="row locked")
    applied = org.edit(
        "--apps",
        eca.name,
        "--set",
        "callback_urls+=https://both.example.com/cb",
        "--set",
        "ip_relaxation=ENFORCE",
        "--apply",
    )
    assert applied.returncode == 3, applied.stdout + applied.stderr
    assert "rolled back automatically" in applied.stdout + applied.stderr
    assert org.raw() == pristine  # the app's written component was put back: nothing half-changed
    org.control("DELETE", "faults")
    # the journal still leads somewhere sensible: a rollback finds every component as before
    assert org.edit("--rollback", _journal(applied.stdout)).returncode == 0
    assert org.raw() == pristine


@pytest.mark.parametrize("step", ["intent", "result"])
def test_a_kill_mid_apply_on_an_org_then_resume_then_rollback(
    org: DemoProcess, apps: list[str], step: str
) -> None:
    import os
    import subprocess

    pristine = org.raw()
    killed = subprocess.run(
        org.command("--apps", ",".join(apps[:25]), "--set", "session_timeout=120", "--apply"),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TOOLKIT_TEST_CRASH_AT": f"{step}:2"},
    )
    assert killed.returncode == 137, killed.stdout + killed.stderr
    journal = _journal(killed.stdout)
    resumed = org.edit("--resume", journal)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert org.raw() != pristine
    back = org.edit("--rollback", journal)
    assert back.returncode == 0, back.stdout + back.stderr
    assert org.raw() == pristine


def test_revoking_tokens_of_no_such_app_is_bad_input(org: DemoProcess, apps: list[str]) -> None:
    done = org.edit("--revoke-tokens", apps[0] + "x", "--tokens", "all", "--yes")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "did you mean" in done.stderr and "Traceback" not in done.stderr
    huge = org.edit("--revoke-tokens", apps[0], "--tokens", "unused-days=99999999999", "--yes")
    assert huge.returncode == 2 and "1..365000" in huge.stderr, huge.stderr
