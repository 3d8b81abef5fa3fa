"""Every rule: an app that triggers it and one that does not (tables built in code; a clean app per kind)."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.rules.definitions import MOBILE_SDK, RULES, RULES_BY_ID
from toolkit.rules.engine import FINDING_COLUMNS

TODAY = date(2026, 6, 1)
NOW = pd.Timestamp(TODAY, tz="UTC")

WEB: dict[str, Any] = {
    "name": "App",
    "kind": "ConnectedApp",
    "label": "Sales Portal",
    "coverage": "metadata+soql",
    "coverage_reason": "",
    "editable": True,
    "has_oauth": True,
    "has_mobile_config": False,
    "callback_urls": "https://app.example.com/cb",
    "scopes": "Api; RefreshToken",
    "pkce": True,
    "rtr": True,
    "secret_web_server": True,
    "secret_refresh": True,
    "client_credentials": False,
    "permitted_users": "AdminApprovedPreAuthorized",
    "profiles": "Sales",
    "ip_relaxation": "ENFORCE",
    "refresh_policy": "specific_lifetime",
    "refresh_n": 30,
    "refresh_unit": "DAYS",
    "session_timeout": 30,
    "contact_email": "owner@example.com",
    "has_certificate": False,
    "certificate_expires": None,
    "installed": True,
    "used": True,
    "inactive_user_tokens": 0,
    "namespace": None,
    "last_modified": NOW - pd.Timedelta(days=400),
}
MOBILE = {
    **WEB,
    "has_mobile_config": True,
    "platform": "ios",
    "callback_urls": "myapp://oauth/done",
    "scopes": "Api; RefreshToken; Web",
    "secret_web_server": False,
    "pin_length": 8,
    "lock_after": 5,
    "mobile_start_url": "https://m.example.com/start",
    "install_url": "https://apps.example.com/x",
}
ECA = {
    **MOBILE,
    "kind": "ExternalClientApplication",
    "platform": None,
    "mobile_plugin": True,
    "oauth_plugin": True,
    "screen_lock": True,
    "pin_length": None,
    "device_flow": False,
    "push_environment": "Production",
    "mobile_start_url": None,
    "install_url": None,
}
BASES = {"web": WEB, "mobile": MOBILE, "eca": ECA}
TOKEN = {"app": "App", "created": NOW - pd.Timedelta(days=100), "last_used": NOW - pd.Timedelta(days=3)}


def tables(row: dict[str, Any], **long: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    apps = pd.DataFrame([row])
    out = {"apps": apps}
    out["tokens"] = pd.DataFrame(long.get("tokens", [TOKEN]), columns=["app", "created", "last_used"])
    out["logins"] = pd.DataFrame(
        long.get("logins", [{"app": "App", "login_subtype": "OauthWebServer", "logins": 5}]),
        columns=["app", "login_subtype", "logins"],
    )
    for name, cols in {
        "ip_ranges": ["app", "start", "end"],
        "attributes": ["app", "key", "formula"],
        "grants": ["app", "name"],
    }.items():
        out[name] = pd.DataFrame(long.get(name, []), columns=cols)
    if "extra_apps" in long:
        out["apps"] = pd.concat([apps, pd.DataFrame(long["extra_apps"])], ignore_index=True)
    return out


def fails(t: dict[str, pd.DataFrame], baseline: str | None = None) -> pd.DataFrame:
    f = toolkit.findings(t, baseline, today=TODAY)
    return f[f["status"] == "fail"]


CC = {"client_credentials": True, "run_as": "api@x.com"}
SAML_CERT = {"has_saml": True, "has_saml_certificate": True}
# rule id -> (base app, overrides that trigger it, overrides of an app that does not, long tables of each)
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "ACC-01": ("web", {"permitted_users": "AllSelfAuthorized"}, {}, {}, {}),
    "ACC-02": (
        "web",
        {"profiles": None},
        {"profiles": None},
        {},
        {"grants": [{"app": "App", "name": "Ops"}]},
    ),
    "ACC-03": ("web", {"profiles": "System Administrator"}, {"profiles": "Field Ops"}, {}, {}),
    "ACC-04": (
        "web",
        {"coverage": "tokens_only", "name": "Phantom"},
        {"coverage": "tokens_only", "name": "Eca_X"},
        {},
        {"extra_apps": [{"name": "Eca_X", "kind": "ExternalClientApplication", "label": "X"}]},
    ),
    "ACC-07": ("web", {"installed": False}, {"installed": False, "used": False}, {}, {}),
    "OAU-01": (
        "web",
        {"pkce": False},
        {"pkce": False, "client_credentials": True, "run_as": "api@x.com"},
        {},
        {"logins": [{"app": "App", "login_subtype": "OauthClientCredentials", "logins": 5}]},
    ),
    "OAU-02": ("web", {"rtr": False}, {"rtr": False, "scopes": "Api"}, {}, {}),
    "OAU-03": (
        "web",
        {"secret_web_server": False},
        {"secret_web_server": False, "callback_urls": "app://cb"},
        {},
        {},
    ),
    "OAU-04": ("mobile", {"pkce": False}, {}, {}, {}),
    "OAU-05": ("web", {"secret_refresh": False}, {"secret_refresh": False, "scopes": "Api"}, {}, {}),
    "OAU-06": ("web", {"scopes": "Api; Full"}, {}, {}, {}),
    "OAU-07": ("web", {"client_credentials": True, "run_as": None}, {}, {}, {}),
    "OAU-17": (
        "web",
        {**CC, "run_as_permissions": "ApiEnabled; ModifyAllData"},
        {**CC, "run_as_permissions": "ApiEnabled; ApiUserOnly"},
        {},
        {},
    ),
    "OAU-08": ("web", {"introspect_all": True}, {"introspect_all": False}, {}, {}),
    "OAU-09": ("web", {"callback_urls": "http://app.example.com/cb"}, {"callback_urls": "app://cb"}, {}, {}),
    "OAU-10": (
        "web",
        {"has_certificate": True, "certificate_expires": TODAY + timedelta(days=10)},
        {"has_certificate": True, "certificate_expires": TODAY + timedelta(days=300)},
        {},
        {},
    ),
    "OAU-11": (
        "web",
        {},
        {},
        {"logins": [{"app": "App", "login_subtype": "OauthUsernamePassword", "logins": 3}]},
        {},
    ),
    "OAU-12": (
        "web",
        {},
        {},
        {"logins": [{"app": "App", "login_subtype": "OauthUserAgent", "logins": 3}]},
        {},
    ),
    "OAU-13": ("web", {"callback_urls": "https://app.example.com/cb; https://localhost:8443/cb"}, {}, {}, {}),
    "OAU-14": ("eca", {"device_flow": True}, {}, {}, {}),
    "OAU-15": (
        "web",
        {"client_credentials": True, "run_as": "api@x.com"},
        {
            "client_credentials": True,
            "run_as": "api@x.com",
            "has_certificate": True,
            "certificate_expires": TODAY + timedelta(days=300),
        },
        {},
        {},
    ),
    "OAU-16": ("web", {}, {}, {"tokens": [{**TOKEN, "created": NOW - pd.Timedelta(days=500)}]}, {}),
    "SAML-01": (
        "web",
        {"has_saml": True, "saml_encryption": "Triple_Des"},
        {"has_saml": True, "saml_encryption": "AES_256"},
        {},
        {},
    ),
    "SAML-02": (
        "web",
        {"has_saml": True, "saml_signing_algo": "SHA1"},
        {"has_saml": True, "saml_signing_algo": "SHA256"},
        {},
        {},
    ),
    "SAML-03": (
        "web",
        {**SAML_CERT, "saml_certificate_expires": TODAY + timedelta(days=5)},
        {**SAML_CERT, "saml_certificate_expires": TODAY + timedelta(days=90)},
        {},
        {},
    ),
    "TOK-01": ("web", {"refresh_policy": "infinite", "refresh_n": None, "refresh_unit": None}, {}, {}, {}),
    "TOK-02": (
        "web",
        {"refresh_n": 12, "refresh_unit": "MONTHS"},
        {"refresh_n": 3, "refresh_unit": "MONTHS"},
        {},
        {},
    ),
    "NET-01": ("web", {"ip_relaxation": "BYPASS"}, {}, {}, {}),
    "NET-04": ("web", {"ip_relaxation": "BYPASS_2FACTOR"}, {}, {}, {}),
    "NET-02": (
        "web",
        {},
        {},
        {"ip_ranges": [{"app": "App", "start": "10.0.0.0", "end": "10.255.255.255"}]},
        {"ip_ranges": [{"app": "App", "start": "10.0.0.0", "end": "10.0.255.255"}]},
    ),
    "SES-01": ("web", {"session_timeout": None}, {"session_timeout": 60}, {}, {}),
    "SES-02": ("web", {"scopes": "Api; Full"}, {"scopes": "Api; Full", "high_assurance": True}, {}, {}),
    "MOB-01": ("mobile", {"pin_length": 4}, {}, {}, {}),
    "MOB-02": ("mobile", {"lock_after": 0}, {"lock_after": 1}, {}, {}),
    "MOB-08": ("eca", {"screen_lock": False}, {}, {}, {}),
    "MOB-03": (
        "mobile",
        {},
        {"lock_after": 15},
        {
            "attributes": [
                {"app": "App", "key": "ENABLE_BIOMETRIC_AUTHENTICATION", "formula": '"true"'},
                {"app": "App", "key": "BIOMETRIC_AUTHENTICATION_TIMEOUT", "formula": '"15"'},
            ]
        },
        {
            "attributes": [
                {"app": "App", "key": "ENABLE_BIOMETRIC_AUTHENTICATION", "formula": '"true"'},
                {"app": "App", "key": "BIOMETRIC_AUTHENTICATION_TIMEOUT", "formula": '"15"'},
            ]
        },
    ),
    "MOB-04": (
        "mobile",
        {"ip_relaxation": "BYPASS", "refresh_policy": "infinite"},
        {"ip_relaxation": "BYPASS"},
        {},
        {},
    ),
    "MOB-06": ("mobile", {"install_url": "http://apps.example.com/x"}, {}, {}, {}),
    "MOB-07": ("eca", {"push_environment": "Sandbox"}, {}, {}, {}),
    "MOB-09": ("eca", {"push_full_content": True}, {"push_full_content": False}, {}, {}),
    "USE-01": ("web", {"used": False}, {}, {}, {}),
    "USE-02": ("web", {"inactive_user_tokens": 2}, {}, {}, {}),
    "USE-03": ("web", {}, {}, {"tokens": [{**TOKEN, "last_used": NOW - pd.Timedelta(days=200)}]}, {}),
    "GOV-01": ("web", {"contact_email": None}, {}, {}, {}),
    "GOV-02": (
        "web",
        {"label": "Data Loader Sync"},
        {"label": "Data Loader Sync", "namespace": "dlv"},
        {},
        {},
    ),
    "GOV-03": ("web", {"namespace": "acme"}, {}, {}, {}),
    "GOV-04": ("web", {}, {"namespace": "acme"}, {}, {}),
    "MSDK-01": ("mobile", {"callback_urls": "https://m.example.com/cb", "platform": "ios"}, {}, {}, {}),
    "MSDK-02": ("mobile", {"scopes": "Api; RefreshToken"}, {"scopes": "Api; OfflineAccess; Web"}, {}, {}),
    "MSDK-03": ("mobile", {"mobile_start_url": None}, {}, {}, {}),
    "MSDK-04": ("mobile", {"pin_length": None}, {}, {}, {}),
    "MSDK-05": ("mobile", {"pkce": False}, {}, {}, {}),
}


def test_every_rule_has_a_case() -> None:
    # org-level rules have their cases in tests/test_rules_org.py (orgs seeded weak and strong)
    assert set(CASES) == {r.id for r in RULES if r.applies_to != "org"}


@pytest.mark.parametrize("base", sorted(BASES))
@pytest.mark.parametrize("baseline", [None, MOBILE_SDK])
def test_clean_apps_have_no_finding(base: str, baseline: str | None) -> None:
    found = fails(tables(BASES[base]), baseline)
    assert found[found["severity"] != "info"].empty, found[["rule", "message"]].values.tolist()


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers_and_passes(rule_id: str) -> None:
    base, trigger, passing, trigger_long, pass_long = CASES[rule_id]
    baseline = (
        MOBILE_SDK if MOBILE_SDK in RULES_BY_ID[rule_id].baselines and rule_id.startswith("MSDK") else None
    )
    app = {**BASES[base], **trigger}
    hit = fails(tables(app, **trigger_long), baseline)
    assert rule_id in set(hit["rule"]), f"{rule_id} did not trigger"
    row = hit[hit["rule"] == rule_id].iloc[0]
    assert row["app"] == app["name"] and row["severity"] == RULES_BY_ID[rule_id].severity
    ok = fails(tables({**BASES[base], **passing}, **pass_long), baseline)
    assert rule_id not in set(ok["rule"]), f"{rule_id} triggered on the passing app"


def test_unknown_value_is_cannot_check_not_pass_or_fail() -> None:
    # a folder (metadata only) cannot know PIN Length: MOB-01 is "cannot check" with the reason
    f = toolkit.findings(tables({**MOBILE, "coverage": "metadata", "pin_length": None}), today=TODAY)
    row = f[f["rule"] == "MOB-01"].iloc[0]
    assert row["status"] == "cannot check" and "only readable from an org" in row["message"]
    # a packaged app read through SOQL only: metadata rules cannot check, never pass
    packaged = {**WEB, "coverage": "soql_only", "coverage_reason": "packaged app", "ip_relaxation": None}
    f = toolkit.findings(tables(packaged), today=TODAY)
    assert f.set_index("rule").loc["NET-01", "status"] == "cannot check"


def test_rules_needing_an_org_are_not_run_on_folders() -> None:
    t = {
        "apps": pd.DataFrame(
            [{k: v for k, v in WEB.items() if k not in ("used", "installed", "inactive_user_tokens")}]
        )
    }
    f = toolkit.findings(t, today=TODAY)
    assert {"USE-01", "ACC-07", "OAU-11"} <= set(f.attrs["not_run"])
    assert not set(f["rule"]) & {"USE-01", "ACC-07", "OAU-11"}


def test_findings_columns_are_stable_and_documented() -> None:
    """The ui branch builds on these columns: each is documented in docs/findings.md, in this order."""
    f = fails(tables({**WEB, "ip_relaxation": "BYPASS"}))
    assert tuple(f.columns) == FINDING_COLUMNS
    doc = (Path(__file__).resolve().parent.parent / "docs" / "findings.md").read_text()
    documented = re.findall(r"^\| `(\w+)` \|", doc.split("## The findings table", 1)[1], flags=re.M)
    assert tuple(documented[: len(FINDING_COLUMNS)]) == FINDING_COLUMNS
    row = f.set_index("rule").loc["NET-01"]
    assert (row["field"], row["setting"], row["fixable_by_api"]) == ("ip_relaxation", "IP Relaxation", True)


def test_rule_table_lists_every_rule_with_a_basis() -> None:
    table = toolkit.rule_table()
    assert len(table) == len(RULES) and table["basis"].str.len().min() > 3
    assert "MOB-05" not in set(table["id"])  # dropped: a required secret is not an embedded one


def test_findings_to_changes_and_manual_fixes() -> None:
    f = fails(
        tables(
            {
                **WEB,
                "ip_relaxation": "BYPASS",
                "scopes": "Api; Full",
                "refresh_policy": "infinite",
                "callback_urls": "http://app.example.com/cb",
            }
        )
    )
    changes = toolkit.findings_to_changes(f)
    got = {(r.field, r.value, r.op) for r in changes.itertuples()}
    assert {
        ("ip_relaxation", "ENFORCE", "="),
        ("scopes", "Full", "-="),
        ("refresh_policy", "specific_lifetime", "="),
        ("refresh_n", "90", "="),
        ("refresh_unit", "DAYS", "="),
    } <= got
    assert len(changes) == len(changes.drop_duplicates(["app", "field", "op", "value"]))
    manual = toolkit.manual_fixes(f)
    assert "OAU-09" in set(manual["rule"]) and manual["setup_path"].str.startswith("Setup").all()


def test_pin_length_is_not_fixable_by_api() -> None:
    f = fails(tables({**MOBILE, "pin_length": 4}))
    assert not f.set_index("rule").loc["MOB-01", "fixable_by_api"]


def test_eca_readiness() -> None:
    t = tables(
        {**MOBILE, "namespace": None},
        logins=[{"app": "App", "login_subtype": "OauthUsernamePassword", "logins": 1}],
    )
    r = toolkit.eca_readiness(t).iloc[0]
    assert r["status"] == "not eligible" and "username-password" in r["reasons"]
    r = toolkit.eca_readiness(tables(MOBILE)).iloc[0]
    assert r["status"] == "eligible, settings lost" and "PIN Length" in r["lost_settings"]
    assert r["plan"].startswith("plan only") and "ExtlClntAppOauthConfigurablePolicies" in r["plan"]


def test_every_rule_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "findings.md").read_text()
    missing = [r.id for r in RULES if f"| {r.id} | {r.severity} |" not in doc]
    assert not missing, f"add these rules to docs/findings.md: {missing}"


def test_failed_reads_are_cannot_check() -> None:
    """The audit's ``unknown`` column (a failed SOQL object or metadata read) makes the rules that need it
    "cannot check"; the ``known=False`` marker rows of long tables are not grants, scopes or ranges."""
    app = {**WEB, "unknown": "OauthToken; SetupEntityAccess", "inactive_user_tokens": None, "profiles": None}
    t = tables(app, grants=[{"app": "App", "name": None}])
    t["grants"]["known"] = False
    f = toolkit.findings(t, today=TODAY).set_index("rule")
    for rule in ("USE-02", "USE-03", "ACC-02"):
        assert f.loc[rule, "status"] == "cannot check", rule
    assert "OauthToken could not be read" in f.loc["USE-02", "message"]
    meta = toolkit.findings(
        tables(
            {
                **WEB,
                "unknown": "metadata",
                "coverage": "metadata_unknown",
                "coverage_reason": "listing failed",
            }
        ),
        today=TODAY,
    ).set_index("rule")
    assert (
        meta.loc["NET-01", "status"] == "cannot check" and "listing failed" in meta.loc["NET-01", "message"]
    )


def _rule_fails(rule_id: str, app: dict[str, Any], baseline: str | None = None) -> pd.DataFrame:
    found = fails(tables(app), baseline)
    return found[found["rule"] == rule_id]


def test_oau08_follows_salesforce_controls_for_code_credential_and_named_user_jwt() -> None:
    """Salesforce's control pages recommend enabling the Authorization Code and Credentials Flow and list
    named-user JWT among the ECA security controls: neither is a finding; the guest-user flow and a
    code-credential flow that takes credentials in the URL (not POST only) are."""
    for base in (WEB, ECA):
        ok = {**base, "code_credential": True, "code_credential_post_only": True, "named_user_jwt": True}
        assert _rule_fails("OAU-08", ok).empty
        hit = _rule_fails("OAU-08", {**base, "guest_code_credential": True})
        assert len(hit) == 1 and "Guest Users" in hit.iloc[0]["observed"]
        hit = _rule_fails("OAU-08", {**base, "code_credential": True, "code_credential_post_only": False})
        assert len(hit) == 1 and "POST only" in hit.iloc[0]["observed"]
        remedy = hit.iloc[0]["remedy"]
        assert "Enable Authorization Code and Credentials Flow to No" not in remedy
        assert "named users" not in remedy
    rule = RULES_BY_ID["OAU-08"]
    assert "code_credential" not in [c[0] for c in rule.remedy.changes if c[1] is False]
    assert "named_user_jwt" not in [c[0] for c in rule.remedy.changes]
    assert "help.salesforce.com" in rule.basis


def test_oau08_is_checked_on_a_folder() -> None:
    """A folder cannot read a connected app's guest flag (SOQL only): OAU-08 still checks the rest."""
    f = toolkit.findings(tables({**WEB, "coverage": "metadata", "token_exchange": True}), today=TODAY)
    row = f.set_index("rule").loc["OAU-08"]
    assert row["status"] == "fail" and "Token Exchange" in row["observed"]
    f = toolkit.findings(tables({**WEB, "coverage": "metadata"}), today=TODAY)
    assert "OAU-08" not in set(f["rule"])


