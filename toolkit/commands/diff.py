"""``python -m toolkit diff [OLD] [NEW]``: what changed between two audits, per app and setting.

Each side is a snapshot folder (``manifest.json`` + one CSV per table, written by ``--snapshot`` or
:func:`toolkit.save_snapshot`), an audit output folder (``audit``/``report --out``), a history entry
(``.json.gz``, see :mod:`toolkit.analysis.history`) or an SFDX/mdapi folder. Without NEW, the source options
(``--org``, ``--project``...) give the new side; ``--snapshot DIR`` also saves it, for the next run.
``--since last|DATE`` takes the earlier side from the history of the new side's org instead of OLD.

Settings drift comes first; usage figures that move on their own (token and login counts, last-use dates) are
reported apart, after it (CSV: rows whose ``change`` is ``usage``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis import history
from ..analysis.audit import audit_folder
from ..analysis.drift import (
    diff_audits,
    is_audit_output,
    is_snapshot,
    load_audit_output,
    load_snapshot,
    save_snapshot,
    usage_changes,
)
from ..errors import SourceError
from . import EXIT_OK
from .options import (
    add_source_arguments,
    describe_source,
    is_org_source,
    read_source,
    source_identity,
    write_text_atomically,
)

SIDES = (
    "a snapshot folder, an audit output folder (audit/report --out), a history entry (.json.gz) "
    "or an SFDX folder"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", nargs="?", help=f"the earlier audit: {SIDES}")
    parser.add_argument("new", nargs="?", help="the later audit, the same kinds; default: the source options")
    add_source_arguments(parser, project_help="the new side as an SFDX project (instead of NEW)")
    parser.add_argument(
        "--since", metavar="last|DATE",
        help="the earlier side from the history of the new side's org: 'last' (the newest entry) or a date "
        "(2026-11-01: the newest entry of that UTC day or before) instead of OLD",
    )
    parser.add_argument(
        "--history", metavar="DIR", default=None,
        help=f"the history folder --since reads (default: ${history.ENV}, else {history.DEFAULT_DIR})",
    )
    parser.add_argument("--snapshot", help="also save the new side's audit as a snapshot folder")
    parser.add_argument("--format", choices=("text", "csv"), default="text", help="output format")
    parser.add_argument("--out", default=None, help="write the differences to this file (default: stdout)")


def _side(path: str) -> tuple[dict[str, pd.DataFrame], str, dict[str, str]]:
    """(tables, how it is named, its identity for the history) of one side given as a path."""
    p = Path(path)
    if p.is_file() and p.name.endswith(history.SUFFIX):
        entry = history.load_entry(p)
        return entry.tables, _entry_name(entry), dict(entry.meta.get("org") or {})
    if not p.is_dir():
        raise SourceError(f"{path}: no such folder or history entry; allowed: {SIDES}")
    if is_snapshot(p):
        tables, manifest = load_snapshot(p)
        name = f"snapshot {path} ({manifest.get('source', '')}, {manifest.get('created', '')})"
        return tables, name, _origin_identity(str(tables["apps"].attrs.get("origin", "")))
    if is_audit_output(p):
        tables, facts = load_audit_output(p)
        identity = _origin_identity(facts["source"])
        where = f"{identity['instance_url']}, " if identity else ""
        return tables, f"audit output {path} ({where}{facts['created']})", identity
    return audit_folder(path)[1], f"folder {path}", {"folder": str(p.resolve())}


def _origin_identity(origin: str) -> dict[str, str]:
    text = origin.removeprefix("org ")
    return {"instance_url": text} if text.startswith("https://") else {}


def _entry_name(entry: history.Entry) -> str:
    return f"history {entry.meta.get('created', '')} ({entry.meta.get('command', '')}, {entry.path})"


def run(args: argparse.Namespace) -> int:
    given = [x for x in (args.old, args.new) if x]
    if args.since:
        if len(given) > 1:
            raise SourceError("with --since, give at most one folder (the new side), not OLD and NEW")
        new_path = given[0] if given else None
    else:
        if not given:
            raise SourceError(f"nothing to compare with: give OLD ({SIDES}) or --since last")
        new_path = given[1] if len(given) > 1 else None
    if new_path:
        if is_org_source(args) or args.project:
            raise SourceError("give NEW or a source option (--org / --project), not both")
        new, new_name, identity = _side(new_path)
    else:
        new = read_source(args)[1]
        new_name = describe_source(args)
        identity = source_identity(args)
    if args.since:
        if not identity:
            raise SourceError(
                f"--since: {new_path} does not say which org it is; give the source options "
                "(--org / --instance-url / --project) for the new side"
            )
        entry = history.find_entry(history.history_dir(args.history), identity, args.since)
        old, old_name = entry.tables, _entry_name(entry)
    else:
        old, old_name = _side(given[0])[:2]
    if args.snapshot:
        save_snapshot(new, args.snapshot, source=new_name)
    diff = diff_audits(old, new)
    usage = usage_changes(old, new)
    text = _csv(diff, usage, new) if args.format == "csv" else _text(diff, usage, old_name, new_name)
    if args.out:
        write_text_atomically(args.out, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _text(diff: pd.DataFrame, usage: pd.DataFrame, old_name: str, new_name: str) -> str:
    lines = [f"--- {old_name}", f"+++ {new_name}"]
    for r in diff.to_dict("records"):
        if r["change"] == "changed":
            lines.append(f"~ {r['app']}: {r['setting']}: {_shown(r['old'])} -> {_shown(r['new'])}")
        else:
            lines.append(f"{'+' if r['change'] == 'added' else '-'} {r['app']} ({r['kind']})")
    counts = diff["change"].value_counts()
    n_apps = diff.loc[diff["change"] == "changed", "app"].nunique()
    lines.append(
        f"{int(counts.get('changed', 0))} settings changed in {n_apps} "
        f"apps, {int(counts.get('added', 0))} apps added, {int(counts.get('removed', 0))} removed"
    )
    if len(usage):
        lines.append(
            f"usage (moves on its own, not settings drift): {len(usage)} figures changed in "
            f"{usage['app'].nunique()} apps"
        )
        for r in usage.to_dict("records"):
            lines.append(f"  {r['app']}: {r['label']}: {_shown(r['old'])} -> {_shown(r['new'])}")
    return "\n".join(lines) + "\n"


def _csv(diff: pd.DataFrame, usage: pd.DataFrame, new: dict[str, pd.DataFrame]) -> str:
    apps = new.get("apps", pd.DataFrame(columns=["name", "kind"]))
    kinds = dict(zip(apps["name"].astype(str), apps["kind"], strict=True))
    rows = pd.DataFrame(
        {
            "app": usage["app"],
            "kind": [kinds.get(a) for a in usage["app"]],
            "change": "usage",
            "field": usage["figure"],
            "setting": usage["label"],
            "old": usage["old"],
            "new": usage["new"],
        },
        columns=list(diff.columns),
    )
    both = pd.concat([diff, rows], ignore_index=True) if len(rows) else diff
    return str(both.to_csv(index=False))


def _shown(value: Any) -> str:
    from ..analysis.markers import NOT_SET

    return NOT_SET if value is None else str(value)
