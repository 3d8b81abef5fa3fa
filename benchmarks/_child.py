"""Run one measured step of a benchmark in a fresh Python process (own imports, own peak memory)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def run_child(script: str, mode: str, info: dict[str, Any], arg: int) -> dict[str, Any]:
    """``python SCRIPT --child MODE --info JSON --arg N``; its last stdout line is the result (JSON)."""
    out = subprocess.run(
        [sys.executable, script, "--child", mode, "--info", json.dumps(info), "--arg", str(arg)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def add_child_arguments(parser: argparse.ArgumentParser) -> None:
    """The hidden options :func:`run_child` passes: ``--child MODE --info JSON --arg N``."""
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--info", help=argparse.SUPPRESS)
    parser.add_argument("--arg", type=int, help=argparse.SUPPRESS)
