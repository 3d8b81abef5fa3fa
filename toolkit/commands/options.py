"""The one set of source options every command that reads apps takes, and the one way to open them.

``--project DIR`` (an SFDX project, mdapi folder or any folder of metadata files) or an org:
``--org demo|ALIAS`` or ``--instance-url URL --access-token TOKEN [--ca-file PEM]``, with ``--concurrency``.

>>> p = argparse.ArgumentParser(); add_source_arguments(p)
>>> describe_source(p.parse_args(["--project", "examples"]))
'folder examples'
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import checks
from ..errors import OutputError, SourceError, shown
from ..sources.org import DEFAULT_CONCURRENCY, READ_TIMEOUT

if TYPE_CHECKING:
    import pandas as pd

    from ..model.bundle import Inventory
    from ..sources.org import Org


MAX_TIMEOUT = 1e6  # seconds (what connect() accepts)
TIMEOUT_ALLOWED = f"seconds, a number greater than 0 and below {MAX_TIMEOUT:.0f}"


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type=`` for a whole-number option whose values lie in ``low..high``.

    Text that is no whole number, or has more digits than any value in the range (a 5,000-digit number:
    ``int()`` refuses it with a message that would echo all of it), is refused in one short line naming the
    option, the value (shortened) and the range. The range itself is checked where the option is used.

    >>> p = argparse.ArgumentParser(); _ = p.add_argument("--days", type=whole_number(1, 3650))
    >>> p.parse_args(["--days", "0"]).days
    0
    >>> whole_number(1, 3650)("9" * 5000)
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '999...999' (5,000 characters) has 5,000 digits; allowed: a whole number ...
    """
    allowed = f"a whole number from {low} to {high}"
    width = len(str(max(abs(low), abs(high))))

    def parse(text: str) -> int:
        value = text.strip()
        digits = value[1:] if value[:1] in ("+", "-") else value
        if not (digits.isascii() and digits.isdigit()):
            raise argparse.ArgumentTypeError(f"invalid int value: {shown(text)}; allowed: {allowed}")
        if len(digits.lstrip("0")) > width:
            raise argparse.ArgumentTypeError(f"{shown(text)} has {len(digits):,} digits; allowed: {allowed}")
        return int(value)

    parse.__name__ = "int"
    return parse


