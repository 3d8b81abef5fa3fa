"""examples/ci (issue 17): the GitHub Actions workflow and the cron script run `report`, `diff --since last`
and `check --fail-on high --format sarif` with the history kept between runs; their command lines parse, and
the workflow's sequence, run twice against one demo org, keeps one entry per run and shows an edit."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import toolkit
from toolkit.analysis import history
from toolkit.commands import build_parser, main
from toolkit.demoorg import DemoOrg

CI = Path(__file__).resolve().parent.parent / "examples" / "ci"


def _workflow() -> dict:
    return yaml.safe_load((CI / "github-actions.yml").read_text())


def _commands(text: str) -> list[str]:
    """The ``python -m toolkit ...`` command lines of a script (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [m.group(1).strip() for m in re.finditer(r'(?:python|"\$PY") -m toolkit ([^\n|&]+)', joined)]


def test_the_workflow_keeps_the_history_between_runs() -> None:
    wf = _workflow()
    job = wf["jobs"]["check"]
    assert "schedule" in wf[True]  # YAML 1.1 reads the key "on" as True
    assert job["env"]["TOOLKIT_HISTORY"].endswith("/history")
    steps = {s.get("uses", "").split("@")[0]: s for s in job["steps"] if "uses" in s}
    assert steps["actions/cache/restore"]["with"]["path"] == "history"
    save = steps["actions/cache/save"]
    assert save["with"]["path"] == "history" and save["if"] == "always()"
    assert steps["actions/cache/restore"]["with"]["restore-keys"] == "toolkit-history-"
    assert "sarif_file" in steps["github/codeql-action/upload-sarif"]["with"]
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "SF_ACCESS_TOKEN" not in runs  # the token stays in the environment, never on a command line


@pytest.mark.parametrize("name", ["github-actions.yml", "scheduled-check.sh"])
def test_every_command_line_parses(name: str) -> None:
    text = (CI / name).read_text()
    if name.endswith(".yml"):
        text = "\n".join(s.get("run", "") for s in _workflow()["jobs"]["check"]["steps"])
    else:
        assert subprocess.run(["sh", "-n", str(CI / name)], check=False).returncode == 0
    commands = _commands(text)
    verbs = [c.split()[0] for c in commands]
    assert {"report", "diff", "check"} <= set(verbs) and verbs.index("diff") < verbs.index("check")
    check = next(c for c in commands if c.startswith("check"))
    assert "--fail-on high --format sarif" in check
    for command in commands:
        line = command.replace("$notify", "--notify")
        argv = shlex.split(line)
        parsed = build_parser().parse_args(argv)
        assert parsed.command == argv[0]


def test_the_workflow_sequence_twice_against_one_org(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "\n".join(s.get("run", "") for s in _workflow()["jobs"]["check"]["steps"])
    commands = [c for c in _commands(text) if c.split()[0] in ("report", "diff", "check")]
    monkeypatch.chdir(tmp_path)
    with DemoOrg(apps=10, ecas=1, seed=2) as demo:
        monkeypatch.setenv("SF_ACCESS_TOKEN", demo.access_token)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", demo.ca_bundle_file)
        monkeypatch.setenv("TOOLKIT_HISTORY", str(tmp_path / "history"))

        def run_all() -> list[int]:
            codes = []
            for command in commands:
                line = command.replace('"$SF_INSTANCE_URL"', demo.instance_url).replace("$notify", "")
                argv = shlex.split(line)
                codes.append(main(argv))
            return codes

        first = run_all()
        diff_at = next(n for n, c in enumerate(commands) if c.startswith("diff"))
        assert first[diff_at] == 2  # nothing kept yet
        assert "no history of" in capsys.readouterr().err
        assert first[-1] in (0, 1) and (tmp_path / "out" / "findings.sarif").is_file()
        assert (tmp_path / "out" / "report" / "report.html").is_file()
        with toolkit.connect(instance_url=demo.instance_url, access_token=demo.access_token,
                             ca_file=demo.ca_file) as org:
            assert toolkit.plan_edits(org, ["session_timeout=120"], apps=["Demo_JWT_Integration"]).apply(
                journal_dir=str(tmp_path / "journal")
            ).ok
        second = run_all()
        assert second[diff_at] == 0 and second[-1] == first[-1]
        changes = (tmp_path / "out" / "changes.txt").read_text()
        assert [line for line in changes.splitlines() if line.startswith("~ ")] == [
            "~ Demo_JWT_Integration: Timeout Value (minutes): (not set) -> 120"
        ]
    (org_folder,) = history.orgs(tmp_path / "history")
    assert [p.name.split("-")[-1] for p in history.entries(org_folder)] == ["check.json.gz"] * 2
    shutil.rmtree(tmp_path / "out")
