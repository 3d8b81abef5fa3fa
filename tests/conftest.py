"""Shared fixtures. ``shared_dir`` points at ../shared (real samples, WSDLs) and skips when absent."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

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


# The demo-org pytest fixtures (``demo_org``...) live with the emulator.
pytest_plugins = ["toolkit.demoorg.pytest_plugin"]