def number(ok: Callable[[float], bool], allowed: str) -> Callable[[str], float]:
    """An argparse ``type=`` for a finite number that ``ok`` accepts (``nan``, ``inf`` never are).

    >>> number(lambda v: v > 0, "seconds > 0")("nan")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: cannot be 'nan'; allowed: seconds > 0
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number: {shown(text)}; allowed: {allowed}") from None
        if not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"cannot be {shown(text)}; allowed: {allowed}")
        return value

    parse.__name__ = "float"
    return parse


def add_source_arguments(
    parser: argparse.ArgumentParser, *, project_help: str | None = None, fleet: bool = False
) -> None:
    """Add ``--project`` and the org options (``--org``, ``--instance-url``, ...) to ``parser``; ``fleet``:
    several orgs too (``--org`` repeated, ``--orgs-file``: :mod:`toolkit.commands.orgs`)."""
    from .orgs import ORG_ACTION, add_fleet_arguments

    parser.add_argument(
        "--project", help=project_help or "SFDX project, mdapi folder, or any folder of metadata files"
    )
    org = parser.add_argument_group("org (instead of --project)")
    if fleet:
        org.add_argument(
            "--org", metavar="demo|ALIAS", action=ORG_ACTION,
            help="'demo' (embedded demo org) or a Salesforce CLI alias; repeat it for several orgs",
        )
        add_fleet_arguments(org)
    else:
        org.add_argument(
            "--org", metavar="demo|ALIAS", help="'demo' (embedded demo org) or a Salesforce CLI alias"
        )
    org.add_argument("--instance-url", help="org URL, with --access-token (any org, or a running demo org)")
    org.add_argument(
        "--access-token",
        default=None,
        help="access token (default: $SF_ACCESS_TOKEN with --instance-url; argv is visible to others)",
    )
    org.add_argument("--ca-file", help="PEM CA bundle to trust (a demo org's); TLS is always verified")
    org.add_argument(
        "--concurrency", type=whole_number(1, checks.MAX_CONCURRENCY), default=DEFAULT_CONCURRENCY,
        help=f"parallel requests, 1 to {checks.MAX_CONCURRENCY} (default: {DEFAULT_CONCURRENCY})"
        + ("; with several orgs, in all (shared by them)" if fleet else ""),
    )
    org.add_argument(
        "--timeout", type=number(lambda v: 0 < v < MAX_TIMEOUT, TIMEOUT_ALLOWED), default=None,
        metavar="SECONDS",
        help=f"longest wait for an answer from the org (default: {READ_TIMEOUT:g}; connecting: at most 10); "
        "a call and its retries give up after twice this",
    )


def add_window_days(parser: argparse.ArgumentParser) -> None:
    """``--window-days`` (org audits: the usage window), checked by :func:`window_days`."""
    parser.add_argument(
        "--window-days", type=whole_number(checks.MIN_WINDOW_DAYS, checks.MAX_WINDOW_DAYS), default=180,
        help=f"usage window in days, {checks.MIN_WINDOW_DAYS} to {checks.MAX_WINDOW_DAYS} (default: 180; "
        "LoginHistory keeps about 6 months)",
    )


def add_no_user_names(parser: argparse.ArgumentParser) -> None:
    """``--no-user-names``: outputs to share (token owners, run-as users, contact e-mails hidden)."""
    parser.add_argument(
        "--no-user-names", action="store_true",
        help="leave user names out of every output (token owners' usernames and ids, run-as users, contact "
        "e-mails become (hidden)), for reports shared beyond the admins",
    )


def window_days(args: argparse.Namespace) -> int:
    """``--window-days`` in range, else :class:`~toolkit.errors.ArgumentError` naming the option."""
    return checks.whole_number(
        "--window-days", args.window_days, checks.MIN_WINDOW_DAYS, checks.MAX_WINDOW_DAYS,
        why=checks.WINDOW_WHY,
    )


def is_org_source(args: argparse.Namespace) -> bool:
    return bool(
        getattr(args, "org", None) or getattr(args, "instance_url", None) or getattr(args, "orgs_file", None)
    )


def describe_source(args: argparse.Namespace) -> str:
    if is_org_source(args):
        return f"org {args.instance_url or args.org}"
    return f"folder {args.project}"


def require_source(args: argparse.Namespace) -> None:
    """:class:`SourceError` unless exactly one source is given; :class:`ArgumentError` for a bad option.

    Options are checked before anything is read or written, so a bad one costs nothing.
    """
    if is_org_source(args) and getattr(args, "project", None):
        raise SourceError("give either --project DIR or an org (--org / --instance-url), not both")
    if not is_org_source(args) and not getattr(args, "project", None):
        raise SourceError(
            "nothing to read: give --project DIR (an SFDX project or a folder of metadata files), "
            "or --org demo|ALIAS, or --instance-url URL --access-token TOKEN"
        )
    if getattr(args, "project", None) is not None:
        checks.folder_path("--project", args.project)
    check_history(args)
    if getattr(args, "notify", None) is not None:
        from ..analysis.notify import ENV, check_url

        if args.notify == "":  # --notify alone: the URL from the environment, off the command line
            args.notify = os.environ.get(ENV, "")
            if not args.notify.strip():
                raise SourceError(f"--notify without a URL reads ${ENV}, which is not set; give --notify URL")
        args.notify = check_url(args.notify)
    args.concurrency = checks.whole_number(
        "--concurrency", args.concurrency, 1, checks.MAX_CONCURRENCY, why="parallel requests"
    )
    if not is_org_source(args):
        return
    from .orgs import fleet_targets, is_fleet

    if is_fleet(args):
        if args.ca_file is not None:
            checks.pem_file("--ca-file", args.ca_file)
        fleet_targets(args)  # a bad orgs file fails here, before any org is read
        return
    if args.instance_url is not None:
        args.instance_url = checks.https_base_url("--instance-url", args.instance_url)
    elif args.org is not None and not args.org.strip():
        raise SourceError("--org cannot be empty: give 'demo' or a Salesforce CLI alias")
    if args.ca_file is not None:
        checks.pem_file("--ca-file", args.ca_file)


def stderr_progress(after: float = 5.0) -> Callable[[str], None]:
    """A progress callback that prints to stderr, once the work has lasted ``after`` seconds: a quick
    audit prints nothing, a long or stalled one says what it is doing (and each retry)."""
    started = time.monotonic()

    def say(line: str) -> None:
        if time.monotonic() - started >= after:
            print(f"... {line}", file=sys.stderr, flush=True)

    return say


@contextmanager
def open_org(args: argparse.Namespace, **demo_options: object) -> Iterator[Org]:
    """Connect to the org the options name (``--org`` or ``--instance-url`` + token)."""
    from ..sources.connect import connect

    token = args.access_token
    if args.instance_url and not token:
        token = os.environ.get("SF_ACCESS_TOKEN")
        if not token:
            raise SourceError("--instance-url needs --access-token TOKEN (or $SF_ACCESS_TOKEN)")
    target = args.org if args.org and not args.instance_url else None
    kwargs: dict[str, object] = {"demo_options": demo_options} if demo_options else {}
    with connect(
        target,
        instance_url=args.instance_url,
        access_token=token if args.instance_url else None,
        ca_file=args.ca_file,
        concurrency=args.concurrency,
        timeout=getattr(args, "timeout", None),
        **kwargs,  # type: ignore[arg-type]
    ) as org:
        args._identity = org_identity(org)
        yield org


def org_identity(org: Org) -> dict[str, str]:
    """The org's identity for the history: its org id (the part of the session id before ``!``, which
    Salesforce makes the 15-character org id; nothing else of the token is kept) and its instance URL."""
    from ..analysis.history import org_id_18

    session = str(getattr(org.sf, "session_id", "") or "")
    return {"org_id": org_id_18(session.split("!", 1)[0]), "instance_url": org.instance_url}


def source_identity(args: argparse.Namespace) -> dict[str, str]:
    """The identity of the source the options named (an org's once it was opened, else the folder's)."""
    identity = getattr(args, "_identity", None)
    if identity:
        return dict(identity)
    if getattr(args, "project", None):
        return {"folder": str(Path(args.project).resolve())}
    return {"instance_url": str(getattr(args, "instance_url", None) or getattr(args, "org", None) or "")}


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    """``--history DIR`` / ``--no-history``: where a run's snapshot goes (:mod:`toolkit.analysis.history`)."""
    from ..analysis.history import DEFAULT_DIR, ENV, KEEP

    group = parser.add_argument_group("history")
    group.add_argument(
        "--history", metavar="DIR", default=None,
        help=f"keep a small snapshot of this run in DIR (default: ${ENV}, else {DEFAULT_DIR}); "
        f"the last {KEEP} per org are kept",
    )
    group.add_argument("--no-history", action="store_true", help="keep no snapshot of this run")


