"""The package's dependencies are the ones it uses, pinned by constraints.txt (issue 15, packaging)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
# distribution -> the module the toolkit imports
MODULES = {"simple-salesforce": "simple_salesforce", "pyjwt": "jwt"}
# dependencies the toolkit uses without importing them, and why
NOT_IMPORTED = {
    "jupyterlab": "the app `make lab` runs; notebooks and the browser tests need it",
    "anywidget": "itables' ITable widget (toolkit/ui/picker.py) needs it; itables does not declare it",
    "openpyxl": "pandas' Excel writer engine (toolkit/reports/files.py: engine='openpyxl')",
}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def _imported(module: str) -> bool:
    pattern = re.compile(rf"^\s*(import|from) {re.escape(module)}\b", re.MULTILINE)
    return any(pattern.search(p.read_text(encoding="utf-8")) for p in (REPO / "toolkit").rglob("*.py"))


def test_every_runtime_dependency_is_used() -> None:
    unused = [
        name
        for name in map(_name, PYPROJECT["project"]["dependencies"])
        if name not in NOT_IMPORTED and not _imported(MODULES.get(name, name.replace("-", "_")))
    ]
    assert not unused, f"declared but never imported by toolkit/: {unused}"


def test_build_system_floor_supports_the_license_expression() -> None:
    # `license = "MIT"` (a PEP 639 expression) needs setuptools 77 or newer
    assert PYPROJECT["project"]["license"] == "MIT"
    floor = next(r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools"))
    assert tuple(int(x) for x in floor.split(">=")[1].split(".")) >= (77,)


def test_constraints_pin_every_declared_dependency_exactly() -> None:
    lines = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pinned = {
        _name(line).replace("_", "-"): line.split("==", 1)[1]
        for line in lines
        if line and not line.startswith("#")
    }
    declared = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["dev"]]
    missing = [n for n in map(_name, declared) if n.replace("_", "-") not in pinned]
    assert not missing, f"not in constraints.txt (run `make constraints`): {missing}"
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", v) for v in pinned.values())
    assert "constraints.txt" in (REPO / "Makefile").read_text(encoding="utf-8")
