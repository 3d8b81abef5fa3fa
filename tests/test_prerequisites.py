"""A missing prerequisite (sf, jsforce, chromium) skips locally and fails in CI (issue 13)."""

from __future__ import annotations

import pytest
from prerequisites import in_ci, missing


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_ci_turns_a_missing_prerequisite_into_a_failure(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="CI=true: a missing prerequisite is a failure"):
        missing("Debian chromium is not installed")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_off_ci_a_missing_prerequisite_skips(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="jsforce compatibility not checked"):
        missing("jsforce compatibility not checked: npm is missing")
