#!/usr/bin/env python3
"""Node.js clients the tests drive against the demo org, installed once per machine.

- The Salesforce CLI (``sf``), pinned releases, into ``~/.cache/connected-app-toolkit/sf-<version>``
  (``$CONNECTED_APP_TOOLKIT_CACHE`` or ``$XDG_CACHE_HOME/connected-app-toolkit`` instead): ``npm pack
  @salesforce/cli@<version>``, untar, then ``npm install --omit=dev --ignore-scripts`` inside ``package/``,
  so npm installs the release's own ``npm-shrinkwrap.json`` (a plain ``npm install @salesforce/cli@X``
  resolves newer transitive packages that need Node 22). ``<dir>/bin/sf`` runs it.
- :func:`locked_install`: the idempotent, file-locked install step shared with the jsforce tests, so
  parallel pytest-xdist workers (and ``make test``) install once and never race.

``make test`` runs ``python scripts/node_clients.py`` before pytest (one install, not one per worker); it
never fails the build: without node/npm or a registry it prints why and the sf tests skip.
Stdlib only (it runs before anything else is known to work).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SF_VERSION = "2.136.8"  # the release the tests pin (redacts the token in `org display`)
SF_OLDER = "2.108.6"  # an older release (prints the token in `org display`; no `org auth` commands)
SF_VERSIONS = (SF_VERSION, SF_OLDER)
INSTALL_TIMEOUT = 300  # seconds for one npm step
FAILURE_MEMORY = 3600  # seconds a failed install is remembered: test workers do not retry it each
_DONE = ".installed"


class InstallError(Exception):
    """A client could not be installed (no node/npm, no registry, npm failed); the message says why."""


def cache_root() -> Path:
    """Where the clients live (outside the repository, shared by every worktree and run)."""
    explicit = os.environ.get("CONNECTED_APP_TOOLKIT_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "connected-app-toolkit"


def locked_install(target: Path, done: Callable[[], bool], install: Callable[[], None]) -> None:
    """Run ``install()`` unless ``done()``, holding an exclusive lock on ``<target>.lock`` meanwhile."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done():
            install()


def need_node() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise InstallError(f"{' and '.join(missing)} not on PATH")


def run_npm(cmd: list[str], cwd: Path, what: str) -> None:
    """Run one npm step in ``cwd``; InstallError (with npm's last words) when it fails or hangs."""
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise InstallError(f"{what} took more than {INSTALL_TIMEOUT} s (no registry access?)") from None
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).split())[-300:]
        raise InstallError(f"{what} failed (no registry access?): {tail}")


def sf_dir(version: str = SF_VERSION) -> Path:
    return cache_root() / f"sf-{version}"


def install_sf(version: str = SF_VERSION, retry_failed: bool = False) -> Path:
    """The ``bin`` folder holding an ``sf`` for ``version`` (installed on first use); InstallError if not.

    A failed install is remembered for :data:`FAILURE_MEMORY` seconds (``<dir>.failed`` holds why) and
    raised again at once, unless ``retry_failed`` (``make test`` retries; the test workers do not).
    """
    need_node()
    target = sf_dir(version)
    failed = target.parent / f"{target.name}.failed"

    def done() -> bool:
        if (target / _DONE).is_file():
            return True
        if not retry_failed and failed.is_file() and time.time() - failed.stat().st_mtime < FAILURE_MEMORY:
            raise InstallError(failed.read_text().strip())
        return False

    def install() -> None:
        work = Path(tempfile.mkdtemp(prefix=f"sf-{version}.partial-", dir=target.parent))
        try:
            run_npm(
                ["npm", "pack", f"@salesforce/cli@{version}", "--loglevel=error"],
                work,
                f"npm pack sf {version}",
            )
            tgz = next(work.glob("salesforce-cli-*.tgz"), None)
            if tgz is None:
                raise InstallError(f"npm pack sf {version} wrote no tarball")
            with tarfile.open(tgz) as tar:
                tar.extractall(work, filter="data")
            tgz.unlink()
            run_npm(
                [
                    "npm",
                    "install",
                    "--omit=dev",
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                ],
                work / "package",
                f"npm install sf {version}",
            )
            run_js = work / "package" / "bin" / "run.js"
            if not run_js.is_file():
                raise InstallError(f"sf {version}: package/bin/run.js missing after install")
            shim = work / "bin" / "sf"
            shim.parent.mkdir()
            final_run_js = target / "package" / "bin" / "run.js"
            shim.write_text(f'#!/bin/sh\nexec node "{final_run_js}" "$@"\n')
            shim.chmod(0o755)
            (work / _DONE).write_text(f"{version}\n")
            if target.exists():
                shutil.rmtree(target)  # an earlier install that never finished
            work.rename(target)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)

    try:
        locked_install(target, done, install)
    except InstallError as exc:
        if not failed.is_file() or retry_failed:
            failed.write_text(f"{exc} (remembered for {FAILURE_MEMORY} s; `make test` retries)\n")
        raise
    failed.unlink(missing_ok=True)
    return target / "bin"


def sf_env(home: Path, ca_file: str, bin_dir: Path) -> dict[str, str]:
    """The environment to run this ``sf`` in: its own HOME, no telemetry/update checks, the demo org's CA."""
    # no SF_*/SFDX_* of the caller (SF_TARGET_ORG, SF_ACCESS_TOKEN...), no XDG_* folders outside ``home``
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_", "XDG_"))}
    env.update(
        HOME=str(home),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        SF_USE_GENERIC_UNIX_KEYCHAIN="true",
        SF_DISABLE_TELEMETRY="true",
        # sf reads both; its update hook (@oclif/plugin-update) only SF_DISABLE_AUTOUPDATE: without it every
        # sf call with a fresh HOME leaves a detached `sf update --autoupdate` behind
        SF_AUTOUPDATE_DISABLE="true",
        SF_DISABLE_AUTOUPDATE="true",
        SF_SKIP_NEW_VERSION_CHECK="true",
        NODE_EXTRA_CA_CERTS=ca_file,
    )
    return env


def main(argv: list[str]) -> int:
    versions = argv or list(SF_VERSIONS)
    for version in versions:
        started = time.monotonic()
        already = (sf_dir(version) / _DONE).is_file()
        try:
            bin_dir = install_sf(version, retry_failed=True)
        except InstallError as exc:
            if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
                print(f"error: Salesforce CLI {version} not installed ({exc}); CI=true needs the sf tests")
                return 1
            print(f"note: Salesforce CLI {version} not installed ({exc}); the sf tests will be skipped")
            continue
        if not already:
            print(f"installed Salesforce CLI {version} in {time.monotonic() - started:.0f} s: {bin_dir}/sf")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
