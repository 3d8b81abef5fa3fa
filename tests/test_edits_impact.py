"""Impact of a bulk edit (issue 16): who a change would break, from the demo org's own usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import toolkit
from toolkit.edits.impact import BREAKS, IMPACT_COLUMNS, RULES, UNKNOWN
from toolkit.edits.plan import plan_edits

REPO = Path(__file__).resolve().parent.parent


def _org(demo: Any) -> toolkit.Org:
    return toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
    )


def _apps(demo: Any, key: str, n: int = 6) -> list[str]:
    """Local apps with users the seed's truth says ``key`` would break, plus some with none."""
    truth = demo.truth()
    local = [a for a in truth["categories"]["local"] if truth["apps"][a]["kind"] != "saml"]
    hit = [a for a in local if truth["impact"]["apps"][a][key]][:n]
    miss = [a for a in local if not truth["impact"]["apps"][a][key]][:2]
    assert hit, f"the seed has no app whose {key} change breaks anyone"
    return hit + miss


@pytest.fixture
def fresh(fresh_demo_org: Any) -> Any:
    yield fresh_demo_org
    fresh_demo_org.reset()


def test_enforce_names_exactly_the_seed_truth(demo_org: Any) -> None:
    names = _apps(demo_org, "ip_enforce")
    plan = plan_edits(_org(demo_org), ["ip_relaxation=ENFORCE"], apps=names)
    table = plan.impact()
    assert list(table.columns) == IMPACT_COLUMNS
    truth = demo_org.truth()["impact"]["apps"]
    for row in table.itertuples():
        assert row.user_ids == truth[row.app]["ip_enforce"], row.app
        assert row.verdict == (BREAKS if row.user_ids else "no evidence of impact")
        assert row.users == len(row.user_ids) and len(row.names) == row.users
    assert (table["verdict"] == BREAKS).any()
    assert "LoginIpRange" in table.loc[table["verdict"] == BREAKS, "evidence"].iloc[0]


def test_admin_approved_names_exactly_the_seed_truth(demo_org: Any) -> None:
    names = _apps(demo_org, "admin_approved")
    plan = plan_edits(_org(demo_org), ["permitted_users=AdminApprovedPreAuthorized"], apps=names)
    table = plan.impact()
    truth = demo_org.truth()["impact"]["apps"]
    assert set(table["app"]) == set(names)
    for row in table.itertuples():
        assert row.user_ids == truth[row.app]["admin_approved"], row.app
    assert (table["verdict"] == BREAKS).any()


def test_unknown_when_login_history_is_unreadable(fresh: Any) -> None:
    names = _apps(fresh, "ip_enforce", 3)
    org = _org(fresh)
    plan = plan_edits(org, ["ip_relaxation=ENFORCE", "description=x"], apps=names)
    fresh.inject_fault("http500", operation="query", full_name="FROM LoginHistory")
    table = plan.impact()
    preview = plan.preview()
    changed = set(preview.loc[preview["status"] == "change", "app"] + "/" + preview["field"])
    rows = table[(table["app"] + "/" + table["field"]).isin(changed)]
    assert len(rows) >= 4 and (rows["verdict"] == UNKNOWN).all()
    assert rows["reason"].str.contains("LoginHistory not readable").all()
    assert (rows["users"] == 0).all()
    # a change that changes nothing needs no usage: never unknown
    assert (table.loc[~table.index.isin(rows.index), "verdict"] == "no evidence of impact").all()


def test_one_query_per_object_whatever_the_number_of_apps(demo_org: Any) -> None:
    def queries(n: int) -> dict[str, int]:
        apps = demo_org.truth()["apps"]
        names = [
            a
            for a in demo_org.truth()["categories"]["local"]
            if apps[a]["kind"] != "saml"
            and not apps[a]["admin_approved"]
            and apps[a]["settings"]["ip_relaxation"] != "ENFORCE"
        ][:n]
        plan = plan_edits(
            _org(demo_org),
            ["ip_relaxation=ENFORCE", "permitted_users=AdminApprovedPreAuthorized"],
            apps=names,
        )
        before = dict(demo_org.stats()["queried"])
        plan.impact()
        after = demo_org.stats()["queried"]
        return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}

    small, large = queries(2), queries(12)
    assert small == large
    objects = RULES["ip_relaxation"].objects | RULES["permitted_users"].objects
    assert set(large) <= objects and all(n == 1 for n in large.values()), large


