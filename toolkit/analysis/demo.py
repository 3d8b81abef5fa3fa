"""``python -m toolkit demo`` (what ``make demo`` runs): audit the bundled example, say where the output is.

For now it audits the synthetic SFDX project in ``examples/``; the org path will point it at the demo org.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import SourceError
from .cli import audit_folder, report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")


def run(args: argparse.Namespace) -> int:
    if not EXAMPLES.is_dir():
        raise SourceError(f"{EXAMPLES}: the example project is missing (run from a checkout of the repo)")
    inventory, tables = audit_folder(EXAMPLES)
    summary = report(inventory, tables, args.out, title="Connected app audit: example project")
    print(f"open {summary.resolve()} in a browser")
    return 0