def test_oau07_rates_client_credentials_as_salesforce_does() -> None:
    """Salesforce's control rates the client credentials flow Critical (connected apps) / High (ECAs) and
    says to replace it with the JWT bearer flow; OAU-15 does not claim a certificate secures it."""
    rule = RULES_BY_ID["OAU-07"]
    assert rule.severity == "critical"
    for base in (WEB, ECA):
        hit = _rule_fails("OAU-07", {**base, "client_credentials": True, "run_as": "api@x.com"})
        row = hit.iloc[0]
        assert row["severity"] == "critical" and "JWT bearer" in row["remedy"]
        assert (
            "Critical for connected apps" in row["message"]
            and "High for external client apps" in row["message"]
        )
    assert "help.salesforce.com" in rule.basis
    oau15 = _rule_fails("OAU-15", {**WEB, "client_credentials": True, "run_as": "api@x.com"}).iloc[0]
    assert "does not secure" in oau15["remedy"] and "JWT bearer" in oau15["remedy"]
    assert "does not secure" in oau15["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:1717/OauthRedirect",
        "http://localhost/cb",
        "http://127.0.0.1:49152/callback",
        "http://[::1]:8080/cb",
        "http://LOCALHOST:1717/OauthRedirect",
    ],
)
def test_loopback_http_redirects_of_native_apps_are_allowed(url: str) -> None:
    """RFC 8252 §7.3: native apps may use an http loopback redirect, on any port."""
    app = {**WEB, "callback_urls": f"https://app.example.com/cb; {url}"}
    assert _rule_fails("OAU-09", app).empty
    assert _rule_fails("OAU-13", app).empty
    for rule in ("OAU-09", "OAU-13"):
        assert "RFC 8252" in RULES_BY_ID[rule].basis
    # not loopback: still flagged
    assert not _rule_fails("OAU-09", {**WEB, "callback_urls": "http://localhost.example.com/cb"}).empty
    assert not _rule_fails("OAU-09", {**WEB, "callback_urls": "http://127.0.0.2.nip.io/cb"}).empty