def _cli(demo: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env_args = ["--instance-url", demo.instance_url, "--access-token", demo.access_token]
    env_args += ["--ca-file", demo.ca_file]
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "edit", *env_args, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_max_impact_zero_refuses_and_writes_nothing(fresh: Any) -> None:
    truth = fresh.truth()["impact"]["apps"]
    names = [a for a in _apps(fresh, "ip_enforce", 2) if truth[a]["ip_enforce"]]
    run = _cli(
        fresh,
        "--apps",
        ",".join(names),
        "--set",
        "ip_relaxation=ENFORCE",
        "--apply",
        "--yes",
        "--max-impact",
        "0",
    )
    assert run.returncode == 2, run.stderr
    assert "impact (usage of the last 180 days)" in run.stdout and "breaks" in run.stdout
    assert "--max-impact 0" in run.stderr and "nothing was written" in run.stderr
    assert fresh.stats()["requests"].get("updateMetadata", 0) == 0
    plan = plan_edits(_org(fresh), ["ip_relaxation=ENFORCE"], apps=names)
    assert (plan.preview()["status"] == "change").all()  # still not enforced


def test_max_impact_above_the_count_applies(fresh: Any, tmp_path: Path) -> None:
    names = _apps(fresh, "ip_enforce", 1)[:1]
    broken = len(fresh.truth()["impact"]["apps"][names[0]]["ip_enforce"])
    run = _cli(
        fresh,
        "--apps",
        names[0],
        "--set",
        "ip_relaxation=ENFORCE",
        "--apply",
        "--yes",
        "--max-impact",
        str(broken),
        "--journal-dir",
        str(tmp_path),
    )
    assert run.returncode == 0, run.stderr
    assert f"impact: {broken} users would break" in run.stdout
    assert fresh.stats()["requests"].get("updateMetadata", 0) >= 1


def test_refresh_lifetime_breaks_the_old_tokens_still_used(demo_org: Any) -> None:
    """A 30-day lifetime: the tokens older than 30 days used in the window, recounted from the org's rows."""
    from datetime import UTC, datetime, timedelta

    truth = demo_org.truth()["apps"]
    names = [n for n in _apps(demo_org, "admin_approved") if truth[n]["tokens"]][:3]
    plan = plan_edits(_org(demo_org), ["refresh_policy=specific_lifetime:30:DAYS"], apps=names)
    table = plan.impact()
    rows = demo_org.state.objects["OauthToken"]
    users = {u["Id"]: u for u in demo_org.state.objects["User"]}
    now = datetime.now(UTC)
    for row in table[table["field"] == "refresh_policy"].itertuples():
        label = truth[row.app]["label"]
        expect = {
            t["UserId"]
            for t in rows
            if t["AppName"] == label
            and users[t["UserId"]]["IsActive"]
            and t["LastUsedDate"] > now - timedelta(days=180)
            and now - t["CreatedDate"] > timedelta(days=30)
        }
        assert set(row.user_ids) == expect, row.app
        assert row.verdict == (BREAKS if expect else "no evidence of impact")
        assert "sign in again" in row.evidence or not expect


def test_pkce_is_at_risk_naming_the_flows(demo_org: Any) -> None:
    truth = demo_org.truth()["apps"]
    names = [
        n
        for n in _apps(demo_org, "admin_approved")
        if truth[n]["logins"] and not truth[n]["settings"]["pkce"] and truth[n]["kind"] not in ("jwt", "cc")
    ][:3]
    plan = plan_edits(_org(demo_org), ["pkce=true"], apps=names)
    table = plan.impact()
    risky = table[table["verdict"] == "at risk"]
    assert len(risky), table
    assert risky["evidence"].str.contains("OauthWebServer|OauthUserAgent").all()
    assert (risky["users"] > 0).all()


def test_dry_run_prints_the_impact(demo_org: Any) -> None:
    truth = demo_org.truth()["impact"]["apps"]
    name = next(a for a in _apps(demo_org, "ip_enforce") if truth[a]["ip_enforce"])
    run = _cli(demo_org, "--apps", name, "--set", "ip_relaxation=ENFORCE")
    assert run.returncode == 0, run.stderr
    assert "impact (usage of the last 180 days)" in run.stdout
    assert f"impact: {len(truth[name]['ip_enforce'])} users would break" in run.stdout
    assert "dry run: nothing was written" in run.stdout


def _login(demo: Any, client: dict[str, str], username: str, ip: str) -> Any:
    """A username-password token request from ``ip`` (the demo org's X-Emulator-Source-Ip test header)."""
    form = {"grant_type": "password", "username": username, "password": "Pw-16!", **client}
    return demo.requests_session().post(
        demo.instance_url + "/services/oauth2/token",
        data=form,
        headers={"X-Emulator-Source-Ip": ip},
        timeout=30,
    )


def test_enforce_then_the_users_impact_names_are_refused(fresh: Any, tmp_path: Path) -> None:
    """impact() names X; once the app enforces IP restrictions, X's login from its seeded address is refused
    with Salesforce's error, a user logging in from inside the profile's ranges still gets in."""
    from toolkit.demoorg.seed import ip_number

    truth = fresh.truth()
    name = next(
        a
        for a in _apps(fresh, "ip_enforce")
        if truth["impact"]["apps"][a]["ip_enforce"]
        and truth["apps"][a]["settings"]["ip_relaxation"] == "BYPASS"
    )
    label = truth["apps"][name]["label"]
    users = {u["Id"]: u for u in fresh.state.objects["User"]}
    ranges: dict[str, list[tuple[int, int]]] = {}
    for r in fresh.state.objects["LoginIpRange"]:
        ranges.setdefault(r["ProfileId"], []).append((ip_number(r["IpStart"]), ip_number(r["IpEnd"])))

    def inside(row: dict[str, Any]) -> bool:
        spans = ranges.get(users[row["UserId"]]["ProfileId"], [])
        return any(a <= ip_number(row["SourceIp"]) <= b for a, b in spans)

    logins = [r for r in fresh.state.objects["LoginHistory"] if r["Application"] == label]
    x = truth["impact"]["apps"][name]["ip_enforce"][0]
    x_ip = next(r["SourceIp"] for r in logins if r["UserId"] == x and not inside(r))
    broken = truth["impact"]["apps"][name]["ip_enforce"]
    y, y_ip = next(
        (r["UserId"], r["SourceIp"])
        for r in fresh.state.objects["LoginHistory"]
        if r["UserId"] not in broken and users[r["UserId"]]["IsActive"] and inside(r)
    )
    plan = plan_edits(_org(fresh), ["ip_relaxation=ENFORCE"], apps=[name])
    table = plan.impact()
    assert x in table.iloc[0]["user_ids"] and y not in table.iloc[0]["user_ids"]

    client = fresh.add_oauth_client(name)
    for uid in (x, y):
        fresh.set_password(users[uid]["Username"], "Pw-16!")
    before = _login(fresh, client, users[x]["Username"], x_ip)
    assert before.status_code == 200, before.text  # relaxed (BYPASS): X still gets in from outside

    result = plan.apply(journal_dir=str(tmp_path))
    assert result.exit_code == 0, result.table

    refused = _login(fresh, client, users[x]["Username"], x_ip)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "ip restricted or invalid login hours",
    }
    allowed = _login(fresh, client, users[y]["Username"], y_ip)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["id"].endswith("/" + y)


