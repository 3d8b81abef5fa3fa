"""Schema API generated from the v66 WSDL."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from toolkit.errors import UnknownFieldError
from toolkit.model import _wsdl_types, schema


def test_connected_app_order_and_inherited_full_name() -> None:
    order = schema.child_order("ConnectedApp")
    assert order[0] == "fullName"
    assert (
        order.index("contactEmail")
        < order.index("label")
        < order.index("mobileAppConfig")
        < order.index("oauthConfig")
    )
    assert order[-1] == "startUrl"


def test_field_info_enums_and_occurs() -> None:
    info = schema.field_info("ConnectedApp", "oauthConfig.scopes")
    assert info.repeated and not info.is_complex and info.xsd_type == "ConnectedAppOauthAccessScope"
    assert info.enum is not None and {"Api", "RefreshToken", "OfflineAccess", "Basic"} <= set(info.enum)
    mobile = schema.field_info("ConnectedApp", "mobileAppConfig")
    assert mobile.is_complex and mobile.min_occurs == 0 and mobile.max_occurs == 1
    device = schema.field_info("ConnectedApp", "mobileAppConfig.deviceType")
    assert device.enum == ("phone", "tablet", "minitablet")
    assert schema.field_info("ConnectedApp", "oauthConfig.isPkceRequired").xsd_type == "xsd:boolean"
    assert schema.field_info("ConnectedApp", "oauthPolicy.refreshTokenPolicy").grammar == "refreshTokenPolicy"
    lock = schema.field_info("ExtlClntAppMobileConfigurablePolicies", "screenLockTimeout")
    assert lock.required and lock.enum and lock.enum[0] == "Never"
    assert schema.enum_values("DevicePlatformType") == ("ios", "android")


def test_unknown_paths() -> None:
    with pytest.raises(UnknownFieldError, match="pinLength"):
        schema.field_info("ConnectedApp", "oauthConfig.pinLength")
    with pytest.raises(UnknownFieldError):
        schema.child_order("NoSuchType")
    assert not schema.has_field("ConnectedApp", "label.x")


def test_required_fields_follow_present_parents() -> None:
    assert schema.required_fields("ConnectedApp") == ["contactEmail", "label"]
    req = schema.required_fields("ConnectedApp", present={"oauthConfig", "oauthPolicy", "ipRanges"})
    assert "oauthConfig.callbackUrl" in req and "oauthPolicy.ipRelaxation" in req
    assert "ipRanges.start" in req and "ipRanges.end" in req
    mobile = schema.required_fields("ExtlClntAppMobileSettings")
    assert mobile == ["externalClientApplication", "isScreenLockEnabled"]
    push = schema.required_fields("ExtlClntAppPushSettings", present={"applePushConfig"})
    assert "pushServiceType" in push and "applePushConfig.environment" in push


def test_every_family_type_is_generated() -> None:
    for t in (
        "MobileApplicationDetail",
        "ExtlClntAppPushSettings",
        "ExtlClntAppPushConfigurablePolicies",
        "ExtlClntAppMobileSettings",
        "ExtlClntAppOauthConfigurablePolicies",
        "ExternalAppIdTokenConfig",
        "ExtlClntAppApplePushConfig",
        "ConnectedAppOauthIdToken",
        "ConnectedAppSamlConfig",
    ):
        assert t in schema.known_types()


@pytest.mark.parametrize(
    ("name", "type_name"),
    [
        ("connectedApps/A.connectedApp-meta.xml", "ConnectedApp"),
        ("src/connectedApps/A.connectedApp", "ConnectedApp"),
        ("x/Onyx.eca-meta.xml", "ExternalClientApplication"),
        ("G.ecaGlblOauth-meta.xml", "ExtlClntAppGlobalOauthSettings"),
        ("P.ecaOauthPlcy-meta.xml", "ExtlClntAppOauthConfigurablePolicies"),
        ("P.ecaPlcy", "ExtlClntAppConfigurablePolicies"),
        ("M.ecaMobile-meta.xml", "ExtlClntAppMobileSettings"),
        ("M.ecaMobilePlcy-meta.xml", "ExtlClntAppMobileConfigurablePolicies"),
        ("P.ecaPush-meta.xml", "ExtlClntAppPushSettings"),
        ("P.ecaPushPlcy-meta.xml", "ExtlClntAppPushConfigurablePolicies"),
        ("README.md", None),
        ("package.xml", None),
    ],
)
def test_type_for_filename(name: str, type_name: str | None) -> None:
    assert schema.type_for_filename(name) == type_name


def test_filename_round_trip() -> None:
    for kind in schema.FILE_KINDS:
        for fmt in ("source", "mdapi"):
            path = schema.filename_for(kind.type_name, "My_App", fmt)  # type: ignore[arg-type]
            assert path.startswith(kind.folder + "/")
            assert schema.type_for_filename(path) == kind.type_name


def test_generated_module_is_current(shared_dir: Path) -> None:
    script = Path(__file__).parent.parent / "scripts" / "gen_schema.py"
    spec = importlib.util.spec_from_file_location("gen_schema", script)
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    text = gen.generate(shared_dir / "wsdl" / "metadata-v66.wsdl")
    assert text == Path(_wsdl_types.__file__).read_text(encoding="utf-8")


def test_saml_policies_folder_is_the_one_salesforce_and_sdr_use() -> None:
    # the doc page meta_extlclntappsamlconfigurablepolicies.htm and the SDR registry name this folder
    kind = schema.file_kind("ExtlClntAppSamlConfigurablePolicies")
    assert (kind.folder, kind.suffix, kind.verified) == (
        "extlClntAppSamlConfigurablePolicies",
        "ecaSamlPlcy",
        True,
    )
    assert schema.filename_for("ExtlClntAppSamlConfigurablePolicies", "X", "mdapi") == (
        "extlClntAppSamlConfigurablePolicies/X.ecaSamlPlcy"
    )
