"""``python -m toolkit audit``: audit a folder or an org into CSV files and ``summary.html``.

Sources are the shared ones of :mod:`toolkit.commands.options`; :func:`toolkit.analysis.audit.audit_folder`
and :func:`toolkit.analysis.audit.audit_org` build the tables, :func:`report` writes any tables dict.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from .. import checks
from ..analysis.audit import audit_folder
from ..analysis.counts import counts_line
from ..analysis.privacy import without_user_names
from ..analysis.summary import write_outputs
from ..errors import OrgError
from ..model.bundle import Inventory
from ..model.catalog import secret_values
from . import EXIT_OK, EXIT_PARTIAL
from .options import (
    add_history_arguments,
    add_no_user_names,
    add_source_arguments,
    add_window_days,
    is_org_source,
    keep_history,
    open_org,
    require_source,
    stderr_progress,
    window_days,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, fleet=True)
    parser.add_argument(
        "--out", default="out/audit",
        help="output folder, replaced by each run: new, empty or a previous output folder "
        "(default: out/audit)",
    )
    add_window_days(parser)
    add_history_arguments(parser)
    add_no_user_names(parser)


def run(args: argparse.Namespace) -> int:
    require_source(args)
    out = checks.folder_path("--out", args.out)
    if is_org_source(args):
        args.window_days = window_days(args)
        from .orgs import is_fleet

        return audit_fleet_command(args) if is_fleet(args) else audit_org_command(args)
    inventory, tables = audit_folder(args.project)
    report(inventory, tables, out, title=f"Connected app audit of {Path(args.project).name}",
           hide_users=args.no_user_names)
    return _keep(args, inventory, tables, EXIT_OK)


def _keep(args: argparse.Namespace, inventory: Inventory, tables: dict[str, pd.DataFrame], code: int) -> int:
    """Keep the run in the history (findings against the default baseline, for "new since the last run")."""
    from ..reports.data import inventory_secrets
    from ..rules.engine import findings

    secrets = inventory_secrets(inventory)
    return keep_history(args, tables, command="audit", findings=findings(tables), secrets=secrets, code=code)


def audit_org_command(args: argparse.Namespace) -> int:
    """``audit --org``/``--instance-url``: connect, audit through the live-org path, write, print calls.

    Exit 0 when complete, 3 when partial (reason on stderr and in the outputs); nothing readable (a refused
    token, say) is an :class:`~toolkit.errors.OrgError`: exit 2 and no output.
    """
    from ..analysis.audit import audit_org

    try:
        with open_org(args) as org:
            inventory, tables = audit_org(org, window_days=args.window_days, progress=stderr_progress())
    except OrgError as exc:
        if exc.kind in _AUTH_CODES:
            raise _auth_failed(args.instance_url or args.org) from None
        raise
    code = report_org(inventory, tables, args.out, hide_users=args.no_user_names)[1]
    return _keep(args, inventory, tables, code)


def audit_fleet_command(args: argparse.Namespace) -> int:
    """``audit`` of several orgs: read in parallel (one shared ``--concurrency``), one set of outputs with an
    ``org`` column, plus ``fleet.csv`` (one row per org) and ``same_app.csv`` (the settings of one app that
    differ between orgs). Exit 3 when any org failed or was partial (each reason on stderr and in
    ``problems.csv``); exit 2 when no org could be read at all. One history snapshot per org read."""
    from ..rules.engine import findings
    from .orgs import keep_fleet_history, read_fleet

    _targets, runs, _bound = read_fleet(args, org_reader(args.window_days))
    for run in runs:
        if run.ok:
            run.findings = findings(run.tables)
    code = write_fleet(runs, args.out)
    return keep_fleet_history(args, runs, command="audit", code=code)


def fleet_page(data: Any) -> str:
    """``summary.html`` of several orgs: the summary, the Orgs section, the findings (``org/App``), the
    org-wide settings and the problems. Each org's apps, usage and mobile settings are in the CSVs (an apps
    table and a mobile matrix of thousands of apps are neither read nor quick to build)."""
    from ..reports import sections as s
    from ..reports.export import page

    body = [
        s.summary(data) + s.legend(),
        s.section("Orgs", s.fleet(data), s.FLEET_INTRO),
        s.section("Findings", s.findings(data), "One row per rule, most severe first; apps are org/App.")
        if data.findings is not None else "",
        s.section("Org-wide settings", s.org_posture(data), "Each org's settings (an org column)."),
        s.section("Problems", s.problems(data)),
        "<p class='note'>Every org's apps, usage and mobile settings: apps.csv, usage.csv (an org column "
        "first); one org's full page: audit that org alone.</p>",
    ]
    return page("\n".join(b for b in body if b), data.title)


def org_reader(window_days: int = 180) -> Any:
    """How a fleet run reads one opened org: its audit (inventory, tables, {}); nothing readable, or a
    refused token, is an :class:`OrgError` (that org fails, the others go on)."""
    from ..analysis.audit import audit_org

    def read(org: Any) -> tuple[Inventory, dict[str, pd.DataFrame], dict[str, Any]]:
        try:
            inventory, tables = audit_org(org, window_days=window_days)
        except OrgError as exc:
            if exc.kind in _AUTH_CODES:
                raise _auth_failed(str(getattr(org, "instance_url", ""))) from None
            raise
        check_readable(inventory)
        return inventory, tables, {}

    return read


def write_fleet(runs: list[Any], out: str | Path) -> int:
    """Write a fleet's outputs (the orgs' tables stacked, ``fleet.csv``, ``same_app.csv``, ``summary.html``)
    and say what was read; the exit code (2 when no org could be read, 3 when one failed or was partial)."""
    from dataclasses import replace

    from ..analysis.fleet import labelled_tables
    from .orgs import fleet_data, fleet_secrets

    data = fleet_data(runs)
    tables, reason, same_app = data.tables, data.partial_reason, data.tables["same_app"]
    title = f"Connected app audit of {len(runs)} orgs" + (" (PARTIAL: see Problems)" if reason else "")
    paths = write_outputs(
        tables, out, title=title, origin=data.origin, secrets=fleet_secrets(runs), partial_reason=reason,
        page=fleet_page(replace(data, tables=labelled_tables(tables))),
    )
    for run in runs:
        if run.ok:
            read = f"{counts_line(run.tables['apps'])}; {api_calls_line(run.tables)}"
            print(f"org {run.label}: {run.status}, {read}")
        else:
            print(f"org {run.label}: FAILED")
    differing = same_app["app"].nunique() if len(same_app) else 0
    print(f"same app in several orgs: {differing} set differently ({len(same_app)} settings; same_app.csv)")
    print(f"wrote {len(paths) - 1} CSV files and {paths[-1]}")
    if reason:
        print(f"warning: PARTIAL fleet audit: {reason}", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


_AUTH_CODES = frozenset({"INVALID_SESSION_ID", "INVALID_AUTH_HEADER", "INVALID_AUTH"})


def _auth_failed(origin: str) -> OrgError:
    return OrgError(
        "INVALID_SESSION_ID",
        f"authentication failed: {origin} refused the access token (expired, revoked or for another org); "
        "get a fresh one (sf org display, or log in again) and try again",
    )


def check_readable(inventory: Inventory) -> None:
    """:class:`OrgError` when an org audit read nothing at all (no app, and reads failed)."""
    if inventory.apps or not inventory.partial:
        return
    reason = inventory.partial_reason or "every read failed"
    if any(code in reason for code in _AUTH_CODES):
        raise _auth_failed(inventory.origin)
    first = reason.split("; ")[0]
    raise OrgError("NOTHING_READ", f"nothing could be read from {inventory.origin}: {first}")


def report_org(
    inventory: Inventory, tables: dict[str, pd.DataFrame], out: str | Path, *, hide_users: bool = False
) -> tuple[Path, int]:
    """:func:`report` for an org, plus the API calls used; returns (summary path, exit code).

    Partial: a loud warning on stderr, the reason atop ``summary.html`` and in ``problems.csv``, exit 3.
    """
    check_readable(inventory)
    title = f"Connected app audit of {inventory.origin}"
    if inventory.partial:
        title += " (PARTIAL: see Problems)"
    summary = report(inventory, tables, out, title=title, hide_users=hide_users)
    print(api_calls_line(tables))
    if inventory.partial:
        print(f"warning: PARTIAL audit, tables are incomplete: {inventory.partial_reason}", file=sys.stderr)
        return summary, EXIT_PARTIAL
    return summary, EXIT_OK


def api_calls_line(tables: dict[str, pd.DataFrame]) -> str:
    """What an org audit cost: the calls Salesforce counts, the lower bound, the org's daily usage."""
    api = tables["api_calls"].set_index("kind")["calls"]
    used = f"{api.get('TOTAL')} API calls counted by Salesforce (lower bound {api.get('lower_bound')}"
    extra = sum(int(n) for k, n in api.items() if str(k).startswith("extra:readMetadata split"))
    used += f"; {extra} of them to isolate unloadable apps)" if extra else ")"
    if "daily_api_usage_before" in api and "daily_api_usage_after" in api:
        used += f"; org daily API usage {api['daily_api_usage_before']} -> {api['daily_api_usage_after']}"
    return used


