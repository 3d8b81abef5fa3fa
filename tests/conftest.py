"""Shared fixtures. ``shared_dir`` points at ../shared (real samples, WSDLs) and skips when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "samples").is_dir():
        pytest.skip("../shared is absent: real-sample tests skipped")
    return SHARED

# The demo-org pytest fixtures (``demo_org``...) live with the emulator.
pytest_plugins = ["toolkit.demoorg.pytest_plugin"]