@pytest.mark.parametrize(
    "change", ["session_level=HIGH_ASSURANCE", "session_timeout=15"], ids=["high-assurance", "timeout"]
)
def test_session_policy_names_exactly_the_seed_truth(demo_org: Any, change: str) -> None:
    """A stricter session policy: every user signed in through the app in the window is at risk."""
    names = _apps(demo_org, "session")
    plan = plan_edits(_org(demo_org), [change], apps=names)
    table = plan.impact()
    truth = demo_org.truth()["impact"]["apps"]
    preview = plan.preview().set_index("app")
    changed = table[table["verdict"] != "no evidence of impact"]
    assert len(changed), table
    for row in table.itertuples():
        if preview.loc[row.app, "status"] != "change":
            continue
        assert row.user_ids == truth[row.app]["session"], row.app
        assert row.verdict == ("at risk" if row.user_ids else "no evidence of impact")
    assert changed["evidence"].str.contains("logins by").all()


def test_relaxing_the_session_policy_restricts_nobody(demo_org: Any) -> None:
    names = _apps(demo_org, "session", 3)
    table = plan_edits(_org(demo_org), ["session_level=STANDARD"], apps=names).impact()
    assert (table["verdict"] == "no evidence of impact").all() and (table["users"] == 0).all()


def test_blocking_the_username_password_flow_names_exactly_the_seed_truth(demo_org: Any) -> None:
    from toolkit.edits.impact import org_setting_impact

    org = _org(demo_org)
    before = dict(demo_org.stats()["queried"])
    table = org_setting_impact(org, "block_username_password_flow")
    after = demo_org.stats()["queried"]
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)} == {
        "LoginHistory": 1,
        "User": 1,
    }
    truth = demo_org.truth()
    by_label = {truth["apps"][a]["label"]: a for a in truth["impact"]["apps"]}
    expected = {
        truth["apps"][a]["label"]: ids
        for a, t in truth["impact"]["apps"].items()
        if (ids := t["block_username_password"])
    }
    seeded = {row.app: row.user_ids for row in table.itertuples() if row.app in by_label}
    assert seeded == expected
    assert (table["verdict"] == "at risk").all()
    assert table["evidence"].str.contains("OauthUsernamePassword").all()


