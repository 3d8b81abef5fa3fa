"""Shared fixtures. ``shared_dir`` points at ../shared (real samples, WSDLs) and skips when absent.

Dual mode (moto's model, docs/testing.md): tests marked ``org_verified`` read through the ``verified_org``
fixture, the demo org by default, a real org when ``TOOLKIT_TEST_ORG=<sf alias>`` is set (then only those
tests run). Tests marked ``org_writes`` write through ``writable_org``: the demo org by default, a scratch org
only with ``TOOLKIT_TEST_SCRATCH_ORG=<sf alias>``. Neither variable is allowed in CI.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prerequisites import in_ci

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "samples").is_dir():
        pytest.skip("../shared is absent: real-sample tests skipped")
    return SHARED


@pytest.fixture(scope="session")
def node_clients() -> ModuleType:
    """``scripts/node_clients.py``: installs the Node.js clients (sf, jsforce) once into a cache, locked."""
    spec = importlib.util.spec_from_file_location("node_clients", REPO / "scripts" / "node_clients.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session", autouse=True)
def _session_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Runs of session and module fixtures (set up before any test's own) keep their history in a temporary
    folder too, never in the checkout's ``out/history``."""
    folder = tmp_path_factory.mktemp("session-history")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOOLKIT_HISTORY", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def history_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's runs keep their history in a folder of their own (``$TOOLKIT_HISTORY``), never in the
    checkout's ``out/history``."""
    folder = tmp_path_factory.mktemp("history")
    monkeypatch.setenv("TOOLKIT_HISTORY", str(folder))
    return folder


# The demo-org pytest fixtures (``demo_org``...) live with the emulator.
pytest_plugins = ["toolkit.demoorg.pytest_plugin"]


REAL_ORG = os.environ.get("TOOLKIT_TEST_ORG", "").strip()
SCRATCH_ORG = os.environ.get("TOOLKIT_TEST_SCRATCH_ORG", "").strip()


def pytest_configure(config: pytest.Config) -> None:
    if (REAL_ORG or SCRATCH_ORG) and in_ci():
        raise pytest.UsageError("TOOLKIT_TEST_ORG / TOOLKIT_TEST_SCRATCH_ORG are for people, never for CI")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With a real org named, only the tests that can meet it run (the rest need the demo org's seed)."""
    if not (REAL_ORG or SCRATCH_ORG):
        return
    wanted = {"org_verified"} if REAL_ORG else set()
    wanted |= {"org_writes"} if SCRATCH_ORG else set()
    named = "TOOLKIT_TEST_ORG" if REAL_ORG else "TOOLKIT_TEST_SCRATCH_ORG"
    skip = pytest.mark.skip(reason=f"a real org is named ({named}): only org_verified / org_writes tests run")
    for item in items:
        if not wanted & {m.name for m in item.iter_markers()}:
            item.add_marker(skip)


def _connect(alias: str | None, demo: Any) -> Any:
    import toolkit

    if alias:  # TOOLKIT_TEST_CA_FILE: only for an org with a private CA (the suite's own self-test)
        return toolkit.connect(alias=alias, ca_file=os.environ.get("TOOLKIT_TEST_CA_FILE") or None)
    return toolkit.connect(
        instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
    )


@pytest.fixture(scope="session")
def verified_org(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A toolkit ``Org`` to read: the demo org, or the real org ``TOOLKIT_TEST_ORG`` names (read only)."""
    demo = None if REAL_ORG else request.getfixturevalue("demo_org")
    with _connect(REAL_ORG or None, demo) as org:
        yield org


@pytest.fixture
def writable_org(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A toolkit ``Org`` a test may write to: the fresh demo org, or ``TOOLKIT_TEST_SCRATCH_ORG``'s org."""
    demo = None if SCRATCH_ORG else request.getfixturevalue("fresh_demo_org")
    with _connect(SCRATCH_ORG or None, demo) as org:
        yield org
