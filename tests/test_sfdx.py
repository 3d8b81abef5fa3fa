"""Loading folders: SFDX projects, mdapi folders, any folder; malformed files; ECA grouping."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.errors import SourceError
from toolkit.model.catalog import ECA_FAMILY
from toolkit.sources.sfdx import load_folder

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sfdx"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_example_project_loads_every_app_and_groups_the_eca_family() -> None:
    inv = load_folder(EXAMPLES)
    assert inv.problems == []
    names = {a.name: a for a in inv.apps}
    assert len(inv.apps) == 8
    eca = names["Field_Sales_Next"]
    assert eca.kind == "ExternalClientApplication"
    # every ECA type the example uses: all of the family but notifications, SAML, canvas and attestation
    unused = {"Notification", "Saml", "Canvas", "Attest"}
    expected = {t for t in ECA_FAMILY if not any(u in t for u in unused)}
    assert sorted(d.type_name for d in eca.documents) == sorted(expected)
    assert len(eca.documents) == 9
    assert names["Field_Sales_iOS"].kind == "ConnectedApp"


def test_only_package_directories_are_searched(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "p")
    (tmp_path / "p" / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "nothing-here"}]}')
    (tmp_path / "p" / "other").mkdir()
    inv = load_folder(tmp_path / "p")
    # a missing package directory is reported, and the whole folder is searched instead
    assert any("nothing-here" in p.problem for p in inv.problems)
    assert len(inv.apps) == 8


def test_mdapi_folder_with_package_xml() -> None:
    inv = load_folder(FIXTURES / "mdapi")
    assert [(a.name, a.kind) for a in inv.apps] == [("Mdapi_App", "ConnectedApp")]
    assert inv.problems == []
    assert inv.apps[0].documents[0].format == "mdapi"


def test_malformed_files_become_problems_and_the_rest_loads() -> None:
    inv = load_folder(FIXTURES / "broken")
    assert [a.name for a in inv.apps] == ["Good", "Missing_Eca"]
    by_file = {Path(p.source).name: p for p in inv.problems}
    broken = by_file["Broken.connectedApp-meta.xml"]
    assert broken.line == 4 and "not well-formed" in broken.problem
    assert "ApexClass" in by_file["Wrong_Root.connectedApp-meta.xml"].problem
    assert "Missing_Eca" in by_file["Orphan_policy.ecaOauthPlcy-meta.xml"].problem
    assert "bootconfig.xml" not in by_file  # not metadata: skipped silently
    orphan = inv.apps[1]
    assert orphan.kind == "ExternalClientApplication" and "missing" in orphan.coverage_reason


def test_duplicate_components_are_reported_once(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(FIXTURES / "broken" / "connectedApps" / "Good.connectedApp-meta.xml", tmp_path / sub)
    inv = load_folder(tmp_path)
    assert len(inv.apps) == 1
    assert len(inv.problems) == 1 and "duplicate" in inv.problems[0].problem


def test_missing_folder_and_file_raise_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such folder"):
        load_folder(tmp_path / "nope")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(SourceError, match="not a folder"):
        load_folder(tmp_path / "f.txt")


def test_empty_folder_gives_an_empty_inventory(tmp_path: Path) -> None:
    inv = load_folder(tmp_path)
    assert inv.apps == [] and inv.problems == []
