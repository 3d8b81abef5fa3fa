"""Which apps an edit touches: names, a DataFrame of apps, or a data-only expression over the ``apps`` table.

The expression language is Python's comparison syntax and nothing more: column names, literals (strings,
numbers, booleans, None, lists/tuples of them), ``== != < <= > >= in not in``, ``and or not``. It is
evaluated here, node by node, over the table's columns: no attribute access, call, subscript, import or
name other than a column can run (``pandas.DataFrame.query`` with the python engine would run them).

>>> import pandas as pd
>>> apps = pd.DataFrame({"name": ["A", "B", "C"], "platform": ["ios", "android", "ios"],
...                      "pin_length": [4, 4, 8]})
>>> select_where(apps, "platform == 'ios' and pin_length < 6")
['A']
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
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
_ALLOWED = "column names, literals, == != < <= > >= in, not in, and, or, not, parentheses"


def select_where(apps: pd.DataFrame, expression: str) -> list[str]:
    """Names of the apps (``name`` column) for which the expression holds (missing values never match).

    >>> import pandas as pd
    >>> select_where(pd.DataFrame({"name": ["A"], "x": [1]}), "__import__('os')")
    Traceback (most recent call last):
    toolkit.edits.select.SelectionError: --where "__import__('os')": a call is not allowed; allowed: column \
names, literals, == != < <= > >= in, not in, and, or, not, parentheses
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise SelectionError(
            f"--where {expression!r}: not a valid expression ({exc.msg}); allowed: {_ALLOWED}"
        ) from None
    mask = _eval(tree.body, apps, expression)
    if not isinstance(mask, pd.Series):
        raise SelectionError(
            f"--where {expression!r}: does not compare any column; allowed: {_ALLOWED}, "
            "e.g. platform == 'ios'"
        )
    mask = mask.fillna(False).astype(bool)
    return [str(n) for n in apps.loc[mask, "name"]]


def _eval(node: ast.AST, apps: pd.DataFrame, text: str) -> Any:
    if isinstance(node, ast.BoolOp):
        values = [_as_mask(_eval(v, apps, text), apps) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_as_mask(_eval(node.operand, apps, text), apps)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _eval(node.operand, apps, text)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.Compare):
        left = _eval(node.left, apps, text)
        result: Any = None
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, apps, text)
            part = _compare(op, left, right, text)
            result = part if result is None else (result & part)
            left = right
        return result
    if isinstance(node, ast.Name):
        if node.id not in apps.columns:
            known = ", ".join(c for c in apps.columns if not str(c).startswith("_"))
            raise SelectionError(f"--where {text!r}: no column {node.id!r}; allowed: {known}")
        return apps[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool | type(None)):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, apps, text) for e in node.elts]
    what = {
        ast.Call: "a call",
        ast.Attribute: "attribute access",
        ast.Subscript: "a subscript",
        ast.Lambda: "a lambda",
        ast.NamedExpr: "an assignment",
    }.get(type(node), f"{type(node).__name__}")
    raise SelectionError(f"--where {text!r}: {what} is not allowed; allowed: {_ALLOWED}")


def _compare(op: ast.cmpop, left: Any, right: Any, text: str) -> Any:
    if isinstance(op, ast.In | ast.NotIn):
        if not isinstance(left, pd.Series) or not isinstance(right, list):
            raise SelectionError(f"--where {text!r}: 'in' needs a column on the left and a list on the right")
        mask = left.isin(right)
        return ~mask if isinstance(op, ast.NotIn) else mask
    fn = _COMPARE.get(type(op))
    if fn is None:
        raise SelectionError(
            f"--where {text!r}: operator {type(op).__name__} is not allowed; allowed: {_ALLOWED}"
        )
    if isinstance(left, pd.Series) and fn not in (operator.eq, operator.ne):
        left = pd.to_numeric(left, errors="coerce") if isinstance(right, int | float) else left
    if isinstance(right, pd.Series) and fn not in (operator.eq, operator.ne):
        right = pd.to_numeric(right, errors="coerce") if isinstance(left, int | float) else right
    try:
        return fn(left, right)
    except TypeError as exc:
        raise SelectionError(f"--where {text!r}: cannot compare ({exc})") from None


def _as_mask(value: Any, apps: pd.DataFrame) -> pd.Series:
    if isinstance(value, pd.Series):
        return value.fillna(False).astype(bool)
    return pd.Series([bool(value)] * len(apps), index=apps.index)


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
    return [str(a) for a in apps]
