"""What a plan accepts and selects (issue 13 items 7, 9, 10, 12, 14, 15, 16): composed list changes,
contradictions, values beyond the schema, identity fields, markup in identifiers, --where with unknown values
and hostile expressions. Each refusal is a problem row or a ToolkitError, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.edits.select import select_where

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "p"
    shutil.copytree(REPO / "examples", dest)
    return dest


def _after(plan: toolkit.EditPlan, path_end: str) -> list[str]:
    ch = plan.changes()
    return list(ch[ch["path"].str.endswith(path_end)]["after"])


def test_two_list_changes_of_one_field_compose_in_order(project: Path) -> None:
    plan = toolkit.plan_edits(
        project,
        ["callback_urls+=https://a.example.com/cb", "callback_urls+=https://b.example.com/cb"],
        apps=["Legacy_Partner_Portal"],
    )
    assert plan.ok, plan.problems
    text = plan.diff()
    assert "https://a.example.com/cb" in text and "https://b.example.com/cb" in text
    result = plan.apply(journal_dir=str(project.parent / "j"))
    assert result.exit_code == 0, result.results
    tables = toolkit.audit(str(project))
    urls = " ".join(map(str, tables["callbacks"]["url"] if "url" in tables["callbacks"] else []))
    assert not urls or ("a.example.com" in urls and "b.example.com" in urls)


def test_conflicting_values_for_one_setting_are_refused(project: Path) -> None:
    plan = toolkit.plan_edits(
        project, ["ip_relaxation=ENFORCE", "ip_relaxation=BYPASS"], apps=["Legacy_Partner_Portal"]
    )
    assert not plan.ok
    problem = " ".join(plan.problems["problem"])
    assert "ENFORCE" in problem or "BYPASS" in problem


@pytest.mark.parametrize(
    "change",
    [
        "session_timeout=99999999999999999999",
        "ConnectedApp:sessionPolicy.sessionTimeout=-5",
        "session_timeout=\u0661\u0662\u0660",  # Arabic-Indic digits
        "ConnectedApp:description=" + "x" * 120_000,
        "ConnectedApp:fullName=Renamed",
        "label=",
        "session_timeout=" + "9" * 5000,
    ],
)
def test_values_the_org_would_refuse_are_refused_at_plan_time(project: Path, change: str) -> None:
    plan = toolkit.plan_edits(project, [change], apps=["Legacy_Partner_Portal"])
    assert not plan.ok, change[:60]
    assert not plan.components


def test_markup_in_an_identifier_is_refused(project: Path) -> None:
    plan = toolkit.plan_edits(
        project, ['bundle_id=<img src=x onerror="window.__pwned=1">'], apps=["Field_Sales_iOS"]
    )
    assert not plan.ok
    assert "allowed" in plan.problems.columns and plan.problems["allowed"].str.len().min() > 0


def test_nan_in_a_changes_table_is_never_written_as_text(project: Path) -> None:
    frame = pd.DataFrame([{"app": "Legacy_Partner_Portal", "field": "description", "value": float("nan")}])
    plan = toolkit.plan_edits(project, frame)
    assert not plan.ok and not plan.components


APPS = pd.DataFrame(
    {
        "name": ["A", "B", "C"],
        "kind": ["ConnectedApp"] * 3,
        "coverage": ["full"] * 3,
        "ip_relaxation": ["ENFORCE", "BYPASS", None],
    }
)


def test_unknown_or_missing_values_never_match_not_equal() -> None:
    assert select_where(APPS, "ip_relaxation != 'ENFORCE'") == ["B"]
    assert select_where(APPS, "not ip_relaxation == 'ENFORCE'") == ["B"]


@pytest.mark.parametrize(
    "expression",
    [
        "ip_relaxation == ['ENFORCE']",
        "ip_relaxation in [ip_relaxation]",
        "not " * 3000 + "ip_relaxation == 'ENFORCE'",
        "name",
        "ip_relaxation == " + "9" * 5000,
    ],
)
def test_hostile_or_meaningless_expressions_are_refused(expression: str) -> None:
    with pytest.raises(toolkit.ToolkitError):
        select_where(APPS, expression)


@pytest.mark.parametrize("kw", [{"apps": 123}, {"where": 123}])
def test_wrong_types_of_selection_are_refused(project: Path, kw: dict[str, object]) -> None:
    with pytest.raises(toolkit.ToolkitError):
        toolkit.plan_edits(project, ["ip_relaxation=ENFORCE"], **kw)  # type: ignore[arg-type]


def test_no_changes_is_refused(project: Path) -> None:
    with pytest.raises(toolkit.ToolkitError):
        toolkit.plan_edits(project, None, apps=["Legacy_Partner_Portal"])  # type: ignore[arg-type]
