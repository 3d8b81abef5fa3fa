"""``python -m toolkit edit``: bulk-edit apps of an org or a folder (dry run by default).

    edit --org demo --apps A,B --set ip_relaxation=ENFORCE                 # dry run: the preview only
    edit --org demo --where "platform == 'ios'" --set min_os=17.0 --apply  # prints the journal path first
    edit --org ALIAS --rollback out/edits/edit-...                         # back to the pre-images
    edit --org ALIAS --resume out/edits/edit-...                           # finish an interrupted apply
    edit --org demo --revoke-tokens APP --tokens inactive-users --yes      # irreversible

``--rollback``/``--resume`` need the org of the apply: ``--org demo`` starts a new demo org for each command,
so with it they are refused (:func:`demo_org_note`); keep one running with ``demo-org`` and connect to it
with ``--instance-url/--access-token/--ca-file`` (the README's recipe).

Exit codes: 0 everything applied (or the dry run is valid), 3 some items failed, were stale or are in doubt
(the journal says which), 2 bad input or nothing could be done (nothing written).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from ..analysis.display import display_value
from ..analysis.markers import NOT_SET
from ..errors import SourceError
from . import EXIT_BAD_INPUT, EXIT_OK
from .options import (
    add_source_arguments,
    add_window_days,
    is_org_source,
    open_org,
    require_source,
    window_days,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    sel = parser.add_argument_group("apps")
    sel.add_argument("--apps", help="comma-separated app API names")
    sel.add_argument("--where", help="expression over the audit apps table, e.g. \"platform == 'ios'\"")
    parser.add_argument(
        "--set",
        dest="changes",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a change (repeatable): FIELD=VALUE, FIELD+=ITEM, FIELD-=ITEM, or Type:path=VALUE",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the preview, write nothing (the default)")
    mode.add_argument("--validate", action="store_true", help="dry run plus a server-side deploy checkOnly")
    mode.add_argument(
        "--apply",
        nargs="?",
        const=True,
        default=False,
        metavar="PLAN",
        help="write the changes (prints the journal path first); --apply PLAN.json applies a saved plan",
    )
    mode.add_argument("--show", metavar="PLAN", help="print a saved plan (--json: for programs)")
    mode.add_argument("--rollback", metavar="JOURNAL", help="restore the pre-images of an apply")
    mode.add_argument("--resume", metavar="JOURNAL", help="finish an interrupted apply")
    mode.add_argument("--revoke-tokens", metavar="APP", help="revoke OAuth tokens of an app (irreversible)")
    parser.add_argument(
        "--tokens",
        default=None,
        metavar="all|inactive-users|unused-days=N",
        help="which tokens --revoke-tokens revokes",
    )
    parser.add_argument(
        "--yes", action="store_true", help="confirm --apply / --revoke-tokens without asking (scripts)"
    )
    parser.add_argument(
        "--ack-client-change",
        action="store_true",
        help="confirm that the clients already handle PKCE / refresh-token rotation (needed to apply a plan "
        "that switches them on: clients that do not break; partner apps cannot switch PKCE off again)",
    )
    parser.add_argument("--plan-out", metavar="PLAN", help="save the plan (JSON) to apply later")
    parser.add_argument(
        "--skip-refused", action="store_true", help="apply the apps with no problem; list the refused ones"
    )
    parser.add_argument("--json", action="store_true", help="with --show: the saved plan as JSON")
    parser.add_argument(
        "--force-stale",
        action="store_true",
        help="apply to apps changed since the plan / roll back apps changed since the edit",
    )
    parser.add_argument("--diff", action="store_true", help="also print the XML diff per component")
    parser.add_argument(
        "--max-impact",
        type=int,
        default=None,
        metavar="N",
        help="refuse to apply or revoke (exit 2, nothing written) when more than N users would break",
    )
    add_window_days(parser)
    parser.add_argument("--journal-dir", default=None, help="where journals go (default: out/edits)")


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextmanager
def _source(args: argparse.Namespace) -> Iterator[Any]:
    require_source(args)
    if is_org_source(args):
        with open_org(args) as org:
            yield org
    else:
        yield args.project


def run(args: argparse.Namespace) -> int:
    from ..edits import plan_edits, resume_edits, rollback_edits

    if args.show:
        return _show(args)
    if isinstance(args.apply, str):
        return _apply_saved(args)
    if args.rollback is not None or args.resume is not None:
        if not (args.rollback or args.resume or "").strip():
            option = "--rollback" if args.rollback is not None else "--resume"
            raise SourceError(
                f"{option}: the journal path is empty; allowed: a journal folder printed by --apply "
                "(out/edits/edit-...)"
            )
        demo_org_note(args)
        if args.changes or args.apps or args.where:
            raise SourceError("--rollback/--resume take a journal only; allowed: no --set, --apps or --where")
        source_given = is_org_source(args) or args.project
        with _source(args) if source_given else _none() as source:
            if args.rollback is not None:
                result = rollback_edits(args.rollback, source, force=args.force_stale, progress=_progress)
            else:
                result = resume_edits(args.resume, source, progress=_progress)
        return _report(result)
    if args.revoke_tokens:
        return _revoke(args)
    if not args.changes:
        raise SourceError(
            "nothing to change: give --set FIELD=VALUE (repeatable), e.g. --set ip_relaxation=ENFORCE"
        )
    if not args.apps and not args.where:
        raise SourceError(
            "no apps selected: give --apps A,B or --where EXPR (e.g. --where \"platform == 'ios'\")"
        )
    with _source(args) as source:
        plan = plan_edits(source, args.changes, apps=args.apps, where=args.where)
        if not plan.ok and args.skip_refused:
            plan = plan.without_refused()
            _skipped(plan)
        if not plan.ok:
            _problems(plan.problems)
            if not args.skip_refused:
                print(
                    "hint: --skip-refused applies the other apps and lists the refused ones", file=sys.stderr
                )
            return EXIT_BAD_INPUT
        print_preview(plan.preview())
        print(plan.summary())
        gate = _impact(args, plan)
        if args.diff:
            print(plan.diff(), end="")
        if args.validate:
            failures = plan.validate()
            if len(failures):
                for row in failures.itertuples():
                    print(f"error: {row.component}: {row.problem}", file=sys.stderr)
                return EXIT_BAD_INPUT
            if is_org_source(args):
                print("server-side validation (deploy checkOnly): no problem")
            else:
                print("folders have no server-side validation: only the plan's own checks ran (no problem)")
        if args.plan_out:
            print(f"plan saved: {plan.save(args.plan_out)} (apply it with --apply {args.plan_out})")
        if not args.apply:
            print("dry run: nothing was written (add --apply to write)")
            return EXIT_OK
        if gate:
            print(f"error: {gate}; nothing was written", file=sys.stderr)
            return EXIT_BAD_INPUT
        return _write(args, plan)


def _impact(args: argparse.Namespace, plan: Any) -> str:
    """Print who the plan would break; the gate's refusal ("" when the plan may be applied).

    Printed for a dry run of an org, and whenever ``--max-impact`` is given; an ``--apply`` without it reads
    no usage (its calls stay those of the apply)."""
    from ..edits.impact import users_breaking

    if args.max_impact is not None and args.max_impact < 0:
        raise SourceError(f"--max-impact {args.max_impact}: allowed: 0 or more users")
    dry_org = is_org_source(args) and not args.apply
    if not (dry_org or args.max_impact is not None) or not plan.rows:
        return ""
    table = plan.impact(window_days(args))
    print(f"impact (usage of the last {window_days(args)} days):")
    for line in impact_lines(table):
        print(line)
    broken = users_breaking(table)
    unknown = int((table["verdict"] == "unknown").sum())
    print(
        f"impact: {broken} users would break" + (f"; {unknown} changes of unknown impact" if unknown else "")
    )
    if args.max_impact is not None and broken > args.max_impact:
        return f"--max-impact {args.max_impact}: {broken} users would break"
    return ""


def impact_lines(table: pd.DataFrame, most_names: int = 3) -> list[str]:
    """The impact as lines, app by app, what breaks first: the change, the verdict, who (a few names and
    how many), the logins and tokens behind it and the evidence; changes with no evidence of impact are one
    count at the end (a wide table would scroll sideways).

    >>> rows = pd.DataFrame([{"app": "A", "change": "IP Relaxation = ENFORCE", "verdict": "breaks",
    ...     "users": 2, "names": ["Ann", "Bob"], "logins": 5, "tokens": 1, "evidence": "logins from outside",
    ...     "reason": ""}, {"app": "B", "change": "PKCE = true", "verdict": "no evidence of impact",
    ...     "users": 0, "names": [], "logins": 0, "tokens": 0, "evidence": "", "reason": ""}])
    >>> print("\\n".join(impact_lines(rows)))
    A
      breaks     IP Relaxation = ENFORCE: 2 users (Ann, Bob), 5 logins, 1 tokens; logins from outside
    1 change with no evidence of impact
    """
    order = {"breaks": 0, "at risk": 1, "unknown": 2}
    shown = table[table["verdict"].isin(list(order))] if len(table) else table
    lines: list[str] = []
    if len(shown):
        shown = shown.assign(_o=shown["verdict"].map(order)).sort_values(["_o"], kind="stable")
        for app, rows in shown.groupby("app", sort=False):
            lines.append(str(app))
            for r in rows.to_dict("records"):
                names = list(r["names"] or [])
                who = ", ".join(str(n) for n in names[:most_names]) + (
                    f" +{len(names) - most_names}" if len(names) > most_names else "")
                users = f"{r['users']} users" + (f" ({who})" if who else "")
                why = r["evidence"] or r["reason"]
                lines.append(f"  {str(r['verdict']):<10} {r['change']}: {users}, {r['logins']} logins, "
                             f"{r['tokens']} tokens" + (f"; {why}" if why else ""))
    quiet = len(table) - len(shown)
    if quiet:
        lines.append(f"{quiet} change{'s' if quiet != 1 else ''} with no evidence of impact")
    return lines


def demo_org_note(args: argparse.Namespace) -> None:
    """``--org demo`` starts a new demo org each command: a journal of another command cannot apply."""
    if getattr(args, "org", None) == "demo":
        raise SourceError(
            "--org demo starts a new demo org for each command, so --rollback/--resume cannot find the "
            "apply's org; run `python -m toolkit demo-org` in another terminal and use its instance_url, "
            "access_token and ca_file (--instance-url/--access-token/--ca-file) for both commands"
        )


def _confirm(args: argparse.Namespace, plan: Any) -> bool:
    """The lines before any write; a question when stdin is a TTY (``--yes`` skips it)."""
    from ..edits.saved import write_summary

    print(write_summary(plan, args.journal_dir or "out/edits"))
    if args.yes or not sys.stdin.isatty():
        return True
    answer = input("apply? type yes to write, anything else to stop: ")
    if answer.strip().lower() != "yes":
        print("stopped: nothing was written", file=sys.stderr)
        return False
    return True


def _skipped(plan: Any) -> None:
    for row in plan.skipped.to_dict("records"):
        print(f"skipped: {row['app']}: {row['field']} = {row['value']!r}: {row['problem']}", file=sys.stderr)


def _show(args: argparse.Namespace) -> int:
    import json

    from ..edits.saved import show_plan

    doc, preview = show_plan(args.show)
    if args.json:
        print(json.dumps(doc, indent=1))
        return EXIT_OK
    t = doc["target"]
    print(f"plan {args.show}: created {doc['created']} by toolkit {doc['toolkit_version']}")
    print(
        f"for: {t.get('kind')} {t.get('instance_url') or t.get('origin')}"
        + (f" (org id {t['org_id']})" if t.get("org_id") else "")
    )
    _print_table(preview[["app", "field", "label", "before", "after", "status"]])
    print(doc["summary"])
    return EXIT_OK


def _apply_saved(args: argparse.Namespace) -> int:
    from ..edits.saved import load_plan

    if args.changes or args.apps or args.where:
        raise SourceError("--apply PLAN applies a saved plan exactly; allowed: no --set, --apps or --where")
    source_given = is_org_source(args) or args.project
    with _source(args) if source_given else _none() as source:
        plan = load_plan(args.apply, source, force_stale=args.force_stale)
        print_preview(plan.preview())
        gate = _impact(args, plan)
        if gate:
            print(f"error: {gate}; nothing was written", file=sys.stderr)
            return EXIT_BAD_INPUT
        return _write(args, plan)


def _write(args: argparse.Namespace, plan: Any) -> int:
    """The write of a plan (made now or saved): nothing to do, the confirmation, the apply, its report."""
    if not plan.components and not plan.grants:
        print("0 to change: nothing to write")
        return EXIT_OK
    client = plan.client_change_fields()
    if client and not args.ack_client_change:
        from ..edits.plan import CLIENT_CHANGE_NOTE

        for fld in client:
            print(f"error: enabling {fld}: {CLIENT_CHANGE_NOTE[fld]}", file=sys.stderr)
        print(
            "error: this plan switches on "
            + " and ".join(client)
            + ": add --ack-client-change once every client of these apps handles it; nothing was written",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if not _confirm(args, plan):
        return EXIT_BAD_INPUT
    result = plan.apply(
        journal_dir=args.journal_dir,
        force_stale=args.force_stale,
        progress=_progress,
        on_journal=lambda p: print(f"journal: {p}", flush=True),
    )
    return _report(result)


@contextmanager
def _none() -> Iterator[None]:
    yield None


def _problems(problems: pd.DataFrame, most_apps: int = 5) -> None:
    """One line per distinct problem: the same problem on many apps is one line naming a few, then +N."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for row in problems.to_dict("records"):
        key = (str(row["field"]), str(row["value"]), str(row["problem"]), str(row["allowed"]))
        groups.setdefault(key, []).append(str(row["app"]))
    for (fld, value, problem, allowed), apps in groups.items():
        more = f" and {len(apps) - most_apps} more" if len(apps) > most_apps else ""
        shown = ", ".join(apps[:most_apps]) + more
        print(f"error: {shown}: {fld} = {value!r}: {problem}; allowed: {allowed}", file=sys.stderr)
    print(f"error: {len(problems)} problem(s); nothing was written", file=sys.stderr)