def test_revoking_tokens_names_exactly_the_seed_truth(fresh: Any, tmp_path: Path) -> None:
    from toolkit.edits.tokens import revoke_tokens

    truth = fresh.truth()
    name = next(a for a in _apps(fresh, "revoke_all") if truth["impact"]["apps"][a]["revoke_all"])
    expected = truth["impact"]["apps"][name]["revoke_all"]
    org = _org(fresh)
    with pytest.raises(toolkit.ToolkitError, match="nothing was revoked"):
        revoke_tokens(org, name, "all", confirm=True, journal_dir=str(tmp_path), max_impact=len(expected) - 1)
    assert fresh.stats()["requests"].get("oauth_revoke", 0) == 0
    seen: list[str] = []
    result = revoke_tokens(
        org, name, "all", confirm=lambda s: seen.append(s) or True, journal_dir=str(tmp_path)
    )
    assert result.impact is not None
    row = result.impact.iloc[0]
    assert row["user_ids"] == expected and row["verdict"] == BREAKS
    assert f"impact: {len(expected)} users would break" in seen[0]


def _local_eca(demo: Any) -> tuple[str, str]:
    """A local external client app of the demo org and its label (``OauthToken.AppName``)."""
    state = demo.state
    eca = next(
        n
        for n in demo.truth()["categories"]["ecas"]
        if state.metadata[("ExternalClientApplication", n)].namespace_prefix is None
    )
    return eca, str(state.metadata[("ExternalClientApplication", eca)].doc.get("label"))


def _plant_tokens(demo: Any, label: str, tokens: list[tuple[str, Any]]) -> None:
    """OauthToken rows of ``label`` on the demo org: (user Id, CreatedDate), each used two days ago."""
    from datetime import UTC, datetime, timedelta

    with demo.state.lock:
        for n, (user, created) in enumerate(tokens):
            demo.state.objects["OauthToken"].append(
                {
                    "Id": None,
                    "AppName": label,
                    "AppMenuItemId": None,
                    "UserId": user,
                    "CreatedDate": created,
                    "LastUsedDate": datetime.now(UTC) - timedelta(days=2),
                    "UseCount": 3,
                    "DeleteToken": f"dtplanted{label[:8]}{n}",
                    "AccessToken": None,
                    "RequestToken": None,
                }
            )
        demo.state.__dict__.pop("_derived_cache", None)


