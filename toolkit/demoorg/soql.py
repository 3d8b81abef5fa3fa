"""The demo org's SOQL engine: a pure-Python SOQL subset (parser + evaluator), no I/O.

Contract with core (the REST ``query``/``queryAll`` handlers)::

    from toolkit.demoorg import soql
    result = soql.run(text, source, now=None, include_deleted=False, tz="Europe/Paris")
    # or: query = soql.parse(text); result = soql.execute(query, source, ...)
    result                 # list of Record (dicts, JSON-ready values, API field casing, selection order)
    result.total_size      # Salesforce's totalSize (the count for SELECT COUNT() queries)
    result.count_only      # True for SELECT COUNT(): the list is [] and total_size is the count
    result.aggregate       # True for aggregate queries: each record's type is "AggregateResult"
    result.sobject         # the FROM object in API casing
    record.sobject, record.record_id   # for attributes {type, url}; nested parents are Records too
    except soql.SoqlError as e: e.error_code, e.message, e.as_rest()   # HTTP 400 body

Note for core: pass ``tz=`` the running user's ``TimeZoneSidKey`` so TODAY/LAST_N_DAYS start at the user's
midnight, as in Salesforce (UTC by default).

``source`` implements :class:`RowSource` (``rows(sobject)`` and ``describe(sobject)``); see
:mod:`toolkit.demoorg.soql_schema` for the describe forms accepted, and :class:`TableSource` for a ready one.
Supported subset and known differences: ``docs/demo-org.md`` (section SOQL).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from .soql_dates import format_datetime, literal_dates, literal_range
from .soql_errors import SoqlError
from .soql_eval import QueryResult, Record, execute
from .soql_parser import Query, parse
from .soql_schema import FieldInfo, ObjectSchema, RowSource, TableSource

__all__ = [
    "FieldInfo",
    "ObjectSchema",
    "Query",
    "QueryResult",
    "Record",
    "RowSource",
    "SoqlError",
    "TableSource",
    "execute",
    "format_datetime",
    "literal_dates",
    "literal_range",
    "parse",
    "run",
]


def run(
    text: str,
    source: RowSource,
    *,
    now: datetime | None = None,
    include_deleted: bool = False,
    tz: tzinfo | str = UTC,
) -> QueryResult:
    """Parse and execute SOQL ``text`` over ``source``; ``now`` fixes TODAY/LAST_N_DAYS (default: UTC now).

    ``include_deleted=True`` is ``queryAll`` (rows with ``IsDeleted`` true are kept). ``tz`` is the running
    user's time zone (a tzinfo or an IANA name such as the user's ``TimeZoneSidKey``): date literals start at
    midnight there, as in Salesforce.

    >>> src = TableSource(
    ...     {"User": {"Id": "id", "Name": "string", "IsActive": "boolean"}},
    ...     {"User": [{"Id": "005000000000001AAA", "Name": "Ann", "IsActive": True},
    ...               {"Id": "005000000000002AAA", "Name": "Bob", "IsActive": False}]})
    >>> run("SELECT Name FROM User WHERE IsActive = false", src)
    [{'Name': 'Bob'}]
    >>> run("SELECT COUNT() FROM User", src).total_size
    2
    >>> run("SELECT Nope FROM User", src)
    Traceback (most recent call last):
    ...
    toolkit.demoorg.soql_errors.SoqlError: INVALID_FIELD: ...No such column 'Nope' on entity 'User'...
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return execute(parse(text), source, now=now, include_deleted=include_deleted, tz=zone)