def preview_lines(preview: pd.DataFrame) -> list[str]:
    """The preview as people read it, app by app: each setting's Setup label, its before and after in Setup's
    words (``Relax IP restrictions → Enforce IP restrictions``) and the field id to type in ``--set``.
    Lines, not a wide table: they fit any terminal and wrap rather than scroll.

    >>> rows = pd.DataFrame([{"app": "A", "field": "ip_relaxation", "label": "IP Relaxation",
    ...                       "before": "BYPASS", "after": "ENFORCE", "status": "change"},
    ...                      {"app": "A", "field": "pkce", "label": "PKCE", "before": "true", "after": "true",
    ...                       "status": "no-op"}])
    >>> print("\\n".join(preview_lines(rows)))
    A
      change  IP Relaxation (ip_relaxation): Relax IP restrictions → Enforce IP restrictions
      no-op   PKCE (pkce): Yes
    """
    lines: list[str] = []
    for app, rows in preview.groupby("app", sort=False):
        lines.append(str(app))
        for row in rows.to_dict("records"):
            fld = str(row["field"])
            before, after = (_said(fld, row[c]) for c in ("before", "after"))
            values = before if before == after else f"{before} → {after}"
            lines.append(f"  {str(row['status']):<7} {row['label']} ({fld}): {values}")
    return lines


