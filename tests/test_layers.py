"""The arrows run one way: no module imports a layer above its own (in-function imports included).

sources → model → analysis and rules → edits → reports, ui → commands; ``toolkit/api.py`` and
``toolkit/__init__.py`` are the public face that nothing inside the package imports back. The demo org
knows nothing of the toolkit but the model (and the shared errors/checks helpers).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit"

# a module's layer is its first path part under toolkit/ (files at the top are named by their stem)
LAYERS = {
    "errors": 0, "checks": 0, "redact": 0,
    "model": 1,
    "sources": 2, "demoorg": 2,
    "analysis": 3,
    "rules": 4,
    "edits": 5,
    "reports": 6, "ui": 6,
    "commands": 7,
    "api": 8, "__init__": 8, "__main__": 9,
}
DEMO_ORG_MAY_USE = {"demoorg", "model", "errors", "checks", "redact"}


def _part(module: Path) -> str:
    rel = module.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported(module: Path) -> list[tuple[int, str]]:
    """(line, first part under toolkit/) of every toolkit import in ``module``."""
    rel = module.relative_to(PACKAGE)
    package = list(rel.parts[:-1])
    found = []
    for node in ast.walk(ast.parse(module.read_text(), str(module))):
        names: list[list[str]] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                names = [target + [a.name] for a in node.names] if not target else [target]
            elif node.module and node.module.split(".")[0] == "toolkit":
                names = [node.module.split(".")[1:] or [a.name for a in node.names]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1:] or ["__init__"] for a in node.names
                     if a.name.split(".")[0] == "toolkit"]
        for target in names:
            found.append((node.lineno, target[0] if target else "__init__"))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_goes_up(module: Path) -> None:
    own = _part(module)
    for line, target in _imported(module):
        if target not in LAYERS:  # a module of the package's own folder (e.g. ``from . import catalog``)
            continue
        where = f"{module.relative_to(PACKAGE)}:{line}"
        assert LAYERS[target] <= LAYERS[own], f"{where} imports toolkit.{target} (above {own})"
        if own == "demoorg":
            assert target in DEMO_ORG_MAY_USE, f"demoorg/{module.name}:{line} imports toolkit.{target}"