_FIXTURE_APP = Path(__file__).resolve().parent / "fixtures/findings/mobile-sdk/project/connectedApps"


@pytest.mark.parametrize(
    "replace",
    [
        "<startUrl>https://m.example.com/home</startUrl>",
        "<canvasConfig><accessMethod>Post</accessMethod><canvasUrl>https://canvas.example.com/app</canvasUrl>"
        "<locations>Chatter</locations></canvasConfig>",
    ],
)
def test_msdk03_passes_with_a_start_url_or_on_a_canvas_app(tmp_path: Path, replace: str) -> None:
    """Mobile users go to the Start URL when there is no Mobile Start URL; canvas apps can skip it."""
    xml = (_FIXTURE_APP / "Sdk_Match_iOS.connectedApp-meta.xml").read_text(encoding="utf-8")
    no_start = xml.replace("<mobileStartUrl>https://m.example.com/sdkmatch</mobileStartUrl>", "")
    for name, text in (
        ("Mobile_Bare", no_start),
        ("Mobile_Other", no_start.replace("    <oauthConfig>", f"    {replace}\n    <oauthConfig>")),
    ):
        folder = tmp_path / name / "connectedApps"
        folder.mkdir(parents=True)
        (folder / f"{name}.connectedApp-meta.xml").write_text(
            text.replace("Sdk Match iOS", name), encoding="utf-8"
        )
    bare = toolkit.findings(toolkit.audit(tmp_path / "Mobile_Bare"), MOBILE_SDK)
    assert "MSDK-03" in set(bare[bare["status"] == "fail"]["rule"])
    other = toolkit.findings(toolkit.audit(tmp_path / "Mobile_Other"), MOBILE_SDK)
    assert "MSDK-03" not in set(other["rule"]), other[other["rule"] == "MSDK-03"].to_dict("records")


