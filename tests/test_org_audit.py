"""Integration: audit the demo org over HTTPS through unmodified simple-salesforce; compare with its truth."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.model.catalog import parse_minutes
from toolkit.sources.org import Org


def _connect(demo: Any, **kw: Any) -> Org:
    return toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file, **kw
    )


@pytest.fixture(scope="module")
def audited(demo_org: Any) -> tuple[dict[str, pd.DataFrame], Org, dict[str, Any]]:
    before = dict(demo_org.stats()["requests"])
    org = _connect(demo_org)
    tables = toolkit.audit(org, strict=True)
    after = demo_org.stats()["requests"]
    served = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    return tables, org, served


def test_every_app_is_a_row_and_classified(audited: Any, demo_org: Any) -> None:
    tables, _, _ = audited
    truth = demo_org.truth()
    apps = tables["apps"].set_index("name")
    assert not apps.index.duplicated().any()
    for name in truth["categories"]["local"]:
        assert apps.loc[name, "coverage"] == "metadata+soql", name
        assert apps.loc[name, "join_key"] == "id"
    for name in truth["categories"]["packaged"]:
        assert apps.loc[name, "coverage"] == "soql_only", name
        assert not apps.loc[name, "editable"] and "packaged" in apps.loc[name, "coverage_reason"]
    for name in truth["categories"]["phantom"]:
        assert apps.loc[name, "coverage"] == "tokens_only", name
        assert not apps.loc[name, "installed"]
    for name in truth["categories"]["ecas"]:
        assert apps.loc[name, "kind"] == "ExternalClientApplication", name
    expected = set(truth["apps"]) | set(truth["categories"]["phantom"]) | set(truth["categories"]["ecas"])
    assert expected <= set(apps.index)
    assert not apps["partial"].any()


def test_mobile_policies_come_from_soql(audited: Any, demo_org: Any) -> None:
    tables, _, _ = audited
    apps = tables["apps"].set_index("name")
    for name, t in demo_org.truth()["apps"].items():
        pin = apps.loc[name, "pin_length"]
        assert (None if pd.isna(pin) else int(pin)) == (
            None if t["PinLength"] is None else int(t["PinLength"])
        ), name
        lock = apps.loc[name, "lock_after"]
        want = parse_minutes(t["MobileSessionTimeout"]) if t["MobileSessionTimeout"] is not None else None
        assert (None if pd.isna(lock) else int(lock)) == want, name


def test_usage_aggregates_match_the_seed(audited: Any, demo_org: Any) -> None:
    tables, _, _ = audited
    truth = demo_org.truth()
    usage = tables["usage"].set_index("app")
    for name, t in truth["apps"].items():
        assert usage.loc[name, "tokens"] == t["tokens"], name
        if t["kind"] not in ("jwt", "cc"):  # the seed records the planned, not the drawn, count for these
            assert usage.loc[name, "logins"] == t["logins"], name
    for name in truth["unused"]:
        assert not usage.loc[name, "used"], name
    assert len(tables["tokens"]) == truth["tokens"]
    assert usage["tokens"].sum() == truth["tokens"]
    users = {u["Id"]: u for u in demo_org.state.objects["User"]}
    inactive = sum(1 for t in demo_org.state.objects["OauthToken"] if not users[t["UserId"]]["IsActive"])
    assert usage["inactive_user_tokens"].sum() == inactive
    logins = tables["logins"]
    assert "OauthClientCredentials" in set(logins["login_subtype"])
    assert "OauthJwtBearer" not in set(logins["login_subtype"])  # not a documented LoginSubType


def test_api_calls_are_within_ten_percent_of_the_bound(audited: Any) -> None:
    tables, org, served = audited
    api = tables["api_calls"].set_index("kind")["calls"]
    # the seeded unloadable installed apps cost extra readMetadata calls to isolate (their own row)
    extra = sum(n for k, n in api.items() if str(k).startswith("extra:readMetadata split"))
    assert 0 < extra <= 10
    assert api["TOTAL"] - extra <= 1.1 * api["lower_bound"], tables["api_calls"].to_string()
    assert api["readMetadata"] == served.get("readMetadata")
    assert api["daily_api_usage_after"] >= api["daily_api_usage_before"]


def test_no_secret_in_tables_or_repr(audited: Any, demo_org: Any) -> None:
    tables, org, _ = audited
    text = "".join(df.to_csv() for df in tables.values()) + repr(org) + str(org)
    for secret in (demo_org.access_token, demo_org.password, demo_org.client_secret):
        assert secret not in text


def test_metadata_kept_without_loss(audited: Any, demo_org: Any) -> None:
    from toolkit.sources.org_inventory import load_org

    org = _connect(demo_org)
    inv = load_org(org)
    future = demo_org.truth()["future_element_apps"]
    docs = {b.name: b.doc("ConnectedApp") for b in inv.apps if b.doc("ConnectedApp") is not None}
    for name in future:
        stored = demo_org.state.metadata[("ConnectedApp", name)].doc
        ours = docs[name]
        assert [n for n, _ in ours.children()] == [n for n, _ in stored.children()]


def test_audit_of_a_folder_still_works(tmp_path: Any) -> None:
    assert "apps" in toolkit.audit(tmp_path)


def test_concurrency_bounds_requests_in_flight(demo_org: Any) -> None:
    import threading

    from requests.adapters import HTTPAdapter

    class Counting(HTTPAdapter):  # instruments requests itself, below simple-salesforce
        def __init__(self) -> None:
            super().__init__(pool_maxsize=32)
            self.lock, self.now, self.peak = threading.Lock(), 0, 0

        def send(self, *args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                return super().send(*args, **kwargs)
            finally:
                with self.lock:
                    self.now -= 1

    org = _connect(demo_org, concurrency=3)
    adapter = Counting()
    org.sf.session.mount("https://", adapter)
    tables = toolkit.audit(org, strict=True)
    assert len(tables["apps"]) > 60
    assert 2 <= adapter.peak <= 3


def test_org_table_matches_the_seeded_posture(audited: Any, demo_org: Any) -> None:
    from toolkit.model.org_settings import ORG_SETTINGS

    tables, _, served = audited
    truth = demo_org.truth()["org"]
    org = tables["org"].set_index("setting")
    assert org["known"].all()
    for s in ORG_SETTINGS:
        if s.type_name == "PermissionSetAssignment":
            want: Any = truth["assignees"][s.path]
        else:
            want = truth["settings"][s.type_name]
            for part in s.path.split("/"):
                want = want[part]
        assert org.loc[s.id, "value"] == want, s.id
