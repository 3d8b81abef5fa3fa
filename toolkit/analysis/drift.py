"""Drift: save an audit as a snapshot folder, and say per app and setting what changed between two audits.

A snapshot is a folder with one CSV per table and ``manifest.json`` (source, UTC time, toolkit version, the
tables with their row counts). :func:`diff_audits` compares the settings of two audits (two dates of one org,
or a sandbox and production): apps added, removed, and per app each catalog setting that changed. Usage
counters (tokens, logins, last use) are not settings and are not compared.

>>> import pandas as pd
>>> old = {"apps": pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "ip_relaxation": "BYPASS"},
...                              {"name": "B", "kind": "ConnectedApp", "ip_relaxation": "ENFORCE"}])}
>>> new = {"apps": pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "ip_relaxation": "ENFORCE"}])}
>>> diff_audits(old, new)[["app", "change", "field", "old", "new"]].values.tolist()
[['A', 'changed', 'ip_relaxation', 'BYPASS', 'ENFORCE'], ['B', 'removed', '', None, None]]
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SourceError
from ..model import catalog
from .summary import _FORMULA_START  # what the audit's CSV writer prefixes with "'"

MANIFEST = "manifest.json"
_WHOLE = re.compile(r"^-?\d+\.0$")
DIFF_COLUMNS = ("app", "kind", "change", "field", "setting", "old", "new")
# settings shown apart from the catalog columns: certificate facts (tables.certificate_columns)
_EXTRA = (
    "has_certificate",
    "certificate_expires",
    "has_saml_certificate",
    "saml_certificate_expires",
    "has_saml_encryption_certificate",
    "saml_encryption_certificate_expires",
)
_RECORDS = {"ip_ranges": ("start", "end"), "attributes": ("key", "formula")}
_RECORD_FIELD = {"ip_ranges": "ip_ranges", "attributes": "custom_attributes"}
# the columns diff_audits reads of each table
_NEEDED = {"apps": ("name", "kind"), **{t: ("app", *keys) for t, keys in _RECORDS.items()}}


def _missing_columns(table: str, frame: Any) -> list[str]:
    """The columns of ``table`` that diff_audits needs and ``frame`` lacks (``[]`` for other tables)."""
    needed = _NEEDED.get(table, ())
    return [c for c in needed if c not in getattr(frame, "columns", ())]


def save_snapshot(tables: dict[str, pd.DataFrame], folder: str | Path, *, source: str = "") -> Path:
    """Write ``tables`` (one CSV each) and ``manifest.json`` into ``folder``; returns the manifest path."""
    from .. import __version__

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
        entries[name] = {"file": f"{name}.csv", "rows": len(frame)}
    apps = tables.get("apps")
    manifest = {
        "source": source or (apps.attrs.get("origin", "") if apps is not None else ""),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "toolkit_version": __version__,
        "partial": bool(apps.attrs.get("partial", False)) if apps is not None else False,
        "tables": entries,
    }
    path = out / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def load_snapshot(folder: str | Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """(tables, manifest) of a snapshot folder; :class:`SourceError` when it is not one."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise SourceError(f"{folder}: not a snapshot (no {MANIFEST}); save one with toolkit.save_snapshot()")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise SourceError(f"{path}: unreadable snapshot manifest: nested too deeply") from None
    except ValueError as exc:
        raise SourceError(f"{path}: unreadable snapshot manifest: {exc}") from None
    _check_manifest(manifest, path)
    files = {name: entry["file"] for name, entry in manifest["tables"].items()}
    unreadable = f"{path}: unreadable snapshot manifest or table"
    tables = _read_tables(Path(folder), files, unreadable, "save_snapshot()")
    for frame in tables.values():
        frame.attrs["origin"] = manifest.get("source", "")
    return tables, manifest


def _read_tables(
    folder: Path, files: dict[str, str], unreadable: str, writer: str
) -> dict[str, pd.DataFrame]:
    """The CSV ``files`` of ``folder`` as text tables (``apps`` typed back), their needed columns checked."""
    try:
        tables = {
            name: pd.read_csv(folder / file, dtype=object, keep_default_na=False, na_values=[""])
            for name, file in files.items()
        }
    except (ValueError, KeyError, OSError) as exc:
        raise SourceError(f"{unreadable}: {exc}") from None
    for name, frame in tables.items():
        missing = _missing_columns(name, frame)
        if missing:
            raise SourceError(
                f"{folder / files[name]}: lacks the column(s) "
                f"{', '.join(map(repr, missing))}; allowed: a table as {writer} writes it "
                f"({', '.join(_NEEDED[name])}, ...)"
            )
    if "apps" in tables:
        tables["apps"] = _typed(tables["apps"])
    return tables


_AUDIT_PAGES = ("summary.html", "report.html")


def is_audit_output(folder: str | Path) -> bool:
    """A folder ``audit`` or ``report`` wrote (``apps.csv`` beside ``summary.html`` or ``report.html``)."""
    f = Path(folder)
    return not is_snapshot(f) and (f / "apps.csv").is_file() and any((f / p).is_file() for p in _AUDIT_PAGES)


