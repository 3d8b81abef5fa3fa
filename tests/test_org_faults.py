"""Integration: faults, expired sessions and every auth mode, against a fresh demo org each."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.errors import OrgError
from toolkit.sources.resilience import RetryPolicy

FAST = RetryPolicy(attempts=8, base=0.005, cap=0.05, limit_wait=0.01, limit_attempts=6)
STABLE = ["name", "kind", "coverage", "editable", "pin_length", "lock_after", "scopes", "callback_urls"]


@pytest.fixture
def fresh_demo_org(fresh_demo_org: Any) -> Any:
    """The shared demo org, reset before and after: faults and expired sessions must not leak to others."""
    yield fresh_demo_org
    fresh_demo_org.reset()


def _connect(demo: Any, **kw: Any) -> toolkit.Org:
    return toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file, **kw
    )


def _stable(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    apps = tables["apps"]
    cols = [c for c in STABLE if c in apps.columns]
    return apps[cols].sort_values("name", ignore_index=True)


def test_ten_percent_faults_complete_correctly_or_flag_partial(fresh_demo_org: Any) -> None:
    clean = toolkit.audit(_connect(fresh_demo_org), strict=True)
    for kind, rate in (("http500", 0.03), ("http503", 0.03), ("reset", 0.02), ("request_limit", 0.02)):
        fresh_demo_org.inject_fault(kind, rate=rate)
    org = _connect(fresh_demo_org, policy=FAST)
    try:
        faulty = toolkit.audit(org)
    except OrgError as exc:  # stopping is allowed, with a clear typed error
        assert exc.kind and str(exc)
        return
    retries = faulty["api_calls"].set_index("kind")["calls"]
    assert any(k.startswith("retry:") for k in retries.index), "faults were injected but none was retried"
    if faulty["apps"]["partial"].any():
        assert (faulty["apps"]["partial_reason"] != "").all()
        return
    pd.testing.assert_frame_equal(_stable(faulty), _stable(clean))
    pd.testing.assert_frame_equal(
        faulty["usage"].sort_values("app", ignore_index=True),
        clean["usage"].sort_values("app", ignore_index=True),
    )


def test_persistent_faults_never_give_silently_incomplete_tables(fresh_demo_org: Any) -> None:
    fresh_demo_org.inject_fault("http500", operation="readMetadata")
    org = _connect(fresh_demo_org, policy=RetryPolicy(attempts=2, base=0.001, cap=0.001))
    with pytest.raises(OrgError, match="readMetadata"):
        toolkit.audit(org, strict=True)
    tables = toolkit.audit(org)
    apps = tables["apps"]
    assert apps["partial"].all() and "readMetadata" in apps["partial_reason"].iloc[0]
    assert (apps.loc[apps["kind"] == "ConnectedApp", "coverage"] != "metadata+soql").all()


def test_expired_token_is_a_clear_error_in_access_token_mode(fresh_demo_org: Any) -> None:
    org = _connect(fresh_demo_org)
    fresh_demo_org.expire_sessions()
    with pytest.raises(OrgError) as err:
        toolkit.audit(org, strict=True)
    assert err.value.kind == "INVALID_SESSION_ID" and "fresh token" in str(err.value)
    assert fresh_demo_org.access_token not in str(err.value)


def test_password_login_logs_in_again_once(fresh_demo_org: Any) -> None:
    d = fresh_demo_org
    org = toolkit.connect(
        username=d.username,
        password=d.password,
        security_token=d.security_token,
        login_url=d.instance_url,
        ca_file=d.ca_file,
    )
    assert org.auth == "password" and d.password not in repr(org)
    d.expire_sessions()
    tables = toolkit.audit(org, strict=True)
    assert len(tables["apps"]) >= len(d.truth()["apps"])
    # exactly one login after the expiry (by simple-salesforce on REST, or by us on SOAP); the first login
    # happened before the ledger was installed
    assert org.ledger.calls["auth"] == 1


def test_jwt_and_client_credentials(fresh_demo_org: Any) -> None:
    d = fresh_demo_org
    jwt = toolkit.connect(
        username=d.username,
        consumer_key=d.jwt_consumer_key,
        private_key_file=d.jwt_private_key_file,
        login_url=d.instance_url,
        ca_file=d.ca_file,
    )
    assert jwt.auth == "jwt" and jwt.limits()["DailyApiRequests"]["Max"] > 0
    cc = toolkit.connect(
        consumer_key=d.client_id, consumer_secret=d.client_secret, login_url=d.instance_url, ca_file=d.ca_file
    )
    assert cc.auth == "client_credentials" and cc.limits()["DailyApiRequests"]["Max"] > 0
    assert d.client_secret not in repr(cc)


def test_wrong_password_is_a_typed_error_without_the_password(fresh_demo_org: Any) -> None:
    d = fresh_demo_org
    with pytest.raises(OrgError) as err:
        toolkit.connect(
            username=d.username,
            password="Wr0ngPassw0rd!",
            security_token="",
            login_url=d.instance_url,
            ca_file=d.ca_file,
        )
    assert "Wr0ngPassw0rd!" not in str(err.value)


def test_sf_cli_alias(fresh_demo_org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = fresh_demo_org
    result = {
        "status": 0,
        "result": {
            "accessToken": d.access_token,
            "instanceUrl": d.instance_url,
            "apiVersion": "66.0",
            "username": d.username,
        },
    }
    payload = tmp_path / "display.json"
    payload.write_text(json.dumps(result))
    script = tmp_path / "sf"
    script.write_text(
        f'#!/bin/sh\n[ "$4" = "--target-org" ] && [ "$5" = "demo-alias" ] && cat {payload} && exit 0\n'
        'echo \'{"status": 1, "message": "No authorization information found for nope."}\'\nexit 1\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    org = toolkit.connect("demo-alias", ca_file=d.ca_file)
    assert org.auth == "sf_cli" and org.api_version == "66.0"
    assert d.access_token not in repr(org)
    assert org.limits()["DailyApiRequests"]["Max"] > 0
    with pytest.raises(toolkit.SourceError, match="sf org login web --alias nope"):
        toolkit.connect("nope", ca_file=d.ca_file)


def test_embedded_demo_org_by_default() -> None:
    with toolkit.connect(demo_options={"apps": 12, "ecas": 2, "seed": 5}) as org:
        assert org.auth == "demo" and org.owned is not None
        tables = toolkit.audit(org, strict=True)
        assert {"usage", "tokens", "api_calls"} <= set(tables)
    assert org.owned is None
