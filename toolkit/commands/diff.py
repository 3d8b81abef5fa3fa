"""``python -m toolkit diff OLD [NEW]``: what changed between two audits, per app and setting.

OLD and NEW are snapshot folders (``manifest.json`` + one CSV per table, written by ``--snapshot`` or
:func:`toolkit.save_snapshot`) or SFDX/mdapi folders. Without NEW, the source options (``--org``,
``--project``...) give the new side; ``--snapshot DIR`` also saves it, for the next run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..analysis.audit import audit_folder
from ..analysis.drift import diff_audits, is_snapshot, load_snapshot, save_snapshot
from ..errors import SourceError
from . import EXIT_OK
from .options import add_source_arguments, describe_source, is_org_source, read_source, write_text_atomically


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", help="snapshot folder (or SFDX/mdapi folder) of the earlier audit")
    parser.add_argument("new", nargs="?", help="snapshot or SFDX folder; default: the source options")
    add_source_arguments(parser, project_help="the new side as an SFDX project (instead of NEW)")
    parser.add_argument("--snapshot", help="also save the new side's audit as a snapshot folder")
    parser.add_argument("--format", choices=("text", "csv"), default="text", help="output format")
    parser.add_argument("--out", default=None, help="write the differences to this file (default: stdout)")


def _side(path: str) -> tuple[dict[str, Any], str]:
    if not Path(path).is_dir():
        raise SourceError(f"{path}: no such folder; give a snapshot folder or an SFDX/mdapi folder")
    if is_snapshot(path):
        tables, manifest = load_snapshot(path)
        return tables, f"snapshot {path} ({manifest.get('source', '')}, {manifest.get('created', '')})"
    return audit_folder(path)[1], f"folder {path}"


def run(args: argparse.Namespace) -> int:
    old, old_name = _side(args.old)
    if args.new:
        if is_org_source(args) or args.project:
            raise SourceError("give NEW or a source option (--org / --project), not both")
        new, new_name = _side(args.new)
    else:
        new = read_source(args)[1]
        new_name = describe_source(args)
    if args.snapshot:
        save_snapshot(new, args.snapshot, source=new_name)
    diff = diff_audits(old, new)
    if args.format == "csv":
        text = diff.to_csv(index=False)
    else:
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
        text = "\n".join(lines) + "\n"
    if args.out:
        write_text_atomically(args.out, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _shown(value: Any) -> str:
    from ..analysis.markers import NOT_SET

    return NOT_SET if value is None else str(value)
