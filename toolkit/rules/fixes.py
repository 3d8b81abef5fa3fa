"""From findings to edits: the API-fixable findings as a bulk-edit change table, the rest as a to-do list.

:func:`findings_to_changes` gives the ``DataFrame(app, field, value, op)`` that
``toolkit.plan_edits(source, changes)`` takes (the edits layer plans, previews, applies, verifies and rolls
back); :func:`toolkit.fix_plan` does both in one call. :func:`manual_fixes` lists what no API can fix, with
its Setup path.

>>> import pandas as pd
>>> f = pd.DataFrame([{"app": "A", "kind": "ConnectedApp", "rule": "NET-01", "status": "fail",
...                    "fixable_by_api": True}])
>>> findings_to_changes(f).values.tolist()
[['A', 'ip_relaxation', 'ENFORCE', '=', 'NET-01']]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .definitions import RULES_BY_ID
from .model import FAIL

CHANGE_COLUMNS = ("app", "field", "value", "op", "rule")
MANUAL_COLUMNS = ("app", "kind", "rule", "severity", "title", "remedy", "setup_path")


def findings_to_changes(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per (app, field, op, value) that fixes a failed, API-fixable finding.

    Worst findings first (the table is sorted by severity): when two rules want different values for one
    field of one app, the first (most severe) wins. Values are text, as the edits layer parses them.
    """
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    todo = findings[(findings["status"] == FAIL) & findings["fixable_by_api"].astype(bool)]
    for app, rule_id in zip(todo["app"], todo["rule"], strict=True):
        for field_id, value, op in RULES_BY_ID[rule_id].remedy.changes:
            key = (str(app), field_id, op if op != "=" else f"=:{field_id}")
            if op != "=":
                key = (str(app), field_id, f"{op}{value}")
            if key in seen:
                continue
            seen.add(key)
            rows.append({"app": app, "field": field_id, "value": _text(value), "op": op, "rule": rule_id})
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))


def manual_fixes(findings: pd.DataFrame) -> pd.DataFrame:
    """Failed findings no API can fix (or that need a person's choice), with the remedy and Setup path."""
    todo = findings[(findings["status"] == FAIL) & ~findings["fixable_by_api"].astype(bool)]
    return todo[list(MANUAL_COLUMNS)].reset_index(drop=True)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
