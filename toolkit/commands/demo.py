"""``python -m toolkit demo`` (what ``make demo`` runs): start the demo org, audit it, write the report.

Writes ``report.html`` (see :mod:`toolkit.reports`) with every table as CSV and ``audit.xlsx`` beside it, and
prints the report's path. ``--examples`` reports on the synthetic SFDX project in ``examples/`` instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..demoorg import MAX_APPS, MAX_ECAS
from ..errors import SourceError
from ..reports import collect
from .options import whole_number
from .report import write_and_say

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    parser.add_argument(
        "--apps",
        type=whole_number(0, MAX_APPS),
        default=60,
        help="connected apps in the demo org (default: 60)",
    )
    parser.add_argument(
        "--ecas", type=whole_number(0, MAX_ECAS), default=10, help="external client apps (default: 10)"
    )
    parser.add_argument("--examples", action="store_true", help="report on the example folder instead")


def run(args: argparse.Namespace) -> int:
    if not getattr(args, "examples", False):
        return _run_demo_org(args)
    if not EXAMPLES.is_dir():
        raise SourceError(f"{EXAMPLES}: the example project is missing (run from a checkout of the repo)")
    data, inventory = collect(EXAMPLES)
    code = write_and_say(data, inventory, args.out)
    print(next_steps(args.out, "--project examples"))
    return code


def _run_demo_org(args: argparse.Namespace) -> int:
    """Start the embedded demo org, audit it through the live-org code path, write the report."""
    from ..sources.connect import connect

    options = {"apps": args.apps, "ecas": args.ecas, "seed": 1}
    with connect("demo", demo_options=options) as org:
        print(
            f"demo org running at {org.instance_url}, seeded with {args.apps} connected apps "
            f"(some installed from packages) and {args.ecas} external client apps"
        )
        data, inventory = collect(org)
    code = write_and_say(data, inventory, args.out)
    print(next_steps(args.out, "--org demo"))
    return code


def next_steps(out: str, source: str) -> str:
    """What to try after the first report (the last lines ``make demo`` prints)."""
    report = Path(out) / "report.html"
    return "\n".join(
        [
            "",
            "Next:",
            f"  open {report} in a browser (one file, works offline; full data beside it as CSV and Excel)",
            "  make lab    JupyterLab on the notebooks: audit, mobile settings, bulk edits with forms",
            f"  .venv/bin/python -m toolkit check {source} --group-by rule    findings, one line per rule",
            f"  .venv/bin/python -m toolkit edit {source} --where \"ip_relaxation != 'ENFORCE'\" "
            "--set ip_relaxation=ENFORCE",
            "      preview a bulk edit and who it would break (nothing is written without --apply)",
        ]
    )
