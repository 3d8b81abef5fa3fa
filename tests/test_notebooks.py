"""The notebooks run end to end and print no secret (nbval checks that every cell runs; this scans outputs).

Each notebook is executed with nbclient on a copy; for the notebooks that start the demo org, a probe cell
inserted before the last cell (``org.close()``) hands this test the org's access token and password through
a file, so the scan looks for the real values without ever printing them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
_TOKEN = re.compile(r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}")

PROBE = """import json as _json, pathlib as _pathlib
_pathlib.Path({path!r}).write_text(_json.dumps([org.owned.access_token, org.owned.password]))"""


def _output_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(str(v) for v in out.get("data", {}).values())
        parts.extend(out.get("traceback", []))
    return "\n".join(parts)


def test_notebooks_are_committed_clean() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_audit_demo_org.ipynb", "02_compare_mobile_settings.ipynb", "03_audit_panel.ipynb",
        "04_bulk_edit.ipynb", "05_bulk_edit_form.ipynb", "06_report.ipynb",
    ]
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        nbformat.validate(book)
        assert book.metadata.kernelspec.name == "python3", path.name
        assert book.metadata.kernelspec.display_name == "Python 3 (ipykernel)", path.name
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_outputs_hold_no_secret(path: Path, tmp_path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    probe_file = tmp_path / "secrets.json"
    starts_org = any("toolkit.connect(" in c.source for c in book.cells)
    if starts_org:
        assert "org.close()" in book.cells[-1].source, f"{path.name}: the last cell should close the org"
        book.cells.insert(len(book.cells) - 1, nbformat.v4.new_code_cell(PROBE.format(path=str(probe_file))))
    env_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    os.environ["PYTHONPATH"] = env_path  # the kernel imports this checkout (see notebooks/conftest.py)
    NotebookClient(book, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    secrets = json.loads(probe_file.read_text()) if starts_org else []
    assert not starts_org or all(secrets), "the probe did not read the demo org credentials"
    for i, cell in enumerate(book.cells):
        if cell.cell_type != "code" or cell.source.startswith("import json as _json"):
            continue
        text = _output_text(cell)
        assert not any(s in text for s in secrets), f"{path.name} cell {i}: a demo org secret is printed"
        assert "-----BEGIN" not in text, f"{path.name} cell {i}: a PEM block is printed"
        assert not _TOKEN.search(text), f"{path.name} cell {i}: something shaped like an access token"
        assert all(out.output_type != "error" for out in cell.outputs), f"{path.name} cell {i} failed"
