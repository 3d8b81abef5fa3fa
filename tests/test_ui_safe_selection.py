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


def _form_with_one_refused_app(tmp_path: Path) -> EditForm:
    """Every example app, IP Relaxation = ENFORCE: HR_Portal_SAML (no oauthPolicy) is refused, 3 change."""
    project = shutil.copytree(REPO / "examples", tmp_path / "p")
    form = EditForm(source=str(project))
    form.picker.select_all.click()
    form.form.inputs["ip_relaxation"].input.value = "ENFORCE"
    form.preview_button.click()
    assert form.plan is not None and set(form.plan.problems["app"]) == {"HR_Portal_SAML"}
    return form


def test_one_refused_app_blocks_apply_until_skip_refused_is_ticked(tmp_path: Path) -> None:
    form = _form_with_one_refused_app(tmp_path)
    assert form.apply_button.disabled
    reason = form.apply_reason.value
    assert "tick the Skip refused apps box" in reason and "in 1 apps" in reason
    form.skip_refused.value = True
    assert not form.apply_button.disabled and form.apply_reason.value == ""
    form.apply()
    assert form.result is not None and form.result.ok
    assert "Skipped (refused, not written)" in form.results_html.value
    assert "HR_Portal_SAML" in form.results_html.value and "1 refused apps skipped" in form.status.value
    written = set(form.result.results["app"])
    assert "HR_Portal_SAML" not in written and len(written) == 3
    saml = (tmp_path / "p").rglob("HR_Portal_SAML.connectedApp-meta.xml")
    assert all(b"ENFORCE" not in f.read_bytes() for f in saml)


def test_after_validate_the_form_says_what_still_blocks_apply(tmp_path: Path) -> None:
    form = _form_with_one_refused_app(tmp_path)
    form.validate_button.click()
    assert "Still blocking Apply: 1 refused changes in 1 apps" in form.status.value
    form.skip_refused.value = True
    form.validate_button.click()
    assert "Nothing blocks Apply" in form.status.value


def test_the_form_saves_and_loads_the_cli_plan_file(tmp_path: Path) -> None:
    form = _form_with_one_refused_app(tmp_path)
    form.skip_refused.value = True
    assert form.save_button.disabled is False
    form.plan_path.value = str(tmp_path / "plan.json")
    form.save_plan()
    assert (tmp_path / "plan.json").is_file() and "Plan saved to" in form.status.value
    again = EditForm(source=str(tmp_path / "p"))
    again.plan_path.value = str(tmp_path / "plan.json")
    again.load_plan()
    assert again.plan is not None and "Plan loaded from" in again.status.value, again.status.value
    assert len(again.plan.components) == len(form.plan.without_refused().components) == 3
    other = shutil.copytree(REPO / "examples", tmp_path / "other")
    elsewhere = EditForm(source=str(other))
    elsewhere.plan_path.value = str(tmp_path / "plan.json")
    elsewhere.load_plan()
    assert elsewhere.plan is None and "nothing was written" in elsewhere.status.value


def test_save_plan_before_a_preview_says_so(tmp_path: Path) -> None:
    form = EditForm(source=str(shutil.copytree(REPO / "examples", tmp_path / "p")))
    assert form.save_button.disabled
    form.save_plan()
    assert "preview first" in form.status.value
