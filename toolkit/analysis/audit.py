"""The audit: an org or a metadata folder turned into audit tables (``toolkit.audit`` is :func:`audit`).

Here, below the edits, the reports, the UI and the commands, so they all use it without importing
:mod:`toolkit.api` (the public face) back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import checks
from ..errors import SourceError
from ..model.bundle import Inventory


def audit(source: Any, *, window_days: int = 180, strict: bool = False) -> dict[str, pd.DataFrame]:
    """Audit tables of an org (an :class:`~toolkit.sources.org.Org` from :func:`toolkit.connect`) or a folder.

    For a folder: the tables of :func:`toolkit.analysis.tables.build_tables` (``apps``, ``scopes``...).
    For an org: the same tables (``apps`` with the SOQL facts, ``installed``, usage columns and the
    ``partial`` flag) plus ``usage``, ``tokens``, ``logins``, ``api_calls`` and ``org`` (org-wide
    settings). ``strict=True`` raises
    :class:`~toolkit.errors.OrgError` instead of returning tables flagged ``partial``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sorted(audit(d))[:3]
    ['apps', 'attributes', 'callbacks']
    """
    from ..sources.org import Org
    from .tables import build_tables

    if isinstance(source, str) and not source.strip():
        raise SourceError(
            "audit('') names no folder (it would mean the current folder); "
            "pass a folder path or toolkit.connect()"
        )
    if isinstance(source, Org):
        return audit_org(source, window_days=window_days, strict=strict)[1]
    if isinstance(source, Inventory):
        return build_tables(source)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise SourceError(
                f"{path}: no such folder; pass an SFDX project, an mdapi folder or toolkit.connect()"
            )
        from ..sources.sfdx import load_folder

        return _with_folder_org(build_tables(load_folder(path)), path)
    raise SourceError(
        f"audit() takes an org from toolkit.connect() or a folder path, not {type(source).__name__}"
    )


def audit_org(
    org: Any,
    *,
    window_days: int = 180,
    strict: bool = False,
    progress: Any = None,
    org_wide: bool = True,
    objects: Any = None,
) -> tuple[Inventory, dict[str, pd.DataFrame]]:
    """The inventory of an org and its tables (what :func:`audit` returns for an org, plus the inventory).

    ``progress(line)``, when given, is told each step and retry (the CLI prints them on stderr).
    ``org_wide=False`` leaves out the org-wide reads (settings and their permission holders, ``/limits``):
    the ``org`` table is then empty (choosing apps by their columns needs none of it). ``objects``: only the
    SOQL of these objects (:func:`~toolkit.sources.org_inventory.load_org`; the others' columns are empty).

    Not a doctest (it needs an org): ``inventory, tables = audit_org(toolkit.connect())``.
    """
    from ..sources.org_inventory import load_org
    from . import org_tables
    from .tables import build_tables

    window_days = checks.whole_number(
        "window_days", window_days, checks.MIN_WINDOW_DAYS, checks.MAX_WINDOW_DAYS, why=checks.WINDOW_WHY
    )

    early: dict[str, Any] = {}

    def on_apps(bundles: list[Any]) -> None:
        # built while the usage tables (the largest SOQL) are still arriving
        early["n"], early["tables"] = len(bundles), build_tables(Inventory(apps=bundles))

    reads = {"posture": org_wide, "limits": org_wide, "objects": objects}
    inventory = load_org(
        org, window_days=window_days, strict=strict, on_apps=on_apps, progress=progress, **reads
    )
    tables = early["tables"]
    late = build_tables(Inventory(apps=inventory.apps[early["n"] :], problems=inventory.problems))
    for name, frame in late.items():  # phantom apps (known from usage only) and the final problems
        if name == "problems":
            tables[name] = frame
        elif len(frame):
            tables[name] = pd.concat([tables[name], frame], ignore_index=True) if len(tables[name]) else frame
    tokens, logins = org_tables.tokens_table(inventory), org_tables.logins_table(inventory)
    usage = org_tables.usage_table(inventory, tokens, logins)
    tables["apps"] = org_tables.add_org_columns(tables["apps"], inventory, usage)
    tables["usage"] = usage
    tables["tokens"] = tokens
    tables["logins"] = logins
    tables["api_calls"] = org_tables.api_calls_table(inventory)
    tables["org"] = org_tables.org_table(inventory)
    tables["grants"] = org_tables.name_grants(tables["grants"], inventory)
    _remember(tables, inventory)
    return inventory, tables


def _remember(tables: dict[str, pd.DataFrame], inventory: Inventory) -> None:
    # DataFrame.attrs travel with the tables (to CSV writers and the HTML summary)
    for df in tables.values():
        df.attrs["partial"] = inventory.partial
        df.attrs["partial_reason"] = inventory.partial_reason
        df.attrs["origin"] = inventory.origin


def audit_folder(path: str | Path) -> tuple[Inventory, dict[str, pd.DataFrame]]:
    """Load a folder and build its tables; :class:`SourceError` when it holds no app at all.

    >>> audit_folder("/nonexistent")
    Traceback (most recent call last):
    toolkit.errors.SourceError: /nonexistent: no such folder; give an SFDX project, an mdapi folder or ...
    """
    from ..sources.sfdx import load_folder
    from .tables import build_tables

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
    return inventory, _with_folder_org(build_tables(inventory), Path(path))


def _with_folder_org(tables: dict[str, pd.DataFrame], path: Path) -> dict[str, pd.DataFrame]:
    """Add the ``org`` table when the folder holds Settings files the org-level rules read."""
    from ..sources.org_posture import folder_rows
    from .org_tables import org_table

    rows = folder_rows(path) if path.is_dir() else None
    if rows is not None:
        tables["org"] = org_table(Inventory(extra={"org": rows}))
    return tables
