"""``python -m toolkit demo`` (what ``make demo`` runs): start the demo org, audit it, say where output is.

``--examples`` audits the synthetic SFDX project in ``examples/`` instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..api import audit_folder
from ..errors import SourceError
from .audit import report, report_org

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    parser.add_argument("--apps", type=int, default=60, help="connected apps in the demo org (default: 60)")
    parser.add_argument("--ecas", type=int, default=10, help="external client apps (default: 10)")
    parser.add_argument("--examples", action="store_true", help="audit the example folder instead of the org")


def run(args: argparse.Namespace) -> int:
    if not getattr(args, "examples", False):
        return _run_demo_org(args)
    if not EXAMPLES.is_dir():
        raise SourceError(f"{EXAMPLES}: the example project is missing (run from a checkout of the repo)")
    inventory, tables = audit_folder(EXAMPLES)
    summary = report(inventory, tables, args.out, title="Connected app audit: example project")
    print(f"open {summary.resolve()} in a browser")
    return 0


def _run_demo_org(args: argparse.Namespace) -> int:
    """Start the embedded demo org, audit it through the live-org code path, write the outputs."""
    from ..api import audit_org
    from ..sources.connect import connect

    options = {"apps": args.apps, "ecas": args.ecas, "seed": 1}
    with connect("demo", demo_options=options) as org:
        print(
            f"demo org running at {org.instance_url}, seeded with {args.apps} connected apps "
            f"(some installed from packages) and {args.ecas} external client apps"
        )
        inventory, tables = audit_org(org)
    summary, code = report_org(inventory, tables, args.out)
    print(f"open {summary.resolve()} in a browser")
    return code
