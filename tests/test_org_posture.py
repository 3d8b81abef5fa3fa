"""The org-wide settings of an org audit (the ``org`` table): a read that fails leaves its facts unknown with
the reason and the audit partial, never a default; the other facts are still read. Demo org over HTTPS."""

from __future__ import annotations

from typing import Any

import pytest

import toolkit
from toolkit.sources.resilience import RetryPolicy

FAST = RetryPolicy(attempts=2, base=0.001, cap=0.001, limit_wait=0.001, limit_attempts=2)


@pytest.fixture
def fresh_demo_org(fresh_demo_org: Any) -> Any:
    """The shared demo org, reset before and after: faults must not leak to other tests."""
    yield fresh_demo_org
    fresh_demo_org.reset()


def _audit(demo: Any) -> dict[str, Any]:
    org = toolkit.connect(
        "demo",
        instance_url=demo.instance_url,
        access_token=demo.access_token,
        ca_file=demo.ca_file,
        policy=FAST,
    )
    return toolkit.audit(org)


def test_a_failed_settings_read_is_unknown_and_partial(fresh_demo_org: Any) -> None:
    fresh_demo_org.inject_fault("http500", operation="readMetadata", full_name="OauthOidcSettings")
    tables = _audit(fresh_demo_org)
    org = tables["org"].set_index("setting")
    oauth = org[org["source"].str.startswith("OauthOidcSettings.")]
    assert len(oauth) == 3 and not oauth["known"].any() and oauth["value"].isna().all()
    assert oauth["reason"].str.contains("readMetadata OauthOidcSettings").all()
    assert org.loc["api_access_control", "known"] and org.loc["continuous_ip_enforcement", "known"]
    apps = tables["apps"]
    assert apps["partial"].all() and "readMetadata OauthOidcSettings" in apps["partial_reason"].iloc[0]


def test_a_failed_holder_query_is_unknown(fresh_demo_org: Any) -> None:
    fresh_demo_org.inject_fault("http500", operation="query", full_name="PermissionsUseAnyApiClient")
    org = _audit(fresh_demo_org)["org"].set_index("setting")
    assert not org.loc["use_any_api_client_users", "known"]
    assert org.loc["approve_uninstalled_users", "known"]
