"""Typed views and value parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.model.bundle import AppBundle
from toolkit.model.document import MetadataDocument
from toolkit.model.schema import type_for_filename
from toolkit.model.values import (
    RefreshTokenPolicy,
    canonical_scopes,
    ip_relaxation_from_eca,
    ip_relaxation_to_eca,
    parse_bool,
    parse_int,
    split_callback_urls,
    split_comma_list,
)
from toolkit.model.views import ConnectedAppView, ExternalClientAppView, view_of

FIX = Path(__file__).resolve().parent / "fixtures" / "model"


@pytest.mark.parametrize(
    ("text", "kind", "n", "unit"),
    [
        ("infinite", "infinite", None, None),
        ("zero", "zero", None, None),
        ("specific_lifetime:90:DAYS", "specific_lifetime", 90, "DAYS"),
        ("specific_inactivity:30:DAYS", "specific_inactivity", 30, "DAYS"),
        ("specific_lifetime:12:MONTHS", "specific_lifetime", 12, "MONTHS"),
        ("specific_inactivity:8:HOURS", "specific_inactivity", 8, "HOURS"),
    ],
)
def test_refresh_token_policy_grammar(text: str, kind: str, n: int | None, unit: str | None) -> None:
    p = RefreshTokenPolicy.parse(text)
    assert (p.kind, p.n, p.unit) == (kind, n, unit)
    assert p.format() == text
    eca = p.to_eca()
    back = RefreshTokenPolicy.from_eca(
        eca["refreshTokenPolicyType"],
        eca.get("refreshTokenValidityPeriod"),
        eca.get("refreshTokenValidityUnit"),
    )
    assert back == p


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "Infinite",
        "specific_lifetime",
        "specific_lifetime:90",
        "specific_lifetime:90:WEEKS",
        "specific_lifetime:0:DAYS",
        "specific_lifetime:-1:DAYS",
        "specific_lifetime:ninety:DAYS",
        "specific_sometime:1:DAYS",
        "specific_lifetime:90:days",
    ],
)
def test_refresh_token_policy_invalid(bad: str) -> None:
    with pytest.raises(ValueError, match="allowed: infinite, zero"):
        RefreshTokenPolicy.parse(bad)


def test_refresh_token_policy_eca_errors() -> None:
    with pytest.raises(ValueError, match="allowed: Infinite, Zero"):
        RefreshTokenPolicy.from_eca("Forever")
    with pytest.raises(ValueError, match="Days, Hours or Months"):
        RefreshTokenPolicy.from_eca("SpecificLifetime", "3", "Weeks")


def test_value_helpers() -> None:
    assert split_callback_urls("a://1\r\nb://2\rc://3\n\nd://4") == ["a://1", "b://2", "c://3", "d://4"]
    assert split_callback_urls(None) == []
    assert split_comma_list("Api, Web, OpenID") == ["Api", "Web", "OpenID"]
    assert canonical_scopes(["Profile", "Email", "Address", "Phone", "OfflineAccess"]) == {
        "Basic",
        "RefreshToken",
    }
    assert canonical_scopes(["RefreshToken"]) == canonical_scopes(["OfflineAccess"])
    for ca in ("ENFORCE", "ENFORCE_RELAXREFRESH", "BYPASS_2FACTOR", "BYPASS"):
        assert ip_relaxation_from_eca(ip_relaxation_to_eca(ca)) == ca
    with pytest.raises(ValueError, match="allowed: ENFORCE"):
        ip_relaxation_to_eca("LOOSE")
    assert parse_bool("true") is True and parse_int("-5") == -5
    with pytest.raises(ValueError, match="allowed: true, false"):
        parse_bool("yes")


def test_connected_app_view_mobile_ios() -> None:
    v = ConnectedAppView.from_document(MetadataDocument.from_file(FIX / "Mobile_iOS.connectedApp-meta.xml"))
    assert v.mobile is not None and v.mobile.device_platform == "ios" and v.mobile.device_type == "tablet"
    assert v.mobile.private_app is True and v.mobile.application_bundle_identifier == "org.example.fieldsales"
    assert v.mobile_start_url == "/apex/MobileHome"
    assert (
        v.oauth is not None
        and v.oauth.is_pkce_required is True
        and v.oauth.callback_urls == ("fieldsales://auth/success",)
    )
    assert v.oauth_policy is not None and v.oauth_policy.refresh_token_policy == RefreshTokenPolicy(
        "specific_inactivity", 30, "DAYS"
    )
    assert v.session_policy is not None and v.session_policy.session_timeout == 15
    assert v.session_policy.session_level == "HIGH_ASSURANCE"
    assert v.flags == () and v.unknown_elements == ()
    assert "FAKEKEY" not in repr(v)  # the consumer key is kept but not shown


def test_connected_app_view_android_and_attributes() -> None:
    v = ConnectedAppView.from_document(
        MetadataDocument.from_file(FIX / "Mobile_Android.connectedApp-meta.xml")
    )
    assert (
        v.mobile is not None
        and v.mobile.device_platform == "android"
        and v.mobile.application_file_length == 2048
    )
    assert [(a.key, a.formula) for a in v.attributes][0] == ("ENABLE_BIOMETRIC_AUTHENTICATION", '"true"')
    assert v.ip_ranges[0].start == "10.0.0.0" and v.ip_ranges[0].description == "HQ"
    assert v.oauth is not None and v.oauth.scopes_canonical == {"Api", "RefreshToken", "Basic"}


def test_bad_values_are_flagged_not_raised() -> None:
    v = ConnectedAppView.from_document(
        MetadataDocument.from_file(FIX / "Future_Fields.connectedApp-meta.xml")
    )
    flagged = {(f.path, f.raw) for f in v.flags}
    assert flagged == {
        ("oauthPolicy.ipRelaxation", "LOOSE"),
        ("oauthPolicy.refreshTokenPolicy", "specific_lifetime:ninety:DAYS"),
        ("sessionPolicy.sessionTimeout", "sixty"),
    }
    assert v.oauth_policy is not None and v.oauth_policy.refresh_token_policy is None
    assert v.oauth_policy.refresh_token_policy_raw == "specific_lifetime:ninety:DAYS"
    assert v.contact_email is None and v.contact_email_nil
    assert set(v.unknown_elements) == {"futureTopLevel.knob", "oauthConfig.futureOauthFlag"}
    assert v.oauth is not None and v.oauth.callback_urls == (
        "https://a.example.org/cb",
        "https://b.example.org/cb",
    )


def test_crlf_callback_urls() -> None:
    v = ConnectedAppView.from_document(MetadataDocument.from_file(FIX / "Crlf_App.connectedApp-meta.xml"))
    assert v.oauth is not None
    assert v.oauth.callback_urls == (
        "https://one.example.org/cb",
        "https://two.example.org/cb",
        "myapp://three",
    )


def test_eca_view_from_bundle() -> None:
    docs = [MetadataDocument.from_file(p) for p in sorted((FIX / "eca").glob("*-meta.xml"))]
    v = view_of(AppBundle("Field_Eca", "ExternalClientApplication", docs))
    assert isinstance(v, ExternalClientAppView)
    assert v.label == "Field ECA" and v.distribution_state == "Local" and v.is_protected is False
    assert v.oauth_settings is not None and v.oauth_settings.scopes == ("Api", "RefreshToken", "Email")
    assert v.oauth_settings.scopes_canonical == {"Api", "RefreshToken", "Basic"}
    assert v.global_oauth is not None and v.global_oauth.callback_urls == (
        "fieldeca://cb",
        "https://fieldeca.example.org/cb",
    )
    assert v.global_oauth.is_pkce_required is True and "FAKEKEY" not in repr(v)
    pol = v.oauth_policies
    assert pol is not None and pol.ip_relaxation_ca == "BYPASS_2FACTOR"
    assert (
        pol.refresh_token_policy is not None
        and pol.refresh_token_policy.format() == "specific_inactivity:30:DAYS"
    )
    assert pol.session_timeout == 60 and pol.permitted_users == "AdminApprovedPreAuthorized"
    assert v.policies is not None and v.policies.is_mobile_plugin_enabled is True
    assert v.is_screen_lock_enabled is True and v.screen_lock_timeout == "Five" and v.screen_lock_minutes == 5
    assert (
        v.push is not None
        and v.push.push_service_type == "Apple"
        and v.push.apple_environment == "Production"
    )
    assert v.push_is_full_content is False
    assert v.flags == ()


def test_views_parse_every_sample(shared_dir: Path) -> None:
    cas = sorted((shared_dir / "samples" / "connected-apps").glob("*.xml"))
    views = [ConnectedAppView.from_document(MetadataDocument.from_file(p)) for p in cas]
    assert len(views) == len(cas) >= 100
    assert sum(1 for v in views if v.oauth is not None) == 94
    assert not [f for v in views for f in v.flags], "real samples hold only valid values"
    policies = [v.oauth_policy.refresh_token_policy for v in views if v.oauth_policy]
    assert all(p is not None for p in policies)
    assert sum(1 for v in views if v.saml is not None) == 17
    eca_dir = shared_dir / "samples" / "external-client-apps"
    docs = [MetadataDocument.from_file(p) for p in sorted(eca_dir.glob("chrzasz*"))]
    assert {d.type_name for d in docs} == {type_for_filename(p.name) for p in eca_dir.glob("chrzasz*")}
    eca = ExternalClientAppView.from_bundle(AppBundle("ecaViaMetadata", "ExternalClientApplication", docs))
    assert eca.oauth_settings is not None and eca.oauth_settings.scopes == ("Api", "Web", "OpenID")
    assert eca.oauth_policies is not None and eca.oauth_policies.refresh_token_policy == RefreshTokenPolicy(
        "specific_lifetime", 365, "DAYS"
    )
    # the sample's isNamedUserJwtEnabled is newer than WSDL v66: reported, not fatal
    assert "ExtlClntAppOauthConfigurablePolicies.isNamedUserJwtEnabled" in eca.unknown_elements
    onyx = MetadataDocument.from_file(eca_dir / "onyx-dot-app__onyx__Onyx_Cloud.eca-meta.xml")
    assert (
        ExternalClientAppView.from_bundle(
            AppBundle("Onyx_Cloud", "ExternalClientApplication", [onyx])
        ).distribution_state
        == "Packaged"
    )
