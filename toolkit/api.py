"""The public face of the audit and the fix plans: ``toolkit.audit`` (from :mod:`toolkit.analysis.audit`),
:func:`fix_plan` and :func:`load_plan`. Nothing inside the package imports this module."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .analysis.audit import audit, audit_folder, audit_org

__all__ = ["audit", "audit_folder", "audit_org", "fix_plan", "load_plan"]

if TYPE_CHECKING:
    from .edits import EditPlan


def fix_plan(findings: pd.DataFrame, source: Any) -> EditPlan:
    """The bulk-edit plan that fixes every failed, API-fixable finding of ``source`` (an org or a folder).

    :func:`toolkit.rules.fixes.findings_to_changes` gives the changes; ``toolkit.plan_edits`` (the edits
    layer) plans them: preview with ``plan.preview()``, then ``plan.apply()``. What no API can fix is listed
    by :func:`toolkit.rules.fixes.manual_fixes` with its Setup path.
    """
    from .edits import plan_edits
    from .errors import ToolkitError
    from .rules.fixes import findings_to_changes

    changes = findings_to_changes(findings)
    if changes.empty:
        raise ToolkitError(
            "no failed finding can be fixed through an API; see toolkit.manual_fixes(findings)"
        )
    return plan_edits(source, changes[["app", "field", "value", "op"]])


def load_plan(path: str | Path, source: Any = None, *, force_stale: bool = False) -> EditPlan:
    """A saved plan (``plan.save(path)`` / ``edit --plan-out``) re-read from ``source`` (the same org or
    folder), ready to ``apply()``; see :func:`toolkit.edits.saved.load_plan`."""
    from .edits.saved import load_plan as _load

    return _load(path, source, force_stale=force_stale)
