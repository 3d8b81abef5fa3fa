"""History (issue 17): every audit, check and report run keeps one small gzip JSON snapshot per org (no
secret, no token), in --history DIR, else $TOOLKIT_HISTORY, else out/history; the last 100 are kept."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.analysis import history
from toolkit.commands import main
from toolkit.demoorg import DemoOrg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json.gz"))


def _read(path: Path) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


def test_default_folder_is_the_environment_then_out_history(
    history_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert history.history_dir() == history_dir  # the autouse fixture: never the checkout's out/history
    assert history.history_dir("elsewhere") == Path("elsewhere")
    monkeypatch.delenv("TOOLKIT_HISTORY")
    assert history.history_dir() == Path("out/history") and history.KEEP == 100


def test_audit_of_a_folder_keeps_one_entry(
    tmp_path: Path, history_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "--project", str(EXAMPLES), "--out", str(tmp_path / "out")]) == 0
    assert f"history: {history_dir}" in capsys.readouterr().err
    (path,) = _entries(history_dir)
    entry = _read(path)
    assert entry["command"] == "audit" and entry["org"] == {"folder": str(EXAMPLES.resolve())}
    created = datetime.fromisoformat(entry["created"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5) and entry["created"].endswith("Z")
    names = {r["name"] for r in entry["apps"]["rows"]}
    assert "Legacy_Partner_Portal" in names and entry["findings"] and entry["counts"]["high"] >= 1
    assert path.parent.name.startswith("examples-") and path.name.endswith("-audit.json.gz")
    # read back: the same settings diff compares
    back = history.load_entry(path)
    assert toolkit.diff_audits(back.tables, toolkit.audit(str(EXAMPLES))).empty


def test_history_option_and_no_history(tmp_path: Path, history_dir: Path) -> None:
    assert main(["check", "--project", str(EXAMPLES), "--history", str(tmp_path / "h"), "--out",
                 str(tmp_path / "f.txt")]) == 0
    assert len(_entries(tmp_path / "h")) == 1 and not _entries(history_dir)
    assert main(["check", "--project", str(EXAMPLES), "--no-history", "--fail-on", "high", "--out",
                 str(tmp_path / "f.txt")]) == 1  # the gate's exit code, no entry
    assert not _entries(history_dir)
    assert main(["report", "--project", str(EXAMPLES), "--out", str(tmp_path / "r")]) == 0
    assert [p.name.split("-")[-1] for p in _entries(history_dir)] == ["report.json.gz"]


def test_a_history_path_that_is_a_file_is_refused_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")
    code = main(["audit", "--project", str(EXAMPLES), "--out", str(tmp_path / "o"), "--history",
                 str(tmp_path / "file")])
    assert code == 2 and "--history" in capsys.readouterr().err and not (tmp_path / "o").exists()
    code = main(["audit", "--project", str(EXAMPLES), "--out", str(tmp_path / "o"), "--history", ""])
    assert code == 2 and "--history cannot be ''" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_only_the_newest_are_kept_per_org(tmp_path: Path) -> None:
    tables = {"apps": pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "pkce": True}])}
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(5):
        for org in ("00D5g0000000001AAA", "00D5g0000000002EAA"):
            history.record(tables, tmp_path, command="check", identity={"org_id": org}, keep=3,
                           now=start + timedelta(hours=n))
    for org in ("00D5g0000000001AAA", "00D5g0000000002EAA"):
        kept = history.entries(tmp_path / org)
        assert [history.load_entry(p).created.hour for p in kept] == [2, 3, 4]


def test_an_org_run_keeps_its_identity_and_no_secret(
    demo_org: DemoOrg, tmp_path: Path, history_dir: Path
) -> None:
    url, token = demo_org.instance_url, demo_org.access_token
    code = main(["check", "--instance-url", url, "--access-token", token, "--ca-file", demo_org.ca_file,
                 "--out", str(tmp_path / "f.txt")])
    assert code == 0
    (path,) = _entries(history_dir)
    entry, raw = _read(path), gzip.decompress(path.read_bytes()).decode()
    org_id = demo_org.truth()["org_id"]
    assert entry["org"] == {"org_id": org_id, "instance_url": url} and path.parent.name == org_id
    assert len(entry["apps"]["rows"]) >= 60 and entry["usage"]["rows"]
    assert path.stat().st_size < 40_000  # small: about 10 kB for 70 apps
    for secret in (token, token.split("!")[1], demo_org.client_secret, demo_org.refresh_token,
                   demo_org.client_id, demo_org.password):
        assert secret not in raw
    # no user of the token and login tables; a user name only as the setting "run as" (client credentials)
    run_as = [r["run_as"] for r in entry["apps"]["rows"] if "run_as" in r]
    assert raw.count("@demo-org.example.com") == len(run_as) and set(run_as) == {demo_org.username}
    assert "BEGIN CERTIFICATE" not in raw and "consumer_secret" not in raw


def test_a_history_that_cannot_be_written_is_a_partial_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "h"
    folder.mkdir()
    (folder / history.org_key({"folder": str(EXAMPLES.resolve())})).write_text("in the way")
    code = main(["audit", "--project", str(EXAMPLES), "--out", str(tmp_path / "o"), "--history", str(folder)])
    err = capsys.readouterr().err
    assert code == 3 and "warning: history" in err and "cannot keep this run" in err
    assert (tmp_path / "o" / "apps.csv").is_file()  # the outputs are written


def test_the_report_gets_new_fixed_and_the_trend(tmp_path: Path, history_dir: Path) -> None:
    from toolkit.reports.data import ReportData, load, save

    project = Path(shutil.copytree(EXAMPLES, tmp_path / "project"))
    identity = {"folder": str(project.resolve())}
    empty = history.since_last(history_dir, identity, toolkit.findings(toolkit.audit(str(project))))
    assert empty["new"].empty and empty["fixed"].empty and empty["trend"].empty  # nothing kept yet
    assert main(["check", "--project", str(project), "--out", str(tmp_path / "f.txt")]) == 0
    app = project / "force-app/main/default/connectedApps/Legacy_Partner_Portal.connectedApp-meta.xml"
    app.write_text(app.read_text().replace("<ipRelaxation>BYPASS<", "<ipRelaxation>ENFORCE<"))
    tables = toolkit.audit(str(project))
    view = history.since_last(history_dir, identity, toolkit.findings(tables))
    assert view["new"].empty
    fixed = view["fixed"][["app", "rule", "severity"]].values.tolist()
    assert fixed == [["Legacy_Partner_Portal", "NET-01", "high"]]
    trend = view["trend"]
    assert list(trend.columns) == list(history.TREND_COLUMNS) and len(trend) == 1
    assert trend.at[0, "command"] == "check" and trend.at[0, "failed"] == sum(trend.iloc[0, 3:-1])
    from toolkit.rules.score import org_score

    before = toolkit.audit(str(EXAMPLES))  # what the check saw: the project before the edit
    expected = org_score(toolkit.findings(before), [str(n) for n in before["apps"]["name"]]).score
    assert trend.at[0, "score"] == expected  # the run's org score, kept with it for the trend
    # what the report command hands the notebook keeps it
    back = load(save(ReportData(tables=tables, history=view), tmp_path / "data"))
    assert set(back.history) == {"new", "fixed", "trend"} and "__history_new__" not in back.tables
    pd.testing.assert_frame_equal(back.history["fixed"], view["fixed"])


def test_partial_runs_are_passed_over_by_since_and_the_trend(tmp_path: Path) -> None:
    apps = pd.DataFrame([{"name": "A", "kind": "ConnectedApp"}, {"name": "B", "kind": "ConnectedApp"}])
    partial = apps.iloc[:1].copy()
    partial.attrs.update(partial=True, partial_reason="readMetadata failed")
    identity = {"org_id": "00D5g0000000002EAA"}
    start = datetime(2026, 11, 1, tzinfo=UTC)
    history.record({"apps": apps}, tmp_path, command="check", identity=identity, findings=None, now=start)
    late = history.record({"apps": partial}, tmp_path, command="check", identity=identity,
                          now=start + timedelta(hours=1))
    assert late.name.endswith("-check-partial.json.gz") and history.load_entry(late).meta["partial"] is True
    assert history.load_entry(late).meta["partial_reason"] == "readMetadata failed"
    last = history.find_entry(tmp_path, identity, "last")
    assert last.created == start and len(last.tables["apps"]) == 2  # not the partial run: B was never removed
    (tmp_path / history.org_key(identity) / history.entries(tmp_path / "00D5g0000000002EAA")[0].name).unlink()
    with pytest.raises(toolkit.errors.SourceError, match="only partial runs of"):
        history.find_entry(tmp_path, identity, "last")


def test_a_report_after_an_edit_lists_it_as_fixed_since_the_last_run(
    fresh_demo_org: DemoOrg, tmp_path: Path, history_dir: Path
) -> None:
    """Issue 17, done when: report a running demo org, make one edit, report again: the second page's
    "Since the last run" names exactly that app and rule as fixed, and nothing new."""
    d = fresh_demo_org
    org = ["--instance-url", d.instance_url, "--access-token", d.access_token, "--ca-file", d.ca_file]
    assert main(["report", *org, "--out", str(tmp_path / "r1")]) in (0, 3)
    first = (tmp_path / "r1" / "report.html").read_text(encoding="utf-8")
    assert "Since the last run" in first and "nothing to compare with yet" in first
    with toolkit.connect(instance_url=d.instance_url, access_token=d.access_token, ca_file=d.ca_file) as live:
        found = toolkit.findings(toolkit.audit(live))
        failing = (found["rule"] == "NET-01") & (found["status"] == "fail")
        bypass = found[failing & (found["kind"] == "ConnectedApp")]
        app = sorted(bypass["app"])[0]
        plan = toolkit.plan_edits(live, ["ip_relaxation=ENFORCE"], apps=[app])
        assert plan.ok, plan.problems
        plan.apply()
    assert main(["report", *org, "--out", str(tmp_path / "r2")]) in (0, 3)
    page = (tmp_path / "r2" / "report.html").read_text(encoding="utf-8")
    since = page[page.index("Since the last run"):page.index("Riskiest apps")]
    assert "New since the last run:</b> none" in since
    assert "Fixed since the last run: 1</b>" in since and app in since and "NET-01" in since
    assert "Org score over the last 1 scored runs" in since  # the trend of the score, from the kept runs
