"""One score, one grade and one count per rule, computed from the findings (the report's summary reads them).

Every number the report shows about a rule comes from :func:`affected_apps` (the summary card, the findings
table, the top actions), so they cannot disagree. The score is documented in docs/findings.md ("Score and
grade"):

- each failed finding (``status == "fail"``; ignored and "cannot check" rows do not count) weighs
  :data:`WEIGHTS` by its severity: critical 40, high 15, medium 5, low 1, info 0;
- an app scores ``max(0, 100 - the weights of its failed findings)``; an app without findings scores 100;
- the org scores the mean of its apps' scores minus the weights of the org-wide findings (app ``(org)``),
  never below 0, rounded to a whole number;
- the grade is the band of the score (:data:`GRADES`, the bands of Salesforce Health Check): A 90+, B 80-89,
  C 70-79, D 55-69, F below 55.

Top actions rank rules by ``weight × apps affected`` (:func:`top_actions`), each with what a bulk edit can
fix now (:func:`toolkit.rules.fixes.findings_to_changes`).

>>> import pandas as pd
>>> f = pd.DataFrame({"app": ["A", "A", "B", "(org)"], "rule": ["NET-01", "OAU-07", "NET-01", "ORG-01"],
...                   "severity": ["high", "critical", "high", "medium"], "status": "fail"})
>>> affected_apps(f)["NET-01"]
['A', 'B']
>>> app_scores(f, ["A", "B", "C"])[["app", "score", "grade"]].values.tolist()
[['A', 45, 'F'], ['B', 85, 'B'], ['C', 100, 'A']]
>>> org_score(f, ["A", "B", "C"])
Score(score=72, grade='C', points=75)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .definitions import RULES_BY_ID
from .fixes import findings_to_changes
from .model import FAIL, ORG_APP, SEVERITIES

WEIGHTS = {"critical": 40, "high": 15, "medium": 5, "low": 1, "info": 0}
GRADES = ((90, "A"), (80, "B"), (70, "C"), (55, "D"), (0, "F"))
GRADE_WORDS = {"A": "excellent", "B": "very good", "C": "good", "D": "poor", "F": "very poor"}
SCORE_COLUMNS = ("app", "score", "grade", "points", "findings", "worst", *SEVERITIES)
ACTION_COLUMNS = ("rule", "title", "severity", "apps", "priority", "remedy", "changes", "change_apps",
                  "names")


@dataclass(frozen=True)
class Score:
    """A score (0-100), its grade and the weight of the failed findings behind it."""

    score: int
    grade: str
    points: int


def weight(severity: str) -> int:
    """The weight of one failed finding of ``severity`` (:data:`WEIGHTS`; an unknown severity weighs 0).

    >>> weight("high"), weight("HIGH"), weight("odd")
    (15, 15, 0)
    """
    return WEIGHTS.get(str(severity).lower(), 0)


def grade(score: float) -> str:
    """The grade of a score: A 90+, B 80-89, C 70-79, D 55-69, F below 55.

    >>> [grade(s) for s in (100, 90, 89, 70, 55, 54, 0)]
    ['A', 'A', 'B', 'C', 'D', 'F', 'F']
    """
    return next(g for floor, g in GRADES if score >= floor)


def failed(findings: pd.DataFrame | None) -> pd.DataFrame:
    """The failed findings (``status == "fail"``); a table without ``status`` is taken as all failed."""
    if findings is None:
        return pd.DataFrame(columns=["app", "rule", "severity", "status"])
    if "status" not in findings:
        return findings.assign(status=FAIL)
    return findings[findings["status"] == FAIL]


def affected_apps(findings: pd.DataFrame | None) -> dict[str, list[str]]:
    """Per rule, the distinct apps (sorted by name) with a failed finding of it: the one count of a rule that
    the report's card, findings table and top actions all show. Org-wide findings count as app ``(org)``."""
    fails = failed(findings)
    groups = fails.groupby("rule", sort=False)
    return {str(rule): sorted({str(a) for a in group["app"]}) for rule, group in groups}


