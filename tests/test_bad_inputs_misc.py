"""Issue 13 item 14 (non-edit part): unforeseen inputs end in one `error:` line, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "sfdx"
DEEP_JSON = '{"a":' * 100_000 + "1" + "}" * 100_000


def run(*argv: str | bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("TOOLKIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


def one_error(proc: subprocess.CompletedProcess[bytes], text: str) -> None:
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "internal error" not in err and "Traceback" not in err, err
    assert text in err, err


@pytest.mark.parametrize(
    ("name", "body", "text"),
    [
        ("a.plist", b'<plist version="1.0"><dict><key>a</key><string>x</dict></plist>', "property list"),
        ("b.plist", b'<plist version="1.0"><dict><key>a</key><date>x</date></dict></plist>', "property list"),
        (
            "c.plist",
            b"<plist><dict><key>a</key>" + b"<array>" * 100_000 + b"</array>" * 100_000 + b"</dict></plist>",
            "nested too deeply",
        ),
        ("bootconfig.json", DEEP_JSON.encode(), "nested too deeply"),
    ],
)
def test_bootconfig_bad_files(tmp_path: Path, name: str, body: bytes, text: str) -> None:
    (tmp_path / name).write_bytes(body)
    one_error(run("bootconfig", name, "--project", str(FIXTURES), cwd=tmp_path), text)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("x = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("[expect]\npin_length = " + "9" * 5000, "digits"),
    ],
)
def test_baseline_deep_or_huge(tmp_path: Path, body: str, text: str) -> None:
    (tmp_path / "b.toml").write_text(body)
    one_error(run("check", "--project", str(FIXTURES), "--baseline", "b.toml", cwd=tmp_path), text)


def test_undecodable_argv(tmp_path: Path) -> None:
    one_error(run("audit", "--project", b"\xff", cwd=tmp_path), "not valid UTF-8")


@pytest.mark.parametrize(
    "manifest",
    [
        "[]",
        '{"tables": []}',
        '{"tables": {"apps": "apps.csv"}}',
        '{"tables": {"apps": {"file": 5}}}',
        '{"tables": {"apps": {"file": "/etc/passwd"}}}',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_snapshot_manifest_wrong_shape(tmp_path: Path, manifest: str) -> None:
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "manifest.json").write_text(manifest)
    (snap / "apps.csv").write_text("name,kind\n")
    one_error(run("diff", "snap", str(FIXTURES), cwd=tmp_path), "manifest")


HUGE = "9" * 5000
NUMBER_CASES = [
    # (id, argv, the option named, what is allowed)
    ("timeout-nan", ["audit", "--org", "demo", "--timeout", "nan"], "--timeout", "greater than 0"),
    ("timeout-inf", ["audit", "--org", "demo", "--timeout", "inf"], "--timeout", "greater than 0"),
    ("timeout-neg", ["audit", "--org", "demo", "--timeout", "-1"], "--timeout", "greater than 0"),
    ("timeout-zero", ["audit", "--org", "demo", "--timeout", "0"], "--timeout", "greater than 0"),
    ("timeout-huge", ["audit", "--org", "demo", "--timeout", HUGE], "--timeout", "greater than 0"),
    ("timeout-text", ["audit", "--org", "demo", "--timeout", "x" * 5000], "--timeout", "greater than 0"),
    ("window-days-huge", ["audit", "--org", "demo", "--window-days", HUGE], "--window-days", "1 to 3650"),
    (
        "window-days-neg-huge",
        ["audit", "--org", "demo", "--window-days", "-" + HUGE],
        "--window-days",
        "1 to",
    ),
    ("window-days-text", ["audit", "--org", "demo", "--window-days", "x" * 5000], "--window-days", "1 to"),
    ("report-window-days", ["report", "--org", "demo", "--window-days", HUGE], "--window-days", "1 to 3650"),
    ("concurrency-huge", ["audit", "--org", "demo", "--concurrency", HUGE], "--concurrency", "1 to 64"),
    ("edit-concurrency", ["edit", "--org", "demo", "--concurrency", HUGE], "--concurrency", "1 to 64"),
    ("demo-org-port", ["demo-org", "--port", HUGE], "--port", "0 to 65535"),
    ("demo-org-apps", ["demo-org", "--apps", HUGE], "--apps", "0 to 100000"),
    ("demo-org-ecas", ["demo-org", "--ecas", HUGE], "--ecas", "0 to 20000"),
    ("demo-org-seed", ["demo-org", "--seed", HUGE], "--seed", "whole number"),
    ("demo-org-latency", ["demo-org", "--latency-ms", "nan"], "--latency-ms", "0 to 60000"),
    ("demo-org-latency-huge", ["demo-org", "--latency-ms", HUGE], "--latency-ms", "0 to 60000"),
    ("demo-apps", ["demo", "--apps", HUGE], "--apps", "0 to 100000"),
    (
        "tokens-unused-days",
        ["edit", "--org", "demo", "--revoke-tokens", "A", "--tokens", "unused-days=" + HUGE],
        "--tokens",
        "1..365000",
    ),
    (
        "tokens-text",
        ["edit", "--org", "demo", "--revoke-tokens", "A", "--tokens", "x" * 5000],
        "--tokens",
        "unused-days=N",
    ),
]


@pytest.mark.parametrize(
    ("argv", "option", "allowed"), [c[1:] for c in NUMBER_CASES], ids=[c[0] for c in NUMBER_CASES]
)
def test_number_options_say_the_option_a_short_value_and_what_is_allowed(
    tmp_path: Path, argv: list[str], option: str, allowed: str
) -> None:
    """nan/inf/0/-1 timeouts and 5,000-digit integers: one short line naming the option (exit 2)."""
    proc = run(*argv, cwd=tmp_path)
    one_error(proc, option)
    err = proc.stderr.decode()
    assert allowed in err, err
    assert len(err) < 400, err  # the 5,000 characters are never echoed
    assert "connect()" not in err, err


def test_diff_of_a_snapshot_whose_apps_table_lacks_the_name_column(tmp_path: Path) -> None:
    assert (
        run("diff", str(FIXTURES), "--project", str(FIXTURES), "--snapshot", "snap", cwd=tmp_path).returncode
        == 0
    )
    apps = tmp_path / "snap" / "apps.csv"
    header, *rows = apps.read_text().splitlines()
    columns = header.split(",")
    assert columns[0] == "name"
    apps.write_text("\n".join([",".join(columns[1:]), *(r.split(",", 1)[1] for r in rows)]) + "\n")
    one_error(run("diff", "snap", str(FIXTURES), cwd=tmp_path), "'name'")
    one_error(run("diff", str(FIXTURES), "snap", cwd=tmp_path), "apps.csv")


@pytest.mark.parametrize(
    ("table", "body", "text"),
    [
        ("apps", "kind\nConnectedApp\n", "'name'"),
        ("apps", "name\nA\n", "'kind'"),
        ("ip_ranges", "start,end\n1.1.1.1,1.1.1.2\n", "'app'"),
    ],
)
def test_diff_of_a_snapshot_table_lacking_columns(tmp_path: Path, table: str, body: str, text: str) -> None:
    assert (
        run("diff", str(FIXTURES), "--project", str(FIXTURES), "--snapshot", "snap", cwd=tmp_path).returncode
        == 0
    )
    (tmp_path / "snap" / f"{table}.csv").write_text(body)
    one_error(run("diff", "snap", str(FIXTURES), cwd=tmp_path), text)


@pytest.mark.parametrize("mode", ["--rollback", "--resume"])
def test_rollback_or_resume_with_the_ephemeral_demo_org_says_why_and_what_to_do(
    tmp_path: Path, mode: str
) -> None:
    """`--org demo` starts a new demo org per command: an earlier command's journal cannot be undone there."""
    proc = run("edit", "--org", "demo", mode, "out/edits/edit-x", cwd=tmp_path)
    one_error(proc, "--org demo starts a new demo org for each command")
    err = proc.stderr.decode()
    assert "demo-org" in err and "--instance-url" in err, err


def test_readme_shows_the_demo_org_recipe_for_apply_then_rollback() -> None:
    readme = (REPO / "README.md").read_text()
    recipe = readme[readme.index("An org apply then rollback") :][:1500]
    for step in ("toolkit demo-org", "--instance-url", "--apply", "--rollback"):
        assert step in recipe, step
    assert "--org demo --rollback" not in (REPO / "toolkit" / "commands" / "edit.py").read_text()
