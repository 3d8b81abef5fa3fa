"""History: one small snapshot per ``audit``, ``check`` or ``report`` run, kept per org, for drift over time.

An entry is one gzip-compressed JSON file, ``<history>/<org key>/<UTC time>-<command>.json.gz``, holding the
org's identity (org id + instance URL, or the folder), the UTC time, the apps' compared settings (the columns
:func:`toolkit.analysis.drift.compared_columns` names: never a secret; consumer keys masked as in every
table), their IP ranges and custom attributes, the usage figures (counts and last-use dates, no user names)
and the failed findings (app, rule, severity, field). No token, consumer secret, user name or raw table is
kept. The newest :data:`KEEP` entries of each org are kept; older ones are removed when a run adds one.

The folder: ``--history DIR``, else ``$TOOLKIT_HISTORY``, else ``out/history`` (:func:`history_dir`).

>>> import tempfile, pandas as pd
>>> tables = {"apps": pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "ip_relaxation": "BYPASS"}])}
>>> folder = tempfile.mkdtemp()
>>> path = record(tables, folder, command="audit", identity={"folder": "/src/project"})
>>> entry = load_entry(path)
>>> entry.tables["apps"][["name", "ip_relaxation"]].values.tolist(), entry.meta["command"]
([['A', 'BYPASS']], 'audit')
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import OutputError, SourceError
from ..redact import redact
from .drift import _RECORDS, _text, compared_columns

FORMAT = 1
KEEP = 100  # entries kept per org
DEFAULT_DIR = "out/history"
ENV = "TOOLKIT_HISTORY"
SUFFIX = ".json.gz"
# the usage figures kept (they move on their own: reported apart from settings drift)
USAGE_COLUMNS = (
    "tokens", "users", "use_count", "inactive_user_tokens", "logins", "saml_logins",
    "last_token_use", "last_login", "last_saml_login", "last_used",
)
FINDING_COLUMNS = ("app", "rule", "severity", "field")
_NAME = re.compile(r"^(\d{8}T\d{6}(?:\.\d{6})?Z)-([a-z]+)(-partial)?\.json\.gz$")
PARTIAL = "-partial"  # in the name of a partial run's entry: its tables are incomplete
_KEY_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def history_dir(option: str | None = None) -> Path:
    """The history folder: ``option`` (``--history``), else ``$TOOLKIT_HISTORY``, else ``out/history``."""
    if option is not None and not option.strip():
        raise SourceError(f"--history cannot be {option!r}; allowed: a folder path (created when absent)")
    chosen = option or os.environ.get(ENV, "").strip() or DEFAULT_DIR
    return Path(chosen)


def org_key(identity: Mapping[str, Any]) -> str:
    """The folder name of an org's entries: its org id, else its host, else the folder's name + a hash.

    >>> org_key({"org_id": "00D5g0000000002AAA", "instance_url": "https://x.my.salesforce.com"})
    '00D5g0000000002AAA'
    >>> org_key({"instance_url": "https://acme.my.salesforce.com"})
    'acme.my.salesforce.com'
    >>> org_key({"folder": "/src/force-app"})[:10]
    'force-app-'
    """
    if identity.get("org_id"):
        return _KEY_SAFE.sub("_", str(identity["org_id"]))
    url = str(identity.get("instance_url") or "")
    if url:
        return _KEY_SAFE.sub("_", url.split("://", 1)[-1].strip("/"))
    folder = str(identity.get("folder") or "")
    digest = hashlib.sha256(folder.encode()).hexdigest()[:10]
    return f"{_KEY_SAFE.sub('_', Path(folder).name or 'folder')}-{digest}"


def org_id_18(org_id: str) -> str:
    """An org id in its 18-character case-safe form ("" when ``org_id`` is no org id).

    >>> org_id_18("00D5g0000000002"), org_id_18("not an id")
    ('00D5g0000000002EAA', '')
    """
    if not re.fullmatch(r"00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?", org_id or ""):
        return ""
    if len(org_id) == 18:
        return org_id
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(org_id[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        suffix += chars[bits]
    return org_id + suffix


def snapshot(
    tables: Mapping[str, pd.DataFrame],
    *,
    command: str,
    identity: Mapping[str, Any],
    findings: pd.DataFrame | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The history entry of one run (a JSON-ready dict); see the module doc for what it holds."""
    from .. import __version__

    apps = tables["apps"]
    cols = ["name", "kind", *compared_columns(apps)]
    records = [
        {c: v for c, v in zip(cols, (_text(x) for x in row), strict=True) if v is not None}
        for row in apps[cols].astype(object).itertuples(index=False)
    ]
    entry: dict[str, Any] = {
        "format": FORMAT,
        "command": command,
        "created": (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "toolkit_version": __version__,
        "org": {k: str(v) for k, v in identity.items() if v},
        "partial": bool(apps.attrs.get("partial", False)),
        "partial_reason": redact(str(apps.attrs.get("partial_reason", "") or "")),
        "apps": {"columns": cols, "rows": records},
    }
    for name, keys in _RECORDS.items():
        frame = tables.get(name)
        if frame is not None:
            entry[name] = [
                [_text(r.get("app")), *(_text(r.get(k)) for k in keys)] for r in frame.to_dict("records")
            ]
    usage = tables.get("usage")
    if usage is not None and "app" in usage.columns:
        ucols = ["app", *(c for c in USAGE_COLUMNS if c in usage.columns)]
        rows = usage[ucols].astype(object).itertuples(index=False)
        entry["usage"] = {"columns": ucols, "rows": [[_text(v) for v in row] for row in rows]}
    if findings is not None:
        fails = failed(findings)
        entry["findings"] = fails.values.tolist()
        entry["counts"] = {str(k): int(v) for k, v in fails["severity"].value_counts().items()}
    return entry


def failed(findings: pd.DataFrame) -> pd.DataFrame:
    """The failed findings as history keeps them: app, rule, severity, field (text)."""
    fails = findings[findings["status"] == "fail"] if "status" in findings.columns else findings
    cols = list(FINDING_COLUMNS)
    frame = fails.reindex(columns=cols).astype(object)
    text = frame.where(frame.notna(), "").astype(str).astype(object)
    return text.sort_values(cols, ignore_index=True)


def record(
    tables: Mapping[str, pd.DataFrame],
    folder: str | Path,
    *,
    command: str,
    identity: Mapping[str, Any],
    findings: pd.DataFrame | None = None,
    secrets: list[str] | None = None,
    keep: int = KEEP,
    now: datetime | None = None,
    score: int | None = None,
) -> Path:
    """Write this run's entry into ``folder`` (atomically) and keep the newest ``keep`` of its org;
    ``score``: the org's score of this run (:func:`toolkit.rules.score.org_score`), for the trend."""
    now = now or datetime.now(UTC)
    entry = snapshot(tables, command=command, identity=identity, findings=findings, now=now)
    if score is not None:
        entry["score"] = int(score)
    org_folder = Path(folder) / org_key(identity)
    try:
        org_folder.mkdir(parents=True, exist_ok=True)
        partial = PARTIAL if entry["partial"] else ""
        path = org_folder / f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{command}{partial}{SUFFIX}"
        # known secret values, token shapes and PEM blocks go (a guard: no compared setting is a secret)
        text = redact(json.dumps(entry, ensure_ascii=False), secrets or (), keywords=False)
        data = gzip.compress(text.encode(), mtime=0)
        fd, tmp = tempfile.mkstemp(dir=org_folder, prefix=".entry.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        for old in entries(org_folder)[:-keep] if keep > 0 else []:
            old.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"history {folder}: cannot keep this run ({exc.strerror or exc})") from None
    return path


def entries(org_folder: str | Path) -> list[Path]:
    """An org's entries, oldest first."""
    folder = Path(org_folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _NAME.match(p.name) and p.is_file())


def orgs(folder: str | Path) -> list[Path]:
    """The org folders of a history folder."""
    base = Path(folder)
    return sorted(p for p in base.iterdir() if p.is_dir() and entries(p)) if base.is_dir() else []


@dataclass
class Entry:
    """One history entry read back: the tables ``diff`` compares, the findings, and the rest (``meta``)."""

    path: Path
    meta: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    findings: pd.DataFrame

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(str(self.meta.get("created", "")).replace("Z", "+00:00"))


def load_entry(path: str | Path) -> Entry:
    """An entry file read back; :class:`SourceError` when it is not one."""
    p = Path(path)
    try:
        meta = json.loads(gzip.decompress(p.read_bytes()).decode("utf-8"))
    except (OSError, EOFError, ValueError, RecursionError) as exc:
        raise SourceError(
            f"{p}: not a history entry ({type(exc).__name__}); allowed: a .json.gz file a run kept"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("apps"), dict):
        raise SourceError(f"{p}: not a history entry of format {FORMAT}; allowed: a file `audit` kept")
    try:
        apps = pd.DataFrame(meta["apps"]["rows"], columns=meta["apps"]["columns"], dtype=object)
        tables = {"apps": apps}
        for name, keys in _RECORDS.items():
            tables[name] = pd.DataFrame(meta.get(name, []), columns=["app", *keys], dtype=object)
        if "usage" in meta:
            usage = meta["usage"]
            tables["usage"] = pd.DataFrame(usage["rows"], columns=usage["columns"], dtype=object)
        found = pd.DataFrame(meta.get("findings", []), columns=list(FINDING_COLUMNS), dtype=object)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"{p}: unreadable history entry ({exc}); allowed: a file `audit` kept") from None
    org: dict[str, Any] = meta["org"] if isinstance(meta.get("org"), dict) else {}
    for frame in tables.values():
        frame.attrs["origin"] = str(org.get("instance_url") or org.get("folder") or "")
    return Entry(p, meta, tables, found)


