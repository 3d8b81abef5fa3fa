"""The real Salesforce CLI (``sf``) against the demo org.

The pinned sf releases are installed once per machine by ``scripts/node_clients.py`` (``make test`` runs it
before pytest; a test session installs on first use otherwise) into ``~/.cache/connected-app-toolkit``.
Tests skip, saying why, when node/npm are missing or the install fails (under ``CI=true`` they fail).
Each sf runs with its own ``HOME`` (a temp folder: its auth files and keychain), telemetry and update
checks off, and the demo org's CA in ``NODE_EXTRA_CA_CERTS``; no process of that HOME may outlive the tests.
One ``sf org login access-token`` per release and session, reused by every test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prerequisites import missing

from toolkit.demoorg import DemoOrg
from toolkit.demoorg.auth import new_session

ALIAS = "demo-sf"


@dataclass
class SfLogin:
    """One sf release logged in to the demo org under :data:`ALIAS` (its env holds HOME etc.)."""

    version: str
    env: dict[str, str]
    token: str = field(repr=False)  # the session sf was given
    alias: str = ALIAS
    calls: list[list[str]] = field(default_factory=list)

    def run(
        self, *args: str, cwd: Path | None = None, check: bool = True, extra_env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """``sf ARGS --json`` -> its JSON answer (asserting exit 0 unless ``check`` is false)."""
        self.calls.append(list(args))
        done = subprocess.run(
            ["sf", *args, "--json"],
            env={**self.env, **(extra_env or {})},
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
        missing(f"Salesforce CLI {version} not available: {exc}")
    env = node_clients.sf_env(tmp(f"sf-home-{version}"), demo_org.ca_file, bin_dir)
    # sf gets a session of its own, so a test can tell its token from the fixture's
    sf = SfLogin(version, env, new_session(demo_org.state, demo_org.username).token)
    # SF_ACCESS_TOKEN is the documented way to hand sf a token non-interactively; only the login sees it
    out = sf.run(
        *("org", "login", "access-token", "--instance-url", demo_org.instance_url, "--alias", sf.alias),
        "--no-prompt",
        extra_env={"SF_ACCESS_TOKEN": sf.token},
    )
    assert out["result"]["username"] == demo_org.username
    return sf


def processes_of(home: str) -> list[str]:
    """The live processes whose ``HOME`` is ``home`` (an sf fixture's own), as "pid command line"."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            if f"HOME={home}".encode() in environ:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name} {cmdline.strip()}")
        except OSError:  # gone, or not ours
            continue
    return found


def left_behind(home: str, grace: float = 3.0) -> list[str]:
    """Processes of ``home`` alive after ``grace`` seconds; they are killed, and returned for the report."""
    deadline = time.monotonic() + grace
    while (found := processes_of(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for line in found:
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except OSError:
            pass
    return found


def _ready(sf: SfLogin, demo_org: DemoOrg) -> SfLogin:
    # another test of this worker may have expired every session; a reset revives only the fixture's own
    session = demo_org.state.sessions.get(sf.token)
    if session is not None:
        session.expired = False
    return sf


def _logged_in(
    older: bool, node_clients: ModuleType, demo_org: DemoOrg, factory: pytest.TempPathFactory
) -> Iterator[SfLogin]:
    sf = _login(node_clients, older, demo_org, factory.mktemp)
    yield sf
    # no process outlives the tests: sf must not leave e.g. a detached `sf update --autoupdate` behind
    left = left_behind(sf.env["HOME"])
    assert not left, f"sf {sf.version} left processes running (killed now): {left}"


@pytest.fixture(scope="session")
def _sf_cli_login(
    node_clients: ModuleType, demo_org: DemoOrg, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SfLogin]:
    yield from _logged_in(False, node_clients, demo_org, tmp_path_factory)


@pytest.fixture(scope="session")
def _sf_cli_older_login(
    node_clients: ModuleType, demo_org: DemoOrg, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SfLogin]:
    yield from _logged_in(True, node_clients, demo_org, tmp_path_factory)


@pytest.fixture
def sf_cli(_sf_cli_login: SfLogin, demo_org: DemoOrg) -> SfLogin:
    """The pinned sf release (token redacted in ``org display``), logged in to the session's demo org."""
    return _ready(_sf_cli_login, demo_org)


@pytest.fixture
def sf_cli_older(_sf_cli_older_login: SfLogin, demo_org: DemoOrg) -> SfLogin:
    """The older pinned sf release (token printed by ``org display``), logged in to the demo org."""
    return _ready(_sf_cli_older_login, demo_org)
