"""Undo you can trust, on a folder (issue 13): rollback from any working directory, one state machine for a
journal, a journal is input (edited, truncated or pointing outside the project: refused, nothing written),
symlinks written through, and a kill at every step boundary of an apply leaves every app as before or as
intended, from which both --resume and --rollback reach a clean end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import toolkit
from toolkit.edits.journal import JournalError

REPO = Path(__file__).resolve().parent.parent
APPS = "Legacy_Partner_Portal,Field_Sales_iOS,Field_Sales_Next"  # Field_Sales_Next: an ECA (two types)
SETS = ["--set", "ip_relaxation=ENFORCE", "--set", "callback_urls+=https://new.example.com/cb"]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _edit(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "edit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
    )


def _journal_of(out: str) -> str:
    return next(line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("journal: "))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples", tmp_path / "proj")
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


def test_rollback_from_another_directory_restores_every_byte(work: Path) -> None:
    before = _files(work / "proj")
    applied = _edit("--project", "proj", "--apps", APPS, *SETS, "--apply", "--journal-dir", "j", cwd=work)
    assert applied.returncode == 0, applied.stderr
    journal = str((work / _journal_of(applied.stdout)).resolve())
    assert _files(work / "proj") != before
    back = _edit("--rollback", journal, cwd=work / "elsewhere")
    assert back.returncode == 0, back.stderr + back.stdout
    assert _files(work / "proj") == before
    # one state machine: a second rollback does nothing and says so; resume after rollback is refused
    again = _edit("--rollback", journal, cwd=work / "elsewhere")
    assert again.returncode == 0 and "rolled back already" in again.stdout + again.stderr
    resumed = _edit("--resume", journal, cwd=work / "elsewhere")
    assert resumed.returncode == 2 and "rolled back" in resumed.stderr, resumed.stdout
    assert "Traceback" not in resumed.stderr
    assert _files(work / "proj") == before


def test_a_journal_of_another_project_is_refused(work: Path) -> None:
    applied = _edit("--project", "proj", "--apps", APPS, *SETS, "--apply", "--journal-dir", "j", cwd=work)
    journal = str((work / _journal_of(applied.stdout)).resolve())
    other = work / "other"
    shutil.copytree(REPO / "examples", other)
    before = _files(other)
    refused = _edit("--rollback", journal, "--project", str(other), cwd=work)
    assert refused.returncode == 2, refused.stdout
    assert refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
    assert _files(other) == before


@pytest.mark.parametrize("tamper", ["post_image", "file_outside", "truncated_middle", "plan_component"])
def test_an_edited_journal_is_refused_and_nothing_is_written(work: Path, tamper: str) -> None:
    applied = _edit("--project", "proj", "--apps", APPS, *SETS, "--apply", "--journal-dir", "j", cwd=work)
    journal = (work / _journal_of(applied.stdout)).resolve()
    after = _files(work / "proj")
    outside = work / "outside.xml"
    outside.write_text("<keep/>")
    lines = (journal / "journal.jsonl").read_text().splitlines()
    if tamper == "post_image":
        post = (journal / "pre.jsonl").read_text().replace("BYPASS", "ENFORCE")
        (journal / "pre.jsonl").write_text(post)
    elif tamper in ("file_outside", "plan_component"):
        plan = json.loads(lines[0])
        if tamper == "file_outside":
            plan["components"][0]["file"] = str(outside)
        else:
            plan["components"][0]["name"] = "Someone_Else"
        lines[0] = json.dumps(plan)
        (journal / "journal.jsonl").write_text("\n".join(lines) + "\n")
    else:
        del lines[1]
        (journal / "journal.jsonl").write_text("\n".join(lines) + "\n")
    refused = _edit("--rollback", str(journal), cwd=work)
    assert refused.returncode == 2, (tamper, refused.stdout, refused.stderr)
    assert refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
    assert _files(work / "proj") == after
    assert outside.read_text() == "<keep/>"


@pytest.mark.parametrize("bad", [None, 123, "", "/no/such/journal"])
def test_rollback_and_resume_refuse_what_is_not_a_journal(bad: object) -> None:
    for fn in (toolkit.rollback_edits, toolkit.resume_edits):
        with pytest.raises(toolkit.ToolkitError):
            fn(bad)  # type: ignore[arg-type]


def test_random_bytes_are_not_a_journal(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").write_bytes(os.urandom(300))
    with pytest.raises(JournalError):
        toolkit.rollback_edits(tmp_path)


def test_empty_rollback_path_says_so(work: Path) -> None:
    done = _edit("--rollback", "", cwd=work)
    assert done.returncode == 2 and "journal path is empty" in done.stderr


def test_a_symlinked_file_is_written_through_and_stays_a_link(work: Path) -> None:
    proj = work / "proj"
    real = next(p for p in proj.rglob("Legacy_Partner_Portal.connectedApp-meta.xml"))
    target = work / "real" / real.name
    target.parent.mkdir()
    shutil.move(real, target)
    real.symlink_to(target)
    applied = _edit(
        "--project",
        "proj",
        "--apps",
        "Legacy_Partner_Portal",
        "--set",
        "ip_relaxation=ENFORCE",
        "--apply",
        "--journal-dir",
        "j",
        cwd=work,
    )
    assert applied.returncode == 0, applied.stderr
    assert real.is_symlink() and "ENFORCE" in target.read_text()
    back = _edit("--rollback", _journal_of(applied.stdout), cwd=work)
    assert back.returncode == 0, back.stderr
    assert real.is_symlink() and "ENFORCE" not in target.read_text()


@pytest.mark.parametrize("step", ["plan", "preimages", "intent", "write", "result", "verify"])
def test_a_kill_at_every_step_then_resume_or_rollback(work: Path, step: str) -> None:
    before = _files(work / "proj")
    killed = _edit(
        "--project",
        "proj",
        "--apps",
        APPS,
        *SETS,
        "--apply",
        "--journal-dir",
        "j",
        cwd=work,
        env={"TOOLKIT_TEST_CRASH_AT": step},
    )
    assert killed.returncode == 137, (step, killed.stdout, killed.stderr)
    journal = str((work / _journal_of(killed.stdout)).resolve())
    snapshot = work / "snap"
    shutil.copytree(work / "proj", snapshot)
    shutil.copytree(journal, str(snapshot) + "-journal")
    # rollback: every app exactly as before
    back = _edit("--rollback", journal, cwd=work)
    assert back.returncode in (0, 2), (step, back.stdout, back.stderr)
    assert _files(work / "proj") == before, step
    # resume (from the same kill): every app exactly as intended, as a full apply leaves it
    shutil.rmtree(work / "proj")
    shutil.copytree(snapshot, work / "proj")
    shutil.rmtree(journal)
    shutil.copytree(str(snapshot) + "-journal", journal)
    resumed = _edit("--resume", journal, cwd=work)
    if resumed.returncode == 2:  # killed before anything could be written: the plan is simply re-applied
        assert _files(work / "proj") == before and "nothing" in resumed.stderr, (step, resumed.stderr)
        resumed = _edit(
            "--project", "proj", "--apps", APPS, *SETS, "--apply", "--journal-dir", "j2", cwd=work
        )
    assert resumed.returncode == 0, (step, resumed.stdout, resumed.stderr)
    reference = work / "ref"
    shutil.copytree(REPO / "examples", reference)
    full = _edit(
        "--project", str(reference), "--apps", APPS, *SETS, "--apply", "--journal-dir", "j3", cwd=work
    )
    assert full.returncode == 0
    assert _files(work / "proj") == _files(reference), step


def test_validate_on_a_folder_does_not_claim_a_server(work: Path) -> None:
    done = _edit("--project", "proj", "--apps", APPS, *SETS, "--validate", cwd=work)
    assert done.returncode == 0, done.stderr
    assert "deploy checkOnly" not in done.stdout and "no server-side validation" in done.stdout