def complete(paths: list[Path]) -> list[Path]:
    """The entries of complete runs (a partial run's tables lack what it could not read: comparing with one
    would show apps and findings that were never there as removed or fixed)."""
    return [p for p in paths if not p.name.endswith(PARTIAL + SUFFIX)]


def find_entry(folder: str | Path, identity: Mapping[str, Any], since: str) -> Entry:
    """The entry ``--since`` names for this org: ``last`` (the newest), or a date/time (the newest entry at
    or before it; a date ``2026-11-01`` means that whole UTC day). Entries of partial runs are passed over."""
    kept = entries(Path(folder) / org_key(identity))
    found = complete(kept)
    if not found and identity.get("instance_url"):  # an org known by its URL only (an audit output folder)
        for org_folder in orgs(folder):
            newest = load_entry(entries(org_folder)[-1])
            if newest.meta.get("org", {}).get("instance_url") == identity["instance_url"]:
                found = complete(entries(org_folder))
                break
    if not found:
        why = f"only partial runs of {_who(identity)} are kept" if kept else f"no history of {_who(identity)}"
        raise SourceError(
            f"--since {since}: {why} in {folder}; run audit, check or report first (or give --history DIR)"
        )
    if since == "last":
        return load_entry(found[-1])
    limit = _since_limit(since)
    older = [p for p in found if _stamp(p) <= limit]
    if not older:
        first = _stamp(found[0]).isoformat(timespec="seconds")
        raise SourceError(
            f"--since {since}: no entry of {_who(identity)} at or before it; allowed: 'last' or a date from "
            f"{first[:10]} (the oldest kept)"
        )
    return load_entry(older[-1])


