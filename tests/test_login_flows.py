"""Rules on sign-in flows read ``LoginHistory.LoginSubType`` with every documented value of a flow (Object
Reference, LoginHistory): logins planted in the demo org, audited over HTTPS through simple-salesforce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import toolkit
from tests.test_rules_org import _audit
from toolkit.demoorg import DemoOrg


@pytest.fixture
def fresh_demo_org(fresh_demo_org: DemoOrg) -> Any:
    """The shared demo org, reset before and after: planted rows must not leak to other tests."""
    yield fresh_demo_org
    fresh_demo_org.reset()


def _findings(demo: DemoOrg) -> pd.DataFrame:
    return toolkit.findings(_audit(demo))


def _plant(demo: DemoOrg, label: str, subtype: str, n: int = 3) -> None:
    rows = demo.state.objects["LoginHistory"]
    user = demo.state.objects["User"][0]["Id"]
    for i in range(n):
        rows.append(
            {
                **rows[0],
                "Id": f"0Ya9{len(rows):014d}"[:18],
                "UserId": user,
                "Application": label,
                "LoginTime": datetime.now(UTC) - timedelta(days=1, minutes=i),
                "LoginType": "Remote Access 2.0",
                "LoginSubType": subtype,
            }
        )


def _server_apps(demo: DemoOrg) -> list[tuple[str, str]]:
    """Local JWT / client-credentials apps: their seeded logins use no user-agent flow."""
    truth = demo.truth()
    return [(n, a["label"]) for n, a in truth["apps"].items() if a["kind"] in ("jwt", "cc")]


@pytest.mark.parametrize("subtype", ["OauthUserAgent", "OauthUserAgentIdToken", "OauthHybridUserAgent"])
def test_oau12_sees_every_user_agent_subtype(fresh_demo_org: DemoOrg, subtype: str) -> None:
    (name, label), (other, _) = _server_apps(fresh_demo_org)[:2]
    _plant(fresh_demo_org, label, subtype)
    f = _findings(fresh_demo_org)
    hits = f[(f["rule"] == "OAU-12") & (f["status"] == "fail")]
    assert name in set(hits["app"]), hits[["app", "observed"]].values.tolist()
    assert other not in set(hits["app"])
    assert "3 logins" in hits.set_index("app").loc[name, "observed"]