def report(
    inventory: Inventory, tables: dict[str, pd.DataFrame], out: str | Path, *, title: str,
    hide_users: bool = False,
) -> Path:
    """Write the outputs and print a short summary; returns the path of ``summary.html``. ``hide_users``
    (``--no-user-names``): user names, ids and e-mails are ``(hidden)`` in every output."""
    secrets = [s for app in inventory.apps for s in secret_values(app)]
    partial = inventory.partial_reason if inventory.partial else ""
    page = summary_page(inventory, tables, partial, hide_users=hide_users)
    if hide_users:
        tables = without_user_names(tables)[0]
    paths = write_outputs(
        tables, out, title=title, origin=inventory.origin, secrets=secrets, partial_reason=partial, page=page,
    )
    print(f"audited {counts_line(tables['apps'])}; from {inventory.origin}")
    if inventory.problems and not inventory.partial:
        what = "problem(s) reading the org" if inventory.extra.get("api") else "file(s) could not be loaded"
        print(f"warning: {len(inventory.problems)} {what}: see problems.csv")
    summary = paths[-1]
    print(f"wrote {len(paths) - 1} CSV files and {summary}")
    return summary


def summary_page(
    inventory: Inventory, tables: dict[str, pd.DataFrame], partial_reason: str, *, hide_users: bool = False
) -> str:
    """``summary.html``: the report's sections (findings, charts, mobile matrix...) without the notebook
    (findings of the real tables; with ``hide_users`` shown without user names)."""
    from urllib.parse import urlsplit

    from ..reports import ReportData, hide_user_names, static_page
    from ..reports.data import findings_of

    host = urlsplit(inventory.origin).hostname
    name = host or Path(inventory.origin).name or inventory.origin
    data = ReportData(
        tables=tables, findings=findings_of(tables), org_name=name, origin=host or inventory.origin,
        partial_reason=partial_reason,
    )
    return static_page(hide_user_names(data) if hide_users else data)
