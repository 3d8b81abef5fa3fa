"""Enabling PKCE or refresh-token rotation needs the clients changed first (Salesforce: expect some downtime;
partner apps cannot switch PKCE off again): the preview and the rule remedies say so, and the CLI apply asks
for ``--ack-client-change``."""

from __future__ import annotations

from pathlib import Path

import pytest

import toolkit
from tests.test_edits_folder import _files, project
from toolkit.commands import main
from toolkit.rules.definitions import RULES_BY_ID

__all__ = ["project"]  # the fixture (a copy of examples/)
APP = "Legacy_Partner_Portal"  # PKCE and RTR off in examples/


@pytest.mark.parametrize("field", ["pkce", "rtr"])
def test_preview_warns_that_clients_must_change_first(project: Path, field: str) -> None:
    plan = toolkit.plan_edits(project, [f"{field}=true", "session_timeout=60"], apps=[APP])
    assert plan.ok, plan.problems
    rows = plan.preview().set_index("field")
    assert "clients must change first" in rows.loc[field, "reason"]
    assert "downtime" in rows.loc[field, "reason"]
    assert rows.loc["session_timeout", "reason"] == ""
    assert "clients must change first" in plan.summary()
    assert plan.client_change_fields() == [field]
    if field == "pkce":
        assert "cannot switch PKCE off" in rows.loc[field, "reason"]


def test_switching_them_off_needs_no_acknowledgement(project: Path) -> None:
    plan = toolkit.plan_edits(project, ["pkce=false", "rtr=false"], apps=["Field_Sales_iOS"])
    assert plan.ok and plan.client_change_fields() == []


def test_cli_apply_refuses_without_ack_client_change(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(project)
    args = ["edit", "--project", str(project), "--apps", APP, "--set", "pkce=true", "--set", "rtr=true"]
    assert main([*args, "--apply", "--yes", "--journal-dir", str(tmp_path / "j")]) == 2
    err = capsys.readouterr().err
    assert "--ack-client-change" in err and "nothing was written" in err and "downtime" in err
    assert _files(project) == before
    saved = str(tmp_path / "plan.json")
    assert main([*args, "--plan-out", saved]) == 0  # a dry run needs no acknowledgement
    assert "clients must change first" in capsys.readouterr().out
    assert main(["edit", "--project", str(project), "--apply", saved, "--yes"]) == 2  # nor does a saved plan
    assert _files(project) == before
    journal = ["--journal-dir", str(tmp_path / "j")]
    assert main([*args, "--apply", "--yes", "--ack-client-change", *journal]) == 0
    assert _files(project) != before


@pytest.mark.parametrize("rule_id", ["OAU-01", "OAU-02", "OAU-04", "MSDK-05"])
def test_rule_remedies_that_enable_pkce_or_rtr_warn(rule_id: str) -> None:
    remedy = RULES_BY_ID[rule_id].remedy.describe()
    assert "clients must change first" in remedy and "downtime" in remedy
    if "PKCE" in remedy.split(";")[0]:
        assert "cannot switch PKCE off" in remedy
