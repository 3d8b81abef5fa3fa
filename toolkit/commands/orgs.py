"""Several orgs in one ``audit``, ``check`` or ``report`` run: which orgs (``--org`` repeated,
``--orgs-file``) and reading them (:func:`toolkit.analysis.fleet.audit_fleet`, one shared ``--concurrency``).

An orgs file is, by its name's suffix:

- ``*.toml``: ``[[org]]`` tables, ``*.json``: a list of objects (or ``{"orgs": [...]}``); each org has
  ``alias`` (a Salesforce CLI alias, or ``demo``) or ``instance_url`` with ``access_token`` (or
  ``access_token_env``, the name of an environment variable holding it) and optionally ``ca_file``; ``name``
  (default: the alias, else the URL's host and port) is the org's label in the ``org`` column.
- anything else: one Salesforce CLI alias per line (``#`` comments and blank lines are skipped).

>>> import tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "orgs.txt"; _ = f.write_text("prod\\n# sandboxes\\nuat\\n")
>>> [t.label for t in read_orgs_file(str(f))]
['prod', 'uat']
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import checks
from ..errors import OrgError, SourceError, shown
from ..redact import register_secret

_FIELDS = ("name", "alias", "instance_url", "access_token", "access_token_env", "ca_file")
# labels that would clash with the columns of the tables they head (same_app.csv has one column per org)
_RESERVED = frozenset({"app", "matched_by", "kind", "field", "setting", "orgs"})
MAX_ORGS = 1000


@dataclass(frozen=True)
class OrgTarget:
    """One org of a fleet run: its label and how to reach it (an alias, or a URL and a token)."""

    label: str
    alias: str | None = None
    instance_url: str | None = None
    access_token: str | None = None
    ca_file: str | None = None

    def __repr__(self) -> str:  # never the token
        return f"OrgTarget({self.label!r}, alias={self.alias!r}, instance_url={self.instance_url!r})"


class _AppendOrg(argparse.Action):
    """``--org`` given again: every one is kept (``args.orgs``); ``args.org`` stays the first."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None) -> None:
        orgs = [*(getattr(namespace, "orgs", None) or []), values]
        namespace.orgs = orgs
        namespace.org = orgs[0]


def add_fleet_arguments(group: Any) -> None:
    """``--orgs-file FILE`` (and ``--org`` repeatable) on the org options group of ``audit``/``check``/
    ``report``."""
    group.add_argument(
        "--orgs-file", metavar="FILE", default=None,
        help="several orgs: one sf CLI alias per line, or a .toml ([[org]]) / .json file with name, alias or "
        "instance_url + access_token (or access_token_env) + ca_file per org (docs/audit.md, 'Many orgs')",
    )


ORG_ACTION = _AppendOrg


def is_fleet(args: argparse.Namespace) -> bool:
    """Several orgs named (``--org`` twice or more, or ``--orgs-file``)."""
    return bool(getattr(args, "orgs_file", None)) or len(getattr(args, "orgs", None) or []) > 1


def fleet_targets(args: argparse.Namespace) -> list[OrgTarget]:
    """The orgs the options name, in order (``--org`` ones first); :class:`SourceError` for a bad file or
    entry, a label given twice, or options that cannot go with several orgs."""
    if getattr(args, "project", None):
        raise SourceError("give either --project DIR or orgs (--org / --orgs-file), not both")
    if getattr(args, "instance_url", None):
        raise SourceError(
            "--instance-url names one org; for several, list them in an --orgs-file (.toml or .json: "
            "instance_url, access_token, ca_file per org)"
        )
    targets = []
    for alias in getattr(args, "orgs", None) or []:
        if not str(alias).strip():
            raise SourceError("--org cannot be empty: give 'demo' or a Salesforce CLI alias")
        targets.append(OrgTarget(label=alias.strip(), alias=alias.strip(), ca_file=args.ca_file))
    if getattr(args, "orgs_file", None):
        targets += read_orgs_file(args.orgs_file, ca_file=args.ca_file)
    if not targets:
        raise SourceError(f"--orgs-file {args.orgs_file}: lists no org; allowed: at least one alias or entry")
    if len(targets) > MAX_ORGS:
        raise SourceError(f"{len(targets)} orgs named; allowed: at most {MAX_ORGS} in one run (shard them)")
    seen: set[str] = set()
    for t in targets:
        if t.label in _RESERVED:
            reserved = ", ".join(sorted(_RESERVED))
            raise SourceError(f"org {t.label!r}: cannot be an org's label; allowed: any but {reserved}")
        if t.label in seen:
            raise SourceError(f"org {t.label!r} is named twice; allowed: each org once (give a 'name')")
        seen.add(t.label)
    return targets