def test_mob01_says_mobile_sdk_9_2_ignores_the_pin_length() -> None:
    row = _rule_fails("MOB-01", {**MOBILE, "pin_length": 4}).iloc[0]
    assert "9.2" in row["message"] and "ignore" in row["message"]
    assert "developer.salesforce.com" in RULES_BY_ID["MOB-01"].basis


@pytest.mark.parametrize("rule_id", sorted(RULES_BY_ID))
def test_every_rule_names_its_source(rule_id: str) -> None:
    """Each rule's basis names its source: a URL, or an RFC section."""
    basis = RULES_BY_ID[rule_id].basis
    assert basis.strip(), rule_id
    assert re.search(r"https://\S+|\bRFC \d+", basis), f"{rule_id}: {basis}"


SERVER_APPS = [{"client_credentials": True, "run_as": "api@x.com"}, {"has_certificate": True}]


@pytest.mark.parametrize("server", SERVER_APPS)
@pytest.mark.parametrize("flow", ["OauthWebServer", "OauthHybridWebServer"])
def test_oau01_applies_to_a_server_app_whose_logins_use_the_code_flow(
    server: dict[str, Any], flow: str
) -> None:
    """Issue 14: client credentials or a certificate make an app server-to-server, unless LoginHistory shows
    authorization-code logins: then that flow is in use and PKCE applies."""
    row = {**WEB, "pkce": False, "certificate_expires": TODAY + timedelta(days=300), **server}
    code = [{"app": "App", "login_subtype": flow, "logins": 2}]
    assert "OAU-01" in set(fails(tables(row, logins=code))["rule"])
    other = [{"app": "App", "login_subtype": "OauthClientCredentials", "logins": 9}]
    f = toolkit.findings(tables(row, logins=other), today=TODAY)
    assert "OAU-01" not in set(f[f["status"] == "fail"]["rule"])


