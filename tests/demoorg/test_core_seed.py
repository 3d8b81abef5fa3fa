"""Seed: determinism, realism (the audit has something to find), SFDX folders, scale."""

from __future__ import annotations

import time
from pathlib import Path

from toolkit.demoorg import DemoOrg
from toolkit.demoorg.seed import build
from toolkit.demoorg.sobjects import OrgRowSource


def test_same_seed_same_org_other_seed_other_org() -> None:
    a, b, c = build(apps=30, ecas=4, seed=5), build(apps=30, ecas=4, seed=5), build(apps=30, ecas=4, seed=6)
    assert a.truth == b.truth
    assert [x.doc.to_bytes() for x in a.state.metadata.values()] == [
        x.doc.to_bytes() for x in b.state.metadata.values()
    ]
    assert a.truth["apps"] != c.truth["apps"]


def test_default_org_is_realistic() -> None:
    r = build()
    truth, state = r.truth, r.state
    cats = truth["categories"]
    assert 55 <= len(truth["apps"]) <= 65 and len(cats["ecas"]) == 10
    assert cats["packaged"] and cats["phantom"] and truth["future_element_apps"]
    assert {"ios", "android", "jwt", "cc", "saml", "canvas", "packaged", "web"} <= set(truth["kinds"])
    assert truth["tokens"] > 2000 and truth["logins"] > 2000
    assert truth["users"]["inactive"] > 0 and truth["admin_approved_without_grants"]
    pins = {a["PinLength"] for a in truth["apps"].values() if a["kind"] in ("ios", "android")}
    assert "4" in pins and None in pins
    xml = b"".join(c.doc.to_bytes() for c in state.metadata.values())
    for finding in (
        b"<ipRelaxation>BYPASS</ipRelaxation>",
        b"<refreshTokenPolicy>infinite<",
        b"<callbackUrl>http://",
        b"<isFutureFlag2030>true</isFutureFlag2030>",
    ):
        assert finding in xml, finding
    assert b"consumerSecret" not in xml


def test_phantom_apps_have_tokens_but_no_app() -> None:
    r = build()
    src = OrgRowSource(r.state)
    names = {row["Name"] for row in src.rows("ConnectedApplication")}
    tokens = list(src.rows("OauthToken"))
    for phantom in r.truth["categories"]["phantom"]:
        mine = [t for t in tokens if t["AppName"] == phantom]
        assert mine and all(t["AppMenuItemId"] is None for t in mine) and phantom not in names


def test_derived_objects_follow_metadata() -> None:
    r = build(apps=10, ecas=2)
    src = OrgRowSource(r.state)
    menu = {m["Id"] for m in src.rows("AppMenuItem")}
    assert all(t["AppMenuItemId"] in menu for t in src.rows("OauthToken") if t["AppMenuItemId"])
    grants = list(src.rows("SetupEntityAccess"))
    assert grants and {g["SetupEntityId"][:3] for g in grants} == {"0H4"}
    policies = list(src.rows("ExtlClntAppOauthPlcyCnfg"))
    ecas = {e["Id"] for e in src.rows("ExternalClientApplication")}
    assert len(policies) == 2 and all(p["ExternalClientApplicationId"] in ecas for p in policies)


def test_from_dir_seeds_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "force-app" / "main" / "default" / "connectedApps"
    folder.mkdir(parents=True)
    (folder / "My_Mobile.connectedApp-meta.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
        "<contactEmail>a@example.com</contactEmail><label>My Mobile</label><mobileAppConfig>"
        "<devicePlatform>ios</devicePlatform><version>1.0</version></mobileAppConfig>"
        "<isFutureFlag2030>true</isFutureFlag2030></ConnectedApp>\n"
    )
    r = build(from_dir=tmp_path)
    assert list(r.truth["apps"]) == ["My_Mobile"]
    comp = r.state.metadata[("ConnectedApp", "My_Mobile")]
    assert b"isFutureFlag2030" in comp.doc.to_bytes()
    assert [row["Name"] for row in OrgRowSource(r.state).rows("ConnectedApplication")] == ["My Mobile"]


def test_5000_apps_start() -> None:
    # the start time is printed (and measured in benchmarks/), not asserted: a loaded machine is slower
    t = time.perf_counter()
    with DemoOrg(apps=5000, ecas=100, seed=2) as org:
        elapsed = time.perf_counter() - t
        print(
            f"demo org with 5000 apps + 100 ECAs started in {elapsed:.2f} s "
            f"({org.truth()['tokens']} tokens, {org.truth()['logins']} logins)"
        )
        assert len(org.truth()["apps"]) == 5000


def test_from_dir_with_the_real_samples(shared_dir: Path) -> None:
    r = build(from_dir=shared_dir / "samples")
    apps = list(OrgRowSource(r.state).rows("ConnectedApplication"))
    assert len(apps) == len(r.truth["apps"]) > 100
    assert r.truth["categories"]["ecas"]
    # the truth carries names and settings, never the samples' consumer keys or certificates
    text = repr(r.truth)
    assert "3MVG" not in text and "BEGIN CERTIFICATE" not in text


