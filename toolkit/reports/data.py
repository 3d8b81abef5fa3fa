"""What a report is made of: the audit tables, the findings (when the rules layer is there), who and when.

:func:`collect` audits a source (an :class:`~toolkit.sources.org.Org` or a folder); :func:`save` and
:func:`load` hand the result from the ``report`` command to the report notebook through a folder of pickles
and one JSON file: no credential ever reaches the notebook (its parameters are saved with it).
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..analysis.privacy import without_user_names
from ..errors import SourceError
from ..model.bundle import Inventory

META = "report.json"


@dataclass
class ReportData:
    """The audit tables and findings of one source, with its name, origin and time."""

    tables: dict[str, pd.DataFrame]
    findings: pd.DataFrame | None = None
    org_name: str = ""
    origin: str = ""
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))
    partial_reason: str = ""
    # from the history (toolkit.analysis.history.since_last): "new" and "fixed" failed findings since the last
    # run kept (app, rule, severity, field), "trend" (failed findings per severity per kept run); empty: none
    history: dict[str, pd.DataFrame] = field(default_factory=dict)
    # the impact of each top action's bulk edit on the org (:func:`action_impacts`): rule -> {"users": n,
    # "apps": n, "unknown": n} (users who would break, in how many apps; rows whose impact is unknown), or
    # {"error": text} when it could not be planned; empty for a folder
    impacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    impact_calls: int = 0  # the API calls those dry-run plans and usage reads made (beyond the audit's)

    @property
    def title(self) -> str:
        """The report's title: the org's name, never its URL."""
        return f"Connected apps of {self.org_name}" if self.org_name else "Connected app report"


def findings_of(tables: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    """``toolkit.findings(tables)``."""
    from ..rules.engine import findings

    return findings(tables)


def org_name(org: Any) -> str:
    """The org's name (``Organization.Name``), or its host when it cannot be read."""
    try:
        rows = org.query("SELECT Name FROM Organization")
        if rows and rows[0].get("Name"):
            return str(rows[0]["Name"])
    except Exception:  # the name is a nicety: the report says where the data came from either way
        pass
    return urlsplit(str(org.instance_url)).hostname or "the org"


def collect(
    source: Any, *, window_days: int = 180, progress: Any = None, impacts: bool = True
) -> tuple[ReportData, Inventory]:
    """Audit an org or a folder into :class:`ReportData`; also returns the inventory (for its secret values,
    :func:`inventory_secrets`, which never go into the data). ``impacts``: for an org, also who each top
    action's bulk edit would break (:func:`action_impacts`: dry-run plans, more API calls, no write)."""
    from ..analysis.audit import audit_folder, audit_org
    from ..sources.org import Org

    if isinstance(source, Org):
        inventory, tables = audit_org(source, window_days=window_days, progress=progress)
        name = org_name(source)
    elif isinstance(source, str | Path):
        inventory, tables = audit_folder(source)
        name = Path(source).resolve().name
    else:
        raise SourceError(f"a report needs an org from toolkit.connect() or a folder, not {type(source)}")
    data = ReportData(
        tables=tables,
        findings=findings_of(tables),
        org_name=name,
        origin=urlsplit(inventory.origin).hostname or inventory.origin,
        partial_reason=inventory.partial_reason if inventory.partial else "",
    )
    if impacts and isinstance(source, Org) and data.findings is not None:
        before = source.ledger.counted_calls()
        data.impacts = action_impacts(source, data.findings, window_days=window_days)
        data.impact_calls = source.ledger.counted_calls() - before
    return data, inventory


def action_impacts(
    org: Any, findings: pd.DataFrame, n: int = 5, *, window_days: int = 180
) -> dict[str, dict[str, Any]]:
    """Who each of the ``n`` top actions' bulk edits would break (issue 16): the dry-run plan of the rule's
    changes on its failing apps (refused apps left out, nothing written) and its :meth:`EditPlan.impact`."""
    from ..edits import plan_edits
    from ..edits.impact import BREAKS, UNKNOWN, users_breaking
    from ..errors import ToolkitError
    from ..rules.score import bulk_changes, failed, top_actions

    fails = failed(findings)
    out: dict[str, dict[str, Any]] = {}
    for action in top_actions(findings, n).to_dict("records"):
        if not action["changes"]:
            continue
        rule = str(action["rule"])
        changes = bulk_changes(fails[fails["rule"] == rule])
        try:
            plan = plan_edits(org, changes[["app", "field", "value", "op"]]).without_refused()
            table = plan.impact(window_days)
        except ToolkitError as exc:  # the report still stands; the action says its impact is unknown
            out[rule] = {"error": str(exc).split("\n")[0][:200]}
            continue
        verdicts = table["verdict"] if len(table) else pd.Series(dtype=str)
        out[rule] = {
            "users": users_breaking(table),
            "apps": int(table.loc[verdicts == BREAKS, "app"].nunique()) if len(table) else 0,
            "unknown": int((verdicts == UNKNOWN).sum()),
        }
    return out


def hide_user_names(data: ReportData) -> ReportData:
    """The data with every user name, id and e-mail replaced by ``(hidden)`` (``--no-user-names``), in the
    tables and the findings alike: :func:`toolkit.analysis.privacy.without_user_names`."""
    tables, findings = without_user_names(data.tables, data.findings)
    return replace(data, tables=tables, findings=findings)


def inventory_secrets(inventory: Inventory) -> list[str]:
    """Every secret value the inventory's documents hold (to scrub from what is written)."""
    from ..model.catalog import secret_values

    return [s for app in inventory.apps for s in secret_values(app)]


def save(data: ReportData, folder: str | Path) -> Path:
    """Write the data to ``folder`` (pickled tables + ``report.json``) for :func:`load`."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    frames = dict(data.tables)
    if data.findings is not None:
        frames["__findings__"] = data.findings
    frames.update({f"__history_{k}__": v for k, v in data.history.items()})
    (path / "tables.pkl").write_bytes(pickle.dumps(frames))
    meta = {"org_name": data.org_name, "origin": data.origin, "generated": data.generated.isoformat(),
            "partial_reason": data.partial_reason, "impacts": data.impacts, "impact_calls": data.impact_calls}
    (path / META).write_text(json.dumps(meta), encoding="utf-8")
    return path


def load(folder: str | Path) -> ReportData:
    """The data :func:`save` wrote (only ever our own files: a pickle is trusted input)."""
    path = Path(folder)
    frames: dict[str, pd.DataFrame] = pickle.loads((path / "tables.pkl").read_bytes())  # noqa: S301
    meta = json.loads((path / META).read_text(encoding="utf-8"))
    findings = frames.pop("__findings__", None)
    kept = {k[len("__history_") : -2]: frames.pop(k) for k in list(frames) if k.startswith("__history_")}
    return ReportData(tables=frames, findings=findings, org_name=meta["org_name"], origin=meta["origin"],
                      generated=datetime.fromisoformat(meta["generated"]),
                      partial_reason=meta["partial_reason"], history=kept, impacts=meta.get("impacts", {}),
                      impact_calls=int(meta.get("impact_calls", 0)))
