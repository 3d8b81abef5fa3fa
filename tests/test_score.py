"""The score, the grade and the one count per rule (toolkit.rules.score), on the examples' real findings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from toolkit import audit, findings
from toolkit.rules import score

REPO = Path(__file__).resolve().parent.parent


def test_scores_follow_the_documented_formula() -> None:
    tables = audit(REPO / "examples")
    f = findings(tables)
    names = list(tables["apps"]["name"])
    apps = score.app_scores(f, names)
    assert set(apps["app"]) == set(names) and score.ORG_APP not in set(apps["app"])
    fails = f[f["status"] == "fail"]
    for row in apps.to_dict("records"):
        mine = fails[fails["app"] == row["app"]]
        points = sum(score.WEIGHTS[s] for s in mine["severity"])
        assert row["points"] == points and row["score"] == max(0, 100 - points)
        assert row["findings"] == len(mine)
        assert row["grade"] == score.grade(row["score"])
    assert list(apps["points"]) == sorted(apps["points"], reverse=True)  # riskiest first
    org = score.org_score(f, names)
    org_points = sum(score.WEIGHTS[s] for s in fails.loc[fails["app"] == score.ORG_APP, "severity"])
    assert org.score == max(0, round(apps["score"].mean() - org_points))
    assert org.grade == score.grade(org.score)


def test_ignored_and_unchecked_findings_do_not_count() -> None:
    f = pd.DataFrame({"app": ["A", "A", "A"], "rule": ["NET-01", "OAU-07", "TOK-01"],
                      "severity": ["high", "critical", "high"],
                      "status": ["fail", "ignored", "cannot check"]})
    assert score.app_scores(f, ["A"])["score"].tolist() == [85]
    assert score.affected_apps(f) == {"NET-01": ["A"]} and score.apps_affected(f, "OAU-07") == 0
    assert score.org_score(None, []).grade == "A"


def test_top_actions_rank_by_weight_times_apps_with_the_bulk_edit_count() -> None:
    f = findings(audit(REPO / "examples"))
    actions = score.top_actions(f, n=50)
    assert list(actions["priority"]) == sorted(actions["priority"], reverse=True)
    fails = f[f["status"] == "fail"]
    for row in actions.to_dict("records"):
        rows = fails[fails["rule"] == row["rule"]]
        assert row["apps"] == rows["app"].nunique() == len(row["names"])
        assert row["priority"] == score.weight(row["severity"]) * row["apps"]
        fixable = rows[rows["fixable_by_api"]]
        assert row["change_apps"] == fixable["app"].nunique() and (row["changes"] >= row["change_apps"])
    assert len(score.top_actions(f)) == min(5, len(actions))
