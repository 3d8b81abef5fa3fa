"""Evaluate a parsed SOQL :class:`~toolkit.demoorg.soql_parser.Query` over a :class:`RowSource`.

Names are resolved against the describe info (case-insensitive, answered in the API casing), filters,
sorts and groups are checked against the describe flags (``filterable``/``sortable``/``groupable``), and
predicates are compiled once into closures so a 100k-row scan stays well under a second.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from .soql_dates import as_date, as_datetime, format_datetime, literal_dates, literal_range
from .soql_errors import (
    CUSTOM_FIELD_HINT,
    CUSTOM_OBJECT_HINT,
    CUSTOM_RELATIONSHIP_HINT,
    INVALID_FIELD,
    INVALID_QUERY_FILTER_OPERATOR,
    INVALID_TYPE,
    MALFORMED_QUERY,
    NUMBER_OUTSIDE_VALID_RANGE,
    QUERY_TOO_COMPLICATED,
    SoqlError,
    error_at,
)
from .soql_parser import (
    Aggregate,
    BoolOp,
    ChildSubquery,
    Compare,
    Condition,
    DateFunction,
    FieldRef,
    FieldsFunction,
    Includes,
    InList,
    InQuery,
    Like,
    Literal,
    Not,
    Operand,
    Query,
    unescape,
)
from .soql_schema import FieldInfo, ObjectSchema, RowSource, normalise_describe

MAX_OFFSET = 2000
MAX_FIELDS_LIMIT = 200
MAX_RELATIONSHIPS = 55
MAX_PREDICATES = 300
TOO_COMPLICATED = "Query is either selecting too many fields or the filter conditions are too complicated."
_ID_RE = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

Row = Mapping[str, Any]
Getter = Callable[[Any], Any]
Predicate = Callable[[Any], bool]


class Record(dict[str, Any]):
    """A result row: a plain dict (JSON-ready values) that also knows its sObject type and Id.

    The REST layer adds ``attributes: {type, url}`` from ``sobject`` and ``record_id``; nested parent
    records (``{"CreatedBy": {...}}``) are Records too. Aggregate rows have ``sobject == "AggregateResult"``.

    >>> r = Record("User", "005000000000001AAA", Name="Ann")
    >>> r, r.sobject, r.record_id
    ({'Name': 'Ann'}, 'User', '005000000000001AAA')
    """

    __slots__ = ("sobject", "record_id")

    def __init__(self, sobject: str, record_id: str | None = None, /, **values: Any) -> None:
        super().__init__(values)
        self.sobject = sobject
        self.record_id = record_id


class QueryResult(list[Record]):
    """The records of a query (after OFFSET/LIMIT) plus ``total_size``, ``sobject`` and the query's shape.

    ``count_only`` is true for ``SELECT COUNT() ...``: the list is empty and ``total_size`` is the count,
    as Salesforce answers ``{"totalSize": n, "done": true, "records": []}``.

    >>> QueryResult([], total_size=7, sobject="User", count_only=True).total_size
    7
    """

    def __init__(
        self,
        records: Iterable[Record] = (),
        *,
        total_size: int | None = None,
        sobject: str = "",
        aggregate: bool = False,
        count_only: bool = False,
    ) -> None:
        super().__init__(records)
        self.total_size = len(self) if total_size is None else total_size
        self.sobject = sobject
        self.aggregate = aggregate
        self.count_only = count_only


@dataclass
class _Col:
    """A resolved field path: the field, the relationship hops to reach it, and a value getter."""

    info: FieldInfo
    hops: tuple[tuple[FieldInfo, ObjectSchema], ...]
    get: Getter
    path: tuple[str, ...]  # API casing: relationship names then the field name
    pos: int

    @property
    def key(self) -> str:
        return ".".join(self.path).lower()


def _json(value: Any, info: FieldInfo) -> Any:
    if value is None:
        return None
    if info.type == "datetime" or isinstance(value, datetime):
        dt = _tolerant(as_datetime)(value)
        return format_datetime(dt) if dt else value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def normaliser(info: FieldInfo) -> Callable[[Any], Any]:
    """The function that turns a row value of this field into its comparable form (None for null).

    Strings compare case-insensitively (as SOQL does), Ids on their 15-character case-sensitive prefix.

    >>> normaliser(FieldInfo("Name"))("Mobile App"), normaliser(FieldInfo("Id", "id"))("0H4000000000001AAA")
    ('mobile app', '0H4000000000001')
    """
    kind = info.kind
    if kind == "string":
        return lambda v: None if v is None else (v.lower() if isinstance(v, str) else str(v).lower())
    if kind == "id":
        return lambda v: str(v)[:15] if v else None
    if kind == "number":
        return _tolerant(float)
    if kind == "boolean":
        # checkboxes are never null in Salesforce: a missing value reads as false
        return lambda v: False if v is None else _bool(v)
    if kind == "date":
        return _tolerant(as_date)
    if kind == "datetime":
        return _tolerant(as_datetime)
    return lambda v: v


def _tolerant(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, reading a value it cannot parse as null: a bad row must not fail the whole query.

    >>> _tolerant(float)("n/a"), _tolerant(float)("2")
    (None, 2.0)
    """

    def norm(value: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            return convert(value)
        except (TypeError, ValueError):
            return None

    return norm


_DATE_PARTS: dict[str, Callable[[Any], Any]] = {
    "CALENDAR_MONTH": lambda d: d.month,
    "CALENDAR_QUARTER": lambda d: (d.month - 1) // 3 + 1,
    "CALENDAR_YEAR": lambda d: d.year,
    "DAY_IN_MONTH": lambda d: d.day,
    "DAY_IN_WEEK": lambda d: (d.weekday() + 1) % 7 + 1,  # 1 = Sunday
    "DAY_IN_YEAR": lambda d: d.timetuple().tm_yday,
    "DAY_ONLY": lambda d: d.date() if isinstance(d, datetime) else d,
    "HOUR_IN_DAY": lambda d: d.hour,
    "WEEK_IN_MONTH": lambda d: (d.day - 1) // 7 + 1,
    "WEEK_IN_YEAR": lambda d: (d.timetuple().tm_yday - 1) // 7 + 1,
}
# the demo org's fiscal year is the calendar year
_DATE_PARTS |= {
    "FISCAL_MONTH": _DATE_PARTS["CALENDAR_MONTH"],
    "FISCAL_QUARTER": _DATE_PARTS["CALENDAR_QUARTER"],
    "FISCAL_YEAR": _DATE_PARTS["CALENDAR_YEAR"],
}


class _Executor:
    def __init__(
        self,
        query: Query,
        source: RowSource,
        now: datetime | None,
        include_deleted: bool,
        nested: bool = False,
        cache: dict[str, Any] | None = None,
        tz: tzinfo = UTC,
    ) -> None:
        self.q = query
        self.text = query.text
        self.source = source
        self.now = now or datetime.now(UTC)
        self.include_deleted = include_deleted
        self.tz = tz
        self.nested = nested
        self.cache: dict[str, Any] = cache if cache is not None else {"schemas": {}, "indexes": {}}
        self.root = self.schema(query.sobject, query.sobject_pos)
        self.alias = (query.alias or "").lower()
        self.relationships: set[str] = set()
        self.predicates = 0

    # -- describe and joins --------------------------------------------------------------------------
    def schema(self, name: str, pos: int | None) -> ObjectSchema:
        schemas: dict[str, ObjectSchema | None] = self.cache["schemas"]
        key = name.lower()
        if key not in schemas:
            try:
                described = self.source.describe(name)
                # a describe without the object's name: ask the source for the API casing if it can tell
                canonical = getattr(self.source, "canonical", None)
                if canonical is not None and not (isinstance(described, Mapping) and "name" in described):
                    name = canonical(name)
            except KeyError:
                described = None
            schemas[key] = normalise_describe(name, described)
        found = schemas[key]
        if found is None:
            raise error_at(
                INVALID_TYPE, self.text, pos, f"sObject type '{name}' is not supported. {CUSTOM_OBJECT_HINT}"
            )
        return found

    def index(self, targets: tuple[str, ...]) -> dict[str, Row]:
        key = "|".join(t.lower() for t in targets)
        indexes: dict[str, dict[str, Row]] = self.cache["indexes"]
        if key not in indexes:
            merged: dict[str, Row] = {}
            for target in targets:
                schema = self.cache["schemas"].get(target.lower())
                if schema is None:
                    continue
                for row in self.source.rows(schema.name):
                    rid = row.get("Id")
                    if rid:
                        merged[str(rid)[:15]] = row
            indexes[key] = merged
        return indexes[key]

    def hop(self, rel: FieldInfo) -> Callable[[Row], Row | None]:
        index = self.index(rel.reference_to)
        rel_name, ref_name = rel.relationship_name or "", rel.name

        def parent(row: Row) -> Row | None:
            nested = row.get(rel_name)
            if isinstance(nested, Mapping):
                return nested  # the source already joined it
            ref = row.get(ref_name)
            return index.get(str(ref)[:15]) if ref else None

        return parent

    def resolve(self, ref: FieldRef | DateFunction, root: ObjectSchema | None = None) -> _Col:
        if isinstance(ref, DateFunction):
            return self.date_part(ref)
        schema = root or self.root
        parts = list(ref.path)
        # "ca.Name" with FROM ConnectedApplication ca, or "ConnectedApplication.Name": the object itself
        if (
            len(parts) > 1
            and parts[0].lower() not in schema.relationships
            and (parts[0].lower() == self.alias or parts[0].lower() == schema.name.lower())
        ):
            parts = parts[1:]
        hops: list[tuple[FieldInfo, ObjectSchema]] = []
        path: list[str] = []
        for part in parts[:-1]:
            rel = schema.relationships.get(part.lower())
            target = None
            if rel is not None:
                for name in rel.reference_to:
                    try:
                        target = self.schema(name, None)
                        break
                    except SoqlError:
                        continue
            if rel is None or target is None:
                raise error_at(
                    INVALID_FIELD,
                    self.text,
                    ref.pos,
                    f"Didn't understand relationship '{part}' in field path. {CUSTOM_RELATIONSHIP_HINT}",
                )
            hops.append((rel, target))
            path.append(rel.relationship_name or part)
            schema = target
        info = schema.fields.get(parts[-1].lower())
        if info is None:
            raise error_at(
                INVALID_FIELD,
                self.text,
                ref.pos,
                f"No such column '{parts[-1]}' on entity '{schema.name}'. {CUSTOM_FIELD_HINT}",
            )
        path.append(info.name)
        for i in range(len(hops)):
            self.relationships.add(".".join(path[: i + 1]).lower())
        if len(self.relationships) > MAX_RELATIONSHIPS:
            raise SoqlError(QUERY_TOO_COMPLICATED, TOO_COMPLICATED)
        return _Col(info, tuple(hops), self.getter(tuple(hops), info.name), tuple(path), ref.pos)

    def date_part(self, fn: DateFunction) -> _Col:
        col = self.resolve(fn.arg)
        kind = col.info.kind
        if kind not in ("date", "datetime") or (fn.func == "HOUR_IN_DAY" and kind != "datetime"):
            wanted = "dateTime" if fn.func in ("HOUR_IN_DAY", "DAY_ONLY") else "date or dateTime"
            raise error_at(
                MALFORMED_QUERY,
                self.text,
                fn.pos,
                f"{fn.func} can only be applied to {wanted} fields: {fn.arg.text}",
            )
        info = FieldInfo(
            fn.text,
            "date" if fn.func == "DAY_ONLY" else "int",
            filterable=col.info.filterable,
            sortable=col.info.sortable,
            aggregatable=False,
        )
        # date functions work in UTC in Salesforce (unless convertTimezone(), not supported here)
        convert = _tolerant(as_date if kind == "date" else as_datetime)
        part, get = _DATE_PARTS[fn.func], col.get
        getter: Getter = lambda row: None if (v := convert(get(row))) is None else part(v)  # noqa: E731
        return _Col(info, col.hops, getter, (f"{fn.func}({'.'.join(col.path)})",), fn.pos)

    def getter(self, hops: tuple[tuple[FieldInfo, ObjectSchema], ...], name: str) -> Getter:
        if not hops:
            return lambda row: row.get(name)
        fns = [self.hop(rel) for rel, _ in hops]

        def get(row: Row) -> Any:
            current: Row | None = row
            for fn in fns:
                current = fn(current) if current is not None else None
            return None if current is None else current.get(name)

        return get

    # -- conditions -------------------------------------------------------------------------------------
    def check_filterable(self, col: _Col) -> None:
        if not col.info.filterable:
            raise error_at(
                INVALID_FIELD,
                self.text,
                col.pos,
                f"field '{col.info.name}' can not be filtered in a query call",
            )

    def literal(self, info: FieldInfo, lit: Literal) -> Any:
        """The comparable value of ``lit`` for ``info`` (a (start, end) tuple for date literals)."""
        if lit.kind == "null":
            return None
        kind = info.kind
        wanted = {
            "string": ("string", "string", True),
            "id": ("string", "string", True),
            "number": ("number", "integer" if info.type == "int" else "double", False),
            "boolean": ("boolean", "boolean", False),
            "date": ("date", "date", False),
            "datetime": ("datetime", "dateTime", False),
        }.get(kind)
        if wanted is not None:
            lit_kind, type_word, quoted = wanted
            ok = lit.kind == lit_kind or (kind in ("date", "datetime") and lit.kind == "dateliteral")
            if not ok:
                how = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
                raise error_at(
                    INVALID_FIELD,
                    self.text,
                    lit.pos,
                    f"value of filter criterion for field '{info.name}' must be of type {type_word} "
                    f"and {how}",
                )
        if lit.kind == "dateliteral":
            name, n = lit.value
            if kind == "date":
                return literal_dates(name, n, self.now, self.tz)
            return literal_range(name, n, self.now, self.tz)
        if kind == "id":
            if lit.value == "" or not _ID_RE.fullmatch(lit.value):
                raise error_at(
                    INVALID_QUERY_FILTER_OPERATOR, self.text, lit.pos, f"invalid ID field: {lit.value}"
                )
            return lit.value[:15]
        return normaliser(info)(lit.value)

    def compile(
        self,
        cond: Condition,
        operand: Callable[[Operand], tuple[Getter, FieldInfo]],
        in_or: bool = False,
    ) -> Predicate:
        if isinstance(cond, BoolOp):
            parts = [self.compile(c, operand, in_or or cond.op == "OR") for c in cond.items]
            if cond.op == "AND":
                return lambda row: all(p(row) for p in parts)
            return lambda row: any(p(row) for p in parts)
        if isinstance(cond, Not):
            inner = self.compile(cond.item, operand, in_or)
            return lambda row: not inner(row)
        self.predicates += 1
        if self.predicates > MAX_PREDICATES:
            raise SoqlError(QUERY_TOO_COMPLICATED, TOO_COMPLICATED)
        if isinstance(cond, InQuery):
            return self.semi_join(cond, in_or)
        get, info = operand(cond.operand)
        norm = normaliser(info)
        if isinstance(cond, Compare):
            return self.compare(get, norm, info, cond)
        if isinstance(cond, InList):
            values = {self.literal(info, v) for v in cond.values}
            if cond.negated:
                return lambda row: norm(get(row)) not in values
            return lambda row: norm(get(row)) in values
        if isinstance(cond, Like):
            if info.kind != "string":
                raise error_at(
                    INVALID_QUERY_FILTER_OPERATOR,
                    self.text,
                    cond.pos,
                    f"invalid operator on {info.type} field: LIKE",
                )
            if cond.value.kind != "string":
                self.literal(info, cond.value)  # raises the typed message
                return lambda row: False
            rx = re.compile(unescape(cond.value.raw, self.text, cond.value.pos, like=True), re.I | re.S)
            match = rx.fullmatch
            return lambda row: (v := get(row)) is not None and match(str(v)) is not None
        assert isinstance(cond, Includes)
        if info.type != "multipicklist":
            raise error_at(
                INVALID_QUERY_FILTER_OPERATOR,
                self.text,
                cond.pos,
                "includes or excludes operator only valid on multipicklist field",
            )
        groups = [
            frozenset(p.strip().lower() for p in str(self.literal(info, v)).split(";")) for v in cond.values
        ]

        def includes(row: Row) -> bool:
            v = get(row)
            have = frozenset(p.strip().lower() for p in str(v).split(";")) if v else frozenset()
            return any(g <= have for g in groups)

        if cond.excludes:
            return lambda row: not includes(row)
        return includes

    def compare(self, get: Getter, norm: Callable[[Any], Any], info: FieldInfo, cond: Compare) -> Predicate:
        op = cond.op
        if info.kind == "boolean" and op not in ("=", "!="):
            raise error_at(
                INVALID_QUERY_FILTER_OPERATOR, self.text, cond.pos, f"invalid operator on boolean field: {op}"
            )
        lit = self.literal(info, cond.value)
        if lit is None:
            if op == "=":
                return lambda row: norm(get(row)) is None
            if op == "!=":
                return lambda row: norm(get(row)) is not None
            return lambda row: False
        if cond.value.kind == "dateliteral":
            start, end = lit
            ranges: dict[str, Callable[[Any], bool]] = {
                "=": lambda v: start <= v < end,
                "!=": lambda v: not start <= v < end,
                "<": lambda v: v < start,
                "<=": lambda v: v < end,
                ">": lambda v: v >= end,
                ">=": lambda v: v >= start,
            }
            test = ranges[op]
            if op == "!=":
                return lambda row: (v := norm(get(row))) is None or test(v)
            return lambda row: (v := norm(get(row))) is not None and test(v)
        fn = _OPS[op]
        if op == "!=":
            return lambda row: (v := norm(get(row))) is None or v != lit
        if op == "=":
            return lambda row: norm(get(row)) == lit
        return lambda row: (v := norm(get(row))) is not None and fn(v, lit)

    def semi_join(self, cond: InQuery, in_or: bool) -> Predicate:
        if self.nested:
            raise error_at(
                MALFORMED_QUERY, self.text, cond.pos, "Nesting of semi join sub-selects is not supported"
            )
        if in_or:
            raise error_at(
                MALFORMED_QUERY,
                self.text,
                cond.pos,
                "Semi join sub-selects are not allowed with the 'OR' operator",
            )
        col = self.resolve(cond.operand)
        self.check_filterable(col)
        if col.info.kind != "id":
            raise error_at(
                INVALID_FIELD,
                self.text,
                col.pos,
                "Semi join sub-selects are only allowed on Id or reference fields: "
                f"'{col.info.name}' is {col.info.type}",
            )
        sub = cond.query
        if len(sub.select) != 1 or not isinstance(sub.select[0], FieldRef):
            raise error_at(
                MALFORMED_QUERY,
                self.text,
                sub.sobject_pos,
                "The selected field in a semi join sub-select must be a single Id or reference field",
            )
        inner = _Executor(
            sub, self.source, self.now, self.include_deleted, nested=True, cache=self.cache, tz=self.tz
        )
        inner_col = inner.resolve(sub.select[0])
        if inner_col.info.kind != "id":
            raise error_at(
                MALFORMED_QUERY,
                self.text,
                inner_col.pos,
                "The selected field in a semi join sub-select must be a single Id or reference field",
            )
        ids = {str(v)[:15] for row in inner.filtered_rows() if (v := inner_col.get(row))}
        get, negated = col.get, cond.negated
        if negated:
            return lambda row: not ((v := get(row)) and str(v)[:15] in ids)
        return lambda row: bool((v := get(row)) and str(v)[:15] in ids)

    def row_operand(self, ref: Operand) -> tuple[Getter, FieldInfo]:
        if isinstance(ref, Aggregate):
            raise error_at(
                MALFORMED_QUERY,
                self.text,
                ref.pos,
                "Aggregate functions are not allowed in the WHERE clause; use HAVING",
            )
        col = self.resolve(ref)
        self.check_filterable(col)
        return col.get, col.info

    def filtered_rows(self) -> list[Row]:
        rows: Iterable[Row] = self.source.rows(self.root.name)
        if not self.include_deleted:
            rows = (r for r in rows if not r.get("IsDeleted"))
        if self.q.where is None:
            return list(rows)
        pred = self.compile(self.q.where, self.row_operand)
        return [r for r in rows if pred(r)]


@dataclass
class _AggSpec:
    func: str
    col: _Col | None
    out: str
    pos: int
    norm: Callable[[Any], Any] = field(default=lambda v: v)


def _aggregate_value(spec: _AggSpec, rows: list[Row]) -> Any:
    if spec.col is None:
        return len(rows)
    get, norm = spec.col.get, spec.norm
    if spec.func == "COUNT":
        return sum(1 for r in rows if norm(get(r)) is not None)
    if spec.func == "COUNT_DISTINCT":
        return len({n for r in rows if (n := norm(get(r))) is not None})
    values = [(n, v) for r in rows if (n := norm(v := get(r))) is not None]
    if not values:
        return None
    if spec.func in ("MAX", "MIN"):
        pick = max if spec.func == "MAX" else min
        return _json(pick(values, key=lambda nv: nv[0])[1], spec.col.info)
    total = sum(n for n, _ in values)
    if spec.func == "SUM":
        return int(total) if spec.col.info.type == "int" else total
    return total / len(values)


def _sort(items: list[Any], keys: list[tuple[Getter, Callable[[Any], Any], bool, bool]]) -> list[Any]:
    """Stable multi-key sort: one pass per key, last key first; nulls placed per key."""
    for get, norm, descending, nulls_last in reversed(keys):
        valued: list[tuple[Any, Any]] = []
        nulls: list[tuple[Any, Any]] = []
        for item in items:
            n = norm(get(item))
            (nulls if n is None else valued).append((n, item))
        valued.sort(key=lambda pair: pair[0], reverse=descending)
        ordered = [item for _, item in valued]
        items = ordered + [item for _, item in nulls] if nulls_last else [item for _, item in nulls] + ordered
    return items


class _Plan:
    """Output tree of a non-aggregate query: fields and nested parent records, in selection order."""

    def __init__(self, sobject: str) -> None:
        self.sobject = sobject
        self.entries: list[tuple[str, Any]] = []  # ("f", (key, FieldInfo)) or ("r", (key, hop, _Plan))
        self.children: dict[str, _Plan] = {}
        self.seen: set[str] = set()

    def project(self, row: Row) -> Record:
        rid = row.get("Id")
        rec = Record(self.sobject, str(rid) if rid else None)
        for kind, spec in self.entries:
            if kind == "f":
                key, info = spec
                rec[key] = _json(row.get(info.name), info)
            else:
                key, hop, child = spec
                parent = hop(row)
                rec[key] = None if parent is None else child.project(parent)
        return rec


def execute(
    query: Query,
    source: RowSource,
    *,
    now: datetime | None = None,
    include_deleted: bool = False,
    tz: tzinfo = UTC,
) -> QueryResult:
    """Run a parsed query over ``source``; see :func:`toolkit.demoorg.soql.run` for the whole contract.

    >>> from toolkit.demoorg.soql_parser import parse
    >>> from toolkit.demoorg.soql_schema import TableSource
    >>> src = TableSource({"User": {"Id": "id", "Name": "string"}},
    ...                   {"User": [{"Id": "005000000000001AAA", "Name": "Ann"}]})
    >>> execute(parse("SELECT name FROM user"), src)
    [{'Name': 'Ann'}]
    """
    ex = _Executor(query, source, now, include_deleted, tz=tz)
    q = ex.q
    if q.offset is not None and q.offset > MAX_OFFSET:
        raise error_at(
            NUMBER_OUTSIDE_VALID_RANGE, q.text, q.offset_pos, f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    select = _expand_fields(ex)
    aggs = [s for s in select if isinstance(s, Aggregate)]
    count_star = [a for a in aggs if a.arg is None]
    if count_star and len(select) > 1:
        raise error_at(
            MALFORMED_QUERY, q.text, count_star[0].pos, "COUNT() must be the only element in the SELECT list"
        )
    if aggs or q.group_by or any(isinstance(s, DateFunction) for s in select):
        return _execute_aggregate(ex, select, bool(count_star))
    return _execute_plain(ex, select)


def _expand_fields(ex: _Executor) -> list[Operand]:
    q = ex.q
    out: list[Operand] = []
    for item in q.select:
        if isinstance(item, ChildSubquery):
            raise error_at(
                INVALID_TYPE,
                q.text,
                item.pos,
                f"Didn't understand relationship '{item.relationship}' in FROM part of query call. "
                f"{CUSTOM_RELATIONSHIP_HINT}",
            )
        if isinstance(item, FieldsFunction):
            if item.kind != "STANDARD" and (q.limit is None or q.limit > MAX_FIELDS_LIMIT):
                raise error_at(
                    MALFORMED_QUERY,
                    q.text,
                    item.pos,
                    f"The SOQL FIELDS function must have a LIMIT of at most {MAX_FIELDS_LIMIT}",
                )
            for info in ex.root.fields.values():
                if item.kind == "ALL" or (item.kind == "CUSTOM") == info.custom:
                    out.append(FieldRef((info.name,), item.pos))
            continue
        out.append(item)
    return out


def _execute_plain(ex: _Executor, select: list[Operand]) -> QueryResult:
    q = ex.q
    plan = _Plan(ex.root.name)
    seen: set[str] = set()
    for item in select:
        assert isinstance(item, FieldRef)
        col = ex.resolve(item)
        if col.key in seen:
            raise error_at(
                MALFORMED_QUERY, q.text, item.pos, f"duplicate field selected: {'.'.join(col.path)}"
            )
        seen.add(col.key)
        node = plan
        for (rel, target), name in zip(col.hops, col.path, strict=False):
            child = node.children.get(name.lower())
            if child is None:
                child = node.children[name.lower()] = _Plan(target.name)
                node.entries.append(("r", (name, ex.hop(rel), child)))
            node = child
        node.entries.append(("f", (col.info.name, col.info)))
    keys: list[tuple[Getter, Callable[[Any], Any], bool, bool]] = []
    for order in q.order_by:
        if isinstance(order.operand, Aggregate):
            raise error_at(
                MALFORMED_QUERY,
                q.text,
                order.operand.pos,
                "Aggregate functions in ORDER BY need a GROUP BY or an aggregate query",
            )
        col = ex.resolve(order.operand)
        if not col.info.sortable:
            raise error_at(
                INVALID_FIELD, q.text, col.pos, f"field '{col.info.name}' can not be sorted in a query call"
            )
        keys.append((col.get, normaliser(col.info), order.descending, bool(order.nulls_last)))
    rows = ex.filtered_rows()
    if keys:
        rows = _sort(rows, keys)
    rows = _slice(rows, q.offset, q.limit)
    return QueryResult((plan.project(r) for r in rows), sobject=ex.root.name)


def _slice(items: list[Any], offset: int | None, limit: int | None) -> list[Any]:
    start = offset or 0
    return items[start:] if limit is None else items[start : start + limit]


def _execute_aggregate(ex: _Executor, select: list[Operand], count_star: bool) -> QueryResult:
    q = ex.q
    group_cols: list[_Col] = []
    for ref in q.group_by:
        col = ex.resolve(ref)
        if not col.info.groupable:
            raise error_at(
                INVALID_FIELD, q.text, col.pos, f"field '{col.info.name}' can not be grouped in a query call"
            )
        group_cols.append(col)
    grouped = {c.key: i for i, c in enumerate(group_cols)}
    aliases: set[str] = set()
    specs: list[tuple[str, Any]] = []  # ("g", (out name, group index, FieldInfo)) or ("a", _AggSpec)
    expr = 0

    def agg_spec(agg: Aggregate, out: str) -> _AggSpec:
        col = ex.resolve(agg.arg) if agg.arg else None
        if col is not None:
            kind = col.info.kind
            ok = col.info.aggregatable and (
                agg.func in ("COUNT", "COUNT_DISTINCT")
                or (agg.func in ("SUM", "AVG") and kind == "number")
                or (agg.func in ("MAX", "MIN") and kind not in ("boolean",))
            )
            if not ok:
                raise error_at(
                    INVALID_FIELD,
                    q.text,
                    agg.pos,
                    f"field {col.info.name} does not support aggregate operator {agg.func}",
                )
        return _AggSpec(agg.func, col, out, agg.pos, normaliser(col.info) if col else (lambda v: v))

    for item in select:
        # aggregates and date functions are expressions: named by their alias or expr0, expr1...
        out = col_name = ""
        if isinstance(item, Aggregate | DateFunction):
            if item.alias:
                out = item.alias
            else:
                out, expr = f"expr{expr}", expr + 1
        if isinstance(item, Aggregate):
            spec: tuple[str, Any] = ("a", agg_spec(item, out))
        else:
            col = ex.resolve(item)
            if col.key not in grouped:
                raise error_at(
                    MALFORMED_QUERY, q.text, item.pos, f"Field must be grouped or aggregated: {item.text}"
                )
            col_name = out or col.info.name
            spec = ("g", (col_name, grouped[col.key], col.info))
        name = out or col_name
        if name.lower() in aliases:
            raise error_at(MALFORMED_QUERY, q.text, item.pos, f"duplicate alias: {name}")
        aliases.add(name.lower())
        specs.append(spec)

    def group_operand(ref: Operand) -> tuple[Getter, FieldInfo]:
        if isinstance(ref, Aggregate):
            spec = agg_spec(ref, "")
            info = spec.col.info if spec.col and spec.func in ("MAX", "MIN") else FieldInfo("expr", "double")
            if spec.func in ("MAX", "MIN") and spec.col is not None:
                # compare on the raw value, not its JSON form
                return (lambda g: _raw_extreme(spec, g)), info
            return (lambda g: _aggregate_value(spec, g)), info
        col = ex.resolve(ref)
        if col.key not in grouped:
            raise error_at(
                MALFORMED_QUERY, q.text, ref.pos, f"Field must be grouped or aggregated: {ref.text}"
            )
        return (lambda g: col.get(g[0])), col.info

    rows = ex.filtered_rows()
    groups: dict[tuple[Any, ...], list[Row]] = {}
    if group_cols:
        norms = [(c.get, normaliser(c.info)) for c in group_cols]
        for row in rows:
            groups.setdefault(tuple(n(g(row)) for g, n in norms), []).append(row)
    else:
        groups[()] = rows
    group_list = list(groups.values())
    if q.having is not None:
        pred = ex.compile(q.having, group_operand)
        group_list = [g for g in group_list if pred(g)]
    keys: list[tuple[Getter, Callable[[Any], Any], bool, bool]] = []
    for order in q.order_by:
        get, info = group_operand(order.operand)
        if isinstance(order.operand, FieldRef) and not info.sortable:
            raise error_at(
                INVALID_FIELD,
                q.text,
                order.operand.pos,
                f"field '{info.name}' can not be sorted in a query call",
            )
        keys.append((get, normaliser(info), order.descending, bool(order.nulls_last)))
    if keys:
        group_list = _sort(group_list, keys)
    if count_star:
        total = len(_slice(group_list, q.offset, q.limit)) if q.group_by else len(rows)
        if not q.group_by:
            total = max(0, min(total - (q.offset or 0), q.limit if q.limit is not None else total))
        return QueryResult([], total_size=total, sobject=ex.root.name, count_only=True)
    group_list = _slice(group_list, q.offset, q.limit)
    records = []
    for g in group_list:
        rec = Record("AggregateResult")
        for kind, detail in specs:
            if kind == "g":
                name, index, info = detail
                rec[name] = _json(group_cols[index].get(g[0]), info) if g else None
            else:
                rec[detail.out] = _aggregate_value(detail, g)
        records.append(rec)
    return QueryResult(records, sobject=ex.root.name, aggregate=True)


def _raw_extreme(spec: _AggSpec, rows: list[Row]) -> Any:
    """MAX/MIN as the raw row value (for HAVING and ORDER BY, which compare normalised values)."""
    assert spec.col is not None
    get, norm = spec.col.get, spec.norm
    values = [(n, v) for r in rows if (n := norm(v := get(r))) is not None]
    if not values:
        return None
    return (max if spec.func == "MAX" else min)(values, key=lambda nv: nv[0])[1]