def apps_affected(findings: pd.DataFrame | None, rule: str) -> int:
    """How many apps ``rule`` affects (:func:`affected_apps`; 0 when none)."""
    return len(affected_apps(findings).get(rule, []))


def app_scores(findings: pd.DataFrame | None, apps: Iterable[str] = ()) -> pd.DataFrame:
    """One row per app (``apps`` plus any app with findings, never ``(org)``): its score, grade, points,
    number of failed findings, worst severity and count per severity; riskiest first (most points, then
    name)."""
    fails = failed(findings)
    fails = fails[fails["app"].astype(str) != ORG_APP]
    names: dict[str, None] = dict.fromkeys([str(a) for a in apps] + [str(a) for a in fails["app"]])
    rows = []
    by_app: dict[str, list[str]] = {}
    for app, sev in zip(fails["app"], fails["severity"], strict=True):  # plain lists: fast for 5,000 apps
        by_app.setdefault(str(app), []).append(str(sev).lower())
    for name in names:
        sevs = by_app.get(name, [])
        points = sum(weight(s) for s in sevs)
        score = max(0, 100 - points)
        worst = next((s for s in SEVERITIES if s in sevs), "")
        row: dict[str, object] = {"app": name, "score": score, "grade": grade(score), "points": points,
                                  "findings": len(sevs), "worst": worst}
        row.update((s, sevs.count(s)) for s in SEVERITIES)
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    return out.sort_values(["points", "app"], ascending=[False, True], ignore_index=True)


def org_score(findings: pd.DataFrame | None, apps: Iterable[str] = ()) -> Score:
    """The org's score: the mean app score minus the weights of the org-wide findings (see the module doc)."""
    scores = app_scores(findings, apps)
    fails = failed(findings)
    org_points = sum(weight(s) for s in fails.loc[fails["app"].astype(str) == ORG_APP, "severity"])
    mean = float(scores["score"].mean()) if len(scores) else 100.0
    score = max(0, round(mean - org_points))
    return Score(score=score, grade=grade(score), points=int(scores["points"].sum()) + org_points)


def bulk_changes(findings: pd.DataFrame | None) -> pd.DataFrame:
    """The bulk-edit changes that fix the failed, API-fixable findings (:func:`findings_to_changes`); rules
    this toolkit does not define (a hand-made table) have no remedy to apply and are left out."""
    fails = failed(findings)
    if "fixable_by_api" not in fails:
        return findings_to_changes(fails[:0].assign(fixable_by_api=False))
    fixable = fails[fails["fixable_by_api"].astype(bool) & fails["rule"].isin(list(RULES_BY_ID))]
    return findings_to_changes(fixable)


def top_actions(findings: pd.DataFrame | None, n: int = 5) -> pd.DataFrame:
    """The ``n`` rules to fix first: ranked by ``weight × apps affected`` (then severity, then rule id), with
    the remedy and what a bulk edit can fix now (``changes`` rows of :func:`findings_to_changes` in
    ``change_apps`` apps)."""
    fails = failed(findings)
    affected = affected_apps(fails)
    rank: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
    rows = []
    for rule, group in fails.groupby("rule", sort=False):
        first = group.iloc[0]
        sev = str(first["severity"]).lower()
        names = affected[str(rule)]
        changes = bulk_changes(group)
        rows.append({
            "rule": str(rule), "title": str(first.get("title", "") or ""), "severity": sev,
            "apps": len(names), "priority": weight(sev) * len(names),
            "remedy": str(first.get("remedy", "") or ""),
            "changes": len(changes), "change_apps": int(changes["app"].nunique()), "names": names,
            "_rank": rank.get(sev, 99),
        })
    out = pd.DataFrame(rows, columns=[*ACTION_COLUMNS, "_rank"])
    out = out.sort_values(["priority", "_rank", "rule"], ascending=[False, True, True], ignore_index=True)
    return out.drop(columns="_rank").head(n)
