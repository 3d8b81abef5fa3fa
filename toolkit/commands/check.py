"""``python -m toolkit check``: the CI gate. Findings of a folder or an org against a baseline.

Exit codes: 1 when failed findings at ``--fail-on`` severity or worse remain (ignored and "cannot check" ones
do not count), 0 otherwise, 2 on bad input (no output written), 3 when the org audit was partial (reason on
stderr). ``--format sarif`` points at the file and line of each element for folder sources.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ..rules.engine import findings, rule_table
from ..rules.model import SEVERITIES
from ..rules.report import FORMATS, GROUP_BY, failing, locations, render, summary_line
from . import EXIT_GATE_FAILED, EXIT_OK, EXIT_PARTIAL
from .options import (
    add_history_arguments,
    add_notify_argument,
    add_source_arguments,
    is_org_source,
    keep_history,
    read_source,
    write_text_atomically,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, fleet=True)
    parser.add_argument(
        "--baseline",
        default=None,
        help="a TOML baseline file, or 'Salesforce recommended' (default) / 'Mobile SDK ready'",
    )
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default=None,
        metavar="SEVERITY",
        help=f"exit 1 when failed findings at this severity or worse remain ({', '.join(SEVERITIES)})",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--group-by",
        choices=GROUP_BY,
        default="finding",
        help="text format: one line per finding (default), per rule (apps counted and named) or per app",
    )
    parser.add_argument("--out", default=None, help="write the report to this file (default: stdout)")
    parser.add_argument(
        "--snapshot",
        help="also save the audit as a snapshot folder (for `diff` later; several orgs: one subfolder each)",
    )
    parser.add_argument("--list-rules", action="store_true", help="print the rules and exit")
    add_history_arguments(parser)
    add_notify_argument(parser)


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        table = rule_table()[["id", "severity", "applies_to", "title", "remedy", "baselines"]]
        print(table.to_string(index=False))
        return EXIT_OK
    from ..rules.baseline import resolve_baseline

    baseline = resolve_baseline(args.baseline)  # bad baselines fail before any org call
    from .orgs import is_fleet

    if is_org_source(args) and is_fleet(args):
        return check_fleet(args, baseline)
    inventory, tables = read_source(args)
    if args.snapshot:
        from ..analysis.drift import save_snapshot
        from .options import describe_source

        save_snapshot(tables, args.snapshot, source=describe_source(args))
    result = findings(tables, baseline)
    where = None if is_org_source(args) else locations(inventory, result, args.project)
    root = "" if is_org_source(args) else args.project
    _emit(args, render(result, args.format, locations=where, root=root, group_by=args.group_by), result)
    code = EXIT_OK
    if _gate_failed(args, result):
        code = EXIT_GATE_FAILED
    elif inventory.partial:
        print(f"warning: PARTIAL audit: {inventory.partial_reason}", file=sys.stderr)
        code = EXIT_PARTIAL
    from ..reports.data import inventory_secrets

    secrets = inventory_secrets(inventory)
    report = str(Path(args.out).resolve()) if args.out else ""
    return keep_history(
        args, tables, command="check", findings=result, secrets=secrets, code=code, report=report
    )


def check_fleet(args: argparse.Namespace, baseline: object) -> int:
    """``check`` of several orgs: each org's findings against the baseline, in one output with an ``org``
    column (text and SARIF name an app ``org/app``); the gate counts every org's. Exit 1 when the gate
    fails, else 3 when an org failed or was partial, else 0. One history snapshot per org read."""
    from ..analysis.fleet import combine_findings, labelled, partial_reason
    from .audit import org_reader
    from .options import require_source
    from .orgs import keep_fleet_history, read_fleet

    require_source(args)
    _targets, runs, _bound = read_fleet(args, org_reader())
    for run in runs:
        if run.ok:
            run.findings = findings(run.tables, baseline)
            if args.snapshot:
                from ..analysis.drift import save_snapshot

                save_snapshot(run.tables, Path(args.snapshot) / run.label, source=f"org {run.label}")
    result = combine_findings(runs)
    assert result is not None
    shown = labelled(result) if args.format in ("text", "sarif") else result
    _emit(args, render(shown, args.format, group_by=args.group_by), result)
    code = EXIT_OK
    reason = partial_reason(runs)
    if _gate_failed(args, result, f" in {len(runs)} orgs"):
        code = EXIT_GATE_FAILED
    elif reason:
        print(f"warning: PARTIAL check: {reason}", file=sys.stderr)
        code = EXIT_PARTIAL
    report = str(Path(args.out).resolve()) if args.out else ""
    return keep_fleet_history(args, runs, command="check", code=code, report=report)


def _emit(args: argparse.Namespace, text: str, result: pd.DataFrame) -> None:
    """The rendered findings to ``--out`` (atomically) or stdout; the summary line on stderr unless it is
    already in the text on stdout."""
    if args.out:
        write_text_atomically(args.out, text)
    else:
        sys.stdout.write(text)
    if args.format != "text" or args.out:
        print(summary_line(result), file=sys.stderr)


def _gate_failed(args: argparse.Namespace, result: pd.DataFrame, where: str = "") -> bool:
    """``--fail-on``: failed findings at that severity or worse remain (said on stderr)."""
    if not args.fail_on or not len(failing(result, args.fail_on)):
        return False
    print(f"check failed: {len(failing(result, args.fail_on))} findings at {args.fail_on} or worse{where}",
          file=sys.stderr)
    return True
