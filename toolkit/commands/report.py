"""``python -m toolkit report``: audit a source and write ``report.html`` with the full data beside it.

The report notebook runs with papermill and is exported without code (see :mod:`toolkit.reports`); the
sources are the shared ones of :mod:`toolkit.commands.options`. Exit code 3 when the audit was partial
(the report says so at the top).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..analysis.counts import counts_line
from ..model.bundle import Inventory
from ..reports import ReportData, collect, inventory_secrets, write_report
from . import EXIT_OK, EXIT_PARTIAL, options
from .audit import api_calls_line, check_readable
from .options import add_source_arguments, is_org_source, open_org, require_source, stderr_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, fleet=True)
    parser.add_argument("--out", default="out/report", help="output folder (default: out/report)")
    options.add_window_days(parser)
    options.add_history_arguments(parser)
    options.add_notify_argument(parser)


def run(args: argparse.Namespace) -> int:
    require_source(args)
    from .orgs import is_fleet

    if is_org_source(args) and is_fleet(args):
        args.window_days = options.window_days(args)
        return report_fleet(args)
    if is_org_source(args):
        args.window_days = options.window_days(args)
        with open_org(args) as org:
            data, inventory = collect(org, window_days=args.window_days, progress=stderr_progress())
    else:
        data, inventory = collect(Path(args.project))
    code = write_and_say(data, inventory, args.out)
    return options.keep_history(
        args, data.tables, command="report", findings=data.findings, secrets=inventory_secrets(inventory),
        code=code, report=str((Path(args.out) / "report.html").resolve()),
    )


def write_and_say(data: ReportData, inventory: Inventory, out: str | Path) -> int:
    """Write the report and say what was audited, what it cost (orgs), where it is; the exit code."""
    check_readable(inventory)
    files = write_report(data, out, secrets=inventory_secrets(inventory))
    print(f"audited {counts_line(data.tables['apps'])}; from {inventory.origin}")
    if "api_calls" in data.tables:
        print(api_calls_line(data.tables))
    print(f"wrote {len(files.data) - 1} CSV files and {files.data[-1].name} (all the data) beside the report")
    code = EXIT_OK
    if data.partial_reason:
        print(f"warning: PARTIAL audit, the report says so: {data.partial_reason}", file=sys.stderr)
        code = EXIT_PARTIAL
    print(f"report: {files.html.resolve()}")
    return code


def report_fleet(args: argparse.Namespace) -> int:
    """``report`` of several orgs: one report, the orgs' tables stacked with an ``org`` column, an "Orgs"
    section (one row per org, the same app across orgs) and ``fleet.csv``/``same_app.csv`` beside it.
    Exit 3 when an org failed or was partial; one history snapshot per org read."""
    from .orgs import fleet_data, fleet_secrets, keep_fleet_history, read_fleet

    def read(org: Any) -> tuple[Inventory, dict[str, Any], dict[str, Any]]:
        data, inventory = collect(org, window_days=args.window_days)
        check_readable(inventory)
        return inventory, data.tables, {"data": data}

    _targets, runs, _bound = read_fleet(args, read)
    for run in runs:
        if run.ok:
            run.findings = run.extra["data"].findings
    data = fleet_data(runs)
    reason = data.partial_reason
    files = write_report(data, args.out, secrets=fleet_secrets(runs))
    for run in runs:
        print(f"org {run.label}: {run.status}" + (f", {counts_line(run.tables['apps'])}" if run.ok else ""))
    print(f"wrote {len(files.data) - 1} CSV files and {files.data[-1].name} (all the data) beside the report")
    code = EXIT_OK
    if reason:
        print(f"warning: PARTIAL report, it says so: {reason}", file=sys.stderr)
        code = EXIT_PARTIAL
    print(f"report: {files.html.resolve()}")
    return keep_fleet_history(
        args, runs, command="report", code=code, report=str((Path(args.out) / "report.html").resolve())
    )
