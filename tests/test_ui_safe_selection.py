"""Safe selection in the picker and the edit form: the Finding filter, one search box, Apply's reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from toolkit.ui import AppPicker, EditForm
from toolkit.ui.picker import TABLE_OPTIONS

REPO = Path(__file__).resolve().parent.parent
APPS = pd.DataFrame({"name": ["A", "B", "C"], "kind": ["ConnectedApp"] * 3, "coverage": ["metadata"] * 3})
FINDINGS = pd.DataFrame({"app": ["A", "B"], "rule": ["NET-01", "NET-01"], "status": ["fail", "cannot check"]})


def test_finding_filter_picks_apps_that_fail_not_cannot_check() -> None:
    picker = AppPicker({"apps": APPS}, FINDINGS)
    picker.finding.value = "NET-01"
    assert picker.shown() == ["A"]


def test_one_search_box_and_select_all_shown_honours_it() -> None:
    assert TABLE_OPTIONS["layout"] == {"topEnd": None}  # DataTables' own search box is hidden
    picker = AppPicker({"apps": APPS})
    picker.text.value = "b"
    picker.select_all.click()
    assert picker.selected() == ["B"]


def test_apply_disabled_always_says_why(tmp_path: Path) -> None:
    project = shutil.copytree(REPO / "examples", tmp_path / "p")
    form = EditForm(source=str(project))
    assert form.apply_button.disabled and "Preview first" in form.apply_reason.value
    form.picker.text.value = "Legacy_Partner_Portal"
    form.picker.select_all.click()
    form.form.inputs["ip_relaxation"].input.value = "ENFORCE"
    form.preview_button.click()
    assert not form.apply_button.disabled and form.apply_reason.value == ""
    form.form.add("session_timeout").input.value = -5  # refused by the plan
    form.preview_button.click()
    if form.plan is not None and len(form.plan.problems):
        assert form.apply_button.disabled and "refused changes" in form.apply_reason.value