def read_orgs_file(path: str, *, ca_file: str | None = None) -> list[OrgTarget]:
    """The orgs an orgs file lists (see the module doc); :class:`SourceError` naming the entry and field."""
    file = Path(checks.folder_path("--orgs-file", path))
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SourceError(
            f"--orgs-file {path}: cannot be read ({why}); allowed: a text, .toml or .json file"
        ) from None
    suffix = file.suffix.lower()
    if suffix not in (".toml", ".json"):
        lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        return [OrgTarget(label=a, alias=a, ca_file=ca_file) for a in lines if a]
    try:
        data: Any = tomllib.loads(text).get("org", []) if suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"--orgs-file {path}: not valid {suffix[1:].upper()} ({exc})") from None
    if isinstance(data, dict):
        data = data.get("orgs", [])
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        allowed = "[[org]] tables" if suffix == ".toml" else "a list of objects (or {\"orgs\": [...]})"
        raise SourceError(f"--orgs-file {path}: no list of orgs; allowed: {allowed}")
    return [_entry(path, n, e, ca_file) for n, e in enumerate(data, 1)]


def _entry(path: str, n: int, entry: dict[str, Any], ca_file: str | None) -> OrgTarget:
    where = f"--orgs-file {path}: org {n}"
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise SourceError(f"{where}: unknown field {shown(unknown[0])}; allowed: {', '.join(_FIELDS)}")
    for key, value in entry.items():
        if not isinstance(value, str) or not value.strip():
            show = "…" if key == "access_token" else shown(value)
            raise SourceError(f"{where}: {key} cannot be {show}; allowed: non-empty text")
    alias, url = entry.get("alias"), entry.get("instance_url")
    if bool(alias) == bool(url):
        raise SourceError(f"{where}: give alias or instance_url (with access_token), one of them")
    token = entry.get("access_token")
    if url:
        url = checks.https_base_url(f"{where}: instance_url", url)
        if entry.get("access_token_env"):
            token = os.environ.get(entry["access_token_env"]) or None
            if not token:
                raise SourceError(f"{where}: ${entry['access_token_env']} (access_token_env) is not set")
        if not token:
            raise SourceError(f"{where}: instance_url needs access_token or access_token_env")
        register_secret(token)
    elif token or entry.get("access_token_env"):
        raise SourceError(f"{where}: access_token goes with instance_url, not with alias")
    ca = entry.get("ca_file") or ca_file
    if ca:
        ca = checks.pem_file(f"{where}: ca_file", ca)
    label = entry.get("name") or alias or (urlsplit(url).netloc if url else "")
    return OrgTarget(label=label.strip(), alias=alias, instance_url=url, access_token=token, ca_file=ca)


def org_options(args: argparse.Namespace, target: OrgTarget) -> argparse.Namespace:
    """A copy of ``args`` naming one org of the fleet (what :func:`~.options.open_org` reads)."""
    one = argparse.Namespace(**vars(args))
    one.org = target.alias
    one.orgs = [target.alias] if target.alias else []
    one.orgs_file = None
    one.instance_url, one.access_token, one.ca_file = target.instance_url, target.access_token, target.ca_file
    one._identity = None
    return one