def _said(fld: str, value: Any) -> str:
    text = "" if value is None else str(value)
    if not text or text.startswith("("):  # the markers: (not set), (unknown)
        return text or NOT_SET
    return display_value(fld, text)


def print_preview(preview: pd.DataFrame) -> None:
    for line in preview_lines(preview):
        print(line)


def _print_table(df: pd.DataFrame) -> None:
    if len(df):
        with pd.option_context("display.max_rows", 500, "display.max_colwidth", 60, "display.width", 200):
            print(df.to_string(index=False))


def _report(result: Any) -> int:
    _print_table(result.results)
    if len(result.grants):
        _print_table(result.grants)
    print(f"{result.summary()}; journal: {result.journal}")
    if result.exit_code:
        print(f"warning: not everything ended as intended; see {result.journal}", file=sys.stderr)
    return int(result.exit_code)


def _revoke(args: argparse.Namespace) -> int:
    from ..edits.tokens import parse_token_filter, revoke_tokens

    if not is_org_source(args):
        raise SourceError("--revoke-tokens needs an org (--org / --instance-url); folders hold no tokens")
    which = parse_token_filter(args.tokens)
    with open_org(args) as org:

        def confirm(summary: str) -> bool:
            print(summary, flush=True)
            if args.yes:
                return True
            if not sys.stdin.isatty():
                print("error: revocation needs --yes (or an interactive confirmation)", file=sys.stderr)
                return False
            answer = input(f"type the app name ({args.revoke_tokens}) to revoke, anything else to stop: ")
            return bool(answer.strip() == args.revoke_tokens)

        if args.max_impact is not None and args.max_impact < 0:
            raise SourceError(f"--max-impact {args.max_impact}: allowed: 0 or more users")
        result = revoke_tokens(
            org,
            args.revoke_tokens,
            which,
            confirm=confirm,
            journal_dir=args.journal_dir,
            progress=_progress,
            max_impact=args.max_impact,
            window_days=window_days(args),
        )
    _print_table(result.table)
    print(result.summary())
    return int(result.exit_code)
