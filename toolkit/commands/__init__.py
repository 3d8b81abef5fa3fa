"""Command line: ``python -m toolkit <command>``. Every command lives in this package, one module each.

A command module provides ``add_arguments(parser)`` and ``run(args) -> int``; commands that read apps take
the one shared set of source options from :mod:`toolkit.commands.options` (``--project`` | ``--org`` |
``--instance-url``/``--access-token``/``--ca-file``, ``--concurrency``). This module wires them up and turns
a :class:`~toolkit.errors.ToolkitError` into a one-line message on stderr and exit code 2 (never a traceback).

Exit codes mean the same in every command (:data:`EXIT_OK` ...):

- 0 complete
- 1 a gate failed (``check --fail-on``)
- 2 bad input, or nothing could be done (no output written)
- 3 partial: some of the work was done; the reason is on stderr and in the outputs

Errors are one line on stderr (``error: ...``), never a traceback: a bad option (argparse), a
:class:`~toolkit.errors.ToolkitError`, an ``OSError`` the command did not foresee, and, as a last guard, any
other exception (named as an internal error; ``TOOLKIT_DEBUG=1`` shows its traceback).

Commands:
- ``audit``     audit a folder (``--project``) or an org (``--org``/``--instance-url``) into CSVs + HTML
- ``report``    audit a source into ``report.html`` (the report notebook, exported without code) + CSVs/Excel
- ``demo-org``  run the embedded demo org (a local HTTPS Salesforce emulator)
- ``demo``      what ``make demo`` runs: start the demo org, audit it, print where the output is
- ``edit``      bulk-edit apps of an org or a folder: dry run, ``--apply``, ``--rollback``, ``--resume``
- ``check``     findings against a baseline: the CI gate (``--fail-on``, ``--format text|csv|json|sarif``)
- ``diff``      drift between two audits: snapshots, output folders, history entries (``--since``), sources
- ``bootconfig`` Mobile SDK bootconfig.plist / bootconfig.xml / bootconfig.json against the apps
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import ToolkitError
from ..redact import redact

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_PARTIAL = 3

# command name -> (module with ``add_arguments(parser)`` and ``run(args) -> int``, one-line help)
COMMANDS = {
    "audit": ("toolkit.commands.audit", "Audit connected apps into tables, CSV files and an HTML summary."),
    "demo-org": ("toolkit.commands.demo_org", "Serve the embedded demo org (a local HTTPS Salesforce)."),
    "report": ("toolkit.commands.report", "Audit a source into report.html (opens offline) + CSV and Excel."),
    "demo": ("toolkit.commands.demo", "Start the demo org, audit it, and print where the output is."),
    "edit": ("toolkit.commands.edit", "Bulk-edit apps: dry run (default), --apply, --rollback, --resume."),
    "check": ("toolkit.commands.check", "Findings against a baseline; a CI gate (--fail-on, SARIF output)."),
    "diff": ("toolkit.commands.diff", "What changed between two audits (folders, history, or sources)."),
    "bootconfig": ("toolkit.commands.bootconfig", "Check Mobile SDK bootconfig files against the apps."),
}


# command name -> examples shown at the end of its --help (each line parses: tests/test_cli_help.py)
EXAMPLES = {
    "audit": (
        ("--org demo --out out/audit", "audit the embedded demo org into CSVs + summary.html"),
        ("--project force-app --out out/audit", "audit an SFDX project (no org needed)"),
        ("--org my-prod --window-days 90", "an org logged in with `sf org login web --alias my-prod`"),
        ("--org my-prod --org my-uat --out out/fleet", "several orgs: org column, fleet.csv, same_app.csv"),
    ),
    "report": (
        ("--org demo --out out/report", "report.html (opens offline), CSVs and audit.xlsx"),
        ("--project examples --out out/report", "the same page for a folder"),
        ("--org demo --pdf --paper letter", "also report.pdf, printed by Chromium (exit 2 without it)"),
    ),
    "demo-org": (
        ("--port 8443", "serve the demo org until Ctrl-C; prints its URL, CA file and access token"),
        ("--apps 500 --latency-ms 50", "a big org behind a slow network (benchmarks)"),
        ("--user auditor", "log in as a user without Customize Application (what an auditor sees)"),
    ),
    "demo": (
        ("", "what `make demo` runs: demo org, audit, report in out/demo"),
        ("--examples --out out/examples", "the same report of the example SFDX project"),
    ),
    "edit": (
        ("--org demo --apps A,B --set ip_relaxation=ENFORCE", "dry run: the preview and who it breaks"),
        ("--org my-prod --where \"ip_relaxation != 'ENFORCE'\" --set ip_relaxation=ENFORCE --apply",
         "apply (asks to confirm), backed up and verified"),
        ("--org my-prod --apps A --set session_timeout=120 --plan-out plan.json", "save a plan to review"),
        ("--org my-prod --apply plan.json --max-impact 0", "apply the saved plan; refuse if anyone breaks"),
        ("--rollback out/edits/edit-20261203-101500", "undo an applied edit (verified)"),
    ),
    "check": (
        ("--org demo --fail-on high", "exit 1 when high or critical findings remain (a CI gate)"),
        ("--org demo --group-by rule", "one line per rule: how many apps, which, and the fix"),
        ("--orgs-file orgs.toml --fail-on high", "every org an orgs file lists, one gate (docs/audit.md)"),
        ("--project force-app --format sarif --out findings.sarif", "for code-scanning UIs"),
        ("--list-rules", "every rule, its severity and its fix"),
    ),
    "diff": (
        ("before/ after/", "what changed between two snapshot (or SFDX) folders"),
        ("before/ --org my-prod --snapshot after/", "a saved audit against the org today (and save today's)"),
        ("--since last --org my-prod", "what changed since the last audit/check/report run (the history)"),
        ("out/audit-monday out/audit", "two audit output folders"),
    ),
    "bootconfig": (
        ("examples/mobile --project examples", "sample bootconfig files against the example apps (exit 1)"),
        ("path/to/MyApp --org my-prod", "a Mobile SDK project's bootconfig against the org's apps"),
    ),
}


def epilog(name: str) -> str:
    """The ``Examples:`` block of a command's --help."""
    lines = ["Examples:"]
    for args, what in EXAMPLES[name]:
        lines += [f"  python -m toolkit {name} {args}".rstrip(), f"      {what}"]
    return "\n".join(lines)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2 (argparse prints two)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m toolkit", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for n, arg in enumerate(sys.argv[1:] if argv is None else argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return fail(
                f"argument {n} ({os.fsencode(arg)!r}) is not valid UTF-8; allowed: UTF-8 text "
                "(rename the file or folder)"
            )
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = importlib.import_module(args._module).run(args)
        return code
    except ToolkitError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a file system or network fault no command foresaw: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        return fail(f"{where}{exc.strerror or exc}")
    except (Exception, RecursionError) as exc:  # the last guard: a bug must not print a traceback either
        if os.environ.get("TOOLKIT_DEBUG"):
            raise
        return fail(f"internal error ({type(exc).__name__}: {exc}); TOOLKIT_DEBUG=1 shows the traceback")


def fail(message: str) -> int:
    """Print ``error: <message>`` (secrets scrubbed, one line) on stderr; return :data:`EXIT_BAD_INPUT`."""
    one_line = " ".join(redact(message).split())
    print(f"error: {one_line}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
