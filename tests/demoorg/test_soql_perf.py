"""Performance smoke test of the SOQL engine: 100k rows, filter + join + sort + group (generous bounds)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from toolkit.demoorg.soql import TableSource, run

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
N_ROWS = 100_000


@pytest.fixture(scope="module")
def big_org() -> TableSource:
    rnd = random.Random(7)
    apps = [f"App {i:03d}" for i in range(60)]
    users = [
        {"Id": f"005{i:012d}AAA", "Username": f"u{i}@demo.org", "IsActive": i % 7 != 0} for i in range(500)
    ]
    logins = [
        {
            "Id": f"0Ya{i:012d}AAA",
            "UserId": users[rnd.randrange(500)]["Id"],
            "Application": rnd.choice(apps),
            # half as datetimes, half as Salesforce strings: both forms must work at speed
            "LoginTime": (NOW - timedelta(minutes=rnd.randrange(400 * 24 * 60)))
            if i % 2
            else (NOW - timedelta(minutes=rnd.randrange(400 * 24 * 60))).strftime(
                "%Y-%m-%dT%H:%M:%S.000+0000"
            ),
            "LoginType": rnd.choice(["Remote Access 2.0", "Application", "Remote Access Client"]),
        }
        for i in range(N_ROWS)
    ]
    tokens = [
        {
            "Id": None,
            "AppName": rnd.choice(apps),
            "UserId": users[rnd.randrange(500)]["Id"],
            "LastUsedDate": NOW - timedelta(hours=rnd.randrange(24 * 365)),
            "UseCount": rnd.randrange(100),
        }
        for _ in range(N_ROWS)
    ]
    user_ref: dict[str, Any] = {"type": "reference", "referenceTo": ["User"], "relationshipName": "User"}
    return TableSource(
        {
            "User": {"Id": "id", "Username": "string", "IsActive": "boolean"},
            "LoginHistory": {
                "Id": "id",
                "UserId": user_ref,
                "LoginTime": "datetime",
                "LoginType": "picklist",
                "Application": {"type": "string", "filterable": False},
            },
            "OauthToken": {
                "Id": "id",
                "AppName": "string",
                "UserId": user_ref,
                "LastUsedDate": "datetime",
                "UseCount": "int",
            },
        },
        {"User": users, "LoginHistory": logins, "OauthToken": tokens},
    )


QUERIES = [
    "SELECT Application, LoginType, COUNT(Id) n, MAX(LoginTime) lastLogin FROM LoginHistory "
    "WHERE LoginTime = LAST_N_DAYS:180 GROUP BY Application, LoginType ORDER BY COUNT(Id) DESC",
    "SELECT Id, Application, LoginTime FROM LoginHistory WHERE LoginType = 'Remote Access 2.0' "
    "AND LoginTime > 2026-01-01T00:00:00Z ORDER BY LoginTime DESC, Id LIMIT 2000",
    "SELECT AppName, User.Username, LastUsedDate FROM OauthToken WHERE User.IsActive = false "
    "ORDER BY AppName, LastUsedDate DESC",
    "SELECT AppName, COUNT_DISTINCT(UserId), SUM(UseCount) FROM OauthToken "
    "WHERE LastUsedDate < LAST_N_DAYS:90 "
    "GROUP BY AppName",
    "SELECT COUNT() FROM OauthToken WHERE AppName LIKE 'App 01%' OR UseCount > 90",
]


@pytest.mark.parametrize("text", QUERIES, ids=[t.split(" FROM ")[1][:40] for t in QUERIES])
def test_100k_rows(big_org: TableSource, text: str) -> None:
    run(text, big_org, now=NOW)  # warm the parent index cache of nothing: each run builds its own
    start = time.perf_counter()
    result = run(text, big_org, now=NOW)
    elapsed = time.perf_counter() - start
    print(f"\n{elapsed * 1000:.0f} ms, {result.total_size} rows: {text[:90]}")
    assert result.total_size > 0  # the time is printed, not asserted (speed is measured in benchmarks/)
