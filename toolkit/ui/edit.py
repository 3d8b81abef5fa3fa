"""``EditForm``: a bulk edit without code: connect, pick apps, set settings, preview, validate, apply, undo.

Every step is the edits layer's (:func:`toolkit.plan_edits`, ``EditPlan.preview/diff/validate/apply``,
:func:`toolkit.rollback_edits`); the form only collects the choices and shows the answers. Errors are one line
in the status, never a traceback; a failed step leaves the last plan and the last result as they were.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..analysis.display import display_value
from ..edits import plan_edits, rollback_edits
from ..errors import ToolkitError
from ..model import catalog
from .connect import ConnectForm
from .findings import compute_findings
from .forms import FieldForm, form_fields
from .html import error_text, status_html, style_widget
from .picker import AppPicker

DEFAULT_FIELDS = ("ip_relaxation", "refresh_policy")
_DONE = re.compile(r"(\d+)/(\d+) components")
PREVIEW_COLUMNS = (
    ("app", "App"),
    ("label", "Setting"),
    ("before", "Before"),
    ("after", "After"),
    ("status", "Status"),
    ("reason", "Why"),
)
PROBLEM_COLUMNS = (
    ("app", "App"),
    ("field", "Setting"),
    ("value", "Value"),
    ("problem", "Problem"),
    ("allowed", "Allowed"),
)
RESULT_COLUMNS = (("app", "App"), ("component", "Component"), ("status", "Status"), ("message", "Message"))
_GOOD_STATUSES = ("applied", "already applied", "restored", "unchanged", "")  # others are shown in red


class FormInputError(ToolkitError):
    """Something the form needs first (a source, apps, a setting): shown as it is, in the status line."""


def spec_text(field_id: str, value: Any) -> str:
    """A form value as the edits layer's change text (``field=value``).

    >>> spec_text("pkce", True), spec_text("callback_urls", ["https://a/cb", "myapp://cb"])
    ('pkce=true', 'callback_urls=https://a/cb\\nmyapp://cb')
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list | tuple):
        text = "\n".join(str(v) for v in value)
    else:
        text = str(value)
    return f"{field_id}={text}"


