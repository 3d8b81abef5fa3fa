"""``python -m toolkit bootconfig PATH...``: Mobile SDK boot configuration files against the apps.

PATHs are bootconfig files (``bootconfig.plist``, ``bootconfig.xml``, ``bootconfig.json``, ``servers.xml``)
or folders searched for them. The apps come from the usual source options.

Exit codes, as ``check --fail-on``: 1 when any check fails (``--no-fail`` lists them and exits 0), 0 when none
does, 2 on bad input, 3 when the org audit was partial.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import SourceError
from ..rules.bootconfig import cross_check
from ..sources.bootconfig import find_bootconfigs, parse_bootconfig
from . import EXIT_GATE_FAILED, EXIT_OK, EXIT_PARTIAL
from .options import add_source_arguments, read_source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="bootconfig files or folders holding them")
    add_source_arguments(parser)
    parser.add_argument("--format", choices=("text", "csv"), default="text", help="output format")
    parser.add_argument(
        "--no-fail",
        action="store_true",
        help="exit 0 even when checks fail (default: exit 1, like check --fail-on)",
    )
    # the earlier opt-in to exit 1; it is the default now (kept so existing scripts keep working)
    parser.add_argument("--strict", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    files = find_bootconfigs(args.paths)
    if not files:
        raise SourceError(f"no bootconfig file found under {', '.join(args.paths)}")
    configs = [parse_bootconfig(f) for f in files]  # parse first: bad files fail before any org call
    inventory, _tables = read_source(args)
    result = cross_check(configs, inventory)
    if args.format == "csv":
        sys.stdout.write(result.to_csv(index=False))
    else:
        for r in result.to_dict("records"):
            print(
                f"{r['status']:5} {r['file']}: {r['check']}"
                + (f" [{r['app']}]" if r["app"] else "")
                + f": {r['detail']}"
            )
        print(f"{len(configs)} files, {int((result['status'] == 'fail').sum())} failed checks")
    if (result["status"] == "fail").any() and not args.no_fail:
        return EXIT_GATE_FAILED
    if inventory.partial:
        print(f"warning: PARTIAL audit: {inventory.partial_reason}", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK
