"""SOQL text -> syntax tree (lexer + recursive-descent parser). No knowledge of objects or fields.

Names are kept as written; :mod:`toolkit.demoorg.soql_eval` resolves them against the describe info.
Syntax errors are Salesforce's ``MALFORMED_QUERY`` with ``unexpected token: X`` and the located caret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .soql_dates import DATE_LITERALS, parse_date, parse_datetime
from .soql_errors import MALFORMED_QUERY, SoqlError, error_at

AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MAX", "MIN", "SUM", "AVG"})
DATE_FUNCTIONS = frozenset(
    {
        "CALENDAR_MONTH",
        "CALENDAR_QUARTER",
        "CALENDAR_YEAR",
        "DAY_IN_MONTH",
        "DAY_IN_WEEK",
        "DAY_IN_YEAR",
        "DAY_ONLY",
        "FISCAL_MONTH",
        "FISCAL_QUARTER",
        "FISCAL_YEAR",
        "HOUR_IN_DAY",
        "WEEK_IN_MONTH",
        "WEEK_IN_YEAR",
    }
)
KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "INCLUDES",
        "EXCLUDES",
        "GROUP",
        "BY",
        "HAVING",
        "ORDER",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "OFFSET",
        "NULL",
        "TRUE",
        "FALSE",
        "USING",
        "SCOPE",
        "WITH",
        "FOR",
        "ALL",
        "ROWS",
        "TYPEOF",
        "END",
        "WHEN",
        "THEN",
        "ELSE",
    }
)
MAX_QUERY_LENGTH = 100_000

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
   |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
   |(?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
   |(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
   |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
   |(?P<string>'(?:[^'\\]|\\.)*')
   |(?P<op><=|>=|!=|<>|=|<|>)
   |(?P<punct>[(),.:])
    """,
    re.X | re.S,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is ident, string, number, date, datetime, op, punct or eof."""

    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


@dataclass(frozen=True)
class FieldRef:
    """A field path as written (``CreatedBy.Name`` -> ``("CreatedBy", "Name")``)."""

    path: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Aggregate:
    """``COUNT()``, ``COUNT(Id)``, ``MAX(LoginTime) last``...; ``arg`` is None only for ``COUNT()``."""

    func: str
    arg: FieldRef | None
    pos: int
    alias: str | None = None

    @property
    def text(self) -> str:
        return f"{self.func}({self.arg.text if self.arg else ''})"


@dataclass(frozen=True)
class FieldsFunction:
    """``FIELDS(ALL)``, ``FIELDS(STANDARD)`` or ``FIELDS(CUSTOM)``."""

    kind: str
    pos: int


@dataclass(frozen=True)
class ChildSubquery:
    """A parent-to-child subquery in the SELECT list (not supported by the demo org's objects)."""

    relationship: str
    pos: int


@dataclass(frozen=True)
class DateFunction:
    """``CALENDAR_YEAR(CreatedDate)``, ``DAY_ONLY(LoginTime)``...: a date part of a date/dateTime field."""

    func: str
    arg: FieldRef
    pos: int
    alias: str | None = None

    @property
    def text(self) -> str:
        return f"{self.func}({self.arg.text})"


Operand = FieldRef | Aggregate | DateFunction
GroupItem = FieldRef | DateFunction
SelectItem = FieldRef | Aggregate | DateFunction | FieldsFunction | ChildSubquery


@dataclass(frozen=True)
class Literal:
    """A value in a condition. ``kind``: string, number, boolean, null, date, datetime or dateliteral.

    ``value`` is the Python value (for date literals: ``(NAME, n or None)``); ``raw`` the text as written
    (for strings: the text between the quotes, escapes kept, which LIKE needs).
    """

    kind: str
    value: Any
    pos: int
    raw: str


@dataclass(frozen=True)
class Compare:
    operand: Operand
    op: str
    value: Literal
    pos: int


@dataclass(frozen=True)
class InList:
    operand: Operand
    values: tuple[Literal, ...]
    negated: bool
    pos: int


@dataclass(frozen=True)
class InQuery:
    """Semi-join (``IN (SELECT ...)``) or anti-join (``NOT IN (SELECT ...)``)."""

    operand: FieldRef
    query: Query
    negated: bool
    pos: int


@dataclass(frozen=True)
class Like:
    operand: Operand
    value: Literal
    pos: int


@dataclass(frozen=True)
class Includes:
    operand: FieldRef
    values: tuple[Literal, ...]
    excludes: bool
    pos: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND / OR
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Compare | InList | InQuery | Like | Includes | BoolOp | Not


@dataclass(frozen=True)
class OrderItem:
    operand: Operand
    descending: bool = False
    nulls_last: bool | None = None  # None: Salesforce's default (nulls first)


@dataclass(frozen=True)
class Query:
    """A parsed SOQL query (names as written). ``text`` is the query, for located error messages.

    >>> q = parse("SELECT Id, CreatedBy.Name FROM ConnectedApplication WHERE Name LIKE 'a%' LIMIT 5")
    >>> q.sobject, [s.text for s in q.select], q.limit
    ('ConnectedApplication', ['Id', 'CreatedBy.Name'], 5)
    """

    text: str
    select: tuple[SelectItem, ...]
    sobject: str
    sobject_pos: int
    alias: str | None = None
    where: Condition | None = None
    group_by: tuple[GroupItem, ...] = ()
    having: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    limit_pos: int = 0
    offset_pos: int = 0
    extras: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_aggregate(self) -> bool:
        """True when the query has aggregate functions or GROUP BY (its rows are ``AggregateResult``).

        >>> parse("SELECT MAX(CreatedDate) FROM User").is_aggregate, parse("SELECT Id FROM User").is_aggregate
        (True, False)
        """
        return bool(self.group_by) or any(isinstance(s, Aggregate | DateFunction) for s in self.select)

    @property
    def is_count(self) -> bool:
        """True for ``SELECT COUNT() ...``: the answer is ``totalSize`` only, with no records.

        >>> parse("SELECT COUNT() FROM User").is_count
        True
        """
        return any(isinstance(s, Aggregate) and s.arg is None for s in self.select)


def tokenize(text: str) -> list[Token]:
    """Split SOQL text into tokens (whitespace dropped, an ``eof`` token at the end).

    >>> [t.text for t in tokenize("SELECT Id FROM User WHERE IsActive = true")]
    ['SELECT', 'Id', 'FROM', 'User', 'WHERE', 'IsActive', '=', 'true', '<EOF>']
    """
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            if ch == "'":
                raise error_at(MALFORMED_QUERY, text, end, "mismatched character '<EOF>' expecting '''")
            raise error_at(MALFORMED_QUERY, text, pos, f"unexpected token: '{ch}'")
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "<EOF>", end))
    return tokens


