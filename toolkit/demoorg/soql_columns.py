"""The column description of a SOQL query (``GET .../query?q=...&columns=true``).

Salesforce's query resource answers ``columns=true`` with the query's columns instead of its rows (the
Developer Console's Query Editor and the Salesforce CLI's ``sf data query`` use it to lay out a table)::

    {"columnMetadata": [{"aggregate": false, "apexType": "Id", "columnName": "Id", "displayName": "Id",
                         "joinColumns": [], ...}, ...],
     "entityName": "ConnectedApplication", "groupBy": false, "idSelected": true, "keyPrefix": "0H4"}

A parent field (``CreatedBy.Name``) is a column named after the relationship whose ``joinColumns`` hold the
fields read through it; an aggregate or date function is ``aggregate: true`` named by its alias or ``exprN``.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from .soql_eval import _Executor, _expand_fields
from .soql_parser import Aggregate, DateFunction, FieldRef, parse
from .soql_schema import FieldInfo, RowSource

_APEX_TYPES = {
    "id": "Id",
    "reference": "Id",
    "boolean": "Boolean",
    "int": "Integer",
    "long": "Long",
    "double": "Double",
    "currency": "Decimal",
    "percent": "Decimal",
    "date": "Date",
    "datetime": "Datetime",
    "time": "Time",
}


def _column(name: str, display: str, info: FieldInfo | None, aggregate: bool = False) -> dict[str, Any]:
    kind = info.kind if info else "other"
    apex = _APEX_TYPES.get(info.type, "String") if info else None
    return {
        "aggregate": aggregate,
        "apexType": apex,
        "booleanType": kind == "boolean",
        "columnName": name,
        "custom": bool(info and info.custom),
        "displayName": display,
        "foreignKeyName": None,
        "insertable": False,  # every demo org object is read-only
        "joinColumns": [],
        "numberType": kind == "number",
        "textType": kind == "string",
        "updatable": False,
    }


def query_columns(text: str, source: RowSource, key_prefix: str | None = None) -> dict[str, Any]:
    """The ``columns=true`` answer for ``text`` (SOQL errors raise :class:`SoqlError` as for a query).

    >>> from toolkit.demoorg.soql_schema import TableSource
    >>> src = TableSource({"User": {"Id": "id", "Name": "string", "ProfileId": "reference"}}, {"User": []})
    >>> out = query_columns("SELECT Id, Name FROM User", src, "005")
    >>> [c["columnName"] for c in out["columnMetadata"]], out["entityName"], out["idSelected"]
    (['Id', 'Name'], 'User', True)
    >>> query_columns("SELECT COUNT(Id) n FROM User", src)["columnMetadata"][0]["displayName"]
    'COUNT(Id)'
    """
    query = parse(text)
    ex = _Executor(query, source, None, False, tz=UTC)
    columns: list[dict[str, Any]] = []
    parents: dict[str, dict[str, Any]] = {}
    expr = 0
    id_selected = False
    for item in _expand_fields(ex):
        if isinstance(item, Aggregate | DateFunction):
            name = item.alias or f"expr{expr}"
            expr += 0 if item.alias else 1
            info = None
            if isinstance(item, DateFunction):
                info = FieldInfo(name, "int")
            elif item.func in ("MAX", "MIN") and item.arg is not None:
                info = ex.resolve(item.arg).info
            elif item.func in ("COUNT", "COUNT_DISTINCT"):
                info = FieldInfo(name, "int")
            columns.append(_column(name, item.text, info, aggregate=True))
            continue
        assert isinstance(item, FieldRef)
        col = ex.resolve(item)
        if not col.hops:
            id_selected = id_selected or col.info.name == "Id"
            columns.append(_column(col.info.name, col.info.name, col.info))
            continue
        # CreatedBy.Name -> column "CreatedBy" joining "Name" (nested once per relationship hop)
        siblings = columns
        for depth, rel in enumerate(col.path[:-1]):
            key = ".".join(col.path[: depth + 1]).lower()
            parent = parents.get(key)
            if parent is None:
                parent = _column(rel, ".".join(col.path[: depth + 1]), None)
                parents[key] = parent
                siblings.append(parent)
            siblings = parent["joinColumns"]
        siblings.append(_column(col.info.name, ".".join(col.path), col.info))
    return {
        "columnMetadata": columns,
        "entityName": ex.root.name,
        "groupBy": bool(query.group_by),
        "idSelected": id_selected,
        "keyPrefix": key_prefix,
    }
