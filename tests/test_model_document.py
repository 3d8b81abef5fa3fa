"""Lossless patches on synthetic fixtures: CRLF, comments, entities, nil, unknown elements, mobile, ECA."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from toolkit.errors import InvalidValueError, MetadataParseError, UnknownFieldError
from toolkit.model import schema
from toolkit.model.document import Change, MetadataDocument, MissingRequiredError

FIX = Path(__file__).resolve().parent / "fixtures" / "model"
ALL = sorted(FIX.rglob("*-meta.xml"))


def load(name: str) -> MetadataDocument:
    return MetadataDocument.from_file(next(FIX.rglob(name)))


def c14n(data: bytes) -> str:
    return etree.canonicalize(data.decode(), strip_text=True)


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_fixture_round_trip(path: Path) -> None:
    doc = MetadataDocument.from_file(path)
    assert doc.to_bytes() == path.read_bytes()
    assert doc.type_name == schema.type_for_filename(path.name)
    assert doc.format == "source"
    soap = MetadataDocument.from_soap_record(doc.to_soap_metadata("records"))
    assert soap.leaves() == doc.leaves()


def test_unknown_elements_survive_patches() -> None:
    doc = load("Future_Fields.connectedApp-meta.xml")
    patched = doc.set("label", "Future 2").set("oauthConfig.isPkceRequired", True).set("mobileStartUrl", "/m")
    data = patched.to_bytes()
    assert b"<futureTopLevel>\n        <knob>on</knob>\n    </futureTopLevel>" in data
    assert b"<futureOauthFlag>true</futureOauthFlag>" in data
    assert b"<!-- scopes reviewed 2025-01 -->" in data and b"<!-- retrieved with" in data
    assert b"Tom &quot;the&quot; admin&apos;s &amp; app" in data  # entities elsewhere stay as written
    assert b"https://a.example.org/cb\nhttps://b.example.org/cb" in data
    # WSDL order: isPkceRequired after isAdminApproved (the unknown futureOauthFlag stays put)
    oauth = data.split(b"<oauthConfig>")[1]
    assert oauth.index(b"futureOauthFlag") < oauth.index(b"isAdminApproved") < oauth.index(b"isPkceRequired")
    assert data.index(b"<label>") < data.index(b"<mobileStartUrl>") < data.index(b"<oauthConfig>")
    assert [c.path for c in doc.diff(patched)] == ["label", "mobileStartUrl", "oauthConfig.isPkceRequired"]
    # unknown elements themselves can be patched on request
    with pytest.raises(UnknownFieldError, match="futureOauthFlag"):
        doc.set("oauthConfig.futureOauthFlag", "false")
    forced = doc.set("oauthConfig.futureOauthFlag", "false", allow_unknown=True)
    assert forced.get("oauthConfig.futureOauthFlag") == "false"
    added = doc.set("futureTopLevel.newKnob", "x", allow_unknown=True)
    assert b"<knob>on</knob>\n        <newKnob>x</newKnob>\n    </futureTopLevel>" in added.to_bytes()


def test_nil_is_cleared_when_set() -> None:
    doc = load("Future_Fields.connectedApp-meta.xml")
    assert doc.is_nil("contactEmail") and doc.get("contactEmail") is None
    patched = doc.set("contactEmail", "owner@example.org")
    assert b"<contactEmail>owner@example.org</contactEmail>" in patched.to_bytes()
    assert not patched.is_nil("contactEmail")
    assert patched.diff(doc) == [Change("contactEmail", "owner@example.org", None)]


def test_crlf_and_encoded_cr_are_kept() -> None:
    doc = load("Crlf_App.connectedApp-meta.xml")
    assert doc.get("oauthConfig.callbackUrl") == (
        "https://one.example.org/cb\r\nhttps://two.example.org/cb\r\nmyapp://three"
    )
    patched = doc.set("description", "x").set_all("oauthConfig.scopes", ["Api", "Web"])
    data = patched.to_bytes()
    assert b"\r\n\t<description>x</description>\r\n\t<label>" in data
    assert b"<scopes>Api</scopes>\r\n\t\t<scopes>Web</scopes>\r\n\t</oauthConfig>" in data
    assert b"\n" not in data.replace(b"\r\n", b"").replace(b"&#13;\nmyapp", b"")
    # multi-line values write CR as &#13; so that it survives any XML parser
    urls = "https://one.example.org/cb\r\nmyapp://x"
    again = doc.set("oauthConfig.callbackUrl", urls)
    assert b"https://one.example.org/cb&#13;\nmyapp://x" in again.to_bytes()
    assert MetadataDocument.from_bytes(again.to_bytes()).get("oauthConfig.callbackUrl") == urls


def test_escaping_and_exact_splice() -> None:
    doc = load("Mobile_iOS.connectedApp-meta.xml")
    patched = doc.set("label", 'R&D <"beta">')
    assert patched.to_bytes() == doc.to_bytes().replace(
        b"<label>Field Sales iOS</label>", b'<label>R&amp;D &lt;"beta"&gt;</label>'
    )
    assert patched.get("label") == 'R&D <"beta">'
    assert doc.set("label", "Field Sales iOS").to_bytes() == doc.to_bytes()


def test_mobile_fields_per_platform() -> None:
    ios = load("Mobile_iOS.connectedApp-meta.xml")
    android = load("Mobile_Android.connectedApp-meta.xml")
    assert ios.get("mobileAppConfig.applicationBundleIdentifier") == "org.example.fieldsales"
    assert ios.get("mobileAppConfig.deviceType") == "tablet"
    assert android.get("mobileAppConfig.devicePlatform") == "android"
    p = ios.set("mobileAppConfig.deviceType", "phone").set("mobileAppConfig.applicationIconFileName", "i.png")
    body = p.to_bytes().split(b"<mobileAppConfig>")[1]
    assert body.index(b"applicationBundleIdentifier") < body.index(b"applicationIconFileName") < body.index(
        b"applicationInstallUrl"
    )
    with pytest.raises(InvalidValueError) as err:
        ios.set("mobileAppConfig.deviceType", "watch")
    assert str(err.value) == (
        "Mobile_iOS: mobileAppConfig.deviceType cannot be 'watch'; allowed: phone, tablet, minitablet"
    )
    q = android.set("mobileAppConfig.deviceType", "phone").remove("mobileAppConfig.deviceType")
    assert q.to_bytes() == android.to_bytes()


def test_create_missing_parent_needs_required_values() -> None:
    doc = load("Crlf_App.connectedApp-meta.xml")
    with pytest.raises(MissingRequiredError) as err:
        doc.set("mobileAppConfig.minimumOsVersion", "14")
    assert err.value.missing == ["mobileAppConfig.devicePlatform", "mobileAppConfig.version"]
    created = doc.set(
        "mobileAppConfig.minimumOsVersion",
        "14",
        required={"mobileAppConfig.devicePlatform": "android", "mobileAppConfig.version": "1.0"},
    )
    data = created.to_bytes()
    assert (
        b"\t<label>Windows Checkout</label>\r\n\t<mobileAppConfig>\r\n"
        b"\t\t<devicePlatform>android</devicePlatform>\r\n\t\t<minimumOsVersion>14</minimumOsVersion>\r\n"
        b"\t\t<version>1.0</version>\r\n\t</mobileAppConfig>\r\n"
        b"\t<oauthConfig>" in data
    )
    # a parent with no required leaves is created directly
    policy = doc.set("sessionPolicy.sessionTimeout", 60)
    expected = b"\t<sessionPolicy>\r\n\t\t<sessionTimeout>60</sessionTimeout>\r\n\t</sessionPolicy>\r\n</Conn"
    assert expected in policy.to_bytes()


def test_validation_errors_name_app_field_value_allowed() -> None:
    doc = load("Mobile_iOS.connectedApp-meta.xml")
    cases = [
        ("oauthConfig.isPkceRequired", "yes", "allowed: true, false"),
        ("sessionPolicy.sessionTimeout", "sixty", "allowed: an integer"),
        ("oauthPolicy.ipRelaxation", "LOOSE", "ENFORCE, ENFORCE_RELAXREFRESH, BYPASS_2FACTOR, BYPASS"),
        ("oauthPolicy.refreshTokenPolicy", "specific_lifetime:0:DAYS", "specific_lifetime:N:UNIT"),
        ("oauthPolicy.refreshTokenPolicy", "forever", "UNIT: HOURS, DAYS, MONTHS"),
        ("oauthConfig.scopes", "Everything", "Api"),
        ("label", True, "not a boolean"),
    ]
    for path, value, allowed in cases:
        with pytest.raises(InvalidValueError) as err:
            doc.set(path, value)
        msg = str(err.value)
        assert msg.startswith(f"Mobile_iOS: {path} cannot be {value!r}") and allowed in msg, msg
    with pytest.raises(UnknownFieldError, match="Mobile_iOS: no field 'oauthConfig.pinLength'"):
        doc.set("oauthConfig.pinLength", "4")
    with pytest.raises(UnknownFieldError, match="group"):
        doc.set("oauthConfig", "x")
    with pytest.raises(InvalidValueError) as err:
        doc.set("oauthConfig.consumerSecret", "s3cr\x01t")
    assert "s3cr" not in str(err.value)


def test_set_all_scopes_and_remove() -> None:
    doc = load("Mobile_iOS.connectedApp-meta.xml")
    same = doc.set_all("oauthConfig.scopes", ["Api", "RefreshToken", "Web"])
    assert same.to_bytes() == doc.to_bytes()
    fewer = doc.set_all("oauthConfig.scopes", ["Full"])
    assert fewer.get_all("oauthConfig.scopes") == ["Full"]
    assert doc.diff(fewer) == [Change("oauthConfig.scopes", ("Api", "RefreshToken", "Web"), ("Full",))]
    none = doc.set_all("oauthConfig.scopes", [])
    assert not none.has("oauthConfig.scopes")
    assert b"<isPkceRequired>true</isPkceRequired>\n    </oauthConfig>" in none.to_bytes()
    back = none.set_all("oauthConfig.scopes", ["Api", "RefreshToken", "Web"])
    assert back.to_bytes() == doc.to_bytes()
    readded = doc.set("mobileStartUrl", None).set("mobileStartUrl", "/apex/MobileHome")
    assert readded.to_bytes() == doc.to_bytes()
    assert doc.set("oauthConfig.scopes", "Api").get_all("oauthConfig.scopes") == ["Api"]


def test_eca_mobile_and_push_documents() -> None:
    mobile = load("Field_Eca_MobilePlcy.ecaMobilePlcy-meta.xml")
    assert mobile.set("screenLockTimeout", "Thirty").get("screenLockTimeout") == "Thirty"
    with pytest.raises(InvalidValueError, match="allowed: Never, One, Five"):
        mobile.set("screenLockTimeout", "Fifteen")
    settings = load("Field_Eca_Mobile.ecaMobile-meta.xml")
    assert settings.set("isScreenLockEnabled", False).get("isScreenLockEnabled") == "false"
    push = load("Field_Eca_Push.ecaPush-meta.xml")
    with pytest.raises(MissingRequiredError, match="androidPushConfig.fcmProject"):
        push.set("androidPushConfig.serviceAccount", "x")
    p = push.set("applePushConfig.environment", "Sandbox").set("pushConfigLink", "link")
    assert p.get("applePushConfig.environment") == "Sandbox"
    data = p.to_bytes()
    assert data.index(b"<label>") < data.index(b"<pushConfigLink>") < data.index(b"<pushServiceType>")
    ppol = load("Field_Eca_PushPlcy.ecaPushPlcy-meta.xml")
    assert ppol.set("isFullContent", True).get("isFullContent") == "true"


def test_soap_record_from_wire_shape() -> None:
    record = (
        b'<records xsi:type="ConnectedApp"><fullName>App_1</fullName><contactEmail>o@x.org</contactEmail>'
        b"<label>App &amp; 1</label><futureThing>1</futureThing><oauthConfig><callbackUrl>a://b&#13;\nc://d"
        b"</callbackUrl><scopes>Api</scopes></oauthConfig></records>"
    )
    doc = MetadataDocument.from_soap_record(record)  # namespaces come from the envelope on the wire
    assert doc.full_name == "App_1" and doc.type_name == "ConnectedApp" and doc.format == "source"
    text = doc.to_bytes().decode()
    assert text.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <contactEmail>o@x.org</contactEmail>\n    <label>App &amp; 1</label>\n"
        "    <futureThing>1</futureThing>"
    )
    assert "fullName" not in text
    assert doc.get("oauthConfig.callbackUrl") == "a://b\r\nc://d"
    out = doc.to_soap_metadata()
    assert out.startswith(b'<metadata xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi=')
    assert b'xsi:type="ConnectedApp"><fullName>App_1</fullName><contactEmail>' in out
    inner = out.split(b">", 1)[1]
    assert inner == record.split(b">", 1)[1].replace(b"</records>", b"</metadata>")
    # a zeep-style prefixed element works as well
    zeep = etree.fromstring(
        b'<ns0:metadata xmlns:ns0="http://soap.sforce.com/2006/04/metadata" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ns0:ExtlClntAppMobileSettings">'
        b"<ns0:fullName>M</ns0:fullName><ns0:externalClientApplication>E</ns0:externalClientApplication>"
        b"<ns0:isScreenLockEnabled>true</ns0:isScreenLockEnabled></ns0:metadata>"
    )
    m = MetadataDocument.from_soap_record(zeep)
    assert m.type_name == "ExtlClntAppMobileSettings" and m.full_name == "M"
    assert b"<isScreenLockEnabled>true</isScreenLockEnabled>" in m.to_bytes()
    assert c14n(m.to_soap_metadata("x")) == c14n(
        b'<x xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        b' xsi:type="ExtlClntAppMobileSettings"><fullName>M</fullName><externalClientApplication>E'
        b"</externalClientApplication><isScreenLockEnabled>true</isScreenLockEnabled></x>"
    )


def test_nil_survives_soap_round_trip() -> None:
    doc = load("Future_Fields.connectedApp-meta.xml")
    soap = doc.to_soap_metadata()
    assert b'<contactEmail xsi:nil="true"/>' in soap
    assert MetadataDocument.from_soap_record(soap).is_nil("contactEmail")


def test_parse_errors_are_typed() -> None:
    with pytest.raises(MetadataParseError) as err:
        MetadataDocument.from_bytes(b"<ConnectedApp>\n<label>x</lab>\n</ConnectedApp>", source="bad.xml")
    assert err.value.source == "bad.xml" and err.value.line == 2
    with pytest.raises(MetadataParseError):
        MetadataDocument.from_soap_record(b"<records><broken></records>")