REPO = Path(__file__).resolve().parent.parent
TRIPLE = {"<encryptionType>AES_128</encryptionType>": "<encryptionType>Triple_Des</encryptionType>"}


def _saml_folder(tmp_path: Path, **replace: str) -> Path:
    """The examples' SAML connected app (HR_Portal_SAML) alone in a folder, with text replaced."""
    src = REPO / "examples/force-app/main/default/connectedApps/HR_Portal_SAML.connectedApp-meta.xml"
    text = src.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    folder = tmp_path / "saml" / "connectedApps"
    folder.mkdir(parents=True)
    (folder / src.name).write_text(text, encoding="utf-8")
    return tmp_path / "saml"


def test_saml01_triple_des_fails_through_a_folder_audit_and_the_fix_writes_aes(tmp_path: Path) -> None:
    """Salesforce (Winter '26): replace Triple DES with AES. A folder audit reads Triple_Des as it is (no
    problem row) and SAML-01 fails with an API fix to AES_256; the rule names its source."""
    folder = _saml_folder(tmp_path, **TRIPLE)
    tables = toolkit.audit(folder)
    assert tables["apps"].loc[0, "saml_encryption"] == "Triple_Des" and tables["problems"].empty
    f = toolkit.findings(tables)
    row = f.set_index("rule").loc["SAML-01"]
    assert row["status"] == "fail" and row["observed"] == "Triple_Des" and row["fixable_by_api"]
    assert "trailhead.salesforce.com" in row["basis"] and "AES" in row["message"]
    plan = toolkit.fix_plan(f[f["rule"] == "SAML-01"], folder)
    assert plan.problems.empty
    assert plan.rows[0]["after"] == "AES_256"
    clean = toolkit.findings(toolkit.audit(_saml_folder(tmp_path / "aes")))
    assert "SAML-01" not in set(clean["rule"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("saml_encryption=Triple_Des", "saml_encryption"),
        ("saml_encryption=triple_des", "saml_encryption"),
        ("ConnectedApp:samlConfig.encryptionType=Triple_Des", "ConnectedApp:samlConfig.encryptionType"),
    ],
)
def test_edits_refuse_to_write_triple_des_at_plan_time(tmp_path: Path, change: str, field: str) -> None:
    """Reading Triple_Des stays allowed; writing it is refused when the plan is made, naming the app, the
    field, the value, what is allowed and why (by catalog id or by raw path)."""
    folder = _saml_folder(tmp_path)
    plan = toolkit.plan_edits(str(folder), [change], apps=["HR_Portal_SAML"])
    (row,) = plan.problems.to_dict("records")
    assert (row["app"], row["field"]) == ("HR_Portal_SAML", field)
    assert row["value"].lower() == "triple_des" and row["value"] in row["problem"]
    assert row["allowed"].startswith("AES_128, AES_256") and "replace Triple DES with AES" in row["allowed"]
    assert not plan.components


