"""pytest fixtures for the embedded demo org (wired in tests/conftest.py).

- ``demo_org`` (session scope): one running org shared by every test of a worker; treat it as read-only or
  use ``fresh_demo_org``.
- ``fresh_demo_org`` (function scope): the same org, reset to its seeded state (and faults/latency cleared)
  before the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import DemoOrg


@pytest.fixture(scope="session")
def demo_org() -> Iterator[DemoOrg]:
    """A running demo org (60 connected apps, 10 ECAs, seed 1) for the whole test session."""
    with DemoOrg(apps=60, ecas=10, seed=1) as org:
        yield org


@pytest.fixture
def fresh_demo_org(demo_org: DemoOrg) -> DemoOrg:
    """``demo_org`` reset to its seeded state before the test."""
    demo_org.reset()
    return demo_org
