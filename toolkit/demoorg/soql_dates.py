"""SOQL date/dateTime literals and relative date literals (``TODAY``, ``LAST_N_DAYS:n``...).

Every relative literal is a half-open range ``[start, end)`` of UTC datetimes computed from a ``now`` the
caller passes (deterministic tests), in the running user's time zone (``tz``, default UTC); weeks start on
Sunday (en_US locale).
Fiscal literals (``THIS_FISCAL_YEAR``...) use the calendar year, as an org without custom fiscal years does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from .soql_errors import MALFORMED_QUERY, SoqlError, error_at

# literal name -> whether it takes ``:n``
DATE_LITERALS: dict[str, bool] = {
    **{
        name: False
        for name in (
            "YESTERDAY",
            "TODAY",
            "TOMORROW",
            "LAST_WEEK",
            "THIS_WEEK",
            "NEXT_WEEK",
            "LAST_MONTH",
            "THIS_MONTH",
            "NEXT_MONTH",
            "LAST_90_DAYS",
            "NEXT_90_DAYS",
            "THIS_QUARTER",
            "LAST_QUARTER",
            "NEXT_QUARTER",
            "THIS_YEAR",
            "LAST_YEAR",
            "NEXT_YEAR",
            "THIS_FISCAL_QUARTER",
            "LAST_FISCAL_QUARTER",
            "NEXT_FISCAL_QUARTER",
            "THIS_FISCAL_YEAR",
            "LAST_FISCAL_YEAR",
            "NEXT_FISCAL_YEAR",
        )
    },
    **{
        name: True
        for name in (
            "LAST_N_DAYS",
            "NEXT_N_DAYS",
            "N_DAYS_AGO",
            "LAST_N_WEEKS",
            "NEXT_N_WEEKS",
            "N_WEEKS_AGO",
            "LAST_N_MONTHS",
            "NEXT_N_MONTHS",
            "N_MONTHS_AGO",
            "LAST_N_QUARTERS",
            "NEXT_N_QUARTERS",
            "N_QUARTERS_AGO",
            "LAST_N_YEARS",
            "NEXT_N_YEARS",
            "N_YEARS_AGO",
            "LAST_N_FISCAL_QUARTERS",
            "NEXT_N_FISCAL_QUARTERS",
            "N_FISCAL_QUARTERS_AGO",
            "LAST_N_FISCAL_YEARS",
            "NEXT_N_FISCAL_YEARS",
            "N_FISCAL_YEARS_AGO",
        )
    },
}


def _bad_literal(text: str, query: str, pos: int) -> SoqlError:
    return error_at(MALFORMED_QUERY, query, pos, f"line 1:{pos} no viable alternative at character '{text}'")


def parse_date(text: str, query: str = "", pos: int = 0) -> date:
    """A SOQL date literal (``YYYY-MM-DD``).

    >>> parse_date("2026-01-31")
    datetime.date(2026, 1, 31)
    """
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad_literal(text, query, pos) from None


def parse_datetime(text: str, query: str = "", pos: int = 0) -> datetime:
    """A SOQL dateTime literal (``YYYY-MM-DDThh:mm:ssZ`` or with ``+hh:mm``), as an aware UTC datetime.

    >>> parse_datetime("2026-01-01T02:00:00+02:00")
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _bad_literal(text, query, pos) from None
    return value.astimezone(UTC)


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _midnight(d: date, tz: tzinfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)


def _month_start(year: int, month: int) -> date:
    # month may run outside 1..12: normalise
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1)


def literal_dates(name: str, n: int | None, now: datetime, tz: tzinfo = UTC) -> tuple[date, date]:
    """The days ``[first, end)`` a relative date literal stands for at ``now`` in the user's time zone ``tz``.

    >>> now = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    >>> [d.isoformat() for d in literal_dates("LAST_N_DAYS", 2, now)]
    ['2026-03-13', '2026-03-16']
    >>> [d.isoformat() for d in literal_dates("THIS_MONTH", None, now)]
    ['2026-03-01', '2026-04-01']
    """
    today = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(tz).date()
    k = n or 0
    name = name.replace("_FISCAL", "")
    one = timedelta(days=1)
    if name in ("TODAY", "YESTERDAY", "TOMORROW", "N_DAYS_AGO"):
        shift = {"TODAY": 0, "YESTERDAY": -1, "TOMORROW": 1}.get(name, -k)
        d = today + timedelta(days=shift)
        return d, d + one
    if name in ("LAST_90_DAYS", "LAST_N_DAYS"):
        days = 90 if name == "LAST_90_DAYS" else k
        # includes today: LAST_N_DAYS:1 is yesterday and today
        return today - timedelta(days=days), today + one
    if name in ("NEXT_90_DAYS", "NEXT_N_DAYS"):
        days = 90 if name == "NEXT_90_DAYS" else k
        # starts tomorrow: today is not included
        return today + one, today + one + timedelta(days=days)
    unit = next(u for u in ("WEEK", "MONTH", "QUARTER", "YEAR") if u in name)
    prefix = name.split("_" + unit)[0] if not name.startswith("N_") else "N_AGO"
    # whole periods relative to the current one: [current + lo, current + hi)
    lo, hi = {
        "THIS": (0, 1),
        "LAST": (-1, 0),
        "NEXT": (1, 2),
        "LAST_N": (-k, 0),
        "NEXT_N": (1, k + 1),
        "N_AGO": (-k, -k + 1),
    }[prefix]
    return _period_start(today, unit, lo), _period_start(today, unit, hi)


def _period_start(today: date, unit: str, shift: int) -> date:
    """First day of the week/month/quarter/year ``shift`` periods away from the one holding ``today``."""
    if unit == "WEEK":
        sunday = today - timedelta(days=(today.weekday() + 1) % 7)
        return sunday + timedelta(weeks=shift)
    if unit == "YEAR":
        return date(today.year + shift, 1, 1)
    size = 3 if unit == "QUARTER" else 1
    first_month = (today.month - 1) // size * size + 1
    return _month_start(today.year, first_month + shift * size)


def literal_range(name: str, n: int | None, now: datetime, tz: tzinfo = UTC) -> tuple[datetime, datetime]:
    """The UTC instants ``[start, end)`` of a relative date literal: its days, from midnight in ``tz``.

    >>> now = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    >>> [d.isoformat() for d in literal_range("TODAY", None, now)]
    ['2026-03-15T00:00:00+00:00', '2026-03-16T00:00:00+00:00']
    >>> from zoneinfo import ZoneInfo
    >>> literal_range("TODAY", None, now, ZoneInfo("Europe/Paris"))[0].isoformat()
    '2026-03-14T23:00:00+00:00'
    """
    first, end = literal_dates(name, n, now, tz)
    return _midnight(first, tz), _midnight(end, tz)


def as_datetime(value: object) -> datetime | None:
    """A row value (datetime, date or Salesforce/ISO string) as an aware UTC datetime; None stays None.

    >>> as_datetime("2024-01-12T10:00:00.000+0000")
    datetime.datetime(2024, 1, 12, 10, 0, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return _day(value)
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def as_date(value: object) -> date | None:
    """A row value (date, datetime or ``YYYY-MM-DD`` string) as a date; None stays None.

    >>> as_date("2026-02-01")
    datetime.date(2026, 2, 1)
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def format_datetime(value: datetime) -> str:
    """Salesforce's REST form of a dateTime: ``2024-01-12T10:00:00.000+0000``.

    >>> format_datetime(datetime(2024, 1, 12, 10, 0, tzinfo=UTC))
    '2024-01-12T10:00:00.000+0000'
    """
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