def test_eca_admin_approved_names_exactly_the_users_outside_the_grants(fresh: Any) -> None:
    """An external client app: its pre-authorizations are Ids in the OAuth policy; the users holding its
    tokens who are on neither the granted profile nor the granted permission set break. The seed gives ECAs
    no usage, so this test plants three tokens (one per case) on the demo org's rows."""
    from datetime import UTC, datetime, timedelta

    state = fresh.state
    eca, label = _local_eca(fresh)
    profiles = {p["Id"]: p["Name"] for p in state.objects["Profile"]}
    permsets = {p["Id"]: p["Name"] for p in state.objects["PermissionSet"] if not p["IsOwnedByProfile"]}
    active = [u for u in state.objects["User"] if u["IsActive"]]
    assigned: dict[str, set[str]] = {}
    for a in state.objects["PermissionSetAssignment"]:
        assigned.setdefault(a["AssigneeId"], set()).add(a["PermissionSetId"])
    on_profile = active[0]
    granted_ps = next(ps for ps in permsets if any(ps in assigned.get(u["Id"], ()) for u in active))
    with_ps = next(
        u
        for u in active
        if granted_ps in assigned.get(u["Id"], ()) and u["ProfileId"] != on_profile["ProfileId"]
    )
    outside = next(
        u
        for u in active
        if u["ProfileId"] != on_profile["ProfileId"] and granted_ps not in assigned.get(u["Id"], ())
    )
    now = datetime.now(UTC)
    _plant_tokens(fresh, label, [(u["Id"], now - timedelta(days=40)) for u in (on_profile, with_ps, outside)])
    changes = [
        "permitted_users=AdminApprovedPreAuthorized",
        f"profiles={profiles[on_profile['ProfileId']]}",
        f"permission_sets={permsets[granted_ps]}",
    ]
    plan = plan_edits(_org(fresh), changes, apps=[eca])
    preview = plan.preview().set_index("field")
    assert (preview.loc[["profiles", "permission_sets"], "status"] == "change").all(), preview
    table = plan.impact()
    changed = table[table["field"].map(preview["status"]) == "change"]
    assert len(changed) >= 2
    for row in changed.itertuples():
        assert row.user_ids == [outside["Id"]], (row.field, row.user_ids)
        assert row.verdict == BREAKS and row.tokens == 1


def test_revoke_tokens_cli_max_impact_refuses_and_revokes_nothing(fresh: Any) -> None:
    truth = fresh.truth()["impact"]["apps"]
    name = next(a for a in _apps(fresh, "revoke_all") if truth[a]["revoke_all"])
    run = _cli(fresh, "--revoke-tokens", name, "--tokens", "all", "--yes", "--max-impact", "0")
    assert run.returncode == 2, run.stderr
    assert f"--max-impact 0: {len(truth[name]['revoke_all'])} users would break" in run.stderr
    assert "nothing was revoked" in run.stderr
    assert fresh.stats()["requests"].get("oauth_revoke", 0) == 0


def test_eca_refresh_lifetime_breaks_the_old_tokens(fresh: Any) -> None:
    """An external client app's refresh policy is three policy fields; a 20-day lifetime breaks the token
    created 40 days ago and still used, not the one created 10 days ago."""
    from datetime import UTC, datetime, timedelta

    eca, label = _local_eca(fresh)
    old, new = [u["Id"] for u in fresh.state.objects["User"] if u["IsActive"]][:2]
    now = datetime.now(UTC)
    _plant_tokens(fresh, label, [(old, now - timedelta(days=40)), (new, now - timedelta(days=10))])
    changes = ["refresh_policy=specific_lifetime", "refresh_n=20", "refresh_unit=DAYS"]
    plan = plan_edits(_org(fresh), changes, apps=[eca])
    table = plan.impact()
    changed = set(plan.preview().query("status == 'change'")["field"])
    rows = table[table["field"].isin(changed)]
    assert len(rows), plan.preview()
    for row in rows.itertuples():
        assert row.user_ids == [old] and row.verdict == BREAKS, (row.field, row.evidence, row.reason)