def _table(frame: pd.DataFrame, columns: Iterable[tuple[str, str]], css: str = "ca-table") -> str:
    cols = [(c, label) for c, label in columns if c in frame]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in cols)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for c, _label in cols:
            value = row[c]
            if c in ("before", "after") and str(row.get("field")) in catalog.CATALOG:
                value = display_value(str(row["field"]), value)
            elif c == "field" and str(value) in catalog.CATALOG:  # a refused row: the setting's Setup label
                value = catalog.CATALOG[str(value)].label
            css_cell = {"before": " class='ca-before'", "after": " class='ca-after'"}.get(c, "")
            if c == "status" and str(value) not in _GOOD_STATUSES:
                css_cell = " class='ca-bad'"
            cells.append(f"<td{css_cell}>{html.escape('' if value is None else str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class EditForm(widgets.VBox):  # type: ignore[misc]
    """Bulk-edit apps of an org (through :class:`ConnectForm`) or of an SFDX folder (``source=PATH``).

    1. connect (or give ``source``); the apps are audited into the :class:`AppPicker`;
    2. pick apps; 3. tick and set settings (the catalog-driven :class:`FieldForm`, more with "Add setting");
    4. **Preview** (plan, per-app before/after, problems, the XML diff) and **Validate** (the org's check-only
       deploy); 5. **Apply** with a progress bar, per-app results; **Roll back** restores from the journal.
    """

    def __init__(
        self,
        source: Any = None,
        *,
        connect_form: ConnectForm | None = None,
        fields: Iterable[str] = DEFAULT_FIELDS,
        findings: pd.DataFrame | None = None,
    ) -> None:
        self.source: Any = None
        self.tables: dict[str, pd.DataFrame] = {}
        self.plan: Any = None
        self.result: Any = None
        self._findings = self._given_findings = findings
        self._audit_callbacks: list[Callable[[dict[str, pd.DataFrame], pd.DataFrame | None], None]] = []
        self.connect = connect_form or ConnectForm()
        self.connect.on_connect(self.use_source)
        self.picker = AppPicker()
        self.form = FieldForm(fields)
        self.add_field = widgets.Dropdown(
            description="Setting",
            options=[(f.label, f.id) for f in form_fields()],
            style={"description_width": "initial"},
        )
        self.add_button = widgets.Button(description="Add setting", icon="plus")
        self.preview_button = widgets.Button(description="Preview", icon="eye", button_style="info")
        self.validate_button = widgets.Button(description="Validate", icon="check", disabled=True)
        self.apply_button = widgets.Button(
            description="Apply", icon="play", button_style="warning", disabled=True
        )
        self.rollback_button = widgets.Button(
            description="Roll back", icon="undo", button_style="danger", disabled=True
        )
        self.confirm_button = widgets.Button(description="Confirm", icon="check", button_style="danger")
        self.cancel_button = widgets.Button(description="Cancel", icon="times")
        self.confirm_text = widgets.HTML()
        self.confirm_box = widgets.HBox(
            [self.confirm_text, self.confirm_button, self.cancel_button],
            layout=widgets.Layout(display="none"),
        )
        self.apply_reason = widgets.HTML()  # why Apply is disabled, next to it
        # one refused app must not block the others, but only when asked (as the CLI's --skip-refused)
        self.skip_refused = widgets.Checkbox(
            description="Skip refused apps",
            value=False,
            indent=False,
            tooltip="apply the apps with no problem; list the refused ones",
        )
        # explicit acknowledgements, shown only when the plan needs them (the CLI's --ack-client-change and
        # --max-impact): clients must change first for PKCE / rotation; users the impact says would break
        self.ack_client = widgets.Checkbox(
            description="Every client of these apps is ready for this change (PKCE / refresh token rotation)",
            value=False,
            indent=False,
            layout=widgets.Layout(display="none", width="auto"),
        )
        self.ack_breaks = widgets.Checkbox(
            description="I accept that the users marked 'breaks' in the impact table lose access",
            value=False,
            indent=False,
            layout=widgets.Layout(display="none", width="auto"),
        )
        self.impact: pd.DataFrame | None = None
        self.impact_html = widgets.HTML()
        self._remedy_ops: list[str] = []  # a remedy's += / -= changes (fix_finding), added to specs()
        self.remedy_html = widgets.HTML()
        self.plan_path = widgets.Text(
            value="edit-plan.json", description="Plan file", style={"description_width": "initial"}
        )
        self.save_button = widgets.Button(description="Save plan", icon="save", disabled=True)
        self.load_button = widgets.Button(description="Load plan", icon="folder-open")
        self.progress = widgets.IntProgress(value=0, min=0, max=100, description="Progress")
        self.step = widgets.HTML()
        self.status = widgets.HTML("Connect to an org (or pass a folder), pick apps, set settings, Preview.")
        self.preview_html = widgets.HTML()
        self.diff_html = widgets.HTML()
        self.results_html = widgets.HTML()
        self.add_button.on_click(lambda _b: self.form.add(self.add_field.value))
        self.preview_button.on_click(lambda _b: self.preview())
        self.validate_button.on_click(lambda _b: self.validate())
        self.apply_button.on_click(lambda _b: self.ask_confirm())
        self.confirm_button.on_click(lambda _b: self.apply())
        self.cancel_button.on_click(lambda _b: self._hide_confirm())
        self.rollback_button.on_click(lambda _b: self.rollback())
        self.save_button.on_click(lambda _b: self.save_plan())
        self.load_button.on_click(lambda _b: self.load_plan())
        self.skip_refused.observe(lambda _c: self._buttons(), names="value")
        self.ack_client.observe(lambda _c: self._buttons(), names="value")
        self.ack_breaks.observe(lambda _c: self._buttons(), names="value")
        title = widgets.HTML
        super().__init__(
            [
                style_widget(),
                title("<b>1. Connect</b>"),
                self.connect,
                title("<b>2. Pick apps</b>"),
                self.picker,
                title("<b>3. Set settings</b> (tick a setting to change it)"),
                self.form,
                widgets.HBox([self.add_field, self.add_button]),
                self.remedy_html,
                title("<b>4. Preview, validate, apply</b>"),
                widgets.HBox([*self._buttons_all(), self.skip_refused, self.apply_reason]),
                self.ack_client,
                self.ack_breaks,
                self.confirm_box,
                widgets.HBox([self.plan_path, self.save_button, self.load_button]),
                widgets.HBox([self.progress, self.step]),
                self.status,
                self.preview_html,
                self.impact_html,
                self.diff_html,
                self.results_html,
            ]
        )
        if source is not None:
            self.connect.layout.display = "none"
            self.use_source(source)

    # --- steps ----------------------------------------------------------------------------------------------
    def use_source(self, source: Any) -> None:
        """Audit ``source`` (an org or a folder) and offer its apps; the form starts a new edit."""
        from ..analysis.audit import audit

        self.status.value = status_html("Reading the apps…")
        try:
            tables = audit(Path(source) if isinstance(source, str) else source)
        except Exception as exc:  # one line; the previous source stays
            self._error(exc)
            return
        self.source, self.tables, self.plan, self.result = source, tables, None, None
        self._judge()
        self.picker.set_tables(tables, self._findings)
        self._audited()
        self._remedy_ops, self.remedy_html.value = [], ""
        self._buttons()
        self.preview_html.value = self.diff_html.value = self.results_html.value = ""
        self.status.value = status_html(f"{len(tables['apps'])} apps read; pick the apps to change.")

    def specs(self) -> list[str]:
        """The ticked settings as change texts (``ip_relaxation=ENFORCE``), then a remedy's ``+=``/``-=``."""
        return [spec_text(fid, value) for fid, value in self.form.changes().items()] + list(self._remedy_ops)

    def on_audit(self, callback: Callable[[dict[str, pd.DataFrame], pd.DataFrame | None], None]) -> None:
        """Call ``callback(tables, findings)`` after each read of the source: connect, apply, rollback
        (a linked :class:`~toolkit.ui.FindingsView` shows the findings as they are now)."""
        self._audit_callbacks.append(callback)
        if self.tables:
            callback(self.tables, self._findings)

    def fix_finding(self, rule_id: str, apps: Iterable[str] | None = None) -> None:
        """Pre-fill the form with ``rule_id``'s whole remedy and select its failing apps (or ``apps``).

        What FindingsView's "Fix these apps" does: the picker's Finding filter shows the rule's failing apps,
        those apps are selected, every setting of the remedy is ticked with its value (a refresh policy with
        its period and unit), other settings are unticked, and the remedy's additions/removals of list values
        (``scopes -= Full``) are listed with the changes. Nothing is planned until Preview.
        """
        from ..rules.definitions import RULES_BY_ID
        from ..rules.report import rule_label

        rule = RULES_BY_ID.get(rule_id)
        if rule is None or not rule.remedy.changes:
            self._error(FormInputError(f"rule {rule_id!r} has no fix an edit can make; see its remedy"))
            return
        if self.source is None:
            self._error(FormInputError("connect to an org (or pass a folder) first"))
            return
        if rule_id in [v for _label, v in self.picker.finding.options]:
            self.picker.finding.value = rule_id
        wanted = list(apps) if apps is not None else self.picker.shown()
        self.picker.select(wanted)
        for row in self.form.inputs.values():
            row.include.value = False
        self.form.set_changes({f: v for f, v, op in rule.remedy.changes if op == "="})
        self._remedy_ops = [f"{f}{op}{v}" for f, v, op in rule.remedy.changes if op != "="]
        self.remedy_html.value = (
            "<p>Also from the remedy: " + html.escape("; ".join(self._remedy_ops)) + "</p>"
            if self._remedy_ops
            else ""
        )
        self.plan = self.result = None
        self.preview_html.value = self.impact_html.value = self.diff_html.value = self.results_html.value = ""
        chosen = self.picker.selected()
        self._buttons()
        self.status.value = status_html(
            f"Fix for {rule_label(rule_id, rule.title)}: {len(chosen)} apps selected, the remedy's "
            f"{len(rule.remedy.changes)} change(s) filled in. Preview next (nothing is written yet)."
        )

    def preview(self) -> None:
        """Plan the edit (nothing is written): per-app before/after, problems, XML diff."""
        try:
            if self.source is None:
                raise FormInputError("connect to an org (or pass a folder) first")
            apps = self.picker.selected()
            if not apps:
                raise FormInputError("pick at least one app in the table")
            problems = self.form.problems()
            if problems:
                raise FormInputError(problems[0])
            specs = self.specs()
            if not specs:
                raise FormInputError("tick at least one setting to change")
            plan = plan_edits(self.source, specs, apps=apps)
        except Exception as exc:
            self._error(exc)
            return
        self.plan, self.result = plan, None
        preview = plan.preview()
        parts = [_table(preview, PREVIEW_COLUMNS)]
        if len(plan.problems):
            refused = _table(plan.problems, PROBLEM_COLUMNS)
            parts.insert(0, f"<p style='color:#b00020'><b>Refused:</b></p>{refused}")
        self.preview_html.value = "".join(parts)
        diff = plan.diff()
        self.diff_html.value = (
            f"<details><summary>XML diff ({len(plan.components)} components)</summary>"
            f"<pre style='font-size:11px'>{html.escape(diff)}</pre></details>"
            if diff
            else ""
        )
        self.results_html.value = ""
        self._show_impact(plan)
        self.status.value = status_html(
            f"Preview: {plan.summary()}."
            + ("" if plan.ok else " Fix the refused changes (or the selection) before applying.")
        )
        self._buttons()

    def validate(self) -> None:
        """Ask the org to check the planned components without saving them (check-only deploy)."""
        try:
            if self.plan is None:
                raise FormInputError("preview first")
            failures = self.plan.validate()
        except Exception as exc:
            self._error(exc)
            return
        blocker = self._apply_blocker()
        still = f" Still blocking Apply: {blocker}" if blocker else " Nothing blocks Apply."
        if len(failures):
            self.results_html.value = _table(failures, (("component", "Component"), ("problem", "Problem")))
            self.status.value = status_html(
                f"Validation: {len(failures)} components refused by the org.{still}", error=True
            )
        else:
            passed = "Validation passed: the org accepts every planned component."
            self.status.value = status_html(passed + still)

    def confirm_message(self) -> str:
        """The same line as the CLI prints before a write: org URL and id, apps, components, journal."""
        from ..edits.journal import DEFAULT_DIR
        from ..edits.saved import write_summary

        return write_summary(self.plan, Path(DEFAULT_DIR).resolve())

    def ask_confirm(self) -> None:
        """Apply's first step: say what will be written where; nothing is written until Confirm."""
        if self.plan is None:
            self._error(FormInputError("preview first"))
            return
        self.confirm_text.value = html.escape(self.confirm_message())
        self.confirm_box.layout.display = ""

    def _hide_confirm(self) -> None:
        self.confirm_box.layout.display = "none"
        self.confirm_text.value = ""

    def apply(self) -> None:
        """Write the plan (backup, write, verify, journal), with progress; per-app results below."""
        self._hide_confirm()
        try:
            if self.plan is None:
                raise FormInputError("preview first")
            plan = self._plan_to_apply()
            self.progress.value, self.progress.bar_style = 0, ""
            self._busy(True)
            result = plan.apply(progress=self._progress)
        except Exception as exc:
            self._error(exc)
            return
        finally:
            self._busy(False)
        self._show_result(result, "Applied")
        if len(plan.skipped):
            skipped = _table(
                plan.skipped,
                (("app", "App"), ("field", "Setting"), ("value", "Value"), ("problem", "Why skipped")),
            )
            self.results_html.value += f"<p><b>Skipped (refused, not written):</b></p>{skipped}"
            self.status.value += status_html(f"{plan.skipped['app'].nunique()} refused apps skipped.")
        self.plan = None  # applied: a new edit needs a new preview
        self._reread()
        self._buttons()

    def save_plan(self) -> None:
        """Save the previewed plan (the file ``edit --apply PLAN`` and Load plan read)."""
        try:
            path = self._plan_file("preview first: there is no plan to save" if self.plan is None else None)
            written = self._plan_to_apply().save(path)  # with the box ticked: without the refused apps
        except Exception as exc:
            self._error(exc)
            return
        self.status.value = status_html(
            f"Plan saved to {written}; apply it later here or with "
            f"`python -m toolkit edit --apply {written}`."
        )

    def load_plan(self) -> None:
        """Load a saved plan against this form's org or folder (refused: another org, apps changed since)."""
        from ..edits.saved import load_plan

        try:
            first = "connect to the org the plan was made for (or pass its folder) first"
            path = self._plan_file(first if self.source is None else None)
            plan = load_plan(path, self.source)
        except Exception as exc:
            self._error(exc)
            return
        self.plan, self.result = plan, None
        self.preview_html.value = _table(plan.preview(), PREVIEW_COLUMNS)
        self.diff_html.value = self.results_html.value = ""
        self._show_impact(plan)
        self.status.value = status_html(f"Plan loaded from {path}: {plan.summary()}.")
        self._buttons()

    def rollback(self) -> None:
        """Restore every component the last apply touched, from its journal."""
        try:
            if self.result is None:
                raise FormInputError("nothing applied to roll back")
            self.progress.value = 0
            self._busy(True)
            result = rollback_edits(self.result.journal, self.source, progress=self._progress)
        except Exception as exc:
            self._error(exc)
            return
        finally:
            self._busy(False)
        self._show_result(result, "Rolled back")
        self.result = None
        self._reread()
        self._buttons()

    # --- helpers --------------------------------------------------------------------------------------------
    def _reread(self) -> None:
        """Audit the source again so the picker shows the values as they are now (the selection stays)."""
        from ..analysis.audit import audit

        chosen = self.picker.selected()
        try:
            self.tables = audit(Path(self.source) if isinstance(self.source, str) else self.source)
        except Exception as exc:  # the result above stands; only the picker is out of date
            self.step.value = html.escape(f"could not re-read the apps: {error_text(exc)}")
            return
        self._judge()
        self.picker.set_tables(self.tables, self._findings)
        self.picker.select(chosen)
        self._audited()

    def _judge(self) -> None:
        if self._given_findings is None:  # the rules layer's findings feed the picker's "Finding" filter
            try:
                self._findings = compute_findings(self.tables)
            except Exception:  # findings are a filter here, not the point: the edit goes on without them
                self._findings = None

    def _audited(self) -> None:
        for callback in self._audit_callbacks:
            callback(self.tables, self._findings)

    def _show_result(self, result: Any, verb: str) -> None:
        self.result = result
        self.progress.value = 100
        self.progress.bar_style = "success" if result.ok else "danger"
        frames = [result.results]
        if len(getattr(result, "grants", ())):
            frames.append(result.grants.rename(columns={"field": "component"}))
        table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        self.results_html.value = _table(table, RESULT_COLUMNS)
        self.status.value = status_html(
            f"{verb}: {result.summary()}."
            + ("" if result.ok else " Some did not end as intended: see the table and the journal."),
            error=not result.ok,
        )
        self.step.value = html.escape(f"journal: {result.journal}")

    def _progress(self, message: str) -> None:
        self.step.value = html.escape(message)
        done = _DONE.search(message)
        if done:
            self.progress.value = 20 + int(70 * int(done.group(1)) / max(1, int(done.group(2))))
        elif message.startswith("journal"):
            self.progress.value = 5
        else:
            self.progress.value = max(self.progress.value, 15)

    def _busy(self, busy: bool) -> None:
        for b in self._buttons_all():
            b.disabled = busy
        if not busy:
            self._buttons()

    def _buttons_all(self) -> tuple[widgets.Button, ...]:
        return (self.preview_button, self.validate_button, self.apply_button, self.rollback_button)

    def _show_impact(self, plan: Any) -> None:
        """Who the edit would break (``plan.impact()``, from the org's own logins and tokens); a folder has
        no usage to read, so no table. The acknowledgements are reset for every new plan."""
        from ..sources.org import Org

        self.impact, self.impact_html.value = None, ""
        self.ack_client.value = self.ack_breaks.value = False
        self.ack_client.layout.display = "" if plan.client_change_fields() else "none"
        if isinstance(self.source, Org):
            try:
                self.impact = plan.impact()
            except Exception as exc:  # the impact is advice: an unreadable one is said, the plan stands
                self.impact_html.value = status_html(f"impact unknown: {error_text(exc)}", error=True)
        breaks = self._breaking_users()
        self.ack_breaks.layout.display = "" if breaks else "none"
        if self.impact is not None and len(self.impact):
            shown = self.impact.assign(users=self.impact["users"].astype(str))
            self.impact_html.value = (
                f"<p><b>Impact</b> (who this edit would stop, from the org's logins and tokens): "
                f"{breaks} users would break</p>"
                + _table(
                    shown,
                    (
                        ("app", "App"),
                        ("change", "Change"),
                        ("verdict", "Verdict"),
                        ("users", "Users"),
                        ("evidence", "Evidence"),
                        ("reason", "Why unknown"),
                    ),
                )
            )

    def _breaking_users(self) -> int:
        if self.impact is None or not len(self.impact):
            return 0
        rows = self.impact[self.impact["verdict"] == "breaks"]
        return len({u for ids in rows["user_ids"] for u in (ids or [])})

    def _plan_file(self, missing: str | None) -> str:
        """The Plan file box's path; :class:`FormInputError` ``missing`` (a step not done) or no name."""
        if missing:
            raise FormInputError(missing)
        path = str(self.plan_path.value).strip()
        if not path:
            raise FormInputError("give the plan file a name (Plan file)")
        return path

    def _plan_to_apply(self) -> Any:
        """The plan Apply writes: the previewed one, or without its refused apps when the box is ticked."""
        if self.plan is not None and not self.plan.ok and self.skip_refused.value:
            return self.plan.without_refused()
        return self.plan

    def _buttons(self) -> None:
        planned = self.plan is not None
        self.validate_button.disabled = not planned
        self.save_button.disabled = not planned
        plan = self._plan_to_apply()
        ready = planned and plan.ok and bool(plan.components or plan.grants)
        self.apply_button.disabled = not ready or bool(self._apply_blocker())
        self.rollback_button.disabled = self.result is None
        self.apply_reason.value = html.escape(self._apply_blocker()) if self.apply_button.disabled else ""

    def _apply_blocker(self) -> str:
        """Why Apply cannot run now (empty: it can)."""
        if self.plan is None:
            return "Apply needs a Preview first." if self.result is None else "Applied: Preview a new edit."
        plan = self._plan_to_apply()
        client = plan.client_change_fields()
        if client and not self.ack_client.value:
            labels = " and ".join(catalog.field(f).label for f in client)
            return (
                f"This edit switches on {labels}: every client must change first (expect downtime; PKCE "
                "cannot be switched off again on partner apps). Tick the box below once they are ready."
            )
        breaks = self._breaking_users()
        if breaks and not self.ack_breaks.value:
            return f"{breaks} users would break (see Impact): tick the box below to accept it."
        refused = len(plan.problems)
        if refused:
            apps = {r["app"] for r in plan.problem_rows}
            if self.skip_refused.value:  # what is left cannot be skipped (a change no app can take)
                return f"{refused} refused changes that belong to no single app: fix them and Preview again."
            return (
                f"{refused} refused changes in {len(apps)} apps: fix them (or the selection) and Preview "
                "again, or tick the Skip refused apps box to apply the other apps."
            )
        if not (plan.components or plan.grants):
            if self.skip_refused.value and not self.plan.ok:
                return "Nothing left to change once the refused apps are skipped."
            return "Nothing to change: every setting is already as asked."
        return ""

    def _error(self, exc: BaseException) -> None:
        self.status.value = status_html(error_text(exc), error=True)