def load_audit_output(folder: str | Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """(tables, facts) of an audit output folder: every CSV table, the cells the CSV writer neutralised
    (``'=...``) back as they were; facts: ``source`` (the apps' origin) and ``created`` (the files' time)."""
    f = Path(folder)
    if not is_audit_output(f):
        raise SourceError(f"{folder}: not an audit output folder (no apps.csv beside summary.html)")
    files = {p.stem: p.name for p in sorted(f.glob("*.csv")) if p.is_file()}
    tables = _read_tables(f, files, f"{f}: unreadable audit table", "`audit`")
    for name, frame in tables.items():
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(_unneutral)
        tables[name] = frame
    apps = tables["apps"]
    if "org" in apps.columns and apps["org"].nunique() > 1:
        raise SourceError(
            f"{folder}: the outputs of {apps['org'].nunique()} orgs (one run of several orgs); diff compares "
            "one org: give that org's history (--since last --org ALIAS) or its `check --snapshot DIR` "
            "subfolder; same_app.csv there compares the orgs with each other"
        )
    origins = apps["origin"].dropna() if "origin" in apps.columns else pd.Series(dtype=object)
    origin = str(origins.iloc[0]) if len(origins) else ""
    created = datetime.fromtimestamp((f / "apps.csv").stat().st_mtime, UTC).isoformat(timespec="seconds")
    for frame in tables.values():
        frame.attrs["origin"] = origin
    return tables, {"source": origin, "created": created}


def _unneutral(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


_BOOL_TEXT = {"True": True, "False": False, "true": True, "false": False}


def _typed(apps: pd.DataFrame) -> pd.DataFrame:
    """The ``apps`` table with the catalog's types back (CSV keeps text): booleans, whole numbers."""
    out = apps.copy()
    for col in out.columns:
        f = catalog.CATALOG.get(col)
        if (
            col.startswith("has_")
            or col in ("editable", "installed", "used", "partial")
            or (f is not None and f.type == "boolean")
        ):
            out[col] = out[col].map(_BOOL_TEXT).astype("boolean")
        elif (f is not None and f.type == "integer") or col in (
            "tokens",
            "users",
            "logins",
            "inactive_user_tokens",
            "use_count",
        ):
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
        elif col == "pin_length" or col == "lock_after":
            out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def _check_manifest(manifest: Any, path: Path) -> None:
    """:class:`SourceError` unless ``manifest`` is {"tables": {name: {"file": "NAME.csv"}}, ...}."""
    allowed = 'allowed: {"tables": {"apps": {"file": "apps.csv"}, ...}} as written by save_snapshot()'
    tables = manifest.get("tables") if isinstance(manifest, dict) else None
    if not isinstance(tables, dict):
        raise SourceError(f"{path}: 'tables' cannot be {str(tables)[:60]!r}; {allowed}")
    for name, entry in tables.items():
        file = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(file, str) or Path(file).name != file or not file.endswith(".csv"):
            raise SourceError(f"{path}: tables.{name} cannot be {str(entry)[:60]!r}; {allowed}")


def is_snapshot(folder: str | Path) -> bool:
    return (Path(folder) / MANIFEST).is_file()


def compared_columns(apps: pd.DataFrame) -> list[str]:
    """The settings compared: catalog columns (never secrets) plus certificate facts, in catalog order."""
    ids = [f.id for f in catalog.fields() if not f.secret]
    return [c for c in [*ids, *_EXTRA] if c in apps.columns]


def diff_audits(old: Any, new: Any) -> pd.DataFrame:
    """Per app and setting what changed from ``old`` to ``new`` (tables dicts, snapshot folders, or sources).

    Columns: ``app``, ``kind``, ``change`` (``added`` / ``removed`` / ``changed``), ``field`` (catalog id),
    ``setting`` (Setup label), ``old``, ``new`` (display text; None when not set).
    """
    a, b = _tables(old), _tables(new)
    left, right = _settings(a), _settings(b)
    rows: list[dict[str, Any]] = []
    only_old = left.index.difference(right.index)
    only_new = right.index.difference(left.index)
    for name in only_new:
        rows.append(_row(name, right.at[name, "kind"], "added"))
    for name in only_old:
        rows.append(_row(name, left.at[name, "kind"], "removed"))
    both = left.index.intersection(right.index)
    cols = [c for c in left.columns if c in right.columns and c != "kind"]
    lv = left.loc[both, cols]
    rv = right.loc[both, cols]
    differ = lv.fillna("\0").to_numpy() != rv.fillna("\0").to_numpy()
    for i, j in zip(*differ.nonzero(), strict=True):
        name, col = both[i], cols[j]
        rows.append(_row(name, right.at[name, "kind"], "changed", col, lv.iat[i, j], rv.iat[i, j]))
    out = pd.DataFrame(rows, columns=list(DIFF_COLUMNS), dtype=object)
    rank = {"changed": 0, "added": 1, "removed": 2}
    order = {c: i for i, c in enumerate(cols)}
    out = out.assign(_r=out["change"].map(rank), _c=out["field"].map(order).fillna(-1))
    return out.sort_values(["_r", "app", "_c"], ignore_index=True).drop(columns=["_r", "_c"])


USAGE_FIGURES = {
    "tokens": "OAuth tokens", "users": "users with a token", "use_count": "token uses",
    "inactive_user_tokens": "tokens of inactive users", "logins": "logins", "saml_logins": "SAML sign-ins",
    "last_token_use": "last token use", "last_login": "last login", "last_saml_login": "last SAML sign-in",
    "last_used": "last used",
}
USAGE_COLUMNS = ("app", "figure", "label", "old", "new")


def usage_changes(old: Any, new: Any) -> pd.DataFrame:
    """The usage figures that moved between two audits, per app: counts and last-use dates move on their own
    (people sign in), so they are reported apart from settings drift (:func:`diff_audits`).

    Columns ``app``, ``figure`` (the ``usage`` column), ``label``, ``old``, ``new`` (text; None when absent);
    empty when a side has no ``usage`` table (a folder). Apps only one side has are left out (``diff_audits``
    names them).

    >>> a = {"usage": pd.DataFrame([{"app": "A", "logins": 3, "last_login": "2026-11-01"}])}
    >>> b = {"usage": pd.DataFrame([{"app": "A", "logins": 5, "last_login": "2026-11-01"}])}
    >>> usage_changes(a, b).values.tolist()
    [['A', 'logins', 'logins', '3', '5']]
    """
    a, b = _tables(old).get("usage"), _tables(new).get("usage")
    if a is None or b is None or "app" not in a.columns or "app" not in b.columns:
        return pd.DataFrame(columns=list(USAGE_COLUMNS), dtype=object)
    figures = [c for c in USAGE_FIGURES if c in a.columns and c in b.columns]
    left = a.drop_duplicates("app").set_index(a.drop_duplicates("app")["app"].astype(str))
    right = b.drop_duplicates("app").set_index(b.drop_duplicates("app")["app"].astype(str))
    rows = []
    for app in sorted(left.index.intersection(right.index)):
        for fig in figures:
            before, after = _figure(left.at[app, fig]), _figure(right.at[app, fig])
            if before != after:
                rows.append(
                    {"app": app, "figure": fig, "label": USAGE_FIGURES[fig], "old": before, "new": after}
                )
    return pd.DataFrame(rows, columns=list(USAGE_COLUMNS), dtype=object)


def _figure(value: Any) -> str | None:
    """A usage figure as text; a date the same whichever side it comes from (a table, a CSV, a history)."""
    text = _text(value)
    if text and len(text) >= 19 and text[:4].isdigit() and text[10] in " T":
        try:
            return pd.Timestamp(text).isoformat()
        except ValueError:
            return text
    return text


def _tables(value: Any) -> dict[str, pd.DataFrame]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str | Path) and is_snapshot(value):
        return load_snapshot(value)[0]
    if isinstance(value, str | Path) and is_audit_output(value):
        return load_audit_output(value)[0]
    from .audit import audit

    return audit(value)


def _settings(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One text row per app: the compared settings as display text (None when not set)."""
    if "apps" not in tables:
        raise SourceError("diff_audits(): a side has no 'apps' table; allowed: the tables of toolkit.audit()")
    for name in _NEEDED:
        missing = _missing_columns(name, tables.get(name, pd.DataFrame(columns=_NEEDED[name])))
        if missing:
            raise SourceError(
                f"diff_audits(): the {name!r} table lacks the column(s) {', '.join(map(repr, missing))}; "
                "allowed: the tables of toolkit.audit() or of a snapshot"
            )
    apps = tables["apps"]
    cols = compared_columns(apps)
    frame = pd.DataFrame(
        {c: [_text(v) for v in apps[c].astype(object)] for c in cols},
        index=apps["name"].astype(str),
        dtype=object,
    )
    frame.insert(0, "kind", list(apps["kind"].astype(str)))
    for table, keys in _RECORDS.items():
        long = tables.get(table)
        if long is None:
            continue
        joined: dict[str, list[str]] = {}
        for r in long.to_dict("records"):
            joined.setdefault(str(r["app"]), []).append(" ".join(str(_text(r[k]) or "") for k in keys))
        frame[_RECORD_FIELD[table]] = [
            "; ".join(sorted(joined[n])) if n in joined else None for n in frame.index
        ]
    return frame[~frame.index.duplicated()]


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    text = str(value)
    if _WHOLE.match(text):
        text = text[:-2]  # a whole number written by a float column ("30.0") reads back as text
    return text if text != "" else None


def _row(
    name: str, kind: Any, change: str, col: str = "", old: Any = None, new: Any = None
) -> dict[str, Any]:
    label = catalog.CATALOG[col].label if col in catalog.CATALOG else col.replace("_", " ")
    return {
        "app": name,
        "kind": kind,
        "change": change,
        "field": col,
        "setting": label if col else "",
        "old": old,
        "new": new,
    }
