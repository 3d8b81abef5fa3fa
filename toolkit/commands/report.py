"""``python -m toolkit report``: audit a source and write ``report.html`` with the full data beside it.

The report notebook runs with papermill and is exported without code (see :mod:`toolkit.reports`); the
sources are the shared ones of :mod:`toolkit.commands.options`. Exit code 3 when the audit was partial
(the report says so at the top).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..analysis.counts import counts_line
from ..reports import ReportFiles, collect, write_report
from . import EXIT_OK, EXIT_PARTIAL
from .options import add_source_arguments, is_org_source, open_org, require_source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--out", default="out/report", help="output folder (default: out/report)")
    parser.add_argument("--window-days", type=int, default=180, help="usage window in days (default: 180)")


def run(args: argparse.Namespace) -> int:
    require_source(args)
    if is_org_source(args):
        with open_org(args) as org:
            data, secrets = collect(org, window_days=args.window_days)
    else:
        data, secrets = collect(Path(args.project))
    files = write_report(data, args.out, secrets=secrets)
    return print_written(files, data.partial_reason, data.tables)


def print_written(
    files: ReportFiles, partial_reason: str = "", tables: dict[str, pd.DataFrame] | None = None
) -> int:
    """Say what was written, the API calls an org audit used, that it is partial; the exit code for it."""
    if tables and "apps" in tables:
        print(f"audited {counts_line(tables['apps'])}")
    calls = (tables or {}).get("api_calls")
    if calls is not None and len(calls):
        used = calls.set_index("kind")["calls"]
        print(f"{used.get('TOTAL')} API calls (lower bound {used.get('lower_bound')})")
    print(f"wrote {len(files.data) - 1} CSV files and {files.data[-1].name} (all the data) beside the report")
    if partial_reason:
        print(f"warning: PARTIAL audit, the report says so: {partial_reason}")
    print(f"report: {files.html.resolve()}")
    return EXIT_PARTIAL if partial_reason else EXIT_OK
