"""The running user: the demo org's "auditor" (no Customize Application, Manage Users or Monitor Login
History) sees only its own OauthToken and LoginHistory rows, with no error, and UserPermissionAccess says
so. Real HTTPS through simple-salesforce, as both users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce

from toolkit.demoorg import DemoOrg
from toolkit.demoorg.exceptions import DemoOrgError
from toolkit.demoorg.seed import AUDITOR_USERNAME, build

PERMS = (
    "PermissionsCustomizeApplication, PermissionsManageUsers, PermissionsMonitorLoginHistory, "
    "PermissionsViewSetup, PermissionsApiEnabled, PermissionsModifyMetadata, PermissionsModifyAllData"
)


@pytest.fixture(scope="module")
def auditor_org() -> Iterator[DemoOrg]:
    with DemoOrg(apps=60, ecas=10, seed=1, user="auditor") as org:
        yield org


def _sf(org: DemoOrg) -> Salesforce:
    return Salesforce(
        instance_url=org.instance_url, session_id=org.access_token, session=org.requests_session()
    )


def test_auditor_is_seeded_without_drawing_from_the_rng() -> None:
    a, b = build(apps=30, ecas=4, seed=5), build(apps=30, ecas=4, seed=5)
    users = a.state.objects["User"]
    assert users[-1]["Username"] == AUDITOR_USERNAME and users[-1]["IsActive"]
    assert a.truth["auditor"] == b.truth["auditor"]
    # the rows seeded before it are those of the seed alone: the auditor owns no token and no login
    assert not [t for t in a.state.objects["OauthToken"] if t["UserId"] == users[-1]["Id"]]
    assert not [r for r in a.state.objects["LoginHistory"] if r["UserId"] == users[-1]["Id"]]
    profile = next(p for p in a.state.objects["Profile"] if p["Id"] == users[-1]["ProfileId"])
    assert profile["Name"] == "Auditor"


def test_user_option_is_checked() -> None:
    with pytest.raises(DemoOrgError, match="allowed: admin, auditor"):
        DemoOrg(user="root")


def test_admin_sees_every_token_and_login(demo_org: DemoOrg) -> None:
    sf = _sf(demo_org)
    truth = demo_org.truth()
    assert sf.query("SELECT COUNT() FROM OauthToken")["totalSize"] == truth["tokens"]
    assert sf.query("SELECT COUNT() FROM LoginHistory")["totalSize"] == truth["logins"]
    perms = sf.query(f"SELECT {PERMS} FROM UserPermissionAccess")["records"]
    assert len(perms) == 1 and all(v for k, v in perms[0].items() if k != "attributes")


def test_auditor_sees_only_its_own_rows_with_no_error(auditor_org: DemoOrg) -> None:
    sf = _sf(auditor_org)
    assert auditor_org.username == AUDITOR_USERNAME
    me = next(u for u in auditor_org.state.objects["User"] if u["Username"] == AUDITOR_USERNAME)["Id"]
    # the auditor's own token (made here) is the only one it sees
    auditor_org.state.objects["OauthToken"].append(
        {"Id": None, "AppName": "Mine", "AppMenuItemId": None, "UserId": me, "UseCount": 1}
    )
    rows = sf.query_all("SELECT AppName, UserId FROM OauthToken")["records"]
    assert [(r["AppName"], r["UserId"]) for r in rows] == [("Mine", me)]
    assert sf.query("SELECT COUNT() FROM LoginHistory")["totalSize"] == 0
    perms = sf.query(f"SELECT {PERMS} FROM UserPermissionAccess")["records"][0]
    assert {k: v for k, v in perms.items() if k != "attributes"} == {
        "PermissionsCustomizeApplication": False,
        "PermissionsManageUsers": False,
        "PermissionsMonitorLoginHistory": False,
        "PermissionsViewSetup": True,
        "PermissionsApiEnabled": True,
        "PermissionsModifyMetadata": True,  # Metadata API reads need it (or Modify All Data)
        "PermissionsModifyAllData": False,
    }
    # the other objects are the same as the admin's (the User table lists everyone)
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == len(auditor_org.state.objects["User"])


def test_auditor_bulk_query_is_filtered_too(auditor_org: DemoOrg) -> None:
    sf = _sf(auditor_org)
    me = next(u for u in auditor_org.state.objects["User"] if u["Username"] == AUDITOR_USERNAME)["Id"]
    chunks = list(sf.bulk2.LoginHistory.query("SELECT UserId FROM LoginHistory", wait=0.05))
    rows = [line for c in chunks for line in c.strip().splitlines()[1:]]
    assert all(line.strip('"') == me for line in rows)  # none of the other users' logins


@pytest.mark.parametrize("flow", ["password", "jwt"])
def test_auditor_logins_open_auditor_sessions(auditor_org: DemoOrg, flow: str) -> None:
    secret = (
        {"password": auditor_org.password, "security_token": auditor_org.security_token}
        if flow == "password"
        else {
            "consumer_key": auditor_org.jwt_consumer_key,
            "privatekey_file": auditor_org.jwt_private_key_file,
        }
    )
    sf = Salesforce(
        username=auditor_org.username,
        domain=auditor_org.domain,
        session=auditor_org.requests_session(),
        **secret,
    )
    perms = sf.query("SELECT PermissionsCustomizeApplication FROM UserPermissionAccess")["records"][0]
    assert perms["PermissionsCustomizeApplication"] is False


def test_demo_org_cli_user_option() -> None:
    import argparse

    from toolkit.commands.demo_org import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--user", "auditor"]).user == "auditor"
    assert parser.parse_args([]).user == "admin"
