"""``python -m toolkit audit`` end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from toolkit.commands import build_parser
from toolkit.model.catalog import read_value
from toolkit.sources.sfdx import load_folder

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sfdx"


def _audit(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "audit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("audit") / "out"
    return out, _audit("--project", str(EXAMPLES), "--out", str(out))


def test_audit_writes_csvs_and_summary(example_out: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = example_out
    assert proc.returncode == 0, proc.stderr
    assert "audited 8 apps" in proc.stdout and str(out / "summary.html") in proc.stdout
    assert {p.name for p in out.iterdir()} == {
        "apps.csv",
        "scopes.csv",
        "callbacks.csv",
        "ip_ranges.csv",
        "attributes.csv",
        "grants.csv",
        "problems.csv",
        "summary.html",
    }
    apps = pd.read_csv(out / "apps.csv")
    assert len(apps) == 8 and {"ip_relaxation", "pin_length", "lock_after", "min_os"} <= set(apps.columns)
    page = (out / "summary.html").read_text(encoding="utf-8")
    # the report's sections, without the notebook: findings, the mobile matrix with Setup labels
    assert "<h2 id='findings'>Findings</h2>" in page
    assert "<h2 id='mobile-settings'>Mobile settings</h2>" in page
    assert "Minimum OS Version" in page
    # self-contained: one inline script (sorting, filters), no link, nothing loaded
    assert page.count("<script") == 1 and "<link" not in page and "src=" not in page


def _secrets(folder: Path) -> list[str]:
    values = []
    for app in load_folder(folder).apps:
        for f in ("consumer_key", "consumer_secret", "certificate"):
            v = read_value(app, f)
            if v:
                values.append(v)
    return values


@pytest.mark.parametrize("folder", [EXAMPLES, FIXTURES / "mdapi"], ids=["examples", "mdapi"])
def test_no_secret_in_any_output_file(folder: Path, tmp_path: Path) -> None:
    proc = _audit("--project", str(folder), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    secrets = _secrets(folder)
    assert any("SECRET" in s for s in secrets) or folder == EXAMPLES
    body_lines = [line for s in secrets for line in s.splitlines() if len(line) > 20 and "-----" not in line]
    for path in tmp_path.iterdir():
        text = path.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in text, f"a secret value leaked into {path.name}"
        for line in body_lines:  # no piece of a certificate body either
            assert line not in text, f"a certificate line leaked into {path.name}"
        assert "BEGIN CERTIFICATE" not in text
        assert "EXAMPLESECRET" not in text
    assert re.search(r"3MVG…\d{4}", (tmp_path / "apps.csv").read_text(encoding="utf-8"))


def test_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    proc = _audit("--project", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert (
        proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and "no such folder" in proc.stderr
    )
    assert not (tmp_path / "o").exists()


def test_folder_without_metadata_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("nothing here")
    proc = _audit("--project", str(tmp_path), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "no connected app or external client app metadata found" in proc.stderr


def test_folder_with_only_broken_files_names_the_first_problem(tmp_path: Path) -> None:
    (tmp_path / "A.connectedApp-meta.xml").write_text("<ConnectedApp><label>x</ConnectedApp>")
    proc = _audit("--project", str(tmp_path), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "A.connectedApp-meta.xml:1" in proc.stderr and "no app could be loaded" in proc.stderr


def test_missing_project_option_is_an_error(tmp_path: Path) -> None:
    proc = _audit("--out", str(tmp_path))
    assert proc.returncode == 2 and "give --project DIR" in proc.stderr


def test_partial_folder_exits_0_with_problems_csv(tmp_path: Path) -> None:
    proc = _audit("--project", str(FIXTURES / "broken"), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "could not be loaded" in proc.stdout
    problems = pd.read_csv(tmp_path / "problems.csv")
    assert len(problems) == 3


def test_demo_command_audits_the_examples(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "demo", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"report: {tmp_path / 'report.html'}" in proc.stdout and (tmp_path / "audit.xlsx").is_file()
    # it ends with what to do next, and the commands it suggests are ones the parser accepts
    nxt = proc.stdout.split("\nNext:\n", 1)[1]
    assert "make lab" in nxt and str(tmp_path / "report.html") in nxt
    suggested = [
        line.split("-m toolkit ", 1)[1].split("    ")[0] for line in nxt.splitlines() if "-m toolkit" in line
    ]
    assert len(suggested) == 2
    for line in suggested:
        build_parser().parse_args(shlex.split(line))


@pytest.mark.shared
def test_real_samples_leak_no_key_or_certificate(shared_dir: Path, tmp_path: Path) -> None:
    folder = shared_dir / "samples"
    proc = _audit("--project", str(folder), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "audited 136 apps" in proc.stdout
    secrets = _secrets(folder)
    assert len(secrets) > 90
    lines = {line.strip() for s in secrets for line in s.splitlines() if len(line.strip()) > 20}
    for path in tmp_path.iterdir():
        text = path.read_text(encoding="utf-8")
        leaked = [s for s in secrets if s in text] + [line for line in lines if line in text]
        assert not leaked, f"{len(leaked)} secret value(s) leaked into {path.name}"  # never print them