def test_hostile_seed_is_opt_in_and_adds_markup_as_data() -> None:
    from toolkit.demoorg.seed import HOSTILE_MARKER, HOSTILE_PAYLOADS

    plain, hostile = build(), build(hostile=True)
    assert "hostile" not in plain.truth
    xml = b"".join(c.doc.to_bytes() for c in plain.state.metadata.values())
    assert HOSTILE_MARKER.encode() not in xml and b"__pwned" not in xml
    # the default org is unchanged: every seeded component and row is still there, the same
    for key, comp in plain.state.metadata.items():
        assert hostile.state.metadata[key].doc.to_bytes() == comp.doc.to_bytes()
    for obj in ("User", "OauthToken", "LoginHistory"):
        assert hostile.state.objects[obj][: len(plain.state.objects[obj])] == plain.state.objects[obj]
    h = hostile.truth["hostile"]
    assert h["apps"] == ["Hostile_Web_App", "Hostile_iOS_App"] and h["ecas"] == ["Hostile_Eca"]
    assert set(h["apps"]) <= set(hostile.truth["categories"]["local"])
    docs = {n: hostile.state.metadata[("ConnectedApp", n)].doc for n in h["apps"]}
    ios, web = docs["Hostile_iOS_App"], docs["Hostile_Web_App"]
    for doc in docs.values():  # the payloads are text in well-formed XML (escaped), not elements
        for field in ("label", "description", "contactEmail", "infoUrl", "oauthConfig.callbackUrl"):
            assert HOSTILE_MARKER in (doc.get(field) or ""), field
    assert ios.get("mobileAppConfig.applicationBundleIdentifier") == HOSTILE_MARKER + HOSTILE_PAYLOADS[0]
    assert (web.get("startUrl") or "").startswith("javascript:")
    eca = hostile.state.metadata[("ExternalClientApplication", "Hostile_Eca")].doc
    assert HOSTILE_MARKER in eca.get("label") and HOSTILE_MARKER in eca.get("description")
    glbl = hostile.state.metadata[("ExtlClntAppGlobalOauthSettings", "Hostile_Eca_glbl")].doc
    assert HOSTILE_MARKER in glbl.get("callbackUrl")
    # usage by users whose names are markup, and a phantom app whose name is markup
    src = OrgRowSource(hostile.state)
    users = {u["Id"]: u for u in src.rows("User")}
    hostile_users = {i for i, u in users.items() if HOSTILE_MARKER in u["Username"]}
    assert len(hostile_users) == 2
    tokens = [t for t in src.rows("OauthToken") if t["UserId"] in hostile_users]
    assert {t["AppName"] for t in tokens} == {*h["labels"].values()} - {h["labels"]["Hostile_Eca"]} | {
        h["phantom"]
    }
    assert any(r["UserId"] in hostile_users for r in src.rows("LoginHistory"))


def test_hostile_seed_cli_option() -> None:
    import argparse

    from toolkit.commands.demo_org import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args([]).hostile_seed is False
    assert parser.parse_args(["--hostile-seed"]).hostile_seed is True
    with DemoOrg(apps=4, ecas=0, hostile=True) as org:
        assert "Hostile_iOS_App" in org.truth()["hostile"]["apps"]
        sf = org.requests_session()
        rows = sf.get(
            f"{org.instance_url}/services/data/v62.0/query",
            params={"q": "SELECT Name FROM ConnectedApplication"},
            headers={"Authorization": f"Bearer {org.access_token}"},
        ).json()["records"]
        assert any("HOSTILE-MARKER" in r["Name"] for r in rows)


def test_impact_truth_ip_ranges_and_source_ips() -> None:
    """Profiles with login IP ranges, logins inside and outside them, and who an edit would break."""
    from toolkit.demoorg.seed import ip_number

    r = build()
    src = OrgRowSource(r.state)
    ranges = list(src.rows("LoginIpRange"))
    assert ranges and {"ProfileId", "IpStart", "IpEnd"} <= set(ranges[0])
    spans: dict[str, list[tuple[int, int]]] = {}
    for row in ranges:
        spans.setdefault(row["ProfileId"], []).append((ip_number(row["IpStart"]), ip_number(row["IpEnd"])))
    users = {u["Id"]: u for u in src.rows("User")}
    inside = outside = 0
    for login in src.rows("LoginHistory"):
        mine = spans.get(users[login["UserId"]]["ProfileId"])
        if mine:
            hit = any(a <= ip_number(login["SourceIp"]) <= b for a, b in mine)
            inside, outside = inside + hit, outside + (not hit)
    assert inside > outside > 0
    impact = r.truth["impact"]["apps"]
    assert set(impact) == set(r.truth["apps"])
    assert any(a["ip_enforce"] for a in impact.values()) and any(a["admin_approved"] for a in impact.values())
    for name, app in r.truth["apps"].items():
        if app["settings"]["ip_relaxation"] == "ENFORCE":
            assert impact[name]["ip_enforce"] == []  # already enforced: nobody logs in from outside
    assert build().truth["impact"] == r.truth["impact"]
