"""OauthToken past the 2,500-row cap (issue 14, reads item 1; performance item 8): read in CreatedDate order,
one COUNT(), one further query per 2,500 rows, ties at a window's edge neither lost nor read twice, and a
second holding more than the cap is unknown with the reason (never silently short)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import toolkit
from toolkit.demoorg import DemoOrg
from toolkit.sources.org_inventory import TOKEN_CAP, load_org


def _connect(demo: Any) -> toolkit.Org:
    return toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
    )


def _key(t: dict[str, Any]) -> tuple[Any, ...]:
    return (t.get("AppName"), t.get("UserId"), str(t.get("CreatedDate"))[:19], t.get("UseCount"))


def _same_second(demo: DemoOrg, first: int, count: int) -> None:
    """Give ``count`` tokens from the ``first``-th oldest on the same CreatedDate second (ms apart)."""
    with demo.state.lock:
        rows = sorted(demo.state.objects["OauthToken"], key=lambda t: t["CreatedDate"])
        base = rows[first]["CreatedDate"].replace(microsecond=0)
        for i, t in enumerate(rows[first : first + count]):
            t["CreatedDate"] = base + timedelta(microseconds=(i % 1000) * 1000)


def test_ties_at_a_window_edge_are_read_once_each() -> None:
    with DemoOrg(apps=100, ecas=0, seed=1) as big:
        _same_second(big, TOKEN_CAP - 300, 600)  # 600 tokens of one second across the first window's edge
        with big.state.lock:
            truth = Counter(_key(_row(t)) for t in big.state.objects["OauthToken"])
        inventory = load_org(_connect(big), strict=True)
        tokens = inventory.extra["tokens"]
        assert len(tokens) == sum(truth.values()) > TOKEN_CAP
        assert Counter(_key(t) for t in tokens) == truth  # none lost, none twice
        extra = inventory.extra["api"]["extra"]
        assert extra["OauthToken COUNT() (2,500-row cap)"] == 1


def test_more_tokens_in_one_second_than_the_cap_are_unknown_with_the_reason() -> None:
    with DemoOrg(apps=100, ecas=0, seed=1) as big:
        _same_second(big, 100, TOKEN_CAP + 100)
        inventory = load_org(_connect(big))
        assert "OauthToken" in inventory.extra["unknown_objects"] and inventory.partial
        assert "cannot be split further" in inventory.partial_reason
        assert inventory.extra["tokens"] == []  # unknown, not a short table


def _row(t: dict[str, Any]) -> dict[str, Any]:
    return {**t, "CreatedDate": t["CreatedDate"].strftime("%Y-%m-%dT%H:%M:%S")}
