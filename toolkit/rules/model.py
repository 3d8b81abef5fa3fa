"""What a rule is (data), what it sees of an app (:class:`AppFacts`) and what it answers (:class:`Outcome`).

A rule is an id, a title, a severity, a rationale with its public basis, the catalog ids it reads, what kind
of app it applies to and a remedy (the catalog field and value that fix it, or the Setup path when no API
can). Most rules are one expectation on one catalog field (``field`` + ``expect``); the others carry a small
``check`` function over :class:`AppFacts`. Rules never see metadata paths: only canonical catalog values.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..model import catalog
from ..model.org_settings import org_setting

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # info 0 ... critical 4
AppliesTo = Literal["ConnectedApp", "ExternalClientApplication", "both", "org"]

FAIL, CANNOT_CHECK, IGNORED = "fail", "cannot check", "ignored"


def at_least(severity: str, threshold: str) -> bool:
    """Whether ``severity`` is ``threshold`` or worse.

    >>> at_least("critical", "high"), at_least("low", "medium")
    (True, False)
    """
    return RANK[severity] >= RANK[threshold]  # type: ignore[index]


@dataclass(frozen=True)
class Remedy:
    """How to fix a finding: catalog field/value pairs an edit can set, else the Setup path (``setup``)."""

    changes: tuple[
        tuple[str, Any, str], ...
    ] = ()  # (catalog id, value, op: = | += | -=), the edits layer's ops
    setup: str = ""  # where a person does it when no API can (or a choice is needed)
    text: str = ""  # one line for people when the changes do not say it all

    def fixable_by_api(self, kind: str) -> bool:
        return bool(self.changes) and all(catalog.field(f).writable(kind) for f, _, _ in self.changes)

    def describe(self) -> str:
        if self.text:
            return self.text
        verbs = {"=": "set {} to {}", "+=": "add {1} to {0}", "-=": "remove {1} from {0}"}
        parts = [verbs[op].format(catalog.field(f).label, _shown(f, v)) for f, v, op in self.changes]
        return "; ".join(parts) or self.setup


@dataclass(frozen=True)
class Outcome:
    """A failed check: what was seen, what was expected, and a sentence for people."""

    observed: Any
    expected: str
    message: str = ""


@dataclass(frozen=True)
class CannotCheck:
    """The audit could not read what the rule needs: never a pass, never a fail."""

    why: str


Check = Callable[["AppFacts"], "Outcome | CannotCheck | None"]
OrgCheck = Callable[["OrgFacts"], "Outcome | CannotCheck | None"]
ORG_APP = "(org)"  # the ``app`` of an org-level finding (its ``kind`` is "org")


@dataclass(frozen=True)
class Rule:
    """One rule, as data (see the module docstring); ``needs``: the audit tables it cannot run without."""

    id: str
    title: str
    severity: Severity
    rationale: str
    basis: str  # the public source
    reads: tuple[str, ...]  # catalog ids (and audit columns such as ``tokens``)
    applies_to: AppliesTo = "both"
    remedy: Remedy = field(default_factory=Remedy)
    field: str = ""  # the catalog id a finding points at (the first of ``reads`` by default)
    expect: str = ""  # an expectation on ``field`` (toolkit.analysis.expect); baselines may override it
    when: Callable[[AppFacts], bool | None] | None = None  # applicability (e.g. mobile apps only)
    check: Check | None = None  # custom logic when one expectation is not enough
    org_check: OrgCheck | None = None  # an org-level rule (applies_to "org"): reads the ``org`` table
    needs: tuple[str, ...] = ()  # audit tables/columns only an org provides (usage, tokens, logins)
    baselines: tuple[str, ...] = ("Salesforce recommended",)
    message: str = ""  # the sentence of a failed expectation (the title otherwise; checks give their own)

    @property
    def target(self) -> str:
        return self.field or (self.reads[0] if self.reads else "")

    def applies(self, kind: str) -> bool:
        return self.applies_to in ("both", kind)


@dataclass
class AppFacts:
    """One app as rules see it: its ``apps`` row (canonical values, None when unset) plus its long rows.

    ``row`` values are already clean (None for NaN/NA: :func:`clean_records`).
    """

    row: Mapping[Any, Any]
    scopes: frozenset[str] = frozenset()
    callbacks: tuple[str, ...] = ()
    ip_ranges: tuple[tuple[str, str], ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)
    grants: tuple[str, ...] = ()
    logins_by_flow: Mapping[str, int] = field(default_factory=dict)
    stale_tokens: int = 0  # tokens not used for more than 90 days
    tokens_before_change: int = 0  # tokens created before the app's last modification
    eca_names: frozenset[str] = frozenset()
    today: Any = None
    memo: dict[str, Any] = field(default_factory=dict)  # applicability tests computed once per app

    def __post_init__(self) -> None:
        self.name: str = str(self.row["name"])
        self.kind: str = str(self.row["kind"])

    def value(self, field_id: str) -> Any:
        """The canonical value (None when unset)."""
        return self.row.get(field_id)

    def effective(self, field_id: str) -> Any:
        """The value, or what Salesforce assumes when the setting is absent (the catalog default)."""
        value = self.row.get(field_id)
        if value is None and field_id in catalog.CATALOG:
            return catalog.CATALOG[field_id].default
        return value

    def unknown(self, field_id: str) -> str | None:
        """Why the audit could not read this field for this app (None when it could)."""
        row = self.row
        return _unknown_cached(
            row.get("kind"), row.get("coverage"), row.get("coverage_reason"), row.get("unknown"), field_id
        )


@dataclass(frozen=True)
class OrgFacts:
    """The org as org-level rules see it: the ``org`` table (values, and why a value is unknown) plus the
    apps whose IP restrictions are relaxed (for NET-03)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    unknown: Mapping[str, str] = field(default_factory=dict)  # setting id -> why it could not be read
    relaxed_apps: tuple[str, ...] = ()

    def value(self, setting_id: str) -> Any:
        """The value, or what Salesforce assumes when the element is absent (the documented default)."""
        value = self.values.get(setting_id)
        return org_setting(setting_id).default if value is None else value

    def weak(self, wanted: Mapping[str, Any]) -> Outcome | CannotCheck | None:
        """Fail listing every known setting not at its wanted value; else "cannot check" when one is
        unknown (never a pass); else None.

        >>> OrgFacts({"org_pkce_required": False}, {"block_user_agent_flow": "timeout"}).weak(
        ...     {"org_pkce_required": True, "block_user_agent_flow": True}).observed[:40]
        'Require Proof Key for Code Exchange (PKC'
        """
        bad = [
            f"{org_setting(s).label}: {_yes_no(self.value(s))}"
            for s, want in wanted.items()
            if s not in self.unknown and self.value(s) != want
        ]
        if bad:
            expected = "; ".join(f"{org_setting(s).label}: {_yes_no(w)}" for s, w in wanted.items())
            return Outcome("; ".join(bad), expected)
        missing = [f"{org_setting(s).label}: {self.unknown[s]}" for s in wanted if s in self.unknown]
        return CannotCheck("; ".join(missing)) if missing else None