def read_fleet(args: argparse.Namespace, read: Any) -> tuple[list[OrgTarget], list[Any], Any]:
    """Read every org the options name in parallel; (targets, :class:`~toolkit.analysis.fleet.OrgRun` per
    org, the shared bound). ``read(org)`` audits one opened org: (inventory, tables, extra). No org read at
    all is an :class:`OrgError` (exit 2, nothing written)."""
    from ..analysis.fleet import audit_fleet
    from ..sources.org import RequestBound
    from .options import open_org, org_identity

    targets = fleet_targets(args)
    bound = RequestBound(args.concurrency)

    def opener(target: OrgTarget) -> Any:
        @contextmanager
        def opened() -> Iterator[Any]:
            with open_org(org_options(args, target)) as org:
                yield org

        return opened

    runs = audit_fleet(
        [(t.label, opener(t)) for t in targets], read, bound=bound, identity=org_identity,
        progress=lambda line: print(f"... {line}", file=sys.stderr, flush=True),
    )
    if not any(r.ok for r in runs):
        raise OrgError("NOTHING_READ", f"no org could be read; first, org {runs[0].label}: {runs[0].reason}")
    for run in runs:
        if not run.ok:
            print(f"warning: org {run.label} could not be read: {run.reason}", file=sys.stderr)
        elif run.status == "partial":
            print(f"warning: org {run.label} PARTIAL: {run.reason}", file=sys.stderr)
    return targets, runs, bound


def keep_fleet_history(
    args: argparse.Namespace, runs: list[Any], *, command: str, code: int, report: str = ""
) -> int:
    """One history snapshot per org read (and ``--notify`` per org); a failed org keeps none."""
    from ..reports.data import inventory_secrets
    from .options import keep_history

    for run in runs:
        if not run.ok:
            continue
        one = argparse.Namespace(**vars(args))
        one._identity = run.identity or {"instance_url": run.label}
        one._label = f"org {run.label}"
        secrets = inventory_secrets(run.inventory) if run.inventory is not None else []
        code = keep_history(
            one, run.tables, command=command, findings=run.findings, secrets=secrets, code=code, report=report
        )
    return code


def fleet_secrets(runs: list[Any]) -> list[str]:
    from ..reports.data import inventory_secrets

    return [s for r in runs if r.inventory is not None for s in inventory_secrets(r.inventory)]


def fleet_data(runs: list[Any]) -> Any:
    """The report data of a fleet run: the orgs' tables stacked (``org`` column), ``fleet`` and ``same_app``,
    the findings (apps named ``org/app``), partial when an org was."""
    from ..analysis import fleet
    from ..reports import ReportData

    tables = fleet.combine(runs)
    tables["fleet"] = with_scores(fleet.fleet_table(runs), runs)
    tables["same_app"] = fleet.same_app_across_orgs(runs)
    found = fleet.combine_findings(runs)
    return ReportData(
        tables=tables, findings=fleet.labelled(found) if found is not None else None,
        org_name=f"{len(runs)} orgs", origin=", ".join(r.label for r in runs),
        partial_reason=fleet.partial_reason(runs),
    )


def with_scores(table: Any, runs: list[Any]) -> Any:
    """``fleet.csv`` with each org's ``score`` and ``grade`` after its status, when the rules layer scores
    (``toolkit.rules.score``, docs/findings.md "Score and grade"); as it is otherwise (counts only)."""
    try:
        from ..rules.score import org_score
    except ImportError:
        return table
    scores = [
        org_score(r.findings, list(r.tables["apps"]["name"])) if r.ok and r.findings is not None else None
        for r in runs
    ]
    at = list(table.columns).index("status") + 1
    table.insert(at, "score", [s.score if s else None for s in scores])
    table.insert(at + 1, "grade", [s.grade if s else "" for s in scores])
    return table