def check_history(args: argparse.Namespace) -> None:
    """``--history`` is a usable folder path (checked before anything is read)."""
    if getattr(args, "no_history", True):
        return
    from ..analysis.history import history_dir

    folder = checks.folder_path("--history", str(history_dir(args.history)))
    if folder.exists() and not folder.is_dir():
        raise SourceError(f"--history {folder}: is not a folder; allowed: a folder (created when absent)")


def add_notify_argument(parser: argparse.ArgumentParser) -> None:
    """``--notify URL``: post the run's summary to a Slack/Teams webhook (:mod:`toolkit.analysis.notify`)."""
    from ..analysis.notify import ENV

    parser.add_argument(
        "--notify", metavar="URL", nargs="?", const="", default=None,
        help="post a summary (failed findings by severity, new and fixed since the last run, the report's "
        f"path) to this https:// Slack/Teams webhook (--notify alone: ${ENV}, which keeps the URL, a secret, "
        "off the command line); 10 s timeout, 2 retries",
    )


def _score(tables: dict[str, pd.DataFrame], findings: pd.DataFrame | None) -> int | None:
    """The org's score of this run (kept with it for the report's trend); None without findings."""
    if findings is None or "apps" not in tables:
        return None
    from ..rules.score import org_score

    return org_score(findings, [str(n) for n in tables["apps"]["name"]]).score


