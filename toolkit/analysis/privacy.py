"""Outputs without user names (``audit``/``report --no-user-names``): for sharing beyond the admins.

The audit tables name people in a few columns (:data:`USER_COLUMNS`: the token owners' usernames and user
ids, the run-as user of the client credentials flow and of an ECA's plugin, the app's contact e-mail).
:func:`without_user_names` replaces those values with :data:`HIDDEN` and every occurrence of them in any
other text cell (a finding's observed value or message quoting the run-as user, say), so no output built from
the tables shows them. Counts (``users``, ``tokens``) stay: they name no one.

>>> import pandas as pd
>>> tables = {"tokens": pd.DataFrame({"app": ["A"], "username": ["ann@x.example"], "user_id": ["005A"]}),
...           "apps": pd.DataFrame({"name": ["A"], "run_as": ["ann@x.example"], "contact_email": [None]})}
>>> f = pd.DataFrame({"app": ["A"], "message": ["runs as ann@x.example"]})
>>> hidden, findings = without_user_names(tables, f)
>>> hidden["tokens"].iloc[0].tolist(), hidden["apps"]["run_as"].tolist(), findings["message"].tolist()
(['A', '(hidden)', '(hidden)'], ['(hidden)'], ['runs as (hidden)'])
"""

from __future__ import annotations

import re

import pandas as pd

HIDDEN = "(hidden)"
USER_COLUMNS = {
    "tokens": ("username", "user_id"),
    "apps": ("run_as", "plugin_run_as", "contact_email"),
}
_SHORTEST = 3  # a value this short is not searched for inside other text (it would match words)


def user_names(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The distinct user names, ids and e-mails of :data:`USER_COLUMNS`, longest first."""
    found: set[str] = set()
    for table, columns in USER_COLUMNS.items():
        frame = tables.get(table)
        if frame is None:
            continue
        for column in columns:
            if column in frame:
                found.update(str(v) for v in frame[column].dropna() if str(v).strip())
    return sorted(found, key=lambda s: (-len(s), s))


def _scrub(
    frame: pd.DataFrame, pattern: re.Pattern[str] | None, columns: tuple[str, ...] = ()
) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if column in columns:
            out[column] = series.where(series.isna(), HIDDEN)
        elif pattern is not None and (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
            out[column] = [pattern.sub(HIDDEN, v) if isinstance(v, str) else v for v in series]
    out.attrs = dict(frame.attrs)
    return out


def without_user_names(
    tables: dict[str, pd.DataFrame], findings: pd.DataFrame | None = None
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """``tables`` (and ``findings``) with every user name, id and e-mail of :func:`user_names` replaced by
    :data:`HIDDEN`: in their own columns and wherever other text quotes them."""
    names = [n for n in user_names(tables) if len(n) >= _SHORTEST]
    pattern = re.compile("|".join(re.escape(n) for n in names)) if names else None
    hidden = {name: _scrub(frame, pattern, USER_COLUMNS.get(name, ())) for name, frame in tables.items()}
    return hidden, (None if findings is None else _scrub(findings, pattern))
