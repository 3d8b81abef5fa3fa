"""``python -m toolkit audit``: audit a folder (``--project DIR``) into CSV files and ``summary.html``.

The run is split so that other sources plug in: :func:`audit_folder` builds the tables of a folder and
:func:`~toolkit.analysis.summary.write_outputs` writes any tables dict; an org code path
(``--org``/``--instance-url``) adds its own ``add_arguments`` options and an ``audit_org`` next to
:func:`audit_folder`, and reuses :func:`report`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..errors import SourceError
from ..model.bundle import Inventory
from ..model.catalog import secret_values
from ..sources.sfdx import load_folder
from .summary import write_outputs
from .tables import build_tables


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="SFDX project, mdapi folder, or any folder of metadata files")
    parser.add_argument("--out", default="out/audit", help="output folder (default: out/audit)")


def run(args: argparse.Namespace) -> int:
    if not args.project:
        raise SourceError(
            "nothing to audit: give --project DIR (an SFDX project or a folder of metadata files)"
        )
    inventory, tables = audit_folder(args.project)
    report(inventory, tables, args.out, title=f"Connected app audit of {Path(args.project).name}")
    return 0


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