def keep_history(
    args: argparse.Namespace,
    tables: dict[str, pd.DataFrame],
    *,
    command: str,
    findings: pd.DataFrame | None = None,
    secrets: list[str] | None = None,
    code: int = 0,
    report: str = "",
) -> int:
    """Keep this run's snapshot (unless ``--no-history``) and post ``--notify``'s summary; the exit code:
    ``code``, or 3 (partial) when the snapshot could not be kept or the summary not posted (the outputs are
    written; the reason is on stderr)."""
    from ..analysis.history import history_dir, record
    from . import EXIT_PARTIAL

    notify = getattr(args, "notify", None)
    previous = _last_entry(args) if notify else None
    if not getattr(args, "no_history", True):
        try:
            path = record(
                tables, history_dir(args.history), command=command, identity=source_identity(args),
                findings=findings, secrets=secrets, score=_score(tables, findings),
            )
            print(f"history: {path}", file=sys.stderr)
        except OutputError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            code = code or EXIT_PARTIAL
    if notify and findings is not None:
        try:
            _notify(args, notify, command, findings, previous, report, secrets or [])
        except OutputError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            code = code or EXIT_PARTIAL
    return code


def _last_entry(args: argparse.Namespace) -> Any:
    """The newest history entry of the source's org before this run (None when there is none)."""
    from ..analysis.history import find_entry, history_dir

    try:
        return find_entry(history_dir(getattr(args, "history", None)), source_identity(args), "last")
    except SourceError:
        return None


def _notify(
    args: argparse.Namespace, url: str, command: str, findings: pd.DataFrame, previous: Any, report: str,
    secrets: list[str],
) -> None:
    from datetime import UTC, datetime
    from urllib.parse import urlsplit

    from ..analysis import notify
    from ..analysis.history import failed, new_and_fixed

    current = failed(findings)
    identity = source_identity(args)
    source = getattr(args, "_label", "") or (  # an org of several: its label (--org alias, orgs file name)
        urlsplit(identity.get("instance_url", "")).hostname or Path(identity.get("folder", "")).name
    )
    new, fixed = new_and_fixed(previous.findings if previous is not None else current, current)

    def triples(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
        return [(str(r["rule"]), str(r["app"]), str(r["severity"])) for r in frame.to_dict("records")]

    message = notify.payload(
        source=source or "source", command=command,
        counts={str(k): int(v) for k, v in current["severity"].value_counts().items()},
        new=triples(new), fixed=triples(fixed),
        report=report, when=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        first_run=previous is None, secrets=secrets,
    )
    status = notify.post(url, message)
    print(f"notified {notify.host_of(url)} (HTTP {status})", file=sys.stderr)


def read_source(
    args: argparse.Namespace, *, window_days: int = 180
) -> tuple[Inventory, dict[str, pd.DataFrame]]:
    """Audit the source the options name: (inventory, tables), the same for folders and orgs.

    An org audit that read nothing at all is an :class:`~toolkit.errors.OrgError` (exit 2), as in ``audit``.
    """
    from ..analysis.audit import audit_folder, audit_org
    from .audit import check_readable

    require_source(args)
    if is_org_source(args):
        with open_org(args) as org:
            inventory, tables = audit_org(org, window_days=window_days)
        check_readable(inventory)
        return inventory, tables
    return audit_folder(args.project)


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write one output file (``--out FILE`` of ``check``/``diff``) whole or not at all.

    The text goes to a temporary file beside the target, is flushed to disk, then renamed over it: a failed
    run leaves the previous file as it was, never a half-written or 0-byte one.
    """
    target = checks.folder_path("--out", path)
    if target.is_dir():
        raise OutputError(f"--out {target}: is a folder; give the path of a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target
