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
