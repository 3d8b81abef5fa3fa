"""Packaged connected apps in one retrieve job (issue 14, item 8): an unloadable installed app is a message
of the job, not a failed readMetadata call, so it costs no call of its own; the audit knows the same as with
readMetadata batches (which it falls back to when the retrieve fails)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.demoorg import DemoOrg
from toolkit.sources.resilience import RetryPolicy

FAST = RetryPolicy(attempts=2, base=0.001, cap=0.001, limit_wait=0.001, limit_attempts=2)


@pytest.fixture(scope="module")
def org200() -> Any:
    with DemoOrg(apps=200, ecas=0, seed=1) as demo:
        yield demo


def _audit(demo: DemoOrg) -> dict[str, pd.DataFrame]:
    org = toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file,
        policy=FAST,
    )
    return toolkit.audit(org)


def _calls(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    return {str(k): int(v) for k, v in tables["api_calls"].set_index("kind")["calls"].items()}


def test_packaged_apps_come_from_one_retrieve_and_unloadable_ones_cost_no_call(org200: DemoOrg) -> None:
    truth = org200.truth()
    packaged, bad = truth["categories"]["packaged"], truth["unloadable"]
    assert len(packaged) > 10 and bad
    tables = _audit(org200)
    calls = _calls(tables)
    assert calls["retrieve"] == 1 and calls["checkRetrieveStatus"] == 1
    assert not [k for k in calls if k.startswith("extra:readMetadata split")]
    apps = tables["apps"].set_index("name")
    for name in bad:  # unknown, with Salesforce's words as the reason
        assert "Load of metadata from db failed" in apps.loc[name, "coverage_reason"]
    for name in set(packaged) - set(bad):
        assert apps.loc[name, "coverage"] == "soql_only"
        assert "returns nothing" in apps.loc[name, "coverage_reason"]


def test_a_failed_retrieve_falls_back_to_read_batches_with_the_same_tables(org200: DemoOrg) -> None:
    with_retrieve = _audit(org200)["apps"].set_index("name")
    org200.inject_fault("http500", operation="retrieve")
    try:
        tables = _audit(org200)
    finally:
        org200.clear_faults()
    calls = _calls(tables)
    assert calls["readMetadata"] > _calls(_audit(org200))["readMetadata"]
    assert sum(v for k, v in calls.items() if k.startswith("extra:readMetadata split")) >= len(
        org200.truth()["unloadable"]
    )
    fallback = tables["apps"].set_index("name")
    cols = ["coverage", "editable"]
    pd.testing.assert_frame_equal(with_retrieve[cols].sort_index(), fallback[cols].sort_index())
    bad = org200.truth()["unloadable"]
    assert fallback.loc[bad, "coverage_reason"].str.contains("Load of metadata from db failed").all()
