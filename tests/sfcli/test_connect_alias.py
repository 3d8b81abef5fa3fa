"""``toolkit.connect("ALIAS")`` and ``audit --org ALIAS`` through the Salesforce CLI.

The real pinned releases (marked ``sfcli``): 2.136.8 redacts the token in ``sf org display`` and reveals it
through ``sf org auth show-access-token``; 2.108.6 prints it in ``org display`` and has no ``org auth``.
Small stand-in ``sf`` scripts pin down the failure messages without Node.js.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sf_support import SfLogin

import toolkit
from toolkit.demoorg import DemoOrg

REPO = Path(__file__).resolve().parents[2]
REDACTED = "[REDACTED] Use 'sf org auth show-access-token' to view"


def _audit(alias: str, out: Path, ca_file: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m toolkit audit --org ALIAS`` in a child process with ``env`` (its sf, HOME...)."""
    cmd = [sys.executable, "-m", "toolkit", "audit", "--org", alias, "--out", str(out), "--ca-file", ca_file]
    return subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=240)


def _use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(("SF_", "SFDX_"))]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@pytest.mark.sfcli
@pytest.mark.xdist_group("demo_org")
@pytest.mark.parametrize("release", ["sf_cli", "sf_cli_older"])
def test_connect_by_alias_real_sf(
    release: str, demo_org: DemoOrg, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    sf: SfLogin = request.getfixturevalue(release)
    _use_env(monkeypatch, sf.env)
    with toolkit.connect(sf.alias, ca_file=demo_org.ca_file) as org:
        assert org.auth == "sf_cli" and org.api_version == "66.0"
        assert org.instance_url == demo_org.instance_url  # sf's trailing slash is dropped
        assert org.sf.session_id == sf.token  # the token sf holds (not the placeholder)
        assert sf.token not in repr(org)
        assert org.limits()["DailyApiRequests"]["Max"] == 15000


@pytest.mark.sfcli
@pytest.mark.xdist_group("demo_org")
def test_audit_cli_by_alias_real_sf(sf_cli: SfLogin, demo_org: DemoOrg, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _audit(sf_cli.alias, out, demo_org.ca_file, sf_cli.env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "audited " in done.stdout and "(PARTIAL" not in done.stdout, done.stdout
    apps = set(pd.read_csv(out / "apps.csv")["name"])
    assert set(demo_org.truth()["apps"]) <= apps
    assert (out / "summary.html").is_file() and (out / "apps.csv").is_file()
    everything = done.stdout + done.stderr + "".join(p.read_text() for p in out.iterdir() if p.is_file())
    assert sf_cli.token not in everything


# --- stand-in sf scripts (no Node.js needed) -----------------------------------------------------------
def _fake_sf(tmp_path: Path, display: dict[str, object], show: dict[str, object] | None) -> Path:
    """An ``sf`` answering ``org display`` with ``display`` and ``org auth show-access-token`` with ``show``
    (None: "not a sf command", as in releases before the ``org auth`` commands)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "display.json").write_text(json.dumps(display))
    shown = json.dumps(show) if show is not None else ""
    (tmp_path / "show.json").write_text(shown)
    script = bin_dir / "sf"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1 $2" = "org display" ]; then cat "{tmp_path}/display.json"; exit 0; fi\n'
        f'if [ "$1 $2 $3" = "org auth show-access-token" ] && [ -s "{tmp_path}/show.json" ]; then\n'
        f'  cat "{tmp_path}/show.json"; exit 0; fi\n'
        'echo " ›   Warning: $1 $2 $3 is not a sf command." >&2\nexit 127\n'
    )
    script.chmod(0o755)
    return bin_dir


def _display(demo_org: DemoOrg, token: str) -> dict[str, object]:
    return {
        "status": 0,
        "result": {
            "id": demo_org.state.org_id,
            "apiVersion": "66.0",
            "accessToken": token,
            "instanceUrl": demo_org.instance_url + "/",
            "username": demo_org.username,
            "connectedStatus": "Connected",
        },
    }


def test_redacted_display_asks_show_access_token(
    fresh_demo_org: DemoOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = fresh_demo_org
    bin_dir = _fake_sf(
        tmp_path, _display(d, REDACTED), {"status": 0, "result": {"accessToken": d.access_token}}
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with toolkit.connect("my-alias", ca_file=d.ca_file) as org:
        assert org.instance_url == d.instance_url
        assert org.limits()["DailyApiRequests"]["Max"] == 15000


def test_no_token_from_sf_is_a_clear_error(
    fresh_demo_org: DemoOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = fresh_demo_org
    bin_dir = _fake_sf(tmp_path, _display(d, REDACTED), None)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(toolkit.SourceError) as err:
        toolkit.connect("my-alias", ca_file=d.ca_file)
    message = str(err.value)
    assert "'my-alias'" in message and "sf org auth show-access-token --json --target-org my-alias" in message
    assert "not a sf command" in message and "REDACTED" not in message


def test_audit_cli_without_token_exits_2_with_one_line(fresh_demo_org: DemoOrg, tmp_path: Path) -> None:
    d = fresh_demo_org
    bin_dir = _fake_sf(tmp_path, _display(d, REDACTED), {"status": 0, "result": {"accessToken": REDACTED}})
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = _audit("my-alias", tmp_path / "out", d.ca_file, env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "org alias 'my-alias'" in done.stderr and "show-access-token" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.sfcli
@pytest.mark.xdist_group("demo_org")
def test_the_dual_mode_tests_run_against_an_org_named_by_alias(sf_cli: SfLogin, demo_org: DemoOrg) -> None:
    """``TOOLKIT_TEST_ORG=<alias> pytest -m org_verified`` (docs/testing.md), pointed at the demo org through
    the real sf: the read tests run against whatever the alias names, and only they run."""
    env = {k: v for k, v in sf_cli.env.items() if k != "CI"}
    env.update(TOOLKIT_TEST_ORG=sf_cli.alias, TOOLKIT_TEST_CA_FILE=demo_org.ca_file)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    cmd += ["-m", "org_verified", "tests/test_org_verified.py", "tests/test_catalog.py"]
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "6 passed" in done.stdout and "failed" not in done.stdout, done.stdout[-1500:]
    assert sf_cli.token not in done.stdout + done.stderr
