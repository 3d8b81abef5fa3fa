"""Plan a bulk edit: every selected app × change resolved through the field catalog, validated, previewed.

Nothing is written here. :func:`plan_edits` reads the apps once, applies each change to an in-memory copy
of each component (byte-stable patches of :class:`~toolkit.model.document.MetadataDocument`) and records
every problem (all of them, not the first). :class:`EditPlan` shows the result (``preview()``, ``diff()``,
``problems``), validates it on the server (``validate()``) and applies it (``apply()``, in
:mod:`toolkit.edits.apply`).
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as _field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..analysis.org_tables import APPS_SOQL_COLUMNS, APPS_USAGE_COLUMNS
from ..errors import InvalidValueError, ToolkitError, UnknownFieldError
from ..model import catalog as cat
from ..model import schema
from ..model.bundle import AppBundle, Inventory
from ..model.document import SECRET_LEAVES, MetadataDocument, MissingRequiredError
from ..redact import mask_key, redact
from .changes import (
    ChangeSpec,
    SpecError,
    canonical_value,
    list_item,
    parse_spec,
    split_items,
)
from .select import Selection, SelectionError, columns_of, evaluate_where, names_from
from .targets import CA_TYPE, FolderTarget, Key, OrgTarget, Target, key_text, target_for

if TYPE_CHECKING:
    from .apply import EditResult

_SECRETS = SECRET_LEAVES | {"serviceAccount"}  # the leaves readMetadata never returns and we never store
_CONSUMER_KEY = re.compile(r"(<consumerKey>)([^<]*)(</consumerKey>)")
PROBLEM_COLUMNS = ["app", "kind", "field", "value", "problem", "allowed"]
PREVIEW_COLUMNS = ["app", "kind", "field", "label", "component", "before", "after", "status", "reason"]
_KIND_LABEL = {CA_TYPE: "connected apps", "ExternalClientApplication": "external client apps"}
NOT_SET = "(not set)"
# Switching these on breaks clients that do not implement them yet (Salesforce: "may require some limited
# downtime"; partner apps "won't be permitted to disable" PKCE afterwards:
# https://developer.salesforce.com/docs/atlas.en-us.packagingGuide.meta/packagingGuide/secure_code_ac_eca.htm
# https://help.salesforce.com/s/articleView?id=005316703). The CLI apply asks for --ack-client-change.
CLIENT_CHANGE_FIELDS = ("pkce", "rtr")
CLIENT_CHANGE_NOTE = {
    "pkce": "clients must change first (send a code_verifier; expect downtime); partner apps cannot switch "
    "PKCE off again",
    "rtr": "clients must change first (keep the new refresh token of each refresh; expect downtime)",
}
READ_ONCE_SECONDS = 120.0  # an in-process plan younger than this is applied without a second read


class PlanHasProblems(ToolkitError):
    """``apply()`` of a plan with problems: nothing is written until every problem is fixed."""

    def __init__(self, problems: pd.DataFrame) -> None:
        self.problems = problems
        first = problems.iloc[0]
        more = f" (and {len(problems) - 1} more problems: see plan.problems)" if len(problems) > 1 else ""
        super().__init__(
            f"{first['app']}: {first['field']} = {first['value']!r}: {first['problem']}; "
            f"allowed: {first['allowed']}{more}; nothing was written"
        )


@dataclass
class Op:
    """One leaf operation on a component: ``set`` a value, ``set_all`` a repeated leaf, ``remove``."""

    path: str
    action: str
    value: Any = None
    required: dict[str, str] = _field(default_factory=dict)
    allow_unknown: bool = False

    def apply(self, doc: MetadataDocument) -> MetadataDocument:
        """The document with this operation done (raises the model's errors on bad values)."""
        if self.action == "remove":
            return doc.remove(self.path, allow_unknown=self.allow_unknown)
        if self.action == "set_all":
            return doc.set_all(self.path, list(self.value), allow_unknown=self.allow_unknown)
        return doc.set(
            self.path, self.value, allow_unknown=self.allow_unknown, required=self.required or None
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "action": self.action,
            "value": self.value,
            "required": self.required,
            "allow_unknown": self.allow_unknown,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Op:
        return cls(
            data["path"],
            data["action"],
            data.get("value"),
            dict(data.get("required") or {}),
            bool(data.get("allow_unknown")),
        )


@dataclass
class ComponentPlan:
    """One component to write: its plan-time raw bytes, the patched document and the operations."""

    key: Key
    app: str
    raw: bytes
    before: MetadataDocument
    after: MetadataDocument
    ops: list[Op] = _field(default_factory=list)


@dataclass
class GrantPlan:
    """Pre-authorizations to add/remove on a connected app of an org (SetupEntityAccess rows)."""

    app: str
    field: str  # "profiles" or "permission_sets"
    add: list[str] = _field(default_factory=list)
    remove: list[str] = _field(default_factory=list)


@dataclass
class EditPlan:
    """A bulk edit, resolved and validated; nothing has been written. Save it, show it, apply it.

    ``preview()`` one row per app × change, ``problems`` every refusal, ``diff()`` the XML per component.
    """

    target: Target
    specs: list[ChangeSpec]
    rows: list[dict[str, Any]] = _field(default_factory=list)
    problem_rows: list[dict[str, Any]] = _field(default_factory=list)
    components: dict[Key, ComponentPlan] = _field(default_factory=dict)
    grants: list[GrantPlan] = _field(default_factory=list)
    apps: list[AppBundle] = _field(default_factory=list)
    selection: Selection | None = None  # what where= selected and left out (None: no where=)
    # time.monotonic() of the read the components' raw bytes come from (plan_edits or load_plan, in this
    # process): apply() within READ_ONCE_SECONDS uses them as the pre-images instead of reading again
    read_at: float | None = _field(default_factory=time.monotonic)
    skipped_rows: list[dict[str, Any]] = _field(default_factory=list)
    writes_at_read: int | None = None  # org writes through this Org object when the plan read it

    def __post_init__(self) -> None:
        if self.writes_at_read is None and isinstance(self.target, OrgTarget):
            self.writes_at_read = _org_writes(self.target)

    @property
    def skipped(self) -> pd.DataFrame:
        """Apps left out by :meth:`without_refused`: app, field, value, problem."""
        return pd.DataFrame(self.skipped_rows, columns=["app", "field", "value", "problem"])

    def without_refused(self) -> EditPlan:
        """The plan of the apps with no problem; the refused apps are listed in ``.skipped``.

        Problems that belong to no app (a change that does not parse) cannot be skipped: they stay.
        """
        bad = {r["app"] for r in self.problem_rows if r["app"] != "(every app)"}
        return EditPlan(
            target=self.target,
            specs=self.specs,
            rows=[r for r in self.rows if r["app"] not in bad],
            problem_rows=[r for r in self.problem_rows if r["app"] not in bad],
            components={k: c for k, c in self.components.items() if c.app not in bad},
            grants=[g for g in self.grants if g.app not in bad],
            apps=[a for a in self.apps if a.name not in bad],
            read_at=self.read_at,
            selection=self.selection,
            writes_at_read=self.writes_at_read,
            skipped_rows=self.skipped_rows
            + [
                {k: r[k] for k in ("app", "field", "value", "problem")}
                for r in self.problem_rows
                if r["app"] in bad
            ],
        )

    def save(self, path: str) -> str:
        """Write the plan to ``path`` (JSON, :mod:`toolkit.edits.saved`); apply it later with
        ``toolkit.load_plan(path, source).apply()`` / ``edit --apply path``."""
        from .saved import save_plan

        return save_plan(self, path)

    def needs_fresh_read(self, fresh_read: bool | None = None) -> bool:
        """Whether apply() reads every component again first (the stale check).

        ``fresh_read=None``: only when the plan's own read is older than ``READ_ONCE_SECONDS`` or unknown.
        """
        if fresh_read is not None:
            return fresh_read
        if not isinstance(self.target, OrgTarget) or self.read_at is None:
            return True  # folders: re-reading files costs nothing
        if _org_writes(self.target) != self.writes_at_read:
            return True  # this process wrote to the org since the plan's read
        return time.monotonic() - self.read_at > READ_ONCE_SECONDS

    @property
    def problems(self) -> pd.DataFrame:
        """Every validation problem: app, kind, field, value, problem, allowed (empty: the plan is valid)."""
        return pd.DataFrame(self.problem_rows, columns=PROBLEM_COLUMNS)

    @property
    def ok(self) -> bool:
        return not self.problem_rows

    def preview(self) -> pd.DataFrame:
        """One row per app × change: app, kind, field, Setup label, component, before, after, status, why."""
        return pd.DataFrame(self.rows, columns=PREVIEW_COLUMNS)

    def impact(self, window_days: int = 180) -> pd.DataFrame:
        """Who the plan would break, from the org's usage in the last ``window_days``: one row per app ×
        change, verdict breaks / at risk / no evidence of impact / unknown (:mod:`toolkit.edits.impact`)."""
        from .impact import impact

        return impact(self, window_days)

    def summary(self) -> str:
        """``3 to change, 1 no-op, 0 refused in 4 apps`` (one line for people)."""
        counts = self.preview()["status"].value_counts() if self.rows else pd.Series(dtype=int)
        apps = len({r["app"] for r in self.rows if r["status"] == "change"})
        line = (
            f"{int(counts.get('change', 0))} to change in {apps} apps, {int(counts.get('no-op', 0))} no-op, "
            f"{len(self.problem_rows)} refused"
        )
        note = self.selection.note() if self.selection is not None else ""
        line = f"{line}; {note}" if note else line
        client = self.client_change_fields()
        if client:
            labels = " and ".join(cat.field(f).label for f in client)
            line += f"; enabling {labels}: clients must change first (expect downtime)"
        return line

    def client_change_fields(self) -> list[str]:
        """The fields of :data:`CLIENT_CHANGE_FIELDS` this plan switches on (clients must change first)."""
        on = {
            r["field"]
            for r in self.rows
            if r["status"] == "change"
            and r["field"] in CLIENT_CHANGE_FIELDS
            and str(r["after"]).strip().lower() == "true"
        }
        return [f for f in CLIENT_CHANGE_FIELDS if f in on]

    def diff(self) -> str:
        """A unified diff of every component to write (before/after XML); consumer keys masked, no secret."""
        out: list[str] = []
        for key, comp in sorted(self.components.items()):
            a = comp.before.to_bytes().decode("utf-8", "replace").splitlines(keepends=True)
            b = comp.after.to_bytes().decode("utf-8", "replace").splitlines(keepends=True)
            out.extend(difflib.unified_diff(a, b, f"a/{key_text(key)}", f"b/{key_text(key)}"))
        return redact(
            _CONSUMER_KEY.sub(lambda m: m.group(1) + (mask_key(m.group(2)) or "") + m.group(3), "".join(out))
        )

    def changes(self) -> pd.DataFrame:
        """Leaf-level changes per component (component, path, before, after), for programs."""
        rows = [
            {"component": key_text(k), "path": c.path, "before": c.old, "after": c.new}
            for k, comp in sorted(self.components.items())
            for c in comp.before.diff(comp.after)
        ]
        return pd.DataFrame(rows, columns=["component", "path", "before", "after"])

    def validate(self) -> pd.DataFrame:
        """Server-side validation (``deploy`` with ``checkOnly``): a row per component failure (none: valid).

        Folders have no server: the plan's own validation is all there is (an empty table).
        """
        if not isinstance(self.target, OrgTarget) or not self.components:
            return pd.DataFrame(columns=["component", "problem"])
        failures = self.target.validate([c.after for c in self.components.values()])
        return pd.DataFrame(
            [
                {
                    "component": f"{f.get('componentType', '')}:{f.get('fullName', '')}",
                    "problem": f.get("problem", ""),
                }
                for f in failures
            ],
            columns=["component", "problem"],
        )

    def apply(
        self,
        journal_dir: str | None = None,
        force_stale: bool = False,
        progress: Callable[[str], None] | None = None,
        on_journal: Callable[[str], None] | None = None,
        fresh_read: bool | None = None,
    ) -> EditResult:
        """Write the plan (:func:`toolkit.edits.apply.apply_plan`); raises :class:`PlanHasProblems` first.

        ``fresh_read``: re-read every component before writing (True), or use the plan's bytes (False);
        None: re-read only when the plan's read is older than ``READ_ONCE_SECONDS``.
        """
        from .apply import apply_plan

        return apply_plan(
            self,
            journal_dir=journal_dir,
            force_stale=force_stale,
            progress=progress,
            on_journal=on_journal,
            fresh_read=self.needs_fresh_read(fresh_read),
        )


def _org_writes(target: OrgTarget) -> int:
    """Write calls (updateMetadata, REST POST/PATCH/DELETE) made through the target's Org so far."""
    calls = target.org.ledger.calls
    return sum(
        n for k, n in calls.items() if k == "updateMetadata" or k.split(" ")[0] in ("POST", "PATCH", "DELETE")
    )


# --- planning -----------------------------------------------------------------------------------------------
def plan_edits(
    source: Any,
    changes: Iterable[str] | pd.DataFrame,
    *,
    apps: Any = None,
    where: Any = None,
) -> EditPlan:
    """Plan changes for the selected apps of an org or a folder; nothing is written.

    ``changes``: strings (``"ip_relaxation=ENFORCE"``, ``"callback_urls+=https://x"``, raw paths
    ``"ConnectedApp:mobileAppConfig.minimumOsVersion=17.0"``) applied to the apps of ``apps=`` (names or a
    DataFrame with a ``name``/``app`` column) or ``where=`` (an expression over the audit ``apps`` table), or
    a
    DataFrame with columns ``app``, ``field``, ``value`` and optionally ``op``.

    >>> import shutil, tempfile
    >>> d = shutil.copytree("examples", tempfile.mkdtemp() + "/p")
    >>> plan = plan_edits(d, ["ip_relaxation=ENFORCE"], apps=["Legacy_Partner_Portal"])
    >>> plan.preview()[["app", "before", "after", "status"]].values.tolist()
    [['Legacy_Partner_Portal', 'BYPASS', 'ENFORCE', 'change']]
    """
    target = target_for(source)
    plan = EditPlan(target=target, specs=[])
    specs = _specs(changes, plan)
    if not specs:  # every change was refused as given (bad operator, no value...): those are the problems
        return plan
    names, loaded = _selected(target, specs, apps, where, plan)
    inventory, raws = loaded if loaded is not None else target.load(names)
    by_name = {a.name: a for a in inventory.apps}
    plan.apps = [by_name[n] for n in names if n in by_name]
    for name in names:
        if name not in by_name:
            mine = [s for s in specs if s.app in (None, name)]
            _problem(
                plan,
                name,
                "",
                ", ".join(s.field for s in mine),
                ", ".join(s.value for s in mine),
                _missing_app(name, target, inventory.apps),
                "an existing app",
            )
    context = _Context(target)
    for app in plan.apps:
        app_specs = [s for s in specs if s.app in (None, app.name)]
        _plan_app(plan, app, app_specs, raws, context)
    return plan


def _specs(changes: Any, plan: EditPlan) -> list[ChangeSpec]:
    specs: list[ChangeSpec] = []
    if isinstance(changes, pd.DataFrame):
        missing = [c for c in ("app", "field", "value") if c not in changes.columns]
        if missing:
            raise SpecError(
                f"changes DataFrame lacks column(s) {', '.join(missing)}; allowed: app, field, value and "
                f"optionally op (=, +=, -=); columns given: {', '.join(map(str, changes.columns))}"
            )
        for row in changes.to_dict("records"):
            op = "=" if _blank(row.get("op")) else str(row.get("op"))
            if _blank(row["value"]):  # NaN/None: refused, never written as the text "nan" nor as "clear"
                _problem(
                    plan,
                    str(row["app"]),
                    "",
                    str(row["field"]),
                    str(row["value"]),
                    "no value (NaN/None in the changes DataFrame)",
                    "a value; to clear a list give '' with op '=', to leave a setting alone drop the row",
                )
                continue
            value = _cell_text(row["value"], str(row["field"]))
            if op not in ("=", "+=", "-="):
                _problem(
                    plan,
                    str(row["app"]),
                    "",
                    str(row["field"]),
                    value,
                    f"unknown operator {op!r}",
                    "=, +=, -=",
                )
                continue
            specs.append(ChangeSpec(str(row["field"]), op, value, str(row["app"])))
    else:
        if isinstance(changes, str):
            changes = [changes]
        if not isinstance(changes, list | tuple | pd.Series) or isinstance(changes, bytes):
            raise SpecError(
                f"changes must be FIELD=VALUE strings or a DataFrame, not {type(changes).__name__} "
                f"{changes!r:.60}; allowed: e.g. ['ip_relaxation=ENFORCE'] or a DataFrame with app, field, "
                "value (and op)"
            )
        for text in changes:
            if not isinstance(text, str):
                raise SpecError(
                    f"change {text!r:.60} is a {type(text).__name__}; allowed: FIELD=VALUE strings "
                    "(e.g. ip_relaxation=ENFORCE)"
                )
            try:
                specs.append(parse_spec(text))
            except SpecError as exc:
                _problem(
                    plan, "(every app)", "", str(text), "", str(exc), "FIELD=VALUE, FIELD+=ITEM, FIELD-=ITEM"
                )
    if not specs and not plan.problem_rows:
        raise SpecError("no change given; allowed: FIELD=VALUE (e.g. ip_relaxation=ENFORCE), repeatable")
    plan.specs = specs
    return specs


def _blank(value: Any) -> bool:
    """None, NaN, NaT, <NA>: a DataFrame cell without a value."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # a list in a cell
        return False


def _cell_text(value: Any, fld: str) -> str:
    """A DataFrame cell as the text of a change: booleans true/false; 120.0 of an integer field is 120
    (a column with a NaN turns into floats), a version ``17.0`` stays ``17.0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    known = cat.CATALOG.get(fld)
    if isinstance(value, float) and value.is_integer() and known is not None and known.type == "integer":
        return str(int(value))
    return str(value)


# columns an org audit adds to the apps table (toolkit.analysis.org_tables.add_org_columns): SOQL and usage
ORG_COLUMNS = (*APPS_SOQL_COLUMNS, *APPS_USAGE_COLUMNS, "partial")
_Loaded = tuple[Inventory, dict[Key, bytes]]
# usage columns, and the SOQL they need: the usage rows and the app ids they are joined to
USAGE_COLUMNS = frozenset(APPS_USAGE_COLUMNS)
USAGE_OBJECTS = frozenset(
    {
        "OauthToken",
        "User",
        "LoginHistory",
        "IdpEventLog",
        "AppMenuItem",
        "ConnectedApplication",
        "ExternalClientApplication",
    }
)


def _selected(
    target: Target, specs: list[ChangeSpec], apps: Any, where: Any, plan: EditPlan
) -> tuple[list[str], _Loaded | None]:
    """The selected names, and the apps already loaded to evaluate ``where`` (reused by the plan)."""
    per_app = [s.app for s in specs if s.app is not None]
    if apps is None and where is None:
        if per_app:
            return list(dict.fromkeys(per_app)), None
        raise SelectionError(
            "no apps selected; allowed: apps=[names] / --apps A,B, or where=EXPR / --where EXPR "
            "(e.g. \"platform == 'ios'\")"
        )
    names: list[str] = []
    loaded: _Loaded | None = None
    if apps is not None:
        names = names_from(apps)
        if not names:
            raise SelectionError("apps= is empty; allowed: one or more app names")
    if where is not None:
        table, loaded = _apps_table(target, where)
        plan.selection = evaluate_where(table, where)
        chosen = plan.selection.names
        names = [n for n in names if n in chosen] if apps is not None else chosen
        if not names:
            note = plan.selection.note()
            raise SelectionError(
                f"--where {where!r} selects no app of {target.origin}" + (f" ({note})" if note else "")
            )
    return list(dict.fromkeys(names + [a for a in per_app if a not in names])), loaded


def metadata_columns() -> frozenset[str]:
    """Columns of the apps table that the components' metadata alone gives (no SOQL, no usage).

    >>> cols = metadata_columns()
    >>> "ip_relaxation" in cols, "pin_length" in cols, "tokens" in cols
    (True, False, False)
    """
    from ..analysis.tables import apps_columns

    out = set(apps_columns()) - {"coverage", "coverage_reason", "unknown"}
    for f in cat.fields():
        for binding in (f.ca, f.eca):
            if binding is not None and binding.reads and not any(not s.soql for s in binding.reads):
                out.discard(f.id)  # read from SOQL only
    return frozenset(out)


def _apps_table(target: Target, where: Any) -> tuple[pd.DataFrame, _Loaded | None]:
    """The apps table ``where`` is evaluated on, reading only what its columns need.

    Columns the metadata gives: the plan's own load of every app (listing + readMetadata), reused by the plan:
    no extra call. SOQL-only and usage columns (``pin_length``, ``tokens``...): the org audit.
    """
    from ..analysis.tables import apps_columns, build_tables

    columns = columns_of(where)
    known = set(apps_columns()) | (set(ORG_COLUMNS) if isinstance(target, OrgTarget) else set())
    unknown = [c for c in columns if c not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise SelectionError(
            f"--where {where!r}: no column {unknown[0]!r}{hint}; allowed: the columns of the audit apps "
            f"table: {', '.join(c for c in apps_columns() if not c.startswith('_'))}"
            + (f", {', '.join(ORG_COLUMNS)}" if isinstance(target, OrgTarget) else "")
        )
    if isinstance(target, OrgTarget) and not set(columns) <= metadata_columns():
        from ..analysis.audit import audit_org

        # no org-wide settings, no /limits; a where on usage alone: only the usage SOQL and the app ids
        usage_only = set(columns) <= USAGE_COLUMNS | {"name", "label", "kind"}
        objects = USAGE_OBJECTS if usage_only else None
        return audit_org(target.org, org_wide=False, objects=objects)[1]["apps"], None
    inventory, raws = target.load(None)
    return build_tables(inventory)["apps"], (inventory, raws)


def _missing_app(name: str, target: Target, apps: list[AppBundle]) -> str:
    close = difflib.get_close_matches(name, target.all_names or [a.name for a in apps], n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return (
        f"no connected app or external client app named {name!r} in {target.origin}{hint}; "
        "edits never create apps (Spring '26: new connected apps cannot be created)"
    )


def _problem(plan: EditPlan, app: str, kind: str, fld: str, value: str, problem: str, allowed: str) -> None:
    known = cat.CATALOG.get(fld)
    if (known is not None and known.secret) or fld.rsplit(".", 1)[-1] in SECRET_LEAVES:
        value = "****"  # a secret typed by mistake is still a secret
    plan.problem_rows.append(
        {"app": app, "kind": kind, "field": fld, "value": value, "problem": problem, "allowed": allowed}
    )


class _Context:
    """Lookups a plan may need once (profile and permission set names and Ids of an org)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._ids: dict[str, dict[str, str]] | None = None
        self._folder: dict[str, list[str]] | None = None

    def folder_names(self, which: str) -> list[str] | None:
        """Profile (``profiles``) or permission set names present in a folder; None when it holds none."""
        from urllib.parse import unquote

        if self._folder is None:
            assert isinstance(self.target, FolderTarget)
            self._folder = {}
            for fld, ext in (("profiles", "profile"), ("permission_sets", "permissionset")):
                found = {
                    unquote(p.name.split(".")[0])
                    for pattern in (f"*.{ext}-meta.xml", f"*.{ext}")
                    for p in self.target.root.rglob(pattern)
                }
                self._folder[fld] = sorted(found)
        return self._folder[which] or None

    def ids(self, which: str) -> dict[str, str]:
        """Name -> Id of profiles (``profiles``) or permission sets (``permission_sets``) of an org."""
        if self._ids is None:
            from .grants import name_ids

            assert isinstance(self.target, OrgTarget)
            self._ids = name_ids(self.target.org)
        return self._ids[which]


@dataclass
class _Refusal(Exception):
    problem: str
    allowed: str


def _plan_app(
    plan: EditPlan, app: AppBundle, specs: list[ChangeSpec], raws: dict[Key, bytes], ctx: _Context
) -> None:
    working: dict[Key, MetadataDocument] = {}
    ops: dict[Key, list[Op]] = {}
    composite: dict[tuple[Key, str], dict[str, str]] = {}
    values: dict[str, tuple[Any, str]] = {}  # field -> (value after the changes so far, the text that set it)
    for spec in specs:
        try:
            _refuse_read_only(app, spec)
            if spec.is_raw_path:
                row, key, op = _raw_path(app, spec, working, raws, plan, values)
            else:
                row, key, op = _catalog_change(app, spec, working, raws, plan, ctx, composite, values)
        except _Refusal as refusal:
            _problem(plan, app.name, app.kind, spec.field, spec.value, refusal.problem, refusal.allowed)
            plan.rows.append(
                _row(app, spec.field, _label(spec.field), "", None, None, "refused", refusal.problem)
            )
            continue
        except (InvalidValueError, UnknownFieldError, MissingRequiredError) as exc:
            problem, allowed = _explain(exc)
            _problem(plan, app.name, app.kind, spec.field, spec.value, problem, allowed)
            plan.rows.append(_row(app, spec.field, _label(spec.field), "", None, None, "refused", problem))
            continue
        if op is not None and key is not None:
            ops.setdefault(key, []).append(op)
        plan.rows.append(row)
    for (key, path), parts in composite.items():
        doc = working[key]
        try:
            text = _compose_refresh(app.name, parts)
            op = Op(path, "set", text)
            working[key] = op.apply(doc)
            ops.setdefault(key, []).append(op)
        except (_Refusal, InvalidValueError, MissingRequiredError) as exc:
            # e.g. a refresh-token policy on an app with no oauthPolicy (that also needs IP Relaxation)
            problem, allowed = (exc.problem, exc.allowed) if isinstance(exc, _Refusal) else _explain(exc)
            _problem(plan, app.name, app.kind, parts["_fields"], parts["_values"], problem, allowed)
            for index in parts["_rows"].split():
                plan.rows[int(index)].update(status="refused", reason=problem)
    for key, doc in working.items():
        before = _doc(plan, key, raws)
        if key in ops and before.diff(doc):
            secret = _secret_leaf(before)
            if secret:  # the journal keeps a copy of the component: a secret must not be copied there
                fields = ", ".join(dict.fromkeys(s.field for s in specs))
                _problem(
                    plan,
                    app.name,
                    app.kind,
                    fields,
                    ", ".join(s.value for s in specs),
                    f"{before.source} holds a {secret}; bulk edits never copy a secret into their journal",
                    f"remove the {secret} from the file first (secrets do not belong in source control)",
                )
                continue
            plan.components[key] = ComponentPlan(key, app.name, raws[key], before, doc, ops[key])


def _refuse_read_only(app: AppBundle, spec: ChangeSpec) -> None:
    """Refuse a change the org would refuse: any change of an app it does not let anyone edit, or of a
    component type it keeps read-only for this app (a packaged ECA's settings, set by its publisher)."""
    if not app.editable:
        raise _Refusal(
            f"cannot be edited: {app.not_editable_reason or 'packaged/installed app'}",
            "apps created in this org (not installed from a package)",
        )
    if spec.is_raw_path:
        type_name: str | None = spec.field.partition(":")[0]
        where = f"{type_name} is"
    else:
        type_name = cat.write_type(spec.field, app.kind)
        where = f"{spec.field} is written to {type_name}, which is"
    why = app.why_read_only(type_name or "")
    if why:
        policies = [
            f.id
            for f in cat.fields(kind=app.kind, writable=True)
            if cat.write_type(f.id, app.kind) in schema.POLICY_TYPES
        ]
        raise _Refusal(
            f"{where} {why}",
            f"its policies: {', '.join(policies[:8])}, ... or a raw path of a ...ConfigurablePolicies type",
        )


def _secret_leaf(doc: MetadataDocument) -> str:
    """The name of the first non-empty secret leaf of a document ("" when it holds none)."""
    for path, values in doc.leaves().items():
        name = path.rsplit(".", 1)[-1]
        if name in _SECRETS and any(v and v.strip() for v in values):
            return name
    return ""


def _label(name: str) -> str:
    if name in cat.CATALOG:
        return cat.CATALOG[name].label
    type_name, _, path = name.partition(":")
    known = cat.for_path(type_name, path) if path else None
    return known.label if known else name


def _explain(exc: Exception) -> tuple[str, str]:
    """(problem, allowed) of a model error, without repeating the app name."""
    if isinstance(exc, InvalidValueError):
        return f"{exc.field} cannot be {exc.value!r}", exc.allowed
    if isinstance(exc, MissingRequiredError):
        parent = exc.field.split(".")[0]
        return (
            f"the app has no {parent}; setting {exc.field} would create it, and it also needs "
            f"{', '.join(exc.missing)}",
            f"apps that have {parent}, or set {', '.join(exc.missing)} too",
        )
    text = str(exc)
    prefix = f"{getattr(exc, 'app', '')}: "
    return (text[len(prefix) :] if text.startswith(prefix) else text), "a field of the catalog or a WSDL path"


def _doc(plan: EditPlan, key: Key, raws: dict[Key, bytes]) -> MetadataDocument:
    return plan.target.document(key, raws[key])


def _row(
    app: AppBundle,
    fld: str,
    label: str,
    component: str,
    before: Any,
    after: Any,
    status: str,
    reason: str = "",
) -> dict[str, Any]:
    return {
        "app": app.name,
        "kind": app.kind,
        "field": fld,
        "label": label,
        "component": component,
        "before": _show(before),
        "after": _show(after),
        "status": status,
        "reason": reason,
    }


def _show(value: Any) -> Any:
    if value is None or value == []:
        return NOT_SET
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [str(v) for v in value]
    return None if value is None else str(value)


def _component(
    app: AppBundle,
    type_name: str,
    working: dict[Key, MetadataDocument],
    raws: dict[Key, bytes],
    plan: EditPlan,
) -> Key:
    docs = app.docs(type_name)
    if not docs:
        raise _Refusal(
            f"the app has no {type_name} component; bulk edits change existing components, never create them",
            f"apps that have a {type_name}",
        )
    key = (type_name, docs[0].full_name)
    if key not in working:
        working[key] = _doc(plan, key, raws)
    return key


def _raw_path(
    app: AppBundle,
    spec: ChangeSpec,
    working: dict[Key, MetadataDocument],
    raws: dict[Key, bytes],
    plan: EditPlan,
    values: dict[str, tuple[Any, str]],
) -> tuple[dict[str, Any], Key | None, Op | None]:
    type_name, _, path = spec.field.partition(":")
    kinds = {CA_TYPE} if app.kind == CA_TYPE else set(cat.ECA_FAMILY)
    if type_name not in cat.APP_TYPES:
        raise _Refusal(f"unknown component type {type_name!r}", ", ".join(sorted(kinds)))
    if type_name not in kinds:
        raise _Refusal(f"{_KIND_LABEL[app.kind]} have no {type_name} component", ", ".join(sorted(kinds)))
    known = cat.for_path(type_name, path)
    label = known.label if known else path
    if path.rsplit(".", 1)[-1] in SECRET_LEAVES or (known and (known.secret or known.masked)):
        why = known.why_not_writable(app.kind) if known else "a secret is never sent"
        raise _Refusal(f"{path} cannot be changed: {why or 'a secret is never sent'}", "a non-secret element")
    if not schema.has_field(type_name, path):
        raise _Refusal(
            f"no element {path!r} in {type_name} (WSDL v66)",
            f"a leaf of {type_name}, e.g. {type_name}:{_example_leaf(type_name)}",
        )
    leaf = path.rsplit(".", 1)[-1]
    if leaf in IDENTITY_LEAVES:
        raise _Refusal(
            f"{path} is the component's identity ({IDENTITY_LEAVES[leaf]}); bulk edits never rename or "
            "re-parent a component",
            f"a setting of {type_name}, e.g. {type_name}:{_example_leaf(type_name)}",
        )
    key = _component(app, type_name, working, raws, plan)
    doc = working[key]
    repeated = schema.is_repeated(type_name, path)
    before_list = doc.get_all(path)
    if spec.op != "=" and not repeated:
        raise _Refusal(f"{spec.op} works on repeated elements only; {path} holds one value", "=")
    if not spec.value and spec.op == "=":
        raise _Refusal("an empty value", "a value")
    if repeated:
        items = split_items(spec.value) if spec.op == "=" else [spec.value.strip()]
        items = [_raw_value(app, type_name, path, i, known) for i in items]
        after_list = _list_op(spec.op, before_list, items)
        op = Op(path, "set_all", after_list)
        before: Any = before_list
        after: Any = after_list
    else:
        value = _raw_value(app, type_name, path, spec.value, known)
        _conflict(values, spec.field, value, spec.value)
        op = Op(path, "set", value)
        before, after = doc.get(path), value
    new = op.apply(doc)
    if not doc.diff(new):
        return (
            _row(app, spec.field, label, key_text(key), before, after, "no-op", "already at this value"),
            None,
            None,
        )
    working[key] = new
    return _row(app, spec.field, label, key_text(key), before, after, "change"), key, op


# leaves that name a component or tie it to its app: never edited (a renamed file drops out of later audits)
IDENTITY_LEAVES = {
    "fullName": "its API name",
    "externalClientApplication": "the external client app it belongs to",
    "orgScopedExternalApp": "set by Salesforce",
    "module": "the package module it belongs to",
}


def _raw_value(app: AppBundle, type_name: str, path: str, value: str, known: cat.Field | None) -> str:
    """A raw path's value checked against its WSDL type, and the catalog's rules when the path is a field's:
    xsd:int in ASCII digits and range (≥ 1 for the catalog's whole numbers), text without control characters
    and at most MAX_TEXT characters, identifiers (bundle ids, versions, API names) by their pattern."""
    from .changes import check_identifier, check_int, check_text

    info = schema.field_info(type_name, path)
    name = f"{type_name}:{path}"
    refused = cat.refused_value(known.id, app.kind, value) if known is not None else ""
    if refused:  # the catalog's field under its raw path: the same refusal as by its catalog id
        assert known is not None
        allowed = ", ".join(known.allowed_for(app.kind))
        raise InvalidValueError(app.name, name, value, f"{allowed} ({refused})")
    if info.base_type in ("xsd:int", "xsd:long"):
        minimum = 1 if known is not None and known.type == "integer" else None
        return check_int(app.name, name, value, minimum)
    check_text(app.name, name, value)
    return check_identifier(app.name, name, value, known.id if known is not None else "")


def _example_leaf(type_name: str) -> str:
    for name in schema.child_order(type_name):
        if name not in ("fullName", "module") and not schema.field_info(type_name, name).is_complex:
            return name
    return "label"


def _list_op(op: str, before: list[str], items: list[str]) -> list[str]:
    if op == "=":
        return list(dict.fromkeys(items))
    if op == "+=":
        return before + [i for i in items if i not in before]
    return [b for b in before if b not in items]


def _catalog_change(
    app: AppBundle,
    spec: ChangeSpec,
    working: dict[Key, MetadataDocument],
    raws: dict[Key, bytes],
    plan: EditPlan,
    ctx: _Context,
    composite: dict[tuple[Key, str], dict[str, str]],
    values: dict[str, tuple[Any, str]],
) -> tuple[dict[str, Any], Key | None, Op | None]:
    try:
        fld = cat.field(spec.field)
    except UnknownFieldError:
        close = difflib.get_close_matches(spec.field, list(cat.CATALOG), n=3)
        writable = [f.id for f in cat.fields(kind=app.kind, writable=True) if not f.secret]
        raise _Refusal(
            f"no field {spec.field!r} in the catalog"
            + (f" (did you mean {', '.join(close)}?)" if close else ""),
            ", ".join(writable) + ", or a raw path Type:path",
        ) from None
    kind = app.kind
    if fld.id in cat.DERIVED_FIELDS:
        other = cat.DERIVED_FIELDS[fld.id]
        raise _Refusal(
            f"{fld.id} is computed from {other}; set {other} instead",
            f"{other}={', '.join(cat.field(other).allowed)}",
        )
    binding = fld.binding(kind)
    if binding is None:
        others = [k for k in (CA_TYPE, "ExternalClientApplication") if fld.binding(k) is not None]
        raise _Refusal(
            f"not applicable: {_KIND_LABEL[kind]} have no {fld.label!r} setting",
            f"{' and '.join(_KIND_LABEL[k] for k in others)} only",
        )
    if binding.write == "none" or fld.secret or fld.masked or fld.type in ("secret", "certificate"):
        why = binding.why_not or "a secret is never sent"
        setup = cat.SETUP_PATHS.get(fld.id)
        alt = cat.ECA_ALTERNATIVES.get(fld.id) if kind == CA_TYPE else None
        problem = f"read-only for {_KIND_LABEL[kind]}: {why}" + (f"; change it in {setup}" if setup else "")
        raise _Refusal(problem, f"ECA alternative: {alt}" if alt else "no API can write it")
    source = cat.write_source(fld, kind)
    if source is None or source.record or source.attribute:
        raise _Refusal(
            f"{fld.label} ({fld.type}) is not supported by bulk edits yet; edit it in Setup or in the files",
            "scalar and list fields of the catalog",
        )
    is_list = fld.type == "list"
    shown: Callable[[Any], Any] = lambda value: value  # noqa: E731 - how values appear in the preview
    if spec.op != "=" and not is_list:
        raise _Refusal(f"{spec.op} works on list fields only; {fld.id} holds one value", "=")
    original = _text(cat.read_value(app, fld))
    # changes of one field compose in order: each starts from the value the earlier ones left
    before = values[fld.id][0] if fld.id in values else original
    note = ""
    if is_list:
        items = split_items(spec.value) if spec.op == "=" else [spec.value]
        items = [list_item(fld, i, app.name) for i in items]
        if fld.id in ("profiles", "permission_sets") and spec.op != "-=":
            note = _check_grantees(app, fld, items, plan, ctx)
        if (
            (fld.id, kind) in cat.JOINED_LISTS
            and fld.id in ("profiles", "permission_sets")
            and isinstance(plan.target, OrgTarget)
        ):
            ids = ctx.ids(fld.id)
            items = [ids.get(i, i) for i in items]
            names = {v: k for k, v in ids.items()}
            shown = lambda vals: [f"{names[v]} ({v})" if v in names else v for v in vals or []]  # noqa: E731
        after: Any = _list_op(spec.op, list(before or []), items)
        if not spec.value.strip() and spec.op == "=":
            after = []
    else:
        if not spec.value.strip() and fld.type in ("string", "email", "url") and _required(fld, source):
            raise _Refusal(
                f"{fld.id} is required: Salesforce refuses an app without it (REQUIRED_FIELD_MISSING)",
                f"a non-empty {fld.label}",
            )
        after = canonical_value(fld, spec.value, app.name, app.kind)
        _conflict(values, fld.id, after, spec.value)
    values[fld.id] = (after, spec.value)
    if _same(before, after):
        return (
            _row(app, fld.id, fld.label, "", shown(before), shown(after), "no-op", "already at this value"),
            None,
            None,
        )
    if binding.write == "SetupEntityAccess" and isinstance(plan.target, OrgTarget):
        # one grant plan per app and field: from the app's grants to the composed list
        grant = GrantPlan(
            app.name,
            fld.id,
            [a for a in after if a not in (original or [])],
            [b for b in original or [] if b not in after],
        )
        plan.grants = [g for g in plan.grants if (g.app, g.field) != (app.name, fld.id)]
        if grant.add or grant.remove:
            plan.grants.append(grant)
        return _row(app, fld.id, fld.label, "SetupEntityAccess", before, after, "change"), None, None
    key = _component(app, source.type_name, working, raws, plan)
    component = key_text(key)
    parts = cat.COMPOSITE_PATHS.get((source.type_name, source.path))
    if parts:
        current = cat.parse_refresh_policy(working[key].get(source.path) or "") or ("", None, None)
        slot = composite.setdefault(
            (key, source.path), {p: "" if v is None else str(v) for p, v in zip(parts, current, strict=True)}
        )
        slot[fld.id] = str(after)
        slot["_fields"] = ", ".join(filter(None, [slot.get("_fields", ""), fld.id]))
        slot["_values"] = ", ".join(filter(None, [slot.get("_values", ""), spec.value]))
        slot["_rows"] = " ".join(filter(None, [slot.get("_rows", ""), str(len(plan.rows))]))
        if fld.id == "refresh_policy" and after in ("infinite", "zero"):
            slot["refresh_n"] = slot["refresh_unit"] = ""
        elif fld.id != "refresh_policy":
            slot["_parts_set"] = "yes"
        return _row(app, fld.id, fld.label, component, before, after, "change"), None, None
    if is_list:
        sep = cat.JOINED_LISTS.get((fld.id, kind))
        raw_items = [cat.to_raw(fld, kind, a) for a in after]
        if sep is not None:
            op = Op(source.path, "set", sep.join(raw_items)) if raw_items else Op(source.path, "remove")
        else:
            op = Op(source.path, "set_all", raw_items)
    else:
        op = Op(source.path, "set", cat.to_raw(fld, kind, str(after)))
    working[key] = op.apply(working[key])
    if fld.id in CLIENT_CHANGE_NOTE and str(after).strip().lower() == "true":
        note = CLIENT_CHANGE_NOTE[fld.id]
    return _row(app, fld.id, fld.label, component, shown(before), shown(after), "change", note), key, op


def _required(fld: cat.Field, source: cat.Source) -> bool:
    """A field the component cannot be without (WSDL minOccurs 1, and every app's label)."""
    if fld.id == "label":
        return True
    return (
        schema.has_field(source.type_name, source.path)
        and schema.field_info(source.type_name, source.path).required
    )


def _conflict(values: dict[str, tuple[Any, str]], name: str, after: Any, text: str) -> None:
    """Refuse a second, different value for one single-valued field in one edit (no silent "first wins")."""
    if name in values and not _same(values[name][0], after):
        raise _Refusal(
            f"{name} is given two different values in one edit: {values[name][1]!r} and {text!r}",
            "one value per field (drop one of the --set)",
        )


def _check_grantees(app: AppBundle, fld: cat.Field, items: list[str], plan: EditPlan, ctx: _Context) -> str:
    """Profiles/permission sets to grant must exist: in an org (SOQL, once a plan), in a folder the project's
    profile/permission set files when it has some (else accepted, with a note returned for the preview)."""
    what = "profile" if fld.id == "profiles" else "permission set"
    if isinstance(plan.target, OrgTarget):
        ids = ctx.ids(fld.id)
        unknown = [i for i in items if i not in ids and i not in ids.values()]
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(ids), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise _Refusal(
                f"no {what} {unknown[0]!r} in {plan.target.origin}{hint}",
                ", ".join(sorted(ids)[:20]) or f"(no {what} in this org)",
            )
        return ""
    present = ctx.folder_names(fld.id)
    if present is None:
        return f"not checked: the project has no {what} files"
    lower = {p.lower() for p in present}
    unknown = [i for i in items if i.lower() not in lower]
    if unknown:
        raise _Refusal(f"no {what} {unknown[0]!r} in the project's {what} files", ", ".join(present[:20]))
    return ""


def _same(before: Any, after: Any) -> bool:
    if isinstance(after, list):
        return list(before or []) == after
    return bool(before == after)


def _compose_refresh(app: str, parts: dict[str, str]) -> str:
    policy, n, unit = (
        parts.get("refresh_policy", ""),
        parts.get("refresh_n", ""),
        parts.get("refresh_unit", ""),
    )
    if policy in ("specific_lifetime", "specific_inactivity"):
        if not n or not unit:
            raise _Refusal(
                f"refresh token policy {policy} needs a period and a unit (refresh_n, refresh_unit)",
                f"refresh_policy={policy} refresh_n=90 refresh_unit=DAYS",
            )
        return f"{policy}:{n}:{unit}"
    if policy in ("infinite", "zero"):
        if parts.get("_parts_set") and (n or unit):
            raise _Refusal(
                f"refresh_n/refresh_unit apply only to specific_* policies, not {policy}",
                "refresh_policy=specific_lifetime or specific_inactivity",
            )
        return policy
    raise _Refusal(f"refresh token policy {policy!r} is not set", ", ".join(cat.REFRESH_POLICIES))
