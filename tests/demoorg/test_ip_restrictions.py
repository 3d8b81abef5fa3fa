"""The demo org's token endpoint and IP restrictions (issue 16): a login from outside the login IP ranges of
the user's profile is refused unless the client's connected app relaxes them (docs/demo-org.md)."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.demoorg import DemoOrg

OUTSIDE = "203.0.113.77"


def _restricted_user(demo: DemoOrg) -> tuple[dict[str, Any], str]:
    """An active user on a profile with login IP ranges, and an address inside them."""
    ranges = {r["ProfileId"]: r for r in demo.state.objects["LoginIpRange"]}
    user = next(u for u in demo.state.objects["User"] if u["IsActive"] and u["ProfileId"] in ranges)
    return user, ranges[user["ProfileId"]]["IpStart"]


def _set_relaxation(demo: DemoOrg, app: str, value: str) -> None:
    doc = demo.state.metadata[("ConnectedApp", app)].doc
    demo.state.metadata[("ConnectedApp", app)].doc = doc.set("oauthPolicy.ipRelaxation", value)


def _token(demo: DemoOrg, form: dict[str, str], ip: str) -> Any:
    return demo.requests_session().post(
        demo.instance_url + "/services/oauth2/token",
        data=form,
        headers={"X-Emulator-Source-Ip": ip},
        timeout=30,
    )


@pytest.fixture
def fresh(fresh_demo_org: DemoOrg) -> Any:
    yield fresh_demo_org
    fresh_demo_org.reset()


@pytest.mark.parametrize(
    ("relaxation", "refused"),
    [("ENFORCE", True), ("ENFORCE_RELAXREFRESH", True), ("BYPASS_2FACTOR", True), ("BYPASS", False)],
)
def test_password_grant_from_outside_the_profile_ranges(
    fresh: DemoOrg, relaxation: str, refused: bool
) -> None:
    user, inside = _restricted_user(fresh)
    app = next(n for (t, n) in fresh.state.metadata if t == "ConnectedApp")
    _set_relaxation(fresh, app, relaxation)
    client = fresh.add_oauth_client(app)
    fresh.set_password(user["Username"], "Pw-16!")
    form = {"grant_type": "password", "username": user["Username"], "password": "Pw-16!", **client}
    outside = _token(fresh, form, OUTSIDE)
    assert outside.status_code == (400 if refused else 200), outside.text
    if refused:
        assert outside.json() == {
            "error": "invalid_grant",
            "error_description": "ip restricted or invalid login hours",
        }
    assert _token(fresh, form, inside).status_code == 200


def test_refresh_grant_is_relaxed_by_enforce_relaxrefresh_only(fresh: DemoOrg) -> None:
    user, _ = _restricted_user(fresh)
    app = next(n for (t, n) in fresh.state.metadata if t == "ConnectedApp")
    client = fresh.add_oauth_client(app)
    fresh.state.refresh_tokens["5Aep-planted"] = user["Username"]
    form = {"grant_type": "refresh_token", "refresh_token": "5Aep-planted", "client_id": client["client_id"]}
    _set_relaxation(fresh, app, "ENFORCE_RELAXREFRESH")
    assert _token(fresh, form, OUTSIDE).status_code == 200
    _set_relaxation(fresh, app, "ENFORCE")
    assert _token(fresh, form, OUTSIDE).json()["error_description"] == "ip restricted or invalid login hours"


def test_unrestricted_profile_logs_in_from_anywhere(fresh: DemoOrg) -> None:
    """The admin's profile (System Administrator) has no login IP ranges: the seeded client logs in."""
    form = {
        "grant_type": "password",
        "username": fresh.username,
        "password": fresh.password + fresh.security_token,
        "client_id": fresh.client_id,
        "client_secret": fresh.client_secret,
    }
    assert _token(fresh, form, OUTSIDE).status_code == 200


def test_control_plane_refuses_an_unknown_app_or_user(fresh: DemoOrg) -> None:
    session = fresh.requests_session()
    headers = {"Authorization": f"Bearer {fresh.access_token}"}
    r = session.post(fresh.instance_url + "/__emulator/oauth-clients", json={"app": "Nope"}, headers=headers)
    assert r.status_code == 400 and "allowed: the fullName of a seeded ConnectedApp" in r.text
    body = {"username": "x@y", "password": "p"}
    r = session.post(fresh.instance_url + "/__emulator/passwords", json=body, headers=headers)
    assert r.status_code == 400 and "cannot be set" in r.text
