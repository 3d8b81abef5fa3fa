"""Baselines: which rules run, at what severity, with which expectations, and what is ignored until when.

Two are built in: ``"Salesforce recommended"`` (the help security controls: Enforce IP restrictions, 1 hour
session timeout, refresh token rotation, refresh tokens valid 90 days or fewer, PIN length 8, lock after 5
minutes...) and ``"Mobile SDK ready"`` (help "Create a Connected App for Mobile App Integration": a callback
registered, scopes api/refresh_token/web, a mobile start URL, PIN protect, PKCE). A user baseline is a TOML
file (docs/findings.md)::

    extends = "Salesforce recommended"      # or "Mobile SDK ready"
    [rules]
    OAU-06 = "critical"                     # a severity, or "off" / "on"
    GOV-01 = "off"
    [expect]
    pin_length = ">= 6"                     # per catalog field (or per rule id)
    [[ignore]]
    app = "Legacy_*"                        # an app name or glob
    rule = "NET-01"
    reason = "vendor IP list, ticket SEC-42"
    expires = 2026-12-31                    # optional; once past, the finding comes back

>>> b = resolve_baseline(None)
>>> b.name, b.enabled("NET-01"), b.enabled("MSDK-01")
('Salesforce recommended', True, False)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..analysis.expect import Expectation, ExpectationError, parse_expectation
from ..errors import MetadataParseError
from ..model import catalog
from .definitions import MOBILE_SDK, RECOMMENDED, RULES, RULES_BY_ID
from .model import SEVERITIES, Rule

BUILTIN = (RECOMMENDED, MOBILE_SDK)


class BaselineError(MetadataParseError):
    """A baseline file that cannot be used: names the file, the line and what is allowed.

    >>> str(BaselineError("b.toml", 3, "unknown rule 'XYZ-1'"))
    "b.toml:3: unknown rule 'XYZ-1'"
    """


@dataclass(frozen=True)
class Ignore:
    """Do not fail ``rule`` for apps matching ``app`` (a name or glob) until ``expires`` (None: no end)."""

    app: str
    rule: str
    reason: str
    expires: date | None = None


@dataclass
class Baseline:
    """Enabled rules, severity overrides, expectations (per field id or rule id) and ignores."""

    name: str
    rules: frozenset[str]
    severities: dict[str, str] = field(default_factory=dict)
    expectations: dict[str, Expectation] = field(default_factory=dict)
    ignores: list[Ignore] = field(default_factory=list)
    source: str = ""
    _parsed: dict[str, Expectation | None] = field(default_factory=dict, repr=False, compare=False)

    def enabled(self, rule_id: str) -> bool:
        return rule_id in self.rules

    def severity_of(self, rule: Rule) -> str:
        return self.severities.get(rule.id, rule.severity)

    def expectation(self, rule: Rule) -> Expectation | None:
        """The rule's expectation: the baseline's for the rule id, else for its field, else the rule's own."""
        if rule.id not in self._parsed:
            self._parsed[rule.id] = (
                None
                if not rule.expect
                else self.expectations.get(rule.id)
                or self.expectations.get(rule.target)
                or parse_expectation(rule.expect)
            )
        return self._parsed[rule.id]

    def expectation_for_field(self, field_id: str) -> Expectation | None:
        """What this baseline expects of one catalog field (for the mobile matrix), None when nothing."""
        key = f"field:{field_id}"
        if key in self._parsed:
            return self._parsed[key]
        self._parsed[key] = self._field_expectation(field_id)
        return self._parsed[key]

    def _field_expectation(self, field_id: str) -> Expectation | None:
        if field_id in self.expectations:
            return self.expectations[field_id]
        for rule in RULES:
            if rule.expect and rule.target == field_id and self.enabled(rule.id):
                return self.expectation(rule)
        return None


def builtin(name: str) -> Baseline:
    """A built-in baseline by name (:data:`BUILTIN`)."""
    if name not in BUILTIN:
        raise BaselineError(
            "baseline", None, f"no built-in baseline {name!r}; built-in: {', '.join(BUILTIN)}"
        )
    return Baseline(name=name, rules=frozenset(r.id for r in RULES if name in r.baselines), source="built-in")


def resolve_baseline(baseline: Baseline | str | Path | None) -> Baseline:
    """None → "Salesforce recommended"; a built-in name; a TOML path; or a :class:`Baseline` as is."""
    if baseline is None:
        return builtin(RECOMMENDED)
    if isinstance(baseline, Baseline):
        return baseline
    if isinstance(baseline, str) and baseline in BUILTIN:
        return builtin(baseline)
    return load_baseline(baseline)


_SECTIONS = {"extends", "name", "rules", "expect", "ignore"}


