"""What a test needs from the machine (Node.js clients, chromium): skip locally, fail in CI.

``make test`` installs every prerequisite; off CI a test whose prerequisite is missing skips with the reason.
In CI (``CI=true``) the same test must run, so a missing prerequisite or a failed install is a failure there,
never a green skip (the ``../shared`` samples are the exception: their absence skips everywhere).
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when the environment says this is a CI run (``CI=true``, as GitHub Actions and GitLab set it)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing(reason: str) -> NoReturn:
    """A prerequisite is missing: fail in CI, skip (saying why) elsewhere."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing prerequisite is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)
