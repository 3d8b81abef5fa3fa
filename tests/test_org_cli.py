"""``python -m toolkit audit --instance-url ... --access-token ...`` end to end, against the demo org."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def test_audit_a_running_org_writes_tables_and_calls(demo_org: Any, tmp_path: Path) -> None:
    env = {**os.environ, "SF_ACCESS_TOKEN": demo_org.access_token}
    proc = _run(
        "audit",
        "--instance-url",
        demo_org.instance_url,
        "--ca-file",
        demo_org.ca_file,
        "--concurrency",
        "4",
        "--out",
        str(tmp_path),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "API calls counted by Salesforce (lower bound" in proc.stdout
    assert str(tmp_path / "summary.html") in proc.stdout
    for name in ("apps", "usage", "tokens", "api_calls", "logins"):
        assert (tmp_path / f"{name}.csv").is_file(), name
    apps = pd.read_csv(tmp_path / "apps.csv")
    assert set(demo_org.truth()["apps"]) <= set(apps["name"])
    assert not apps["partial"].any()
    everything = proc.stdout + proc.stderr + "".join(p.read_text() for p in tmp_path.iterdir())
    assert demo_org.access_token not in everything


def test_instance_url_without_token_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SF_ACCESS_TOKEN"}
    proc = _run("audit", "--instance-url", "https://127.0.0.1:9", "--out", str(tmp_path), env=env)
    assert proc.returncode == 2 and "--access-token" in proc.stderr and proc.stderr.count("\n") == 1


def test_make_demo_audits_the_demo_org(tmp_path: Path) -> None:
    proc = _run("demo", "--apps", "8", "--ecas", "2", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "demo org running at https://127.0.0.1:" in proc.stdout and "API calls" in proc.stdout
    assert (tmp_path / "report.html").is_file() and (tmp_path / "api_calls.csv").is_file()
    assert f"report: {tmp_path / 'report.html'}" in proc.stdout


def test_demo_says_what_each_number_counts(tmp_path: Path) -> None:
    proc = _run("demo", "--out", str(tmp_path))  # the default 60 apps + 10 ECAs of `make demo`
    assert proc.returncode == 0, proc.stderr
    assert "seeded with 60 connected apps (some installed from packages) and 10 external client apps" in (
        proc.stdout
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("audited "))
    # phantom apps (tokens/logins only) are not counted as connected apps, and the parts add up
    assert "63 connected apps" not in proc.stdout
    assert "apps known only from OAuth tokens or logins (not installed)" in line
    total, parts = line.removeprefix("audited ").split(";")[0].split(": ", 1)
    assert int(total.split()[0]) == sum(int(p.split()[0]) for p in parts.split(", "))
    assert "60 connected apps with metadata" not in line  # 6 of the 60 are installed from packages