def load_baseline(path: str | Path) -> Baseline:
    """Read a TOML baseline; :class:`BaselineError` (file and line) when it cannot be used."""
    p = Path(path)
    src = str(p)
    if not p.is_file():
        raise BaselineError(src, None, f"no such file; give a TOML file or one of: {', '.join(BUILTIN)}")
    text = p.read_text(encoding="utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise BaselineError(src, int(m.group(1)) if m else None, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise BaselineError(
            src, None, "not a usable baseline: nested too deeply; allowed: tables of values"
        ) from None
    except ValueError as exc:  # tomllib: an integer of more than 4300 digits
        raise BaselineError(src, None, f"not a usable baseline: {str(exc).split(';')[0]}") from None
    lines = text.splitlines()
    for key in data:
        if key not in _SECTIONS:
            raise BaselineError(
                src, _line(lines, key), f"unknown key {key!r}; allowed: {', '.join(sorted(_SECTIONS))}"
            )
    parent = data.get("extends", RECOMMENDED)
    if parent not in BUILTIN:
        raise BaselineError(
            src, _line(lines, "extends"), f"extends {parent!r}: allowed: {', '.join(BUILTIN)}"
        )
    base = builtin(parent)
    enabled = set(base.rules)
    severities: dict[str, str] = {}
    for rule_id, value in _table(data, "rules", src, lines).items():
        if rule_id not in RULES_BY_ID:
            raise BaselineError(
                src,
                _line(lines, rule_id),
                f"unknown rule {rule_id!r}; see `python -m toolkit check --list-rules`",
            )
        v = str(value).lower() if not isinstance(value, bool) else ("on" if value else "off")
        if v == "off":
            enabled.discard(rule_id)
        elif v == "on":
            enabled.add(rule_id)
        elif v in SEVERITIES:
            enabled.add(rule_id)
            severities[rule_id] = v
        else:
            raise BaselineError(
                src,
                _line(lines, rule_id),
                f"{rule_id} = {value!r}: allowed: {', '.join(SEVERITIES)}, off, on",
            )
    expectations: dict[str, Expectation] = {}
    for key, value in _table(data, "expect", src, lines).items():
        if key not in RULES_BY_ID and key not in catalog.CATALOG:
            raise BaselineError(
                src,
                _line(lines, key),
                f"unknown field or rule {key!r} in [expect]; use a catalog id (e.g. pin_length) or a rule id",
            )
        try:
            expectations[key] = parse_expectation(value)
        except ExpectationError as exc:
            raise BaselineError(src, _line(lines, key), f"{key}: {exc}") from None
    ignores = _ignores(data.get("ignore", []), src, lines)
    return Baseline(
        name=str(data.get("name") or p.stem),
        rules=frozenset(enabled),
        severities=severities,
        expectations=expectations,
        ignores=ignores,
        source=src,
    )


def _table(data: dict[str, Any], key: str, src: str, lines: list[str]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise BaselineError(src, _line(lines, key), f"{key} must be a table ([{key}])")
    return value


def _ignores(raw: Any, src: str, lines: list[str]) -> list[Ignore]:
    if not isinstance(raw, list):
        raise BaselineError(src, _line(lines, "ignore"), "ignore must be an array of tables ([[ignore]])")
    out = []
    starts = [i + 1 for i, ln in enumerate(lines) if ln.strip().startswith("[[ignore]]")]
    for n, item in enumerate(raw):
        line = starts[n] if n < len(starts) else None
        missing = [
            k
            for k in ("app", "rule", "reason")
            if not str(item.get("app" if k == "app" else k) or "").strip()
        ]
        if missing:
            raise BaselineError(
                src, line, f"ignore #{n + 1} needs {', '.join(missing)} (app, rule and a reason)"
            )
        rule = str(item["rule"])
        if rule != "*" and rule not in RULES_BY_ID:
            raise BaselineError(src, line, f"ignore #{n + 1}: unknown rule {rule!r}")
        expires = item.get("expires")
        if isinstance(expires, datetime):
            expires = expires.date()
        elif isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires)
            except ValueError:
                raise BaselineError(
                    src, line, f"ignore #{n + 1}: expires {expires!r} is not a date (YYYY-MM-DD)"
                ) from None
        elif expires is not None and not isinstance(expires, date):
            raise BaselineError(src, line, f"ignore #{n + 1}: expires must be a date (YYYY-MM-DD)")
        out.append(Ignore(str(item["app"]), rule, str(item["reason"]), expires))
    return out


def _line(lines: list[str], key: str) -> int | None:
    """The first line that defines ``key`` (``key = ...``, ``"key" = ...`` or ``[key]``)."""
    pattern = re.compile(rf'^\s*(\[+\s*{re.escape(key)}\s*\]+|"?{re.escape(key)}"?\s*=)')
    for i, ln in enumerate(lines, start=1):
        if pattern.match(ln):
            return i
    return None
