"""Expectations on one setting, written the way people write them: ``">= 8"``, ``"in [A, B]"``.

Baselines (:mod:`toolkit.rules.baseline`) and the mobile matrix (:mod:`toolkit.rules.matrix`) use the same
small grammar, so a user baseline can say ``pin_length = ">= 6"`` and both the findings and the matrix follow:

========================  =================================================
``">= 8"`` ``"<= 60"``    numeric comparison (also ``>``, ``<``)
``"== ENFORCE"``          equality (``"!= BYPASS"``: inequality)
``"in [A, B]"``           one of (``"not in [A, B]"``: none of)
``"set"`` / ``"unset"``   present / absent
``true``, ``60``          a TOML boolean or number: equality
========================  =================================================

>>> e = parse_expectation(">= 8")
>>> e.holds(8), e.holds(6), e.holds(None)
(True, False, False)
>>> parse_expectation("in [ENFORCE, ENFORCE_RELAXREFRESH]").holds("BYPASS")
False
>>> str(parse_expectation(True))
'== true'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

OPS = (">=", "<=", "==", "!=", ">", "<", "not in", "in", "set", "unset")
_PATTERN = re.compile(r"^\s*(>=|<=|==|!=|>|<|not\s+in|in|set|unset)\s*(.*?)\s*$", re.IGNORECASE)


class ExpectationError(ValueError):
    """An expectation that does not follow the grammar (the message lists what is allowed)."""


@dataclass(frozen=True)
class Expectation:
    """One parsed expectation: an operator and its operand(s)."""

    op: str
    operand: Any = None

    def holds(self, value: Any) -> bool:
        """Whether ``value`` (a canonical catalog value, None when unset) meets the expectation."""
        if self.op == "set":
            return value is not None and value != "" and value != []
        if self.op == "unset":
            return value is None or value == "" or value == []
        if self.op in ("in", "not in"):
            inside = _norm(value) in {_norm(v) for v in self.operand}
            return inside if self.op == "in" else not inside
        if self.op in ("==", "!="):
            same = value is not None and _norm(value) == _norm(self.operand)
            return same if self.op == "==" else not same
        number = _number(value)
        if number is None:
            return False
        limit = float(self.operand)
        return {">=": number >= limit, "<=": number <= limit, ">": number > limit, "<": number < limit}[
            self.op
        ]

    def __str__(self) -> str:
        if self.op in ("set", "unset"):
            return self.op
        if self.op in ("in", "not in"):
            return f"{self.op} [{', '.join(_text(v) for v in self.operand)}]"
        return f"{self.op} {_text(self.operand)}"


def parse_expectation(raw: Any) -> Expectation:
    """An :class:`Expectation` from a TOML value (string, boolean or number).

    >>> parse_expectation("not in [BYPASS]").holds("ENFORCE")
    True
    >>> parse_expectation("about 8")
    Traceback (most recent call last):
    toolkit.analysis.expect.ExpectationError: 'about 8' is not an expectation; use >= N, <= N, ...
    """
    if isinstance(raw, bool | int | float):
        return Expectation("==", raw)
    text = str(raw)
    m = _PATTERN.match(text)
    if m is None:
        raise ExpectationError(f"{text!r} is not an expectation; use {_ALLOWED}")
    op, rest = re.sub(r"\s+", " ", m.group(1).lower()), m.group(2)
    if op in ("set", "unset"):
        if rest:
            raise ExpectationError(f"{text!r}: '{op}' takes no value")
        return Expectation(op)
    if op in ("in", "not in"):
        if not (rest.startswith("[") and rest.endswith("]")):
            raise ExpectationError(f"{text!r}: '{op}' needs a list in brackets, e.g. {op} [A, B]")
        return Expectation(op, tuple(_scalar(v) for v in rest[1:-1].split(",") if v.strip()))
    if not rest:
        raise ExpectationError(f"{text!r}: '{op}' needs a value")
    if op in (">=", "<=", ">", "<") and _number(rest) is None:
        raise ExpectationError(f"{text!r}: '{op}' needs a number")
    return Expectation(op, _scalar(rest))


_ALLOWED = ">= N, <= N, > N, < N, == X, != X, in [A, B], not in [A, B], set, unset, true/false or a number"


def _scalar(text: str) -> Any:
    t = text.strip().strip("\"'")
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    number = _number(t)
    if number is not None:
        return int(number) if number.is_integer() else number
    return t


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    number = _number(value)
    if number is not None:
        return number
    return str(value).strip().lower()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