def test_the_rules_table_of_docs_findings_is_generated_from_the_rules() -> None:
    from toolkit.rules import doc

    text = doc.DOC.read_text(encoding="utf-8")
    assert doc.updated(text) == text, "regenerate: python -m toolkit.rules.doc"
    assert doc.rules_markdown().count("\n") == len(RULES) + 2


def _pem(not_after: date) -> str:
    """A self-signed certificate (PEM) valid until ``not_after``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sp.example.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(pd.Timestamp(not_after - timedelta(days=400)).to_pydatetime())
        .not_valid_after(pd.Timestamp(not_after).to_pydatetime())
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_saml02_sha1_signing_follows_salesforce_control(tmp_path: Path) -> None:
    """Salesforce's control 'Signing Algorithm for SAML Messages - Select SHA256' (High): SHA1 fails with an
    API fix to SHA256, through a folder audit."""
    sha1 = _saml_folder(tmp_path, **{"SHA256</samlSigningAlgoType>": "SHA1</samlSigningAlgoType>"})
    f = toolkit.findings(toolkit.audit(sha1))
    row = f.set_index("rule").loc["SAML-02"]
    assert (row["status"], row["observed"], row["severity"]) == ("fail", "SHA1", "high")
    assert row["fixable_by_api"] and "SHA256" in row["remedy"]
    assert "shr_web_app_settings_signing_algorithm_for_saml_messages_select_sha256" in row["basis"]
    assert "SAML-02" not in set(toolkit.findings(toolkit.audit(_saml_folder(tmp_path / "ok")))["rule"])
    # an OAuth-only app is not a SAML app: the rule does not apply
    assert _rule_fails("SAML-02", {**WEB, "saml_signing_algo": None}).empty


@pytest.mark.parametrize("element", ["certificate", "encryptionCertificate"])
def test_saml03_reads_the_saml_certificates_and_flags_expiry(tmp_path: Path, element: str) -> None:
    """samlConfig.certificate / encryptionCertificate are read (never shown: only has_* and *_expires columns
    reach the tables) and SAML-03 fails within 30 days of expiry; an unparsable body is "cannot check"."""
    soon = date.today() + timedelta(days=10)
    pem = _pem(soon)
    tag = f"<{element}>{pem}</{element}>"
    folder = _saml_folder(tmp_path, **{"<encryptionType>": f"{tag}<encryptionType>"})
    tables = toolkit.audit(folder)
    app = tables["apps"].iloc[0]
    fid = "saml_certificate" if element == "certificate" else "saml_encryption_certificate"
    assert bool(app[f"has_{fid}"]) and str(app[f"{fid}_expires"]) == str(soon)
    assert fid not in tables["apps"].columns
    body = pem.splitlines()[1]
    assert not any(body in str(v) for v in tables["apps"].iloc[0].tolist())
    row = toolkit.findings(tables).set_index("rule").loc["SAML-03"]
    assert row["status"] == "fail" and row["observed"] == str(soon)
    assert "expires within 30 days" in row["message"] and body not in " ".join(map(str, row.tolist()))
    valid = _pem(soon + timedelta(days=300))
    tag = f"<{element}>{valid}</{element}><encryptionType>"
    later = _saml_folder(tmp_path / "later", **{"<encryptionType>": tag})
    assert "SAML-03" not in set(toolkit.findings(toolkit.audit(later))["rule"])
    junk = f"<{element}>not-a-cert</{element}><encryptionType>"
    bad = _saml_folder(tmp_path / "bad", **{"<encryptionType>": junk})
    row = toolkit.findings(toolkit.audit(bad)).set_index("rule").loc["SAML-03"]
    assert row["status"] == "cannot check" and "could not be parsed" in row["message"]


def test_saml_certificates_are_never_written_by_edits(tmp_path: Path) -> None:
    plan = toolkit.plan_edits(str(_saml_folder(tmp_path)), ["saml_certificate=MIIB"], apps=["HR_Portal_SAML"])
    (row,) = plan.problems.to_dict("records")
    assert row["field"] == "saml_certificate" and "Setup" in row["problem"] + row["allowed"]


def test_mob09_full_content_push_follows_the_mobile_push_security_control(tmp_path: Path) -> None:
    """Salesforce's 'Mobile Push Security' control: an ECA whose push policies send the full content fails,
    with an API fix (isFullContent false); a connected app's setting is Setup only and its SOQL bit is
    'for internal use only': "cannot check" with that reason, never a silent pass."""
    project = tmp_path / "p"
    shutil.copytree(REPO / "examples", project)
    policy = next(project.rglob("Field_Sales_Next_pushPlcy.ecaPushPlcy-meta.xml"))
    policy.write_text(policy.read_text().replace("<isFullContent>false", "<isFullContent>true"))
    f = toolkit.findings(toolkit.audit(project))
    row = f[(f["rule"] == "MOB-09") & (f["app"] == "Field_Sales_Next")].iloc[0]
    assert (row["status"], row["observed"]) == ("fail", "true") and row["fixable_by_api"]
    assert "Full Content Push Notifications" in row["remedy"] and "mobile_push_security" in row["basis"]
    plan = toolkit.fix_plan(f[(f["rule"] == "MOB-09") & (f["status"] == "fail")], project)
    assert plan.problems.empty and [r["after"] for r in plan.rows] == ["false"]
    # a mobile connected app read from an org (SOQL facts, but not this internal bit)
    ca = toolkit.findings(tables({**MOBILE, "coverage": "metadata+soql"}), today=TODAY).set_index("rule")
    assert ca.loc["MOB-09", "status"] == "cannot check" and "internal use only" in ca.loc["MOB-09", "message"]
    assert "MOB-09" in set(fails(tables({**MOBILE, "push_full_content": True}))["rule"])
    assert RULES_BY_ID["MOB-09"].remedy.fixable_by_api("ExternalClientApplication")
    assert not RULES_BY_ID["MOB-09"].remedy.fixable_by_api("ConnectedApp")


@pytest.mark.parametrize(
    "name", ["Salesforce CLI", "SalesforceA", "Ant Migration Tool", "salesforce for outlook"]
)
def test_use01_exempts_salesforce_owned_installed_apps(name: str) -> None:
    """sfdx-hardis's allowedInactiveConnectedApps: Salesforce's own apps are not "unused" findings when
    installed (SOQL only, or packaged); a local app created here with such a name is still checked."""
    from toolkit.rules.definitions import SALESFORCE_OWNED_APPS

    installed = {**WEB, "name": name, "label": name, "coverage": "soql_only", "used": False}
    t = tables(installed, tokens=[], logins=[])
    assert "USE-01" not in set(fails(t)["rule"])
    local = {**WEB, "name": name.replace(" ", "_"), "label": name, "used": False}
    assert "USE-01" in set(fails(tables(local, tokens=[], logins=[]))["rule"])
    assert "Salesforce CLI" in SALESFORCE_OWNED_APPS and len(SALESFORCE_OWNED_APPS) == 15
    basis = RULES_BY_ID["USE-01"].basis
    assert "sfdx-hardis" in basis and "unused-connected-apps.ts" in basis


def test_oau17_run_as_permissions_unread_is_cannot_check_naming_the_user() -> None:
    """No audit source reads the run-as user's permissions yet (the demo org serves no PermissionSet
    Permissions* but the gating ones): OAU-17 is "cannot check", naming the user and what to look for."""
    f = toolkit.findings(tables({**WEB, **CC}), today=TODAY).set_index("rule")
    assert f.loc["OAU-17", "status"] == "cannot check"
    assert "api@x.com" in f.loc["OAU-17", "message"] and "Modify All Data" in f.loc["OAU-17", "message"]
    assert "OAU-17" not in set(toolkit.findings(tables(WEB), today=TODAY)["rule"])
    hit = _rule_fails("OAU-17", {**WEB, **CC, "run_as_permissions": "ManageUsers; CustomizeApplication"})
    assert hit.iloc[0]["observed"] == "api@x.com: CustomizeApplication, ManageUsers"


def test_gov04_names_the_migration_caveats_salesforce_documents() -> None:
    """Migration: the username-password flow stops, the Refresh Token IP Allowlist is not migrated (KB
    005387022), invalid push settings make it fail (not checkable: CA push is not in metadata), and the
    connected app becomes read-only; lost settings are named."""
    row = _rule_fails("GOV-04", MOBILE).iloc[0]
    message, remedy = row["message"], row["remedy"]
    assert "username-password flow stops" in message and "005387022" in message
    assert "push settings" in message and "read-only" in message and "read-only" in remedy
    assert row["observed"].startswith("eligible, settings lost: ") and "PIN Length" in row["observed"]
    web = _rule_fails("GOV-04", {**WEB, "has_mobile_config": False}).iloc[0]
    assert "push settings" not in web["message"] and web["observed"] == "eligible"
    basis = RULES_BY_ID["GOV-04"].basis
    assert "005387022" in basis and "connected_app_to_external_client_app_migration" in basis
