"""Audit tables for people: Setup labels for names and values, one marker for *not set*, one for *unknown*.

The audit tables keep canonical values (``ENFORCE_RELAXREFRESH``, ``True``, missing as ``<NA>``); the forms,
the widgets and the report show them through this module so every place reads the same:

- a setting the app does not set is :data:`NOT_SET`; one that could not be read (a packaged app's metadata,
  a SOQL-only field in a folder audit, an app known only from its tokens) is :data:`UNKNOWN`; a setting the
  kind of app does not have is :data:`NOT_APPLICABLE` (the markers: :mod:`.markers`); :data:`LEGEND` says
  so in words;
- booleans are ``Yes``/``No``; enum values carry their Setup label
  (:func:`toolkit.model.catalog.value_label`);
- columns are the curated :data:`REPORT_COLUMNS`, headed by their Setup label.

>>> import pandas as pd
>>> apps = pd.DataFrame({"name": ["A"], "kind": ["ConnectedApp"], "coverage": ["metadata"],
...                      "pkce": [True], "pin_length": [None], "push_environment": [None]})
>>> people_table(apps, ["name", "pkce", "pin_length", "push_environment"]).iloc[0].tolist()
['A', 'Yes', '(unknown)', '—']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..model import catalog
from .markers import NOT_APPLICABLE, NOT_SET, UNKNOWN

LEGEND = {
    NOT_SET: "not set (Salesforce applies its default)",
    UNKNOWN: "unknown: could not be read (see the app's coverage)",
    NOT_APPLICABLE: "this kind of app has no such setting",
}
YES, NO = "Yes", "No"

# Columns that are not catalog fields: their labels
BASE_LABELS = {
    "name": "App", "kind": "Kind", "origin": "Origin", "coverage": "Coverage",
    "coverage_reason": "Why not fully read", "editable": "Editable",
    "not_editable_reason": "Why not editable",
    "read_only": "Read-only parts",
    "has_certificate": "Has a certificate", "certificate_expires": "Certificate expires",
    "tokens": "OAuth tokens", "users": "Users with tokens", "logins": "Logins", "last_used": "Last used",
    "inactive_user_tokens": "Tokens of inactive users", "used": "Used", "installed": "Installed",
}
# What the coverage of an app means, in words
COVERAGE_LABELS = {
    "metadata+soql": "Metadata and SOQL", "metadata": "Metadata",
    "soql_only": "SOQL only (installed package)",
    "tokens_only": "Tokens or logins only (not installed)", "unreadable": "Metadata unreadable",
    "metadata_unknown": "Metadata unknown",
}
# The apps table of the report: who the app is, how it authorizes, its policies (the CSVs keep every column)
REPORT_COLUMNS = (
    "name", "kind", "coverage", "permitted_users", "ip_relaxation", "refresh_policy", "pkce",
    "secret_web_server", "client_credentials", "session_level", "has_certificate",
)
# coverage -> which sources were read: nothing (an app only tokens or logins name), or SOQL only (a packaged
# app; an app whose metadata could not be read)
_READ_NOTHING = frozenset({"tokens_only"})
_READ_SOQL_ONLY = frozenset({"soql_only", "unreadable", "metadata_unknown"})


def column_label(column: str) -> str:
    """The Setup label of a column (a catalog field), else a plain-words label.

    >>> column_label("ip_relaxation"), column_label("name"), column_label("has_oauth")
    ('IP Relaxation', 'App', 'Has OAuth')
    """
    if column in catalog.CATALOG:
        return catalog.CATALOG[column].label
    if column in BASE_LABELS:
        return BASE_LABELS[column]
    if column.startswith("has_"):
        return "Has " + column[4:].replace("_", " ").replace("oauth", "OAuth").replace("saml", "SAML")
    return column.replace("_", " ").capitalize()


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def was_read(f: catalog.Field, kind: str, coverage: str) -> bool:
    """Whether an app of this kind and coverage had this field's sources read (else a blank is unknown).

    >>> pin = catalog.field("pin_length")
    >>> was_read(pin, "ConnectedApp", "metadata"), was_read(pin, "ConnectedApp", "metadata+soql")
    (False, True)
    """
    binding = f.binding(kind)
    if binding is None or not binding.reads or coverage in _READ_NOTHING:
        return False  # no such setting; a Setup-only setting no API reads; an app known only from tokens
    soql = any(s.soql for s in binding.reads)
    metadata = any(not s.soql for s in binding.reads)
    if coverage in _READ_SOQL_ONLY:
        return soql
    if coverage == "metadata":  # a folder, or an org app whose SOQL row did not match
        return metadata
    return True


def display_value(column: str, value: Any, kind: str = "", coverage: str = "metadata+soql") -> str:
    """One cell for people: the marker for not set / unknown / not applicable, Yes/No, Setup value labels.

    >>> display_value("ip_relaxation", "BYPASS", "ConnectedApp")
    'Relax IP restrictions'
    >>> display_value("pkce", False, "ConnectedApp"), display_value("pkce", None, "ConnectedApp")
    ('No', '(not set)')
    >>> display_value("pkce", None, "ConnectedApp", "soql_only"), display_value("refresh_n", 6.0)
    ('(unknown)', '6')
    >>> display_value("pkce", pd.array([True], dtype="boolean")[0])
    'Yes'
    """
    f = catalog.CATALOG.get(column)
    if f is not None and kind and f.binding(kind) is None:
        return NOT_APPLICABLE
    if _missing(value) or value == "":
        if f is not None and kind and not was_read(f, kind, coverage):
            return UNKNOWN
        return NOT_SET
    if isinstance(value, bool | np.bool_):
        return YES if value else NO
    if isinstance(value, str) and value.lower() in ("true", "false"):  # e.g. a custom attribute's formula
        return YES if value.lower() == "true" else NO
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if column == "kind":
        return catalog.KIND_LABELS.get(str(value), str(value))
    if column == "coverage":
        return COVERAGE_LABELS.get(str(value), str(value))
    if f is not None and f.many:
        return "; ".join(catalog.value_label(f, v) for v in str(value).split("; "))
    return catalog.value_label(f, value) if f is not None else str(value)


def people_table(apps: pd.DataFrame, columns: Sequence[str] = REPORT_COLUMNS) -> pd.DataFrame:
    """The apps table as people read it: chosen columns (missing ones skipped), Setup labels, markers."""
    cols = [c for c in columns if c in apps.columns]
    kinds = apps["kind"].astype(str) if "kind" in apps else pd.Series("", index=apps.index)
    coverage = (
        apps["coverage"].astype(str) if "coverage" in apps else pd.Series("metadata+soql", index=apps.index)
    )
    out = pd.DataFrame(index=apps.index)
    for c, label in zip(cols, unique_labels(cols), strict=True):
        out[label] = [display_value(c, v, k, cov) for v, k, cov in zip(apps[c], kinds, coverage, strict=True)]
    return out.reset_index(drop=True)


def unique_labels(columns: Sequence[str]) -> list[str]:
    """The columns' labels, a label two columns share followed by the column's own name (no column lost).

    >>> unique_labels(["name", "app", "pkce"])
    ['App', 'App (app)', 'Require Proof Key for Code Exchange (PKCE)']
    """
    labels: list[str] = []
    for c in columns:
        label = column_label(str(c))
        labels.append(f"{label} ({c})" if label in labels else label)
    return labels


def people_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Any audit table as people read it: every column headed by its Setup label, cells through
    :func:`display_value` (per row's kind and coverage when the table has them: the ``apps`` table).

    >>> people_frame(pd.DataFrame({"name": ["A"], "scope": ["Api"], "custom": [False]})).columns.tolist()
    ['App', 'Scope', 'Custom']
    """
    if {"kind", "coverage"} <= set(frame.columns):
        return people_table(frame, list(frame.columns))
    kinds = frame["kind"].astype(str) if "kind" in frame else pd.Series("", index=frame.index)
    columns = [str(c) for c in frame.columns]
    out = pd.DataFrame(index=frame.index)
    for c, label in zip(columns, unique_labels(columns), strict=True):
        out[label] = [display_value(c, v, k) for v, k in zip(frame[c], kinds, strict=True)]
    return out.reset_index(drop=True)


def legend_items() -> list[tuple[str, str]]:
    """(marker, meaning) pairs for a legend.

    >>> legend_items()[0]
    ('(not set)', 'not set (Salesforce applies its default)')
    """
    return list(LEGEND.items())


def css_string(text: Any) -> str:
    """Text as the inside of a CSS string (a Styler tooltip's ``content``): no ``<``, ``>``, quote or
    backslash survives, so a value cannot close the ``<style>`` element or the string.

    >>> css_string('</style>"'), any(c in css_string('<>"\\\\') for c in '<>"')
    ('\\\\3c /style\\\\3e \\\\22 ', False)
    """
    out = []
    for ch in str(text):
        out.append(f"\\{ord(ch):x} " if ch in '<>"\'\\&\n\r' else ch)
    return "".join(out)


def escaped_style(frame: pd.DataFrame) -> Any:
    """``frame.style`` with every cell and every index and column label HTML-escaped (pandas' Styler
    renders them raw by default: an app's value could otherwise be markup that runs in the notebook)."""
    return (
        frame.style.format(escape="html")
        .format_index(escape="html", axis=0)
        .format_index(escape="html", axis=1)
    )
