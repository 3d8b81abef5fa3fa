"""Bulk edits of a folder (a copy of ``examples/``): only the edited lines change, unknown elements survive,
stale files are refused, rollback restores every byte, re-applying changes nothing."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

import toolkit
from toolkit.commands import main

REPO = Path(__file__).resolve().parent.parent
APPS = ["Legacy_Partner_Portal", "Field_Sales_iOS", "Field_Service_Android", "Field_Sales_Next"]
CHANGES = ["ip_relaxation=ENFORCE", "session_timeout=120", "callback_urls+=https://new.example.com/cb"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "examples"
    shutil.copytree(REPO / "examples", dest)
    return dest


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _changed_lines(before: dict[str, bytes], after: dict[str, bytes]) -> dict[str, list[str]]:
    out = {}
    for name in before:
        if before[name] != after[name]:
            a, b = before[name].decode().splitlines(), after[name].decode().splitlines()
            out[name] = [ln for ln in difflib.ndiff(a, b) if ln[:2] in ("- ", "+ ")]
    return out


def test_folder_edit_changes_only_the_edited_lines(project: Path, tmp_path: Path) -> None:
    before = _files(project)
    plan = toolkit.plan_edits(project, CHANGES, apps=APPS)
    assert plan.ok, plan.problems
    assert _files(project) == before  # planning writes nothing
    result = plan.apply(journal_dir=str(tmp_path / "j"))
    assert result.exit_code == 0, result.results
    changed = _changed_lines(before, _files(project))
    # 3 connected apps + the ECA's global OAuth settings and OAuth policies; Android had nothing to change
    assert len(changed) == len(plan.components) == 5
    edited = (
        "ipRelaxation",
        "sessionTimeout",
        "sessionPolicy",
        "callbackUrl",
        "https://new.example.com/cb",
        "ipRelaxationPolicyType",
        "sessionTimeoutInMinutes",
        "://",
    )  # "://": a callback URL line
    for name, lines in changed.items():
        for line in lines:
            assert any(tag in line for tag in edited), (name, line)
    # the ECA keeps its own vocabulary: ENFORCE is written as Enforce
    policy = next(v for k, v in _files(project).items() if k.endswith(".ecaOauthPlcy-meta.xml"))
    assert b"<sessionTimeoutInMinutes>120</sessionTimeoutInMinutes>" in policy


def test_rollback_restores_every_byte_and_reapply_is_a_no_op(project: Path, tmp_path: Path) -> None:
    before = _files(project)
    plan = toolkit.plan_edits(project, CHANGES, apps=APPS)
    result = plan.apply(journal_dir=str(tmp_path / "j"))
    after = _files(project)
    again = plan.apply(journal_dir=str(tmp_path / "j"))
    assert set(again.results["status"]) == {"already applied"} and _files(project) == after
    rolled = toolkit.rollback_edits(result.journal)
    assert rolled.exit_code == 0 and set(rolled.results["status"]) == {"restored"}
    assert _files(project) == before
    # the journal holds the backups and every step
    kinds = [
        json.loads(line)["type"] for line in (Path(result.journal) / "journal.jsonl").read_text().splitlines()
    ]
    assert kinds[:2] == ["plan", "preimages"] and "intent" in kinds and "verify" in kinds
    assert len((Path(result.journal) / "pre.jsonl").read_text().splitlines()) == 5


def test_unknown_elements_survive_and_only_the_leaf_changes(project: Path, tmp_path: Path) -> None:
    file = project / "force-app/main/default/connectedApps/Legacy_Partner_Portal.connectedApp-meta.xml"
    text = file.read_text()
    text = text.replace(
        "<label>", '<futureThing2030 mode="x">keep &amp; me</futureThing2030>\n    <label>', 1
    )
    text = text.replace("</oauthPolicy>", "    <newPolicyKnob>7</newPolicyKnob>\n    </oauthPolicy>", 1)
    file.write_text(text)
    original = file.read_bytes()
    result = toolkit.plan_edits(project, ["ip_relaxation=ENFORCE"], apps=["Legacy_Partner_Portal"]).apply(
        journal_dir=str(tmp_path / "j")
    )
    assert result.exit_code == 0
    new = file.read_bytes()
    assert b'<futureThing2030 mode="x">keep &amp; me</futureThing2030>' in new
    assert b"<newPolicyKnob>7</newPolicyKnob>" in new
    assert new == original.replace(
        b"<ipRelaxation>BYPASS</ipRelaxation>", b"<ipRelaxation>ENFORCE</ipRelaxation>"
    )


def test_a_file_changed_between_plan_and_apply_is_stale(project: Path, tmp_path: Path) -> None:
    plan = toolkit.plan_edits(
        project, ["session_timeout=120"], apps=["Legacy_Partner_Portal", "Field_Sales_iOS"]
    )
    file = project / "force-app/main/default/connectedApps/Field_Sales_iOS.connectedApp-meta.xml"
    file.write_bytes(
        file.read_bytes().replace(b"<label>Field Sales (iOS)</label>", b"<label>Renamed</label>")
    )
    result = plan.apply(journal_dir=str(tmp_path / "j"))
    statuses = dict(zip(result.results["app"], result.results["status"], strict=True))
    assert statuses == {"Legacy_Partner_Portal": "applied", "Field_Sales_iOS": "stale"}
    assert (
        result.exit_code == 3
        and b"Renamed" in file.read_bytes()
        and b"sessionTimeout" not in file.read_bytes()
    )
    forced = plan.apply(journal_dir=str(tmp_path / "j"), force_stale=True)
    assert set(forced.results["status"]) == {"applied", "already applied"}
    assert b"Renamed" in file.read_bytes() and b"<sessionTimeout>120</sessionTimeout>" in file.read_bytes()


def test_cli_dry_run_apply_rollback_on_a_folder(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(project)
    args = [
        "edit",
        "--project",
        str(project),
        "--apps",
        ",".join(APPS),
        *sum((["--set", c] for c in CHANGES), []),
    ]
    assert main([*args, "--diff"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing was written" in out and "+        <ipRelaxation>ENFORCE</ipRelaxation>" in out
    assert _files(project) == before
    assert main([*args, "--apply", "--journal-dir", str(tmp_path / "j")]) == 0
    out = capsys.readouterr().out
    journal = next(line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("journal: "))
    assert out.index("journal: ") < out.index("applied")  # the journal path comes before any result
    assert _files(project) != before
    assert main(["edit", "--project", str(project), "--rollback", journal]) == 0
    assert _files(project) == before
    assert main(["edit", "--rollback", journal]) == 0  # the folder is known from the journal; nothing left
    assert "rolled back already" in capsys.readouterr().out


def test_revocation_journals_cannot_be_rolled_back(tmp_path: Path) -> None:
    from toolkit.edits.journal import Journal, JournalError

    j = Journal.create(tmp_path, prefix="revoke")
    j.append({"type": "plan", "kind": "revoke", "app": "A", "tokens": []})
    with pytest.raises(JournalError, match="cannot be restored"):
        toolkit.rollback_edits(str(j))


def test_diff_masks_consumer_keys(project: Path) -> None:
    plan = toolkit.plan_edits(project, ["pkce=false"], apps=["Field_Sales_iOS"])
    text = plan.diff()
    assert "<consumerKey>3MVG" in text and "3MVG9EXAMPLE.FieldSalesIos" not in text


def test_a_file_holding_a_secret_is_refused_not_copied(project: Path, tmp_path: Path) -> None:
    file = next(project.rglob("*.ecaGlblOauth-meta.xml"))
    file.write_text(
        file.read_text().replace(
            "<consumerKey>", "<consumerSecret>S3CR3TVALUE99</consumerSecret>\n    <consumerKey>", 1
        )
    )
    plan = toolkit.plan_edits(project, ["pkce=false"], apps=["Field_Sales_Next"])
    assert len(plan.problems) == 1 and "consumerSecret" in plan.problems.iloc[0]["problem"]
    assert "S3CR3TVALUE99" not in plan.problems.to_string() and "S3CR3TVALUE99" not in plan.diff()
    with pytest.raises(toolkit.ToolkitError, match="never copy a secret"):
        plan.apply(journal_dir=str(tmp_path / "j"))
    assert not (tmp_path / "j").exists()
