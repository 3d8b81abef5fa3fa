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
from ..reports import ReportData, collect, hide_user_names, inventory_secrets, pdf, write_report
from . import EXIT_OK, EXIT_PARTIAL, options
from .audit import api_calls_line, check_readable
from .options import add_source_arguments, is_org_source, open_org, require_source, stderr_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, fleet=True)
    parser.add_argument("--out", default="out/report", help="output folder (default: out/report)")
    options.add_window_days(parser)
    options.add_history_arguments(parser)
    options.add_notify_argument(parser)
    options.add_no_user_names(parser)
    parser.add_argument("--pdf", action="store_true",
                        help="also write report.pdf, printed by a headless Chromium (Debian's chromium; "
                        "TOOLKIT_CHROMIUM names another); without one: exit 2, nothing audited or written")
    parser.add_argument("--paper", default="a4", help="paper of report.pdf: a4 (default) or letter")
    parser.add_argument("--no-impact", action="store_true",
                        help="leave out who each top action's bulk edit would break (an org: those dry-run "
                        "plans cost about as many API calls again as the audit)")


def run(args: argparse.Namespace) -> int:
    require_source(args)
    size = pdf.paper(args.paper)
    chromium = pdf.require_chromium() if args.pdf else ""  # before anything is read: exit 2 without it
    from .orgs import is_fleet

    if is_org_source(args) and is_fleet(args):
        args.window_days = options.window_days(args)
        return report_fleet(args, chromium=chromium, paper=size)
    if is_org_source(args):
        args.window_days = options.window_days(args)
        with open_org(args) as org:
            data, inventory = collect(org, window_days=args.window_days, progress=stderr_progress(),
                                      impacts=not args.no_impact)
    else:
        data, inventory = collect(Path(args.project))
    if data.findings is not None:  # "new / fixed since the last run" and the trend, for the report
        from ..analysis.history import history_dir, since_last

        data.history = since_last(history_dir(args.history), options.source_identity(args), data.findings)
    kept = data  # the history keeps the run as read (user names too: a Run As change is real drift)
    if args.no_user_names:
        data = hide_user_names(data)
    code = write_and_say(data, inventory, args.out, chromium=chromium, paper=size)
    return options.keep_history(
        args, kept.tables, command="report", findings=kept.findings, secrets=inventory_secrets(inventory),
        code=code, report=str((Path(args.out) / "report.html").resolve()),
    )


def write_and_say(data: ReportData, inventory: Inventory, out: str | Path, *, chromium: str = "",
                  paper: str = "A4") -> int:
    """Write the report (and its PDF with ``chromium``) and say what was audited, what it cost (orgs),
    where it is; the exit code."""
    check_readable(inventory)
    files = write_report(data, out, secrets=inventory_secrets(inventory), chromium=chromium, paper=paper)
    print(f"audited {counts_line(data.tables['apps'])}; from {inventory.origin}")
    if "api_calls" in data.tables:
        print(api_calls_line(data.tables))
    if data.impacts:
        print(f"impact of the top actions' bulk edits (dry-run plans, nothing written): {len(data.impacts)} "
              f"actions, {data.impact_calls} more API calls")
    print(f"wrote {len(files.data) - 1} CSV files and {files.data[-1].name} (all the data) beside the report")
    code = EXIT_OK
    if data.partial_reason:
        print(f"warning: PARTIAL audit, the report says so: {data.partial_reason}", file=sys.stderr)
        code = EXIT_PARTIAL
    print(f"report: {files.html.resolve()}")
    if files.pdf is not None:
        print(f"pdf ({paper}): {files.pdf.resolve()}")
    return code


def report_fleet(args: argparse.Namespace, *, chromium: str = "", paper: str = "A4") -> int:
    """``report`` of several orgs: one report, the orgs' tables stacked with an ``org`` column, an "Orgs"
    section (one row per org, the same app across orgs) and ``fleet.csv``/``same_app.csv`` beside it.
    Exit 3 when an org failed or was partial; one history snapshot per org read."""
    from .orgs import fleet_data, fleet_secrets, keep_fleet_history, read_fleet

    def read(org: Any) -> tuple[Inventory, dict[str, Any], dict[str, Any]]:
        # a fleet report stacks the orgs: per-org impacts of the top actions are not shown, so not planned
        data, inventory = collect(org, window_days=args.window_days, impacts=False)
        check_readable(inventory)
        return inventory, data.tables, {"data": data}

    _targets, runs, _bound = read_fleet(args, read)
    for run in runs:
        if run.ok:
            run.findings = run.extra["data"].findings
    data = fleet_data(runs)
    reason = data.partial_reason
    if args.no_user_names:
        data = hide_user_names(data)
    files = write_report(data, args.out, secrets=fleet_secrets(runs), chromium=chromium, paper=paper)
    for run in runs:
        print(f"org {run.label}: {run.status}" + (f", {counts_line(run.tables['apps'])}" if run.ok else ""))
    print(f"wrote {len(files.data) - 1} CSV files and {files.data[-1].name} (all the data) beside the report")
    code = EXIT_OK
    if reason:
        print(f"warning: PARTIAL report, it says so: {reason}", file=sys.stderr)
        code = EXIT_PARTIAL
    print(f"report: {files.html.resolve()}")
    if files.pdf is not None:
        print(f"pdf ({paper}): {files.pdf.resolve()}")
    return keep_fleet_history(
        args, runs, command="report", code=code, report=str((Path(args.out) / "report.html").resolve())
    )