def _yes_no(value: Any) -> str:
    return {True: "Yes", False: "No"}.get(value, str(value))


def clean_records(frame: Any) -> list[dict[Any, Any]]:
    """The rows of a DataFrame as dicts of plain Python values, None for every missing value."""
    names = list(frame.columns)
    columns = [_clean_column(frame.iloc[:, i]) for i in range(len(names))]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _clean_column(series: pd.Series) -> list[Any]:
    # column-wise: ``tolist()`` is C, and only columns that can hold missing values are scanned
    values = series.tolist()
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub":
        return values  # numpy ints and bools have no missing value
    return [
        None if v is None or v is _NA or v is _NAT or (type(v) is float and v != v) else v for v in values
    ]


_PLAIN = (str, bool, int)
_NA, _NAT = pd.NA, pd.NaT


def clean(value: Any) -> Any:
    """NaN, NA and NaT as None; numpy scalars as Python values.

    >>> clean(float("nan")) is None, clean(3.0)
    (True, 3.0)
    """
    if value is None or type(value) in _PLAIN:
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if value is _NA or value is _NAT:
        return None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes):
        try:
            return item()
        except (ValueError, TypeError):
            return value
    return value


_METADATA_COVERAGE = ("metadata", "metadata+soql")
_SOQL_COVERAGE = ("metadata+soql", "soql_only")


