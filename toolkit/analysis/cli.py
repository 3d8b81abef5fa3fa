"""``python -m toolkit audit``: audit a folder (``--project DIR``) into CSV files and ``summary.html``.

The run is split so that other sources plug in: :func:`audit_folder` builds the tables of a folder and
:func:`~toolkit.analysis.summary.write_outputs` writes any tables dict; an org code path
(``--org``/``--instance-url``) adds its own ``add_arguments`` options and an ``audit_org`` next to
:func:`audit_folder`, and reuses :func:`report`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

from ..errors import SourceError
from ..model.bundle import Inventory
from ..model.catalog import secret_values
from ..sources.org import DEFAULT_CONCURRENCY
from ..sources.sfdx import load_folder
from .summary import write_outputs
from .tables import build_tables


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="SFDX project, mdapi folder, or any folder of metadata files")
    parser.add_argument("--out", default="out/audit", help="output folder (default: out/audit)")
    org = parser.add_argument_group("org (instead of --project)")
    org.add_argument(
        "--org", metavar="demo|ALIAS", help="'demo' (embedded demo org) or a Salesforce CLI alias"
    )
    org.add_argument("--instance-url", help="org URL, with --access-token (any org, or a running demo org)")
    org.add_argument(
        "--access-token",
        default=os.environ.get("SF_ACCESS_TOKEN"),
        help="access token (default: $SF_ACCESS_TOKEN; prefer it: argv is visible to others)",
    )
    org.add_argument("--ca-file", help="PEM CA bundle to trust (a demo org's); TLS is always verified")
    org.add_argument(
        "--concurrency", type=int, default=DEFAULT_CONCURRENCY,
        help=f"parallel requests (default: {DEFAULT_CONCURRENCY})",
    )
    org.add_argument("--window-days", type=int, default=180, help="usage window in days (default: 180)")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "org", None) or getattr(args, "instance_url", None):
        return audit_org_command(args)
    if not args.project:
        raise SourceError(
            "nothing to audit: give --project DIR (an SFDX project or a folder of metadata files), "
            "or --org demo|ALIAS, or --instance-url URL --access-token TOKEN"
        )
    inventory, tables = audit_folder(args.project)
    report(inventory, tables, args.out, title=f"Connected app audit of {Path(args.project).name}")
    return 0


def audit_org_command(args: argparse.Namespace) -> int:
    """``audit --org``/``--instance-url``: connect, audit through the live-org path, write, print calls."""
    from ..api import audit_org
    from ..sources.connect import connect

    if args.instance_url and not args.access_token:
        raise SourceError("--instance-url needs --access-token TOKEN (or $SF_ACCESS_TOKEN)")
    target = args.org if args.org and not args.instance_url else None
    with connect(
        target,
        instance_url=args.instance_url,
        access_token=args.access_token,
        ca_file=args.ca_file,
        concurrency=args.concurrency,
    ) as org:
        inventory, tables = audit_org(org, window_days=args.window_days)
    report_org(inventory, tables, args.out)
    return 0


def report_org(inventory: Inventory, tables: dict[str, pd.DataFrame], out: str | Path) -> Path:
    """:func:`report` for an org, plus the API calls used and a loud PARTIAL warning when incomplete."""
    title = f"Connected app audit of {inventory.origin}"
    if inventory.partial:
        title += " (PARTIAL: see Problems)"
    summary = report(inventory, tables, out, title=title)
    api = tables["api_calls"].set_index("kind")["calls"]
    used = f"{api.get('TOTAL')} API calls (lower bound {api.get('lower_bound')})"
    if "daily_api_usage_before" in api and "daily_api_usage_after" in api:
        used += f"; org daily API usage {api['daily_api_usage_before']} -> {api['daily_api_usage_after']}"
    print(used)
    if inventory.partial:
        print(f"warning: PARTIAL audit, tables are incomplete: {inventory.partial_reason}")
    return summary


def audit_folder(path: str | Path) -> tuple[Inventory, dict[str, pd.DataFrame]]:
    """Load a folder and build its tables; :class:`SourceError` when it holds no app at all.

    >>> audit_folder("/nonexistent")
    Traceback (most recent call last):
    toolkit.errors.SourceError: /nonexistent: no such folder; give an SFDX project, an mdapi folder or ...
    """
    inventory = load_folder(path)
    if not inventory.apps:
        if inventory.problems:
            first = inventory.problems[0]
            where = f"{first.source}:{first.line}" if first.line else first.source
            raise SourceError(
                f"{path}: no app could be loaded; {len(inventory.problems)} file(s) with "
                f"problems, first {where}: {first.problem}"
            )
        raise SourceError(
            f"{path}: no connected app or external client app metadata found "
            "(looked for *.connectedApp, *.eca and ECA settings/policies files)"
        )
    return inventory, build_tables(inventory)


def report(inventory: Inventory, tables: dict[str, pd.DataFrame], out: str | Path, *, title: str) -> Path:
    """Write the outputs and print a short summary; returns the path of ``summary.html``."""
    secrets = [s for app in inventory.apps for s in secret_values(app)]
    paths = write_outputs(tables, out, title=title, origin=inventory.origin, secrets=secrets)
    apps = tables["apps"]
    n_ca = int((apps["kind"] == "ConnectedApp").sum())
    print(
        f"audited {len(apps)} apps ({n_ca} connected apps, {len(apps) - n_ca} external client apps) "
        f"from {inventory.origin}"
    )
    if inventory.problems:
        print(f"warning: {len(inventory.problems)} file(s) could not be loaded: see problems.csv")
    summary = paths[-1]
    print(f"wrote {len(paths) - 1} CSV files and {summary}")
    return summary
