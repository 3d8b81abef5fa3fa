"""The field catalog: query API, canonical values for CAs and ECAs, write paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.errors import UnknownFieldError
from toolkit.model import catalog
from toolkit.model.bundle import AppBundle
from toolkit.model.catalog import field, fields, for_path, read_value
from toolkit.model.document import MetadataDocument

NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
REPO = Path(__file__).resolve().parent.parent


def _doc(root: str, body: str, name: str = "X") -> MetadataDocument:
    return MetadataDocument.from_bytes(f"<{root} {NS}>{body}</{root}>".encode(), full_name=name)


def _eca(*docs: MetadataDocument) -> AppBundle:
    return AppBundle(
        name="E",
        kind="ExternalClientApplication",
        documents=[_doc("ExternalClientApplication", "<label>E</label>", "E"), *docs],
    )


def test_ids_are_snake_case_unique_and_every_field_has_a_label_and_group() -> None:
    ids = [f.id for f in fields()]
    assert len(ids) == len(set(ids))
    for f in fields():
        assert f.id == f.id.lower() and " " not in f.id
        assert f.label and f.group in catalog.GROUPS
        assert f.ca is not None or f.eca is not None, f.id


def test_headline_columns_exist() -> None:
    for id in (
        "ip_relaxation",
        "refresh_policy",
        "pin_length",
        "lock_after",
        "min_os",
        "permitted_users",
        "session_timeout",
        "pkce",
        "rtr",
        "secret_web_server",
        "scopes",
        "callback_urls",
        "platform",
    ):
        assert field(id).id == id


def test_unknown_field_names_close_matches() -> None:
    with pytest.raises(UnknownFieldError, match="pin_length"):
        field("pin")


def test_write_paths_follow_the_domain_notes() -> None:
    assert not field("pin_length").writable("ConnectedApp")
    assert "UI" in field("pin_length").why_not_writable("ConnectedApp")
    assert not field("lock_after").writable("ConnectedApp")
    assert field("lock_after").writable("ExternalClientApplication")
    assert field("profiles").ca is not None and field("profiles").ca.write == "SetupEntityAccess"
    assert "creation" in field("consumer_key").why_not_writable("ConnectedApp")
    assert "never" in field("consumer_secret").why_not_writable("ExternalClientApplication")
    assert field("ip_relaxation").writable("ConnectedApp")
    assert "no such setting" in field("pin_length").why_not_writable("ExternalClientApplication")


def test_secret_and_masked_flags() -> None:
    secret = {f.id for f in fields() if f.secret}
    assert {"consumer_secret", "push_certificate", "push_password", "push_signing_key"} <= secret
    assert field("consumer_key").masked and not field("consumer_key").secret


def test_filters() -> None:
    assert {f.group for f in fields(group="mobile")} == {"mobile"}
    assert all(f.eca is not None for f in fields(kind="ExternalClientApplication"))
    assert "pin_length" in [f.id for f in fields(kind="ConnectedApp", writable=False)]
    assert "scopes" in [f.id for f in fields(many=True)]


def test_for_path_resolves_ca_eca_and_soql_paths() -> None:
    assert for_path("ConnectedApp", "oauthPolicy.ipRelaxation") is field("ip_relaxation")
    assert for_path("ExtlClntAppOauthConfigurablePolicies", "ipRelaxationPolicyType") is field(
        "ip_relaxation"
    )
    assert for_path("ConnectedApplication", "MobileSessionTimeout") is field("lock_after")
    assert for_path("ConnectedApp", "attributes") is field("custom_attributes")
    assert for_path("ConnectedApp", "nope") is None


def test_ca_values_are_canonical() -> None:
    body = (
        "<label>A</label><oauthConfig><callbackUrl>https://a/cb\nmyapp://cb</callbackUrl>"
        "<isAdminApproved>true</isAdminApproved><isConsumerSecretOptional>true</isConsumerSecretOptional>"
        "<scopes>Api</scopes><scopes>Web</scopes></oauthConfig>"
        "<oauthPolicy><ipRelaxation>ENFORCE</ipRelaxation>"
        "<refreshTokenPolicy>specific_inactivity:30:DAYS</refreshTokenPolicy></oauthPolicy>"
        "<sessionPolicy><sessionLevel>HIGH_ASSURANCE</sessionLevel><sessionTimeout>15</sessionTimeout>"
        "</sessionPolicy><ipRanges><start>10.0.0.1</start><end>10.0.0.9</end></ipRanges>"
        "<attributes><formula>&quot;true&quot;</formula><key>ENABLE_BIOMETRIC_AUTHENTICATION</key></attributes>"
    )
    app = AppBundle(name="A", kind="ConnectedApp", documents=[_doc("ConnectedApp", body, "A")])
    got = {
        f: read_value(app, f)
        for f in (
            "callback_urls",
            "permitted_users",
            "secret_web_server",
            "scopes",
            "ip_relaxation",
            "refresh_policy",
            "refresh_n",
            "refresh_unit",
            "high_assurance",
            "session_timeout",
            "ip_ranges",
            "biometric",
            "pin_length",
            "screen_lock",
        )
    }
    assert got == {
        "callback_urls": ["https://a/cb", "myapp://cb"],
        "permitted_users": "AdminApprovedPreAuthorized",
        "secret_web_server": False,
        "scopes": ["Api", "Web"],
        "ip_relaxation": "ENFORCE",
        "refresh_policy": "specific_inactivity",
        "refresh_n": 30,
        "refresh_unit": "DAYS",
        "high_assurance": True,
        "session_timeout": 15,
        "ip_ranges": [{"start": "10.0.0.1", "end": "10.0.0.9", "description": None}],
        "biometric": "true",
        "pin_length": None,
        "screen_lock": None,
    }


def test_soql_only_settings_come_from_bundle_soql() -> None:
    app = AppBundle(
        name="A",
        kind="ConnectedApp",
        soql={
            "ConnectedApplication": {
                "PinLength": "6",
                "MobileSessionTimeout": "10",
                "MobileStartUrl": "/m",
                "OptionsAllowAdminApprovedUsersOnly": True,
            }
        },
    )
    assert read_value(app, "pin_length") == 6
    assert read_value(app, "lock_after") == 10
    assert read_value(app, "mobile_start_url") == "/m"
    assert read_value(app, "permitted_users") == "AdminApprovedPreAuthorized"


def test_eca_values_map_onto_the_canonical_enums() -> None:
    app = _eca(
        _doc(
            "ExtlClntAppOauthConfigurablePolicies",
            "<externalClientApplication>E</externalClientApplication><ipRelaxationPolicyType>Bypass_2factor"
            "</ipRelaxationPolicyType><permittedUsersPolicyType>AllSelfAuthorized</permittedUsersPolicyType>"
            "<refreshTokenPolicyType>SpecificLifetime</refreshTokenPolicyType>"
            "<refreshTokenValidityPeriod>365</refreshTokenValidityPeriod>"
            "<refreshTokenValidityUnit>Days</refreshTokenValidityUnit>",
        ),
        _doc(
            "ExtlClntAppOauthSettings",
            "<commaSeparatedOauthScopes>Api, Web, OpenID</commaSeparatedOauthScopes>",
        ),
        _doc(
            "ExtlClntAppGlobalOauthSettings",
            "<isConsumerSecretOptional>false</isConsumerSecretOptional>"
            "<callbackUrl>https://e/cb</callbackUrl>",
        ),
        _doc("ExtlClntAppMobileConfigurablePolicies", "<screenLockTimeout>OneTwenty</screenLockTimeout>"),
        _doc("ExtlClntAppMobileSettings", "<isScreenLockEnabled>true</isScreenLockEnabled>"),
    )
    assert read_value(app, "ip_relaxation") == "BYPASS_2FACTOR"
    assert (
        read_value(app, "refresh_policy"),
        read_value(app, "refresh_n"),
        read_value(app, "refresh_unit"),
    ) == ("specific_lifetime", 365, "DAYS")
    assert read_value(app, "scopes") == ["Api", "Web", "OpenID"]
    assert read_value(app, "secret_web_server") is True
    assert read_value(app, "lock_after") == 120 and read_value(app, "screen_lock") is True
    assert read_value(app, "pin_length") is None and read_value(app, "platform") is None
    for f in ("ip_relaxation", "refresh_policy", "refresh_unit", "permitted_users"):
        assert read_value(app, f) in field(f).allowed


def test_allowed_values_come_from_the_wsdl_where_it_has_the_enum() -> None:
    assert "SCRT" in field("scopes").allowed
    assert field("platform").allowed == ("ios", "android")
    assert field("saml_subject_type").allowed[-1] == "PersistentId"


def test_secret_values_lists_what_redaction_must_hide() -> None:
    app = AppBundle(
        name="A",
        kind="ConnectedApp",
        documents=[
            _doc(
                "ConnectedApp",
                "<oauthConfig><consumerKey>3MVG9EXAMPLEKEY1234</consumerKey>"
                "<consumerSecret>S3CR3T-VALUE</consumerSecret></oauthConfig>",
            )
        ],
    )
    assert set(catalog.secret_values(app)) == {"3MVG9EXAMPLEKEY1234", "S3CR3T-VALUE"}


def test_field_catalog_doc_is_generated_from_the_catalog() -> None:
    doc = (REPO / "docs" / "field-catalog.md").read_text(encoding="utf-8")
    assert catalog.to_markdown() in doc, "regenerate: python -m toolkit.model.catalog > table in docs"


def test_soql_only_eca_reads_its_policy_row() -> None:
    app = AppBundle(
        name="P",
        kind="ExternalClientApplication",
        coverage="soql_only",
        soql={
            "ExtlClntAppOauthPlcyCnfg": {
                "IpRelaxationPolicyType": "Bypass",
                "RefreshTokenPolicyType": "Zero",
                "PermittedUsersPolicyType": "AdminApprovedPreAuthorized",
            }
        },
    )
    assert read_value(app, "ip_relaxation") == "BYPASS"
    assert read_value(app, "refresh_policy") == "zero"
    assert read_value(app, "permitted_users") == "AdminApprovedPreAuthorized"
    assert for_path("ExtlClntAppOauthPlcyCnfg", "IpRelaxationPolicyType") is field("ip_relaxation")