@functools.lru_cache(maxsize=4096)
def _unknown_cached(kind: Any, coverage: Any, reason: Any, unknown: Any, field_id: str) -> str | None:
    row = {"kind": kind, "coverage": coverage, "coverage_reason": reason, "unknown": unknown}
    return unknown_reason(row, field_id)


# audit columns that are not catalog settings, and the SOQL objects they come from (``unknown`` names them)
OBJECTS_OF = {
    "tokens": ("OauthToken",),
    "used": ("OauthToken", "LoginHistory", "IdpEventLog"),
    "saml_logins": ("IdpEventLog",),
    "inactive_user_tokens": ("OauthToken", "User"),
    "logins": ("LoginHistory",),
    "installed": ("AppMenuItem",),
    "profiles": ("SetupEntityAccess",),
    "permission_sets": ("SetupEntityAccess",),
}


_PARTLY = re.compile(r"(\w+) \((.+)\)")
# what an object holds, where its name alone would not tell an admin (the ``problems`` table has the error)
_READ_AS = {"IdpEventLog": "SAML sign-ins (IdpEventLog; the query failed or the object is not readable)"}


def unknown_reason(row: Mapping[Any, Any], field_id: str) -> str | None:
    """Why a catalog field could not be read for an app, from its ``coverage`` (None when it could).

    >>> unknown_reason({"kind": "ConnectedApp", "coverage": "metadata"}, "pin_length")[:40]
    'PIN Length is only readable from an org '
    >>> unknown_reason({"kind": "ConnectedApp", "coverage": "metadata"}, "pkce") is None
    True
    >>> row = {"kind": "ConnectedApp", "coverage": "metadata+soql", "unknown": "OauthToken"}
    >>> unknown_reason(row, "tokens")
    'OauthToken could not be read (metadata+soql)'
    >>> unknown_reason({**row, "unknown": "OauthToken (the running user lacks X)"}, "used")
    'the running user lacks X'
    """
    coverage = str(row.get("coverage") or "metadata")
    reason = str(clean(row.get("coverage_reason")) or coverage)
    failed = set(filter(None, str(clean(row.get("unknown")) or "").split("; ")))
    # "<object> (<reason>)": read, but not all of it (the running user sees only their own rows...)
    partly = {m[1]: m[2] for m in map(_PARTLY.fullmatch, failed) if m}
    # every object the column comes from that was not (fully) read: "used" may lack tokens, logins and SAML
    why = [
        f"{_READ_AS.get(obj, obj)} could not be read ({reason})" if obj in failed else partly[obj]
        for obj in OBJECTS_OF.get(field_id, ())
        if obj in failed or obj in partly
    ]
    if why:
        return "; ".join(why)
    if field_id not in catalog.CATALOG:
        return None
    f = catalog.field(field_id)
    binding = f.binding(str(row.get("kind")))
    if binding is None:
        return None  # the kind has no such setting: the rule does not apply (not unknown)
    if not binding.reads:
        return f"{f.label} cannot be read by any API ({binding.why_not or 'Setup only'})"
    if coverage in ("unreadable", "tokens_only"):
        return f"{f.label} could not be read: {reason}"
    soql = any(s.soql and s.type_name not in failed for s in binding.reads)
    metadata = "metadata" not in failed and any(not s.soql for s in binding.reads)
    if coverage == "metadata_unknown" and not soql:
        return f"{f.label} could not be read: {reason}"
    if coverage in _METADATA_COVERAGE and metadata:
        return None
    if coverage in _SOQL_COVERAGE and soql:
        return None
    if coverage == "soql_only":
        return f"{f.label} could not be read: {reason} (no metadata)"
    return (
        f"{f.label} is only readable from an org (SOQL {binding.reads[0].type_name}."
        f"{binding.reads[0].path}); this source has metadata only"
    )


def _shown(field_id: str, value: Any) -> str:
    """A remedy's value as Setup shows it: a label for an enum code, Yes/No for a checkbox."""
    if isinstance(value, bool):
        return "Yes (checked)" if value else "No (unchecked)"
    return catalog.value_label(field_id, value)