def unescape(raw: str, query: str = "", pos: int = 0, *, like: bool = False) -> str:
    """The value of a string literal's inner text; with ``like=True`` a regex for LIKE instead.

    ``\\%`` and ``\\_`` are literal percent/underscore (they matter in LIKE); an unknown escape is refused
    as Salesforce does.

    >>> unescape(r"O\\'Brien")
    "O'Brien"
    >>> unescape(r"50\\%_off%", like=True)
    '50%.off.*'
    """
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1] if i + 1 < n else ""
            if nxt in _ESCAPES:
                out.append(re.escape(_ESCAPES[nxt]) if like else _ESCAPES[nxt])
            elif nxt in ("%", "_"):
                out.append(re.escape(nxt) if like else nxt)
            else:
                raise error_at(
                    MALFORMED_QUERY,
                    query,
                    pos,
                    f"Invalid string literal '{raw}'. "
                    f"Illegal character sequence '\\{nxt}' in string literal.",
                )
            i += 2
            continue
        if like and ch == "%":
            out.append(".*")
        elif like and ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch) if like else ch)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def unexpected(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.tok
        return error_at(MALFORMED_QUERY, self.text, tok.pos, f"unexpected token: {tok.text}")

    def at_kw(self, *words: str) -> bool:
        return self.tok.upper in words

    def expect_kw(self, word: str) -> Token:
        if self.tok.upper != word:
            raise self.unexpected()
        return self.advance()

    def expect_punct(self, ch: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != ch:
            raise self.unexpected()
        return self.advance()

    def at_punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == ch

    def name(self) -> Token:
        if self.tok.kind != "ident" or self.tok.upper in KEYWORDS:
            raise self.unexpected()
        return self.advance()

    # -- grammar --------------------------------------------------------------------------------------
    def query(self, nested: bool = False) -> Query:
        self.expect_kw("SELECT")
        select = [self.select_item()]
        while self.at_punct(","):
            self.advance()
            select.append(self.select_item())
        self.expect_kw("FROM")
        obj = self.name()
        alias = None
        if self.tok.kind == "ident" and self.tok.upper not in KEYWORDS:
            alias = self.advance().text
        if self.at_kw("USING"):
            self.advance()
            self.expect_kw("SCOPE")
            self.name()
        where = having = None
        group_by: list[GroupItem] = []
        order_by: list[OrderItem] = []
        limit = offset = None
        limit_pos = offset_pos = 0
        if self.at_kw("WHERE"):
            self.advance()
            where = self.condition()
        if self.at_kw("WITH"):
            self.advance()
            self.name()  # SECURITY_ENFORCED / USER_MODE / SYSTEM_MODE: the demo org has one admin user
        if self.at_kw("GROUP"):
            self.advance()
            self.expect_kw("BY")
            if self.tok.upper in ("ROLLUP", "CUBE") and self.peek().text == "(":
                raise error_at(
                    MALFORMED_QUERY,
                    self.text,
                    self.tok.pos,
                    f"GROUP BY {self.tok.upper} is not supported by the demo org",
                )
            group_by.append(self.group_item())
            while self.at_punct(","):
                self.advance()
                group_by.append(self.group_item())
            if self.at_kw("HAVING"):
                self.advance()
                having = self.condition()
        if self.at_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            order_by.append(self.order_item())
            while self.at_punct(","):
                self.advance()
                order_by.append(self.order_item())
        if self.at_kw("LIMIT"):
            limit_pos = self.advance().pos
            limit = self.integer()
        if self.at_kw("OFFSET"):
            offset_pos = self.advance().pos
            offset = self.integer()
        if self.at_kw("FOR"):
            self.advance()
            if self.tok.upper not in ("VIEW", "REFERENCE", "UPDATE"):
                raise self.unexpected()
            self.advance()
        if not nested and self.tok.kind != "eof":
            raise self.unexpected()
        return Query(
            text=self.text,
            select=tuple(select),
            sobject=obj.text,
            sobject_pos=obj.pos,
            alias=alias,
            where=where,
            group_by=tuple(group_by),
            having=having,
            order_by=tuple(order_by),
            limit=limit,
            offset=offset,
            limit_pos=limit_pos,
            offset_pos=offset_pos,
        )

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.unexpected()
        self.advance()
        return int(tok.text)

    def field_ref(self) -> FieldRef:
        first = self.name()
        parts = [first.text]
        while self.at_punct("."):
            self.advance()
            if self.tok.kind != "ident":
                raise self.unexpected()
            parts.append(self.advance().text)
        return FieldRef(tuple(parts), first.pos)

    def date_function(self) -> DateFunction:
        fn = self.advance()
        self.expect_punct("(")
        arg = self.field_ref()
        self.expect_punct(")")
        return DateFunction(fn.upper, arg, fn.pos)

    def group_item(self) -> GroupItem:
        if self.is_call() and self.tok.upper in DATE_FUNCTIONS:
            return self.date_function()
        return self.field_ref()

    def operand(self) -> Operand:
        """A field, an aggregate or a date function (where each is allowed is the evaluator's business)."""
        if self.is_call() and self.tok.upper in AGGREGATES:
            return self.aggregate()
        if self.is_call() and self.tok.upper in DATE_FUNCTIONS:
            return self.date_function()
        if self.is_call():
            raise error_at(
                MALFORMED_QUERY,
                self.text,
                self.tok.pos,
                f"Unknown function: {self.tok.text} (not supported by the demo org)",
            )
        return self.field_ref()

    def aggregate(self) -> Aggregate:
        fn = self.advance()
        self.expect_punct("(")
        arg = None
        if not self.at_punct(")"):
            arg = self.field_ref()
        elif fn.upper != "COUNT":
            raise self.unexpected()
        self.expect_punct(")")
        return Aggregate(fn.upper, arg, fn.pos)

    def is_call(self) -> bool:
        return self.tok.kind == "ident" and self.peek().kind == "punct" and self.peek().text == "("

    def select_item(self) -> SelectItem:
        tok = self.tok
        if self.at_punct("("):
            # parent-to-child subquery: parse it to find the relationship name, refuse it later
            self.advance()
            sub = self.query(nested=True)
            self.expect_punct(")")
            return ChildSubquery(sub.sobject, sub.sobject_pos)
        if self.is_call():
            upper = tok.upper
            if upper in AGGREGATES:
                agg = self.aggregate()
                if self.tok.kind == "ident" and self.tok.upper not in KEYWORDS:
                    agg = Aggregate(agg.func, agg.arg, agg.pos, self.advance().text)
                return agg
            if upper in DATE_FUNCTIONS:
                fn = self.date_function()
                if self.tok.kind == "ident" and self.tok.upper not in KEYWORDS:
                    fn = DateFunction(fn.func, fn.arg, fn.pos, self.advance().text)
                return fn
            if upper == "FIELDS":
                self.advance()
                self.expect_punct("(")
                kind = self.advance()
                if kind.upper not in ("ALL", "STANDARD", "CUSTOM"):
                    raise self.unexpected(kind)
                self.expect_punct(")")
                return FieldsFunction(kind.upper, tok.pos)
            raise error_at(
                MALFORMED_QUERY,
                self.text,
                tok.pos,
                f"Unknown function: {tok.text} (not supported by the demo org)",
            )
        if tok.upper in KEYWORDS:
            raise self.unexpected()
        ref = self.field_ref()
        if self.tok.kind == "ident" and self.tok.upper not in KEYWORDS:
            after = self.peek()
            if not (after.upper == "FROM" or (after.kind == "punct" and after.text == ",")):
                raise self.unexpected()  # a misspelt keyword (SELECT Id FRM ...), not an alias
            raise error_at(
                MALFORMED_QUERY, self.text, self.tok.pos, "Only aggregate expressions use field aliasing"
            )
        return ref

    def order_item(self) -> OrderItem:
        operand = self.operand()
        descending = False
        nulls_last: bool | None = None
        if self.at_kw("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        if self.at_kw("NULLS"):
            self.advance()
            if not self.at_kw("FIRST", "LAST"):
                raise self.unexpected()
            nulls_last = self.advance().upper == "LAST"
        return OrderItem(operand, descending, nulls_last)

    # SOQL refuses AND and OR at the same level without parentheses ("unexpected token: OR")
    def condition(self) -> Condition:
        items = [self.unary()]
        op = None
        while self.at_kw("AND", "OR"):
            word = self.tok.upper
            if op is not None and word != op:
                raise self.unexpected()
            op = word
            self.advance()
            items.append(self.unary())
        return items[0] if op is None else BoolOp(op, tuple(items))

    def unary(self) -> Condition:
        if self.at_kw("NOT"):
            self.advance()
            return Not(self.unary())
        if self.at_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        operand = self.operand()
        tok = self.tok
        if tok.kind == "op":
            self.advance()
            return Compare(operand, "!=" if tok.text == "<>" else tok.text, self.value(), tok.pos)
        word = tok.upper
        negated = False
        if word == "NOT" and self.peek().upper == "IN":
            self.advance()
            negated, word = True, "IN"
        if word == "IN":
            self.advance()
            self.expect_punct("(")
            if self.at_kw("SELECT"):
                if not isinstance(operand, FieldRef):
                    raise self.unexpected()
                sub = self.query(nested=True)
                self.expect_punct(")")
                return InQuery(operand, sub, negated, tok.pos)
            values = self.value_list()
            return InList(operand, values, negated, tok.pos)
        if word == "LIKE":
            self.advance()
            return Like(operand, self.value(), tok.pos)
        if word in ("INCLUDES", "EXCLUDES"):
            self.advance()
            if not isinstance(operand, FieldRef):
                raise self.unexpected(tok)
            self.expect_punct("(")
            return Includes(operand, self.value_list(), word == "EXCLUDES", tok.pos)
        raise self.unexpected()

    def value_list(self) -> tuple[Literal, ...]:
        values = [self.value()]
        while self.at_punct(","):
            self.advance()
            values.append(self.value())
        self.expect_punct(")")
        return tuple(values)

    def value(self) -> Literal:
        tok = self.tok
        kind = tok.kind
        if kind == "string":
            self.advance()
            raw = tok.text[1:-1]
            return Literal("string", unescape(raw, self.text, tok.pos), tok.pos, raw)
        if kind == "number":
            self.advance()
            text = tok.text
            number: float | int = float(text) if "." in text else int(text)
            return Literal("number", number, tok.pos, text)
        if kind == "date":
            self.advance()
            d: date = parse_date(tok.text, self.text, tok.pos)
            return Literal("date", d, tok.pos, tok.text)
        if kind == "datetime":
            self.advance()
            dt: datetime = parse_datetime(tok.text, self.text, tok.pos)
            return Literal("datetime", dt, tok.pos, tok.text)
        word = tok.upper
        if word in ("TRUE", "FALSE"):
            self.advance()
            return Literal("boolean", word == "TRUE", tok.pos, tok.text)
        if word == "NULL":
            self.advance()
            return Literal("null", None, tok.pos, tok.text)
        if word in DATE_LITERALS:
            self.advance()
            takes_n = DATE_LITERALS[word]
            n = None
            if takes_n:
                self.expect_punct(":")
                num = self.tok
                if num.kind != "number" or not num.text.lstrip("+-").isdigit():
                    raise self.unexpected()
                self.advance()
                n = int(num.text)
            elif self.at_punct(":"):
                raise self.unexpected()
            return Literal("dateliteral", (word, n), tok.pos, tok.text if n is None else f"{tok.text}:{n}")
        if tok.kind == "punct" and tok.text == ":":
            raise error_at(
                MALFORMED_QUERY, self.text, tok.pos, "Bind variables are only allowed in Apex code"
            )
        raise self.unexpected()


def parse(text: str) -> Query:
    """Parse SOQL text into a :class:`Query`; raise :class:`SoqlError` ``MALFORMED_QUERY`` on bad syntax.

    >>> parse("SELECT Name FROM User ORDER BY Name DESC NULLS LAST").order_by[0].descending
    True
    >>> parse("SELEKT nope")
    Traceback (most recent call last):
    ...
    toolkit.demoorg.soql_errors.SoqlError: MALFORMED_QUERY: ...unexpected token: SELEKT
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise SoqlError(
            MALFORMED_QUERY, f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH} characters."
        )
    return _Parser(text).query()