def _since_limit(since: str) -> datetime:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
            d = date.fromisoformat(since)
            return datetime(d.year, d.month, d.day, 23, 59, 59, 999999, tzinfo=UTC)
        value = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(
            f"--since cannot be {since[:40]!r}; allowed: 'last', a date (2026-11-01) or a UTC time "
            "(2026-11-01T09:30:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stamp(path: Path) -> datetime:
    m = _NAME.match(path.name)
    assert m is not None
    return datetime.strptime(m.group(1), "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)


def _who(identity: Mapping[str, Any]) -> str:
    who = identity.get("instance_url") or identity.get("folder") or identity.get("org_id")
    return str(who or "the source")


def new_and_fixed(previous: pd.DataFrame, current: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(new, fixed): failed findings in ``current`` and not in ``previous``, and the reverse (by app + rule).

    >>> old = pd.DataFrame([["A", "NET-01", "high", "ip_relaxation"]], columns=FINDING_COLUMNS)
    >>> new = pd.DataFrame([["B", "OAU-02", "medium", "pkce"]], columns=FINDING_COLUMNS)
    >>> [f["app"].tolist() for f in new_and_fixed(old, new)]
    [['B'], ['A']]
    """

    def keys(frame: pd.DataFrame) -> list[tuple[str, str]]:
        return [(str(a), str(r)) for a, r in zip(frame["app"], frame["rule"], strict=True)]

    before, after = set(keys(previous)), set(keys(current))
    new = current[[k not in before for k in keys(current)]]
    fixed = previous[[k not in after for k in keys(previous)]]
    return new.reset_index(drop=True), fixed.reset_index(drop=True)


TREND_COLUMNS = ("created", "command", "failed", "critical", "high", "medium", "low", "info", "score")


def trend(folder: str | Path, identity: Mapping[str, Any]) -> pd.DataFrame:
    """The failed findings per severity of every kept run of this org, oldest first (``TREND_COLUMNS``)."""
    rows = []
    for path in complete(entries(Path(folder) / org_key(identity))):
        try:
            meta = load_entry(path).meta
        except SourceError:
            continue  # a damaged entry: the others still make the trend
        counts = meta.get("counts")
        if not isinstance(counts, dict):
            continue  # a run that computed no findings
        by = [int(counts.get(s, 0)) for s in TREND_COLUMNS[3:-1]]
        score = meta.get("score")  # None for an entry kept before scores were
        rows.append([meta.get("created", ""), meta.get("command", ""), sum(by), *by,
                     int(score) if isinstance(score, int | float) else None])
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))


def since_last(
    folder: str | Path, identity: Mapping[str, Any], findings: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """What a report shows of the history: ``new`` and ``fixed`` failed findings since the newest kept run
    (``FINDING_COLUMNS``; both empty when none is kept) and the ``trend`` over the kept runs (:func:`trend`);
    call it before this run's entry is kept."""
    current = failed(findings)
    try:
        previous = find_entry(folder, identity, "last").findings
    except SourceError:
        previous = current  # nothing kept yet: nothing new, nothing fixed
    new, fixed = new_and_fixed(previous, current)
    return {"new": new, "fixed": fixed, "trend": trend(folder, identity)}
