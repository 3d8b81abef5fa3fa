"""The real Salesforce CLI (``sf``) against the demo org.

The pinned sf releases are installed once per machine by ``scripts/node_clients.py`` (``make test`` runs it
before pytest; a test session installs on first use otherwise) into ``~/.cache/connected-app-toolkit``.
Tests skip, saying why, when node/npm are missing or the install fails. Each sf runs with its own ``HOME``
(a temp folder: its auth files and keychain), telemetry and update checks off, and the demo org's CA in
``NODE_EXTRA_CA_CERTS``. One ``sf org login access-token`` per release and session, reused by every test.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from toolkit.demoorg import DemoOrg

ALIAS = "demo-sf"


@dataclass
class SfLogin:
    """One sf release logged in to the demo org under :data:`ALIAS` (its env holds HOME etc.)."""

    version: str
    env: dict[str, str]
    alias: str = ALIAS
    calls: list[list[str]] = field(default_factory=list)

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> dict[str, Any]:
        """``sf ARGS --json`` -> its JSON answer (asserting exit 0 unless ``check`` is false)."""
        self.calls.append(list(args))
        done = subprocess.run(
            ["sf", *args, "--json"],
            env=self.env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        try:
            out: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise AssertionError(
                f"sf {' '.join(args)}: no JSON (exit {done.returncode}): {done.stderr[-1500:]}"
            ) from None
        if check:
            assert done.returncode == 0, f"sf {' '.join(args)} failed: {json.dumps(out)[:2000]}"
        return out

    def retrieve(self, project: Path, metadata: str) -> dict[str, Any]:
        """``sf project retrieve start --metadata METADATA`` in ``project``."""
        args = ("project", "retrieve", "start", "--target-org", self.alias, "--metadata", metadata)
        return self.run(*args, cwd=project)

    def dry_run_deploy(self, project: Path, metadata: str, check: bool = True) -> dict[str, Any]:
        """``sf project deploy start --metadata METADATA --dry-run`` in ``project``."""
        args = ("project", "deploy", "start", "--target-org", self.alias, "--metadata", metadata, "--dry-run")
        return self.run(*args, cwd=project, check=check)


def _login(node_clients: ModuleType, older: bool, demo_org: DemoOrg, tmp: Callable[[str], Path]) -> SfLogin:
    version = node_clients.SF_OLDER if older else node_clients.SF_VERSION
    try:
        bin_dir = node_clients.install_sf(version)
    except node_clients.InstallError as exc:
        pytest.skip(f"Salesforce CLI {version} not available: {exc}")
    env = node_clients.sf_env(tmp(f"sf-home-{version}"), demo_org.ca_file, bin_dir)
    sf = SfLogin(version, env)
    out = _login_with_token(sf, demo_org)
    assert out["result"]["username"] == demo_org.username
    return sf


def _login_with_token(sf: SfLogin, demo_org: DemoOrg) -> dict[str, Any]:
    # SF_ACCESS_TOKEN is the documented way to hand sf a token non-interactively; only the login sees it
    login_env = {**sf.env, "SF_ACCESS_TOKEN": demo_org.access_token}
    done = subprocess.run(
        [
            "sf",
            "org",
            "login",
            "access-token",
            "--instance-url",
            demo_org.instance_url,
            "--alias",
            sf.alias,
            "--no-prompt",
            "--json",
        ],
        env=login_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out: dict[str, Any] = json.loads(done.stdout or "{}")
    assert done.returncode == 0, (
        f"sf org login access-token failed: {out.get('message') or done.stderr[-800:]}"
    )
    return out


@pytest.fixture(scope="session")
def sf_cli(node_clients: ModuleType, demo_org: DemoOrg, tmp_path_factory: pytest.TempPathFactory) -> SfLogin:
    """The pinned sf release (token redacted in ``org display``), logged in to the session's demo org."""
    return _login(node_clients, False, demo_org, tmp_path_factory.mktemp)


@pytest.fixture(scope="session")
def sf_cli_older(
    node_clients: ModuleType, demo_org: DemoOrg, tmp_path_factory: pytest.TempPathFactory
) -> SfLogin:
    """The older pinned sf release (token printed by ``org display``), logged in to the demo org."""
    return _login(node_clients, True, demo_org, tmp_path_factory.mktemp)
