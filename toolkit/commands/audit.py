"""``python -m toolkit audit``: audit a folder or an org into CSV files and ``summary.html``.

Sources are the shared ones of :mod:`toolkit.commands.options`; :func:`toolkit.api.audit_folder` and
:func:`toolkit.api.audit_org` build the tables, :func:`report` writes any tables dict.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..analysis.counts import counts_line
from ..analysis.summary import write_outputs
from ..api import audit_folder
from ..model.bundle import Inventory
from ..model.catalog import secret_values
from .options import add_source_arguments, is_org_source, open_org, require_source, stderr_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--out", default="out/audit", help="output folder (default: out/audit)")
    parser.add_argument("--window-days", type=int, default=180, help="usage window in days (default: 180)")


def run(args: argparse.Namespace) -> int:
    require_source(args)
    if is_org_source(args):
        return audit_org_command(args)
    inventory, tables = audit_folder(args.project)
    report(inventory, tables, args.out, title=f"Connected app audit of {Path(args.project).name}")
    return 0


def audit_org_command(args: argparse.Namespace) -> int:
    """``audit --org``/``--instance-url``: connect, audit through the live-org path, write, print calls."""
    from ..api import audit_org

    with open_org(args) as org:
        inventory, tables = audit_org(org, window_days=args.window_days, progress=stderr_progress())
    report_org(inventory, tables, args.out)
    return 0


def report_org(inventory: Inventory, tables: dict[str, pd.DataFrame], out: str | Path) -> Path:
    """:func:`report` for an org, plus the API calls used and a loud PARTIAL warning when incomplete."""
    title = f"Connected app audit of {inventory.origin}"
    if inventory.partial:
        title += " (PARTIAL: see Problems)"
    summary = report(inventory, tables, out, title=title)
    api = tables["api_calls"].set_index("kind")["calls"]
    used = f"{api.get('TOTAL')} API calls counted by Salesforce (lower bound {api.get('lower_bound')}"
    extra = sum(int(n) for k, n in api.items() if str(k).startswith("extra:readMetadata split"))
    used += f"; {extra} of them to isolate unloadable apps)" if extra else ")"
    if "daily_api_usage_before" in api and "daily_api_usage_after" in api:
        used += f"; org daily API usage {api['daily_api_usage_before']} -> {api['daily_api_usage_after']}"
    print(used)
    if inventory.partial:
        print(f"warning: PARTIAL audit, tables are incomplete: {inventory.partial_reason}")
    return summary


def report(inventory: Inventory, tables: dict[str, pd.DataFrame], out: str | Path, *, title: str) -> Path:
    """Write the outputs and print a short summary; returns the path of ``summary.html``."""
    secrets = [s for app in inventory.apps for s in secret_values(app)]
    paths = write_outputs(tables, out, title=title, origin=inventory.origin, secrets=secrets)
    print(f"audited {counts_line(tables['apps'])}; from {inventory.origin}")
    if inventory.problems:
        what = "problem(s) reading the org" if inventory.extra.get("api") else "file(s) could not be loaded"
        print(f"warning: {len(inventory.problems)} {what}: see problems.csv")
    summary = paths[-1]
    print(f"wrote {len(paths) - 1} CSV files and {summary}")
    return summary
