"""The package's dependencies are the ones it uses, pinned by constraints.txt (issue 15, packaging)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

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


def test_package_list_matches_the_folders() -> None:
    """pyproject lists the packages (the notebooks are mapped in): every toolkit folder with code is one."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    folders = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "toolkit").rglob("__init__.py")
    }
    assert listed == folders | {"toolkit.notebooks"}
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"toolkit.notebooks": "notebooks"}


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (the venv's setuptools: no download), installed."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in ("toolkit", "notebooks"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work),
         "."],
        cwd=src, capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = work.glob("connected_app_toolkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "toolkit/notebooks/06_report.ipynb" in names and "toolkit/py.typed" in names
    expected = {str(p.relative_to(REPO)) for p in (REPO / "toolkit").rglob("*.py")}
    assert expected <= set(names), sorted(expected - set(names))[:5]
    site = work / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    return site


@pytest.mark.slow
def test_a_wheel_renders_the_report_from_its_own_notebook(installed_wheel: Path, tmp_path: Path) -> None:
    """Installed from the wheel (no checkout on the path), `report` runs the packaged 06_report.ipynb and
    writes the same sections as from a checkout."""
    env = {**os.environ, "PYTHONPATH": str(installed_wheel)}
    env.pop("TOOLKIT_HISTORY", None)
    where = subprocess.run(
        [sys.executable, "-c", "import toolkit.reports.export as e; print(e.REPORT_NOTEBOOK)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert where.stdout.strip() == str(installed_wheel / "toolkit" / "notebooks" / "06_report.ipynb")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    run = subprocess.run(
        [sys.executable, "-m", "toolkit", "report", "--project", "examples", "--out", "r"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    flat = page.replace('"', "'")  # the notebook's export writes double quotes
    assert "<h2 id='findings'>Findings</h2>" in flat
    assert "<h2 id='mobile-settings'>Mobile settings</h2>" in flat
    assert "<h2 id='summary'>Summary</h2>" in flat  # the sections of the notebook, as from a checkout
    assert "<style" in page  # the notebook's CSS, as from a checkout
