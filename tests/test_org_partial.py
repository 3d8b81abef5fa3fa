"""Integration: reads never lie. What could not be read is unknown (with the reason), what was read is kept,
no call runs without a bound. Demo org over HTTPS through simple-salesforce, with the control plane's faults;
a tiny TCP server on 127.0.0.1 that accepts and never answers for the hangs."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.analysis.summary import summary_html
from toolkit.errors import InvalidValueError, OrgError
from toolkit.sources.org import timeouts
from toolkit.sources.org_inventory import CA_TYPE, ECA_TYPES, load_org
from toolkit.sources.resilience import CallFailed, RetryPolicy, with_retries

FAST = RetryPolicy(attempts=2, base=0.001, cap=0.001, limit_wait=0.001, limit_attempts=2)


@pytest.fixture
def fresh_demo_org(fresh_demo_org: Any) -> Any:
    """The shared demo org, reset before and after: faults must not leak to other tests."""
    yield fresh_demo_org
    fresh_demo_org.reset()


def _connect(demo: Any, **kw: Any) -> toolkit.Org:
    kw.setdefault("policy", FAST)
    return toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file, **kw
    )


def _apps(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return tables["apps"].set_index("name")


# --- item 1: false facts on partial failure ----------------------------------------------------------
def test_a_failed_eca_listing_keeps_the_connected_app_listing(fresh_demo_org: Any) -> None:
    truth = fresh_demo_org.truth()
    chunk_type = ECA_TYPES[2]  # the second listMetadata call lists ECA_TYPES[2:5]
    fresh_demo_org.inject_fault("http500", operation="listMetadata", full_name=chunk_type)
    tables = toolkit.audit(_connect(fresh_demo_org))
    apps = _apps(tables)
    for name in truth["categories"]["local"]:
        assert apps.loc[name, "coverage"] == "metadata+soql", name  # read, not thrown away
    ecas = apps[apps["kind"] == "ExternalClientApplication"]
    assert len(ecas) == len(truth["categories"]["ecas"])
    assert ecas["unknown"].str.contains(f"metadata:{chunk_type}").all()
    assert not tables["scopes"].set_index("app").loc[ecas.index[0], "known"].all()  # unknown, not none
    assert apps["partial"].all() and f"listMetadata {chunk_type}" in apps["partial_reason"].iloc[0]


def test_a_failed_listing_makes_local_apps_unknown_not_packaged(fresh_demo_org: Any) -> None:
    truth = fresh_demo_org.truth()
    fresh_demo_org.inject_fault("request_limit", operation="listMetadata")  # a limit that lasts
    tables = toolkit.audit(_connect(fresh_demo_org))
    apps = _apps(tables)
    for name in truth["categories"]["local"]:
        row = apps.loc[truth["apps"][name]["label"]]  # known by its SOQL Name (the label) only
        assert row["coverage"] == "metadata_unknown", name
        assert "packaged" not in row["coverage_reason"].split("whether")[0], row["coverage_reason"]
        assert "REQUEST_LIMIT_EXCEEDED" in row["coverage_reason"]
        assert pd.isna(row["editable"]) and row["not_editable_reason"].startswith("unknown")
        assert "metadata" in row["unknown"]
    # scopes and callbacks are unknown, not empty: one marker row per app
    scopes = tables["scopes"]
    assert set(scopes.loc[~scopes["known"], "app"]) >= {truth["apps"][n]["label"] for n in truth["mobile"]}
    assert scopes["known"].sum() == 0
    assert (~tables["callbacks"]["known"]).sum() == len(apps[apps["unknown"].str.contains("metadata")])
    assert apps["partial"].all() and "listMetadata" in apps["partial_reason"].iloc[0]
    assert tables["apps"].attrs["partial"] is True
    page = summary_html(tables)  # for people: "unknown" is written out, an empty cell is "not set"
    assert "<td>unknown</td>" in page and "metadata_unknown" in page


def test_a_failed_read_batch_leaves_those_apps_unknown_and_the_rest_read(fresh_demo_org: Any) -> None:
    truth = fresh_demo_org.truth()
    local = truth["categories"]["local"]
    fresh_demo_org.inject_fault("reset", operation="readMetadata", full_name=local[0])  # server dies on it
    tables = toolkit.audit(_connect(fresh_demo_org))
    apps = _apps(tables)
    batch = [n for n in local if n in set(local[:12])][:10]  # the batch local[0] is read in
    row = apps.loc[local[0]]
    assert row["coverage"] == "unreadable" and "readMetadata failed" in row["coverage_reason"]
    assert pd.isna(row["editable"]) and row["unknown"] == "metadata"
    unread = apps[apps["coverage"] == "unreadable"].index
    assert set(unread) == set(batch)
    assert (apps.loc[[n for n in local if n not in batch], "coverage"] == "metadata+soql").all()
    assert apps["partial"].all()
    assert not tables["scopes"].set_index("app").loc[local[0], "known"]


def test_a_failed_token_query_gives_unknown_usage_not_zero(fresh_demo_org: Any) -> None:
    fresh_demo_org.inject_fault("http500", operation="query", full_name="FROM OauthToken")
    tables = toolkit.audit(_connect(fresh_demo_org))
    usage = tables["usage"]
    assert usage["tokens"].isna().all() and usage["last_token_use"].isna().all()
    assert usage["logins"].notna().all()  # what was read is kept
    apps = _apps(tables)
    assert apps["unknown"].str.contains("OauthToken").all()
    assert apps["tokens"].isna().all() and apps["partial"].all()


# --- fidelity: one unloadable component fails a whole readMetadata call ------------------------------
def test_unloadable_installed_apps_are_isolated_by_splitting(fresh_demo_org: Any) -> None:
    truth = fresh_demo_org.truth()
    bad = truth["unloadable"]
    assert bad and set(bad) <= set(truth["categories"]["packaged"])
    org = _connect(fresh_demo_org, policy=None)
    tables = toolkit.audit(org, strict=True)  # packaged apps are never readable: not a failure
    apps = _apps(tables)
    for name in bad:
        assert apps.loc[name, "coverage"] == "soql_only"
        assert "Load of metadata from db failed" in apps.loc[name, "coverage_reason"]
        assert "metadata" in apps.loc[name, "unknown"]
    for name in truth["categories"]["local"]:
        assert apps.loc[name, "coverage"] == "metadata+soql", name
    problems = tables["problems"]["problem"]
    assert sum(problems.str.contains("Load of metadata from db failed")) == len(bad)
    assert not apps["partial"].any()
    api = tables["api_calls"].set_index("kind")["calls"]
    extra = int(api["extra:readMetadata split (ConnectedApp)"])
    assert 0 < extra <= 2 * len(bad) * 4  # about log2(10) per bad name, not a call per name


def test_an_unloadable_local_app_costs_a_few_calls_not_ten_apps(fresh_demo_org: Any) -> None:
    truth = fresh_demo_org.truth()
    local = truth["categories"]["local"]
    victim = local[13]
    with fresh_demo_org.state.lock:
        fresh_demo_org.state.metadata[(CA_TYPE, victim)].load_fails = True
        for name in truth["unloadable"]:  # only the one bad name in this test
            fresh_demo_org.state.metadata[(CA_TYPE, name)].load_fails = False
    before = fresh_demo_org.stats()["requests"].get("readMetadata", 0)
    org = _connect(fresh_demo_org, policy=None)
    inventory = load_org(org)
    served = fresh_demo_org.stats()["requests"]["readMetadata"] - before
    by_name = {b.name: b for b in inventory.apps}
    assert by_name[victim].coverage == "unreadable" and by_name[victim].editable is None
    assert "Load of metadata from db failed" in by_name[victim].coverage_reason
    assert all(by_name[n].coverage == "metadata+soql" for n in local if n != victim)
    extra = inventory.extra["api"]["extra"]["readMetadata split (ConnectedApp)"]
    assert 1 <= extra <= 6  # binary split of 10 names: at most 2 * ceil(log2(10)) - 2 calls
    assert served == inventory.extra["api"]["calls"]["readMetadata"]  # every extra call is in the ledger
    assert inventory.partial and victim in inventory.partial_reason
    assert sum(victim in p.problem for p in inventory.problems) == 1


def test_bulk_served_on_oauth_token_below_the_cap(fresh_demo_org: Any) -> None:
    org = _connect(fresh_demo_org, policy=None)
    org.bulk_threshold = 500  # the seeded tokens (2,466, under the 2,500 cap) come from Bulk API 2.0
    tables = toolkit.audit(org, strict=True)
    assert len(tables["tokens"]) == fresh_demo_org.truth()["tokens"]
    api = tables["api_calls"].set_index("kind")["calls"]
    assert not any(str(k).startswith("extra:bulk2 refused") for k in api.index)
    assert api["bulk2"] >= 2  # job creation, poll(s), results


# --- item 2: hangs -------------------------------------------------------------------------------------
@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (nor closes them)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    srv.close()


def test_an_org_that_never_answers_ends_with_a_clear_error(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("toolkit.sources.org_inventory.HEARTBEAT_S", 0.2)
    org = toolkit.connect(
        instance_url=f"https://127.0.0.1:{silent_server}",
        access_token="00Dx!NOANSWER",
        api_version="66.0",
        timeout=1.0,
    )
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(OrgError) as err:
        load_org(org, progress=lines.append)
    elapsed = time.monotonic() - started
    assert err.value.kind == "TIMEOUT" and "stopped answering" in str(err.value)
    assert "--timeout" in str(err.value)
    assert elapsed < 10, elapsed  # budget 2 x 1 s per call, then every other call fails at once
    # a stall says so (whether a retry still fits in the 2 s budget depends on the machine's load)
    assert any(line.startswith("waiting for the org: ") for line in lines)


def test_cli_timeout_option_bounds_a_silent_org(silent_server: int, tmp_path: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "toolkit",
            "audit",
            "--instance-url",
            f"https://127.0.0.1:{silent_server}",
            "--access-token",
            "00Dx!NOANSWER",
            "--timeout",
            "0.5",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - started < 30
    assert proc.returncode != 0 and "TIMEOUT" in proc.stderr and "Traceback" not in proc.stderr


def test_a_slow_demo_org_is_bounded_by_the_read_timeout(fresh_demo_org: Any) -> None:
    fresh_demo_org.set_latency(1500)  # every answer comes after 1.5 s
    started = time.monotonic()
    with pytest.raises(OrgError, match="TIMEOUT"):
        toolkit.audit(_connect(fresh_demo_org, timeout=0.2, policy=None))
    assert time.monotonic() - started < 15


def test_timeouts_and_the_retry_budget() -> None:
    assert timeouts(None) == (10.0, 60.0) and timeouts(3) == (3.0, 3.0) and timeouts(30) == (10.0, 30.0)
    for bad in (0, -1, "x", float("nan"), (1,)):
        with pytest.raises(InvalidValueError, match="timeout"):
            timeouts(bad)  # type: ignore[arg-type]
    now = [0.0]

    def fail() -> None:
        now[0] += 50.0  # each try waits 50 s for an answer that never comes
        raise CallFailed("TIMEOUT", "the org did not answer within the read timeout")

    with pytest.raises(OrgError, match="time budget 120 s") as err:
        with_retries(fail, what="query X", policy=RetryPolicy(), sleep=lambda s: None, clock=lambda: now[0])
    assert err.value.kind == "TIMEOUT" and now[0] <= 150.0


def test_nothing_readable_is_an_error_not_empty_tables(fresh_demo_org: Any) -> None:
    org = _connect(fresh_demo_org)
    fresh_demo_org.expire_sessions()  # access-token mode: no re-login possible
    with pytest.raises(OrgError) as err:
        toolkit.audit(org)  # not strict: still no "audited 0 apps"
    assert err.value.kind == "INVALID_SESSION_ID" and fresh_demo_org.access_token not in str(err.value)


def test_more_than_2500_tokens_are_never_silently_short() -> None:
    from toolkit.demoorg import DemoOrg

    with DemoOrg(apps=100, ecas=0, seed=1) as big:
        org = _connect(big, policy=None)
        inventory = load_org(org)
        assert big.truth()["tokens"] > 2500
        tokens = inventory.extra["tokens"]
        assert len(tokens) == big.truth()["tokens"]  # all of them: read in CreatedDate windows
        assert "OauthToken" not in inventory.extra["unknown_objects"] and not inventory.partial
        extra = inventory.extra["api"]["extra"]
        # one COUNT() and one query per further 2,500 rows: no bisection, no page read twice
        windows = -(-big.truth()["tokens"] // 2500) - 1
        assert extra["OauthToken COUNT() (2,500-row cap)"] == 1
        assert windows <= extra["OauthToken window reads (2,500-row cap)"] <= windows + 1
        apps = toolkit.audit(_connect(big, policy=None))["apps"]
        assert not apps["unknown"].fillna("").str.contains("OauthToken").any()


@pytest.mark.parametrize("n_bad", [1, 2, 3])
def test_a_named_unloadable_file_is_dropped_and_the_rest_reread_in_one_call(
    fresh_demo_org: Any, n_bad: int
) -> None:
    from toolkit.sources.org_inventory import read_batch

    truth = fresh_demo_org.truth()
    names = truth["categories"]["local"][:10]
    bad = names[1 : 1 + 2 * n_bad : 2]
    with fresh_demo_org.state.lock:
        for name in truth["unloadable"]:
            fresh_demo_org.state.metadata[(CA_TYPE, name)].load_fails = False
        for name in bad:
            fresh_demo_org.state.metadata[(CA_TYPE, name)].load_fails = True
    org = _connect(fresh_demo_org, policy=None)
    before = fresh_demo_org.stats()["requests"].get("readMetadata", 0)
    out = read_batch(org, CA_TYPE, names)
    served = fresh_demo_org.stats()["requests"]["readMetadata"] - before
    assert served == 1 + n_bad  # the fault names the file: no bisection
    assert sorted(n for failed, _ in out.failures for n in failed) == sorted(bad)
    assert all("Load of metadata from db failed" in str(exc) for _, exc in out.failures)
    assert len(out.records) == 10 - n_bad


def test_an_unloadable_fault_naming_no_file_is_still_isolated_by_bisection(fresh_demo_org: Any) -> None:
    from toolkit.sources.org_inventory import read_batch

    truth = fresh_demo_org.truth()
    names = truth["categories"]["local"][:10]
    victim = names[6]
    with fresh_demo_org.state.lock:
        for name in truth["unloadable"]:
            fresh_demo_org.state.metadata[(CA_TYPE, name)].load_fails = False
        comp = fresh_demo_org.state.metadata[(CA_TYPE, victim)]
        comp.load_fails, comp.load_fault_names_file = True, False
    org = _connect(fresh_demo_org, policy=None)
    before = fresh_demo_org.stats()["requests"].get("readMetadata", 0)
    out = read_batch(org, CA_TYPE, names)
    served = fresh_demo_org.stats()["requests"]["readMetadata"] - before
    assert 2 <= served <= 1 + 2 * 4  # halves, about log2(10) calls
    assert [failed for failed, _ in out.failures] == [[victim]]
    assert "Load of metadata from db failed" in str(out.failures[0][1])
    assert len(out.records) == 9


def test_unloadable_apps_in_an_audit_are_unknown_with_the_fault_as_reason_in_one_call_each(
    fresh_demo_org: Any,
) -> None:
    truth = fresh_demo_org.truth()
    org = _connect(fresh_demo_org, policy=None)
    tables = toolkit.audit(org, strict=True)
    apps = _apps(tables)
    for name in truth["unloadable"]:
        assert "Load of metadata from db failed" in apps.loc[name, "coverage_reason"]
        assert f"connectedApps/{name}.connectedApp" in apps.loc[name, "coverage_reason"]
    api = tables["api_calls"].set_index("kind")["calls"]
    assert int(api["extra:readMetadata split (ConnectedApp)"]) == len(truth["unloadable"])
