"""Command line: ``python -m toolkit <command>``.

Each command lives with the layer it drives; this module only wires them up and turns a
:class:`~toolkit.errors.ToolkitError` into a one-line message and exit code 2 (never a traceback).

Commands:
- ``audit``     audit a folder (``--project``) or an org (``--org``/``--instance-url``) into CSVs + HTML
- ``demo-org``  run the embedded demo org (a local HTTPS Salesforce emulator)
- ``demo``      what ``make demo`` runs: start the demo org, audit it, print where the output is
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import ToolkitError
from .redact import redact

# command name -> module that provides ``add_arguments(parser)`` and ``run(args) -> int``
COMMANDS = {
    "audit": ("toolkit.analysis.cli", "Audit connected apps into tables, CSV files and an HTML summary."),
    "demo-org": ("toolkit.demoorg.cli", "Serve the embedded demo org (a local HTTPS Salesforce emulator)."),
    "demo": ("toolkit.analysis.demo", "Start the demo org, audit it, and print where the output is."),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = importlib.import_module(args._module).run(args)
        return code
    except ToolkitError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
