"""Bulk edits: plan -> preview -> apply -> verify -> rollback, with a journal, for orgs and SFDX folders.

A layer above sources and analysis (nothing below imports it)::

    plan = toolkit.plan_edits(org, ["ip_relaxation=ENFORCE"], where="platform == 'ios'")
    plan.preview(); plan.problems; print(plan.diff())
    result = plan.apply()            # result.journal: the folder to roll back from
    toolkit.rollback_edits(result.journal, org)

See docs/edits.md.
"""

from __future__ import annotations

from .apply import EditResult, apply_plan, resume_edits, rollback_edits
from .changes import ChangeSpec, SpecError, parse_spec
from .journal import Journal, JournalError
from .plan import EditPlan, PlanHasProblems, plan_edits
from .select import SelectionError

__all__ = [
    "ChangeSpec",
    "EditPlan",
    "EditResult",
    "Journal",
    "JournalError",
    "PlanHasProblems",
    "SelectionError",
    "SpecError",
    "apply_plan",
    "parse_spec",
    "plan_edits",
    "resume_edits",
    "rollback_edits",
]
