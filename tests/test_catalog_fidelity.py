"""Catalog fidelity fixes of issue 7, each checked against the domain notes and the v66 WSDL."""

from __future__ import annotations

import pytest

from toolkit.analysis.compare import UI_ONLY, compare_mobile
from toolkit.model import catalog, schema
from toolkit.model.bundle import AppBundle, Inventory
from toolkit.model.catalog import CA, ECA, field, read_value, refused_value
from toolkit.model.document import MetadataDocument

NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def _doc(type_name: str, body: str) -> MetadataDocument:
    return MetadataDocument.from_bytes(f"<{type_name} {NS}>{body}</{type_name}>".encode(), full_name="X")


@pytest.mark.parametrize("fid", ["pin_protect", "device_flow"])
def test_ui_only_settings_of_connected_apps_exist_but_no_api_reads_them(fid: str) -> None:
    """PIN Protect and Enable for Device Flow are Setup checkboxes of a connected app, not absent settings."""
    binding = field(fid).ca
    assert binding is not None and binding.ui_only and "Setup UI" in binding.why_not
    assert not field(fid).writable(CA)
    assert field("device_flow").writable(ECA) and field("pin_protect").eca is None


def test_mobile_comparison_says_unknown_for_pin_protect_of_a_connected_app() -> None:
    app = AppBundle(name="A", kind=CA, documents=[_doc(CA, "<label>A</label>")], soql={"PinLength": "4"})
    table = compare_mobile(Inventory(apps=[app]))
    assert table.loc["PIN Protect", "A"] == UI_ONLY


def test_lock_after_of_a_connected_app_takes_at_most_30_minutes() -> None:
    assert field("lock_after").allowed_for(CA) == ("0", "1", "5", "10", "30")
    assert field("lock_after").allowed_for(ECA)[-1] == "240"


def test_saml_encryption_is_written_aes_only_while_the_wsdl_enum_has_triple_des() -> None:
    """An ECA has no Triple_Des; a connected app may hold it (read as is), but Salesforce says to replace it
    with AES (Winter '26), so no edit writes it on either kind."""
    assert "Triple_Des" in schema.enum_values("SamlEncryptionType")
    assert "Triple_Des" in field("saml_encryption").allowed
    for kind in (CA, ECA):
        assert field("saml_encryption").allowed_for(kind) == ("AES_128", "AES_256")
        assert "Triple DES" in refused_value("saml_encryption", kind, "Triple_Des") or kind == ECA


@pytest.mark.parametrize("fid", ["managed_type", "info_url"])
def test_internal_or_reserved_eca_elements_are_not_writable(fid: str) -> None:
    assert not field(fid).writable(ECA) and field(fid).why_not_writable(ECA)


def test_managed_and_auto_installed_distribution_states_are_read_but_never_written() -> None:
    f = field("distribution_state")
    assert {"Managed", "AutoInstalled"} <= set(f.allowed) and f.allowed_for(ECA) == ("Local", "Packaged")


def test_full_content_push_of_a_connected_app_is_internal_only() -> None:
    assert "internal use only" in field("push_full_content").why_not_writable(CA)


def test_install_url_has_the_help_page_label() -> None:
    assert field("install_url").label == "Install URL"


NEW_FIELDS = {
    "binary_file_name": (CA, "mobileAppConfig.applicationBinaryFileName"),
    "icon_file_name": (CA, "mobileAppConfig.applicationIconFileName"),
    "secret_token_exchange": (CA, "oauthConfig.isSecretRequiredForTokenExchange"),
    "code_credential_post_only": (CA, "oauthConfig.isCodeCredentialPostOnly"),
    "guest_code_credential": ("ExtlClntAppOauthConfigurablePolicies", "isGuestCodeCredFlowEnabled"),
    "custom_scopes": ("ExtlClntAppOauthSettings", "commaSeparatedCustomScopes"),
    "attest_enforce_level": ("ExtlClntAppAttestConfigurablePolicies", "attestEnforceLevel"),
}


@pytest.mark.parametrize("fid", sorted(NEW_FIELDS))
def test_added_settings_read_an_element_the_wsdl_has(fid: str) -> None:
    type_name, path = NEW_FIELDS[fid]
    assert schema.has_field(type_name, path)
    assert catalog.for_path(type_name, path) is field(fid)


def test_added_settings_are_read() -> None:
    ca = AppBundle(
        name="A",
        kind=CA,
        documents=[
            _doc(
                CA,
                "<attributes><formula>&quot;30&quot;</formula><key>BIOMETRIC_AUTHENTICATION_TIMEOUT</key>"
                "</attributes><mobileAppConfig><applicationBinaryFileName>app.ipa</applicationBinaryFileName>"
                "</mobileAppConfig><oauthConfig><isCodeCredentialPostOnly>true</isCodeCredentialPostOnly>"
                "</oauthConfig>",
            )
        ],
        soql={"Id": "0H4000000000001AAA", "OptionsCodeCredentialGuestEnabled": "true"},
    )
    assert read_value(ca, "biometric_timeout") == "30" and read_value(ca, "binary_file_name") == "app.ipa"
    assert read_value(ca, "code_credential_post_only") is True and read_value(ca, "guest_code_credential")
    assert read_value(ca, "application_id") == "0H4000000000001AAA"
    eca = AppBundle(
        name="E",
        kind=ECA,
        documents=[
            _doc("ExtlClntAppOauthSettings", "<commaSeparatedCustomScopes>a, b</commaSeparatedCustomScopes>"),
            _doc("ExtlClntAppAttestConfigurablePolicies", "<attestEnforceLevel>Strict</attestEnforceLevel>"),
        ],
    )
    assert read_value(eca, "custom_scopes") == ["a", "b"]
    assert read_value(eca, "attest_enforce_level") == "Strict"
    assert field("attest_enforce_level").allowed == ("None", "ClientControlled", "Strict")
