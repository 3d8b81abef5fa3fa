"""``diff`` takes an audit output folder, a history entry (``--since last`` / a date) or a source (issue 17),
and reports usage figures that move on their own apart from settings drift."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.analysis import history
from toolkit.commands import main
from toolkit.demoorg import DemoOrg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PORTAL = "force-app/main/default/connectedApps/Legacy_Partner_Portal.connectedApp-meta.xml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLES, tmp_path / "project"))


def _enforce(project: Path) -> None:
    app = project / PORTAL
    app.write_text(app.read_text().replace("<ipRelaxation>BYPASS<", "<ipRelaxation>ENFORCE<"))


def test_audit_output_folders_diff(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--project", str(project), "--out", str(tmp_path / "a")]) == 0
    code, out, _ = run(capsys, "diff", str(tmp_path / "a"), "--project", str(project))
    assert code == 0 and "0 settings changed in 0 apps, 0 apps added, 0 removed" in out
    _enforce(project)
    assert main(["report", "--project", str(project), "--out", str(tmp_path / "b")]) == 0  # report.html too
    code, out, _ = run(capsys, "diff", str(tmp_path / "a"), str(tmp_path / "b"))
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("~ ")]
    assert line.startswith("~ Legacy_Partner_Portal: ") and line.endswith(": BYPASS -> ENFORCE")
    assert "1 settings changed in 1 apps" in out and "usage (" not in out
    code, out, _ = run(capsys, "diff", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "csv")
    rows = [line for line in out.splitlines()[1:] if line]
    assert len(rows) == 1 and rows[0].startswith("Legacy_Partner_Portal,ConnectedApp,changed,ip_relaxation,")


def test_since_last_and_since_a_date(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "diff", "--since", "last", "--project", str(project))
    assert code == 2 and "no history of" in err and "run audit, check or report first" in err
    assert main(["check", "--project", str(project), "--out", str(tmp_path / "f.txt")]) == 0
    _enforce(project)
    code, out, _ = run(capsys, "diff", "--since", "last", "--project", str(project))
    assert code == 0 and out.startswith("--- history ") and "(check, " in out
    changed = [line for line in out.splitlines() if line.startswith("~ ")]
    assert changed == [line for line in changed if "Legacy_Partner_Portal" in line] and len(changed) == 1
    today = datetime.now(UTC).date().isoformat()
    assert run(capsys, "diff", "--since", today, "--project", str(project))[1].count("\n~ ") == 1
    code, _, err = run(capsys, "diff", "--since", "2001-01-01", "--project", str(project))
    assert code == 2 and "no entry of" in err and f"a date from {today}" in err
    code, _, err = run(capsys, "diff", "--since", "last week", "--project", str(project))
    assert code == 2 and "allowed: 'last', a date (2026-11-01)" in err
    # a history entry given as OLD, and OLD with --since is refused
    (entry,) = history.entries(history.history_dir() / history.org_key({"folder": str(project.resolve())}))
    code, out, _ = run(capsys, "diff", str(entry), "--project", str(project))
    assert code == 0 and out.count("\n~ ") == 1
    code, _, err = run(capsys, "diff", str(entry), str(entry), "--since", "last")
    assert code == 2 and "at most one folder" in err
    code, _, err = run(capsys, "diff")
    assert code == 2 and "--since last" in err


def test_usage_is_reported_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    usage = pd.DataFrame([{"app": "A", "tokens": 2, "logins": 3, "last_login": "2026-11-01T10:00:00"}])
    apps = pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "ip_relaxation": "ENFORCE"}])
    toolkit.save_snapshot({"apps": apps, "usage": usage}, tmp_path / "old")
    later = usage.assign(logins=5, last_login="2026-12-01T10:00:00")
    toolkit.save_snapshot({"apps": apps, "usage": later}, tmp_path / "new")
    code, out, _ = run(capsys, "diff", str(tmp_path / "old"), str(tmp_path / "new"))
    lines = out.splitlines()
    assert code == 0 and "0 settings changed in 0 apps, 0 apps added, 0 removed" in lines
    at = lines.index("usage (moves on its own, not settings drift): 2 figures changed in 1 apps")
    assert lines[at + 1 :] == [
        "  A: logins: 3 -> 5", "  A: last login: 2026-11-01T10:00:00 -> 2026-12-01T10:00:00"
    ]
    code, out, _ = run(capsys, "diff", str(tmp_path / "old"), str(tmp_path / "new"), "--format", "csv")
    assert [r.split(",")[2] for r in out.splitlines()[1:]] == ["usage", "usage"]
    assert toolkit.diff_audits({"apps": apps, "usage": usage}, {"apps": apps, "usage": later}).empty


def test_an_edit_of_a_running_org_since_the_last_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with DemoOrg(apps=12, ecas=2, seed=4) as demo:
        source = ["--instance-url", demo.instance_url, "--access-token", demo.access_token, "--ca-file",
                  demo.ca_file]
        assert run(capsys, "audit", *source, "--out", str(tmp_path / "a"))[0] == 0
        code, out, _ = run(capsys, "diff", "--since", "last", *source)
        assert code == 0 and "0 settings changed in 0 apps" in out and "usage (" not in out
        with toolkit.connect(instance_url=demo.instance_url, access_token=demo.access_token,
                             ca_file=demo.ca_file) as org:
            target = "Demo_JWT_Integration"
            plan = toolkit.plan_edits(org, ["session_timeout=120"], apps=[target])
            assert plan.apply(journal_dir=str(tmp_path / "j")).ok
        code, out, _ = run(capsys, "diff", "--since", "last", *source, "--format", "csv")
        rows = out.splitlines()[1:]
        assert code == 0 and len(rows) == 1 and rows[0].endswith(",120")
        assert rows[0].startswith(f"{target},ConnectedApp,changed,session_timeout,")
        # the audit output folder of the org as OLD: the same one change
        code, out, _ = run(capsys, "diff", str(tmp_path / "a"), *source, "--format", "csv")
        assert out.splitlines()[1:] == rows
