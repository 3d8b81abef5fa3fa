"""Which apps an edit touches: names, a DataFrame of apps, or a data-only expression over the ``apps`` table.

The expression language is Python's comparison syntax and nothing more: column names, literals (strings,
numbers, booleans, lists/tuples of them after ``in``), ``== != < <= > >= in not in``, ``and or not`` and
two tests of missing values, ``is_unknown(column)`` and ``is_not_set(column)``. It is evaluated here, node by
node, over the table's columns: no attribute access, other call, subscript, import or name other than a
column can run (``pandas.DataFrame.query`` with the python engine would run them).

Missing values never match (SQL's three-valued logic): a comparison with a value that is *unknown* (the audit
could not read it) or *not set* (read, absent) is neither true nor false, and ``not``/``!=``/``not in`` keep
it so; ``and``/``or`` are Kleene's (``False and ?`` is false, ``True or ?`` is true). Ask for missing values
explicitly: ``ip_relaxation != 'ENFORCE' or is_not_set(ip_relaxation)``.

>>> import pandas as pd
>>> apps = pd.DataFrame({"name": ["A", "B", "C", "D"], "platform": ["ios", "android", "ios", None],
...                      "pin_length": [4, 4, 8, 4]})
>>> select_where(apps, "platform == 'ios' and pin_length < 6")
['A']
>>> select_where(apps, "platform != 'ios'"), select_where(apps, "not platform == 'ios'")
(['B'], ['B'])
>>> select_where(apps, "is_not_set(platform)")
['D']
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ToolkitError


class SelectionError(ToolkitError):
    """An app selection that cannot be used (bad expression, unknown column, unknown app)."""


_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ALLOWED = (
    "column names, literals, == != < <= > >= in, not in, and, or, not, parentheses, "
    "is_unknown(column), is_not_set(column)"
)
FUNCTIONS = ("is_unknown", "is_not_set")
MAX_LENGTH = 10_000  # characters of an expression
MAX_DEPTH = 100  # nesting of an expression (3,000 nested `not` would exhaust Python's stack)
MAX_DIGITS = 30  # digits of a number literal
_LONG_NUMBER = re.compile(rf"[0-9]{{{MAX_DIGITS + 1},}}")


@dataclass
class Selection:
    """The apps an expression selects, and those left out because a value it compares was missing.

    ``unknown``: apps left out because a value was unknown (could not be read); ``not_set``: because a value
    was not set (or the kind of app has no such setting).
    """

    names: list[str]
    unknown: list[str] = field(default_factory=list)
    not_set: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def note(self) -> str:
        """``left out: 3 apps whose value is unknown ...`` ("" when none was left out)."""
        parts = []
        if self.unknown:
            parts.append(f"{len(self.unknown)} apps whose value is unknown (could not be read)")
        if self.not_set:
            parts.append(f"{len(self.not_set)} apps whose value is not set")
        if not parts:
            return ""
        return (
            "--where left out " + " and ".join(parts) + "; missing values never match "
            "(ask with is_unknown(column) / is_not_set(column))"
        )


@dataclass
class _Cond:
    """A condition: a nullable boolean per row (``<NA>``: depends on a missing value)."""

    mask: pd.Series


def columns_of(expression: str) -> list[str]:
    """The column names an expression mentions (calls' names excluded), in order; checks its syntax.

    >>> columns_of("platform == 'ios' and is_unknown(pin_length)")
    ['platform', 'pin_length']
    """
    tree = _parse(expression)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return list(
        dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls)
    )


def select_where(apps: pd.DataFrame, expression: Any) -> list[str]:
    """Names of the apps (``name`` column) for which the expression holds (missing values never match).

    >>> import pandas as pd
    >>> select_where(pd.DataFrame({"name": ["A"], "x": [1]}), "__import__('os')")
    Traceback (most recent call last):
    toolkit.edits.select.SelectionError: --where "__import__('os')": a call of __import__ is not allowed; \
allowed: column names, literals, == != < <= > >= in, not in, and, or, not, parentheses, is_unknown(column), \
is_not_set(column)
    """
    return evaluate_where(apps, expression).names


def evaluate_where(apps: pd.DataFrame, expression: Any) -> Selection:
    """:func:`select_where` with the apps left out because of a missing value (:class:`Selection`)."""
    tree = _parse(expression)
    text = expression
    try:
        result = _eval(tree, apps, text, 0)
    except RecursionError:
        raise SelectionError(
            f"--where {_short(text)}: nested too deeply; allowed: {MAX_DEPTH} levels"
        ) from None
    if not isinstance(result, _Cond):
        what = "a column" if isinstance(result, pd.Series) else "a literal"
        raise SelectionError(
            f"--where {_short(text)}: {what} alone is not a condition; allowed: {_ALLOWED}, "
            "e.g. platform == 'ios', pkce == True, is_not_set(pin_length)"
        )
    mask = result.mask
    chosen = mask.fillna(False).astype(bool)
    left_out = mask.isna()
    cols = [c for c in columns_of(text) if c in apps.columns]
    unknown = pd.Series(False, index=apps.index)
    for col in cols:
        unknown |= _states(apps, col)[0]
    names = apps["name"].astype(str)
    return Selection(
        names=names[chosen].tolist(),
        unknown=names[left_out & unknown].tolist(),
        not_set=names[left_out & ~unknown].tolist(),
        columns=cols,
    )


def _short(text: str) -> str:
    return repr(text if len(text) <= 120 else text[:100] + "...")


def _parse(expression: Any) -> ast.expr:
    if not isinstance(expression, str):
        raise SelectionError(
            f"where= must be an expression (a string), not {type(expression).__name__} {expression!r:.60}; "
            "allowed: e.g. \"platform == 'ios'\""
        )
    if len(expression) > MAX_LENGTH:
        raise SelectionError(
            f"--where {_short(expression)}: {len(expression):,} characters; allowed: at most {MAX_LENGTH:,}"
        )
    long = _LONG_NUMBER.search(expression)
    if long:
        raise SelectionError(
            f"--where {_short(expression)}: a number of {len(long.group()):,} digits; "
            f"allowed: numbers of at most {MAX_DIGITS} digits"
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise SelectionError(
            f"--where {_short(expression)}: not a valid expression ({exc.msg}); allowed: {_ALLOWED}"
        ) from None
    except (RecursionError, MemoryError):
        raise SelectionError(
            f"--where {_short(expression)}: nested too deeply; allowed: {MAX_DEPTH} levels"
        ) from None
    _check_nodes(tree.body, expression)
    return tree.body


_NODES = (
    ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare, ast.Name, ast.Load,
    ast.Constant, ast.List, ast.Tuple, ast.In, ast.NotIn, *_COMPARE,
)


def _check_nodes(root: ast.AST, text: str) -> None:
    """Refuse what is not data before any column is looked at (iteratively: a deep tree is no danger)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SelectionError(f"--where {_short(text)}: nested too deeply; allowed: {MAX_DEPTH} levels")
        call_ok = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
        if call_ok:
            assert isinstance(node, ast.Call)
            stack.extend((a, depth + 1) for a in node.args)
            continue
        if not isinstance(node, _NODES) or (isinstance(node, ast.UnaryOp) and not isinstance(
                node.op, ast.Not | ast.USub)):
            raise SelectionError(f"--where {_short(text)}: {_what(node)} is not allowed; allowed: {_ALLOWED}")
        stack.extend((c, depth + 1) for c in ast.iter_child_nodes(node))


def _what(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return "a call" + (f" of {node.func.id}" if isinstance(node.func, ast.Name) else "")
    return {
        ast.Attribute: "attribute access",
        ast.Subscript: "a subscript",
        ast.Lambda: "a lambda",
        ast.NamedExpr: "an assignment",
    }.get(type(node), f"{type(node).__name__}")


def _states(apps: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """(unknown, not set) masks of a column: missing cells split by whether the audit read the value."""
    from ..analysis.display import was_read
    from ..model import catalog

    missing = _missing(apps[column])
    f = catalog.CATALOG.get(column)
    if f is None or "kind" not in apps.columns:
        return pd.Series(False, index=apps.index), missing
    coverage = apps["coverage"] if "coverage" in apps.columns else pd.Series("metadata", index=apps.index)
    applicable = pd.Series([f.binding(str(k)) is not None for k in apps["kind"]], index=apps.index)
    read = pd.Series(
        [was_read(f, str(k), str(c)) for k, c in zip(apps["kind"], coverage, strict=True)], index=apps.index
    )
    return missing & applicable & ~read, missing & applicable & read


def _missing(series: pd.Series) -> pd.Series:
    return series.isna() | series.map(lambda v: isinstance(v, str) and v == "").astype(bool)


def _cond(values: Any, known: pd.Series) -> _Cond:
    mask = pd.Series(values, index=known.index).astype(object).where(known, pd.NA)
    return _Cond(mask.astype("boolean"))


def _eval(node: ast.AST, apps: pd.DataFrame, text: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise SelectionError(f"--where {_short(text)}: nested too deeply; allowed: {MAX_DEPTH} levels")
    depth += 1
    if isinstance(node, ast.BoolOp):
        values = [_condition(_eval(v, apps, text, depth), text) for v in node.values]
        out = values[0].mask
        for v in values[1:]:
            out = (out & v.mask) if isinstance(node.op, ast.And) else (out | v.mask)
        return _Cond(out)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _Cond(~_condition(_eval(node.operand, apps, text, depth), text).mask)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _eval(node.operand, apps, text, depth)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.Compare):
        left = _eval(node.left, apps, text, depth)
        result: Any = None
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, apps, text, depth)
            part = _compare(op, left, right, text)
            result = part if result is None else _Cond(result.mask & part.mask)
            left = right
        return result
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.Name):
            raise SelectionError(
                f"--where {_short(text)}: {node.func.id}() takes one column name; "
                f"allowed: e.g. {node.func.id}(pin_length)"
            )
        column = node.args[0].id
        _column(apps, column, text)
        unknown, not_set = _states(apps, column)
        chosen = unknown if node.func.id == "is_unknown" else not_set
        return _Cond(chosen.astype("boolean"))
    if isinstance(node, ast.Name):
        return _column(apps, node.id, text)
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        raise SelectionError(
            f"--where {_short(text)}: None is not a value; allowed: is_not_set(column) or is_unknown(column) "
            "to select missing values"
        )
    if isinstance(node, ast.List | ast.Tuple):
        items = [_eval(e, apps, text, depth) for e in node.elts]
        if any(isinstance(i, pd.Series | _Cond | list) for i in items):
            raise SelectionError(
                f"--where {_short(text)}: a list holds literals only (strings, numbers, booleans); "
                "allowed: e.g. platform in ['ios', 'android']"
            )
        return items
    raise SelectionError(f"--where {_short(text)}: {_what(node)} is not allowed; allowed: {_ALLOWED}")


def _column(apps: pd.DataFrame, name: str, text: str) -> pd.Series:
    if name not in apps.columns:
        known = ", ".join(c for c in apps.columns if not str(c).startswith("_"))
        raise SelectionError(f"--where {_short(text)}: no column {name!r}; allowed: {known}")
    return apps[name]


def _condition(value: Any, text: str) -> _Cond:
    if isinstance(value, _Cond):
        return value
    what = "a column" if isinstance(value, pd.Series) else "a literal"
    raise SelectionError(
        f"--where {_short(text)}: and/or/not take conditions, not {what}; allowed: comparisons "
        "(platform == 'ios'), is_unknown(column), is_not_set(column)"
    )


def _compare(op: ast.cmpop, left: Any, right: Any, text: str) -> _Cond:
    if isinstance(left, _Cond) or isinstance(right, _Cond):
        raise SelectionError(
            f"--where {_short(text)}: a condition cannot be compared; allowed: combine conditions with "
            "and, or, not"
        )
    if isinstance(op, ast.In | ast.NotIn):
        if not isinstance(left, pd.Series) or not isinstance(right, list):
            raise SelectionError(
                f"--where {_short(text)}: 'in' needs a column on the left and a list of literals on the "
                "right; allowed: e.g. platform in ['ios', 'android']"
            )
        mask = left.isin(right)
        return _cond(~mask if isinstance(op, ast.NotIn) else mask, ~_missing(left))
    fn = _COMPARE.get(type(op))
    if fn is None:
        raise SelectionError(
            f"--where {_short(text)}: operator {type(op).__name__} is not allowed; allowed: {_ALLOWED}"
        )
    if isinstance(left, list) or isinstance(right, list):
        raise SelectionError(
            f"--where {_short(text)}: a list can only follow 'in' or 'not in'; allowed: e.g. "
            "platform == 'ios' or platform in ['ios', 'android']"
        )
    series = [s for s in (left, right) if isinstance(s, pd.Series)]
    if not series:
        raise SelectionError(
            f"--where {_short(text)}: compares no column; allowed: {_ALLOWED}, e.g. platform == 'ios'"
        )
    known = ~_missing(series[0])
    for s in series[1:]:
        known &= ~_missing(s)
    if fn not in (operator.eq, operator.ne):
        if isinstance(left, pd.Series) and isinstance(right, int | float) and not isinstance(right, bool):
            left = pd.to_numeric(left, errors="coerce")
        if isinstance(right, pd.Series) and isinstance(left, int | float) and not isinstance(left, bool):
            right = pd.to_numeric(right, errors="coerce")
    a = left.astype(object)[known] if isinstance(left, pd.Series) else left
    b = right.astype(object)[known] if isinstance(right, pd.Series) else right
    try:
        values = fn(a, b)
    except TypeError as exc:
        raise SelectionError(f"--where {_short(text)}: cannot compare ({exc})") from None
    out = pd.Series(False, index=known.index, dtype=object)
    out[known] = pd.Series(values, index=known[known].index).fillna(False).astype(bool)
    return _cond(out, known)


def names_from(apps: Any) -> list[str]:
    """App names from a list of names, one comma-separated string, or a DataFrame (``name``/``app`` column).

    >>> names_from("A, B"), names_from(pd.DataFrame({"app": ["X"]}))
    (['A', 'B'], ['X'])
    """
    if isinstance(apps, pd.DataFrame):
        for col in ("name", "app"):
            if col in apps.columns:
                return [str(n) for n in apps[col].dropna().unique()]
        raise SelectionError(
            f"apps DataFrame has no 'name' or 'app' column; allowed: a table with one of them "
            f"(columns given: {', '.join(map(str, apps.columns))})"
        )
    if isinstance(apps, str):
        return [p.strip() for p in apps.split(",") if p.strip()]
    if isinstance(apps, pd.Series):
        apps = apps.dropna().tolist()
    if not isinstance(apps, list | tuple | set | frozenset):
        raise SelectionError(
            f"apps= must be app names, not {type(apps).__name__} {apps!r:.60}; allowed: a list of names, "
            "a comma-separated string or a DataFrame with a 'name' or 'app' column"
        )
    bad = [a for a in apps if not isinstance(a, str)]
    if bad:
        raise SelectionError(
            f"apps= holds {type(bad[0]).__name__} {bad[0]!r:.60}; allowed: app names (strings)"
        )
    return [a.strip() for a in apps if a.strip()]
