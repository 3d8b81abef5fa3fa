"""FindingsView and EditForm driven headless: set values, click, assert the state (and the org's/folder's)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd

import toolkit
from toolkit.demoorg import DemoOrg
from toolkit.ui import EditForm, FindingsView

REPO = Path(__file__).resolve().parent.parent
HAS_FINDINGS = hasattr(toolkit, "findings")
HAS_EDITS = hasattr(toolkit, "plan_edits")
FINDINGS = pd.DataFrame(
    {
        "app": ["A", "B", "B", "C"],
        "kind": ["ConnectedApp"] * 4,
        "rule": ["ip-relaxed", "ip-relaxed", "refresh-forever", "pin-short"],
        "title": ["IP restrictions relaxed"] * 2 + ["Refresh token never expires", "Short PIN"],
        "severity": ["high", "high", "medium", "low"],
        "status": ["fail", "fail", "fail", "cannot check"],
        "setting": ["IP Relaxation"] * 2 + ["Refresh Token Policy", "PIN Length"],
        "observed": ["BYPASS"] * 2 + ["infinite", ""],
        "expected": ["ENFORCE"] * 2 + ["specific_lifetime", "6"],
        "message": [""] * 4,
        "remedy": ["Enforce IP restrictions"] * 2 + ["Expire refresh tokens", "Set 6"],
        "fixable_by_api": [True, True, True, False],
    }
)


def test_findings_view_counts_chart_and_drill_down() -> None:
    view = FindingsView(findings=FINDINGS)
    assert "3 findings in 2 apps; 1 more could not be checked" in view.status.value
    assert "<b>2</b> high" in view.counts.value and "<svg" in view.chart.value
    assert [v for _label, v in view.severity.options] == ["", "high", "medium"]
    seen: list[list[str]] = []
    view.on_drill(seen.append)
    view.severity.value = "high"
    labels = [label for label, _v in view.rule.options]
    assert labels == ["All rules", "ip-relaxed IP restrictions relaxed (2 apps)"]
    view.rule.value = "ip-relaxed"
    assert view.selected_apps() == ["A", "B"] and seen[-1] == ["A", "B"]
    assert "Enforce IP restrictions" in view.detail.value and "<td>Yes</td>" in view.detail.value
    view.set_findings(FINDINGS.iloc[3:])  # only a "cannot check": no finding, the drill-down empties
    assert "No findings" in view.counts.value and view.selected_apps() == [] and view.chart.value == ""


def test_findings_view_on_real_findings() -> None:
    view = FindingsView(toolkit.audit(REPO / "examples"))
    assert view.findings is not None and "findings in" in view.status.value
    rule = view.rule.options[1][1]
    view.rule.value = rule
    assert view.selected_apps() and set(view.selected_apps()) <= set(view.findings["app"])


def test_edit_form_asks_for_what_is_missing(tmp_path: Path) -> None:
    form = EditForm(connect_form=None)
    form.preview_button.click()
    assert "Error:" in form.status.value and "Traceback" not in form.status.value
    assert form.apply_button.disabled and form.rollback_button.disabled
    bad = EditForm(source=str(tmp_path / "missing"))
    assert "no such folder" in bad.status.value and bad.source is None


def test_edit_form_on_a_folder_preview_apply_rollback(tmp_path: Path) -> None:
    project = shutil.copytree(REPO / "examples", tmp_path / "p")
    files = {p: p.read_bytes() for p in Path(project).rglob("*-meta.xml")}
    form = EditForm(source=str(project))
    if HAS_FINDINGS:  # the rules layer's findings are a filter of the picker
        assert form.picker.finding.layout.display == "" and len(form.picker.finding.options) > 1
    form.picker.text.value = "Legacy_Partner_Portal"
    form.picker.select_all.click()
    form.preview_button.click()
    assert "tick at least one setting" in form.status.value
    form.form.inputs["ip_relaxation"].input.value = "ENFORCE"
    form.preview_button.click()
    assert "1 to change in 1 apps" in form.status.value, form.status.value
    preview = form.preview_html.value
    assert "Relax IP restrictions" in preview and "Enforce IP restrictions" in preview
    assert "ipRelaxation" in form.diff_html.value and not form.apply_button.disabled
    form.apply_button.click()
    confirm = form.confirm_text.value
    assert "about to write: folder" in confirm and "1 apps, 1 components" in confirm
    assert all(p.read_bytes() == b for p, b in files.items())  # nothing written before Confirm
    form.confirm_button.click()
    assert "Applied" in form.status.value and form.progress.value == 100, form.status.value
    assert "applied" in form.results_html.value and not form.rollback_button.disabled
    assert any(p.read_bytes() != b for p, b in files.items())
    form.rollback_button.click()
    assert "Rolled back" in form.status.value, form.status.value
    assert all(p.read_bytes() == b for p, b in files.items())


def test_edit_form_on_the_demo_org(fresh_demo_org: DemoOrg) -> None:
    d = fresh_demo_org
    form = _connected_form(d)
    assert form.source is not None and len(form.picker.shown()) == 73, form.status.value
    form.picker.kind.value = "ConnectedApp"
    form.picker.platform.value = "ios"
    form.picker.table.selected_rows = [0, 1]
    chosen = form.picker.selected()
    form.form.inputs["ip_relaxation"].input.value = "ENFORCE"
    form.form.add("session_timeout").input.value = 30
    form.preview_button.click()
    assert "Preview:" in form.status.value and form.plan is not None, form.status.value
    form.validate_button.click()
    assert "Validation passed" in form.status.value, form.status.value
    form.apply_button.click()
    confirm = form.confirm_text.value  # the same line as the CLI: org URL and id, journal
    assert f"org {d.instance_url} (org id 00D" in confirm and "journal in" in confirm
    form.confirm_button.click()
    assert "Applied" in form.status.value, form.status.value
    after = toolkit.audit(form.source)["apps"].set_index("name")
    assert set(after.loc[chosen, "ip_relaxation"]) == {"ENFORCE"}
    assert set(after.loc[chosen, "session_timeout"]) == {30}
    assert form.picker.selected() == chosen  # re-read after the apply, the selection kept
    shown = form.picker.table.df.set_index("App")
    assert set(shown.loc[chosen, "IP Relaxation"]) == {"Enforce IP restrictions"}
    form.rollback_button.click()
    assert "Rolled back" in form.status.value, form.status.value
    form.connect.close_org()


def _connected_form(d: DemoOrg) -> EditForm:
    """An EditForm connected to the demo org ``d`` (its ConnectForm's demo way, attached to ``d``)."""
    form = EditForm()
    form.connect.demo_connect = {
        "instance_url": d.instance_url,
        "access_token": d.access_token,
        "ca_file": d.ca_file,
    }
    form.connect.connect_button.click()
    return form


def _form_on(d: DemoOrg, apps: list[str], **changes: Any) -> EditForm:
    form = _connected_form(d)
    form.picker.select(apps)
    for field_id, value in changes.items():
        (form.form.inputs.get(field_id) or form.form.add(field_id)).input.value = value
    form.preview_button.click()
    assert form.plan is not None and form.plan.ok, form.status.value
    return form


def test_edit_form_shows_who_breaks_and_asks_before_apply(fresh_demo_org: DemoOrg) -> None:
    """Issue 16: the impact table before Apply; users who would break need an explicit acknowledgement."""
    d = fresh_demo_org
    impact = d.truth()["impact"]["apps"]
    local = [a for a in d.truth()["categories"]["local"] if impact.get(a, {}).get("ip_enforce")]
    app = local[0]
    form = _form_on(d, [app], ip_relaxation="ENFORCE")
    assert "Impact" in form.impact_html.value and "breaks" in form.impact_html.value
    assert form.apply_button.disabled and "users would break" in form.apply_reason.value
    assert form.ack_breaks.layout.display == ""
    form.ack_breaks.value = True
    assert not form.apply_button.disabled, form.apply_reason.value
    form.connect.close_org()


def test_edit_form_asks_before_switching_on_pkce(fresh_demo_org: DemoOrg) -> None:
    """Enabling PKCE: clients must change first; Apply waits for the box (the CLI's --ack-client-change)."""
    d = fresh_demo_org
    apps = toolkit.audit(
        toolkit.connect(instance_url=d.instance_url, access_token=d.access_token, ca_file=d.ca_file)
    )["apps"]
    off = apps[(apps["kind"] == "ConnectedApp") & (apps["pkce"] == False) & apps["editable"]]  # noqa: E712
    form = _form_on(d, [str(off["name"].iloc[0])], pkce=True)
    assert form.ack_client.layout.display == "" and form.apply_button.disabled
    assert "every client must change first" in form.apply_reason.value
    form.ack_client.value = True
    if not form.ack_breaks.value and "would break" in form.apply_reason.value:
        form.ack_breaks.value = True
    assert not form.apply_button.disabled, form.apply_reason.value
    form.connect.close_org()


def test_from_a_finding_to_its_applied_and_rolled_back_fix(fresh_demo_org: DemoOrg) -> None:
    """FindingsView's "Fix these apps" fills a linked EditForm with the rule's whole remedy (issue 15)."""
    d = fresh_demo_org
    form = _connected_form(d)
    view = FindingsView()
    view.link(form)  # shows the findings of what the form read
    assert view.findings is not None and len(view.findings)
    assert view.fix_button.layout.display == "none"  # no rule picked yet
    view.rule.value = "TOK-01"  # refresh token never expires: policy + period + unit
    failing = view.selected_apps()
    assert failing and view.fix_button.layout.display == ""
    labels = dict((v, label) for label, v in view.rule.options)
    assert labels["TOK-01"].startswith("TOK-01 Refresh token never expires (")
    view.fix_button.click()
    assert form.picker.finding.value == "TOK-01"
    assert dict((v, label) for label, v in form.picker.finding.options)["TOK-01"].startswith("TOK-01 Refresh")
    assert sorted(form.picker.selected()) == sorted(set(failing) & set(form.picker.shown()))
    changes = form.form.changes()
    assert changes == {"refresh_policy": "specific_lifetime", "refresh_n": 90, "refresh_unit": "DAYS"}
    assert "Fix for TOK-01 Refresh token never expires" in form.status.value
    form.preview_button.click()
    assert form.plan is not None, form.status.value
    form.skip_refused.value = True  # packaged apps the org refuses stay as they are
    if form.ack_breaks.layout.display == "":
        form.ack_breaks.value = True
    assert not form.apply_button.disabled, form.apply_reason.value
    form.apply_button.click()
    form.confirm_button.click()
    assert "Applied" in form.status.value, form.status.value
    after = toolkit.audit(form.source)
    again = toolkit.findings(after)
    fixed = again[(again["rule"] == "TOK-01") & (again["status"] == "fail")]
    results = form.result.results
    applied = set(results.loc[results["status"] == "applied", "app"])
    assert applied and not (set(fixed["app"]) & applied)
    remaining = set(failing) - applied  # the view re-judged the org after the apply
    if remaining:
        assert view.rule.value == "TOK-01" and set(view.selected_apps()) == remaining
    else:
        assert "TOK-01" not in [v for _label, v in view.rule.options]
    form.rollback_button.click()
    assert "Rolled back" in form.status.value, form.status.value
    back = toolkit.findings(toolkit.audit(form.source))
    assert set(back[(back["rule"] == "TOK-01") & (back["status"] == "fail")]["app"]) == set(failing)
    assert "TOK-01" in [v for _label, v in view.rule.options]  # and again after the rollback
    form.connect.close_org()
