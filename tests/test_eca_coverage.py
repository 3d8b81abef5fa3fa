"""ECA metadata per WSDL v66 and the SDR registry (issue 14, item 7): the SAML pre-authorization lists, the
notification types, the SAML/Canvas/Notification plugin switches and the attestation types are read into the
catalog (from folders and from an org); ``ExtlClntAppOauthSecuritySettings`` (registry, not WSDL v66) is
kept byte for byte with its app and never asked of an org at v66."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import toolkit
from toolkit.demoorg.metadata_api import put_component
from toolkit.model import schema
from toolkit.model.catalog import read_value
from toolkit.model.document import MetadataDocument
from toolkit.sources.org_inventory import ECA_TYPES, load_org
from toolkit.sources.sfdx import load_folder

NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
APP = "Eca_Cov"
SECURITY = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ExtlClntAppOauthSecuritySettings {NS}>'
    f"<externalClientApplication>{APP}</externalClientApplication><label>sec</label>"
    "<someFutureSwitch>true</someFutureSwitch></ExtlClntAppOauthSecuritySettings>\n"
).encode()


def _files() -> dict[str, bytes]:
    def doc(type_name: str, body: str) -> bytes:  # bodies in WSDL order, the app link first
        link = "" if type_name == "ExternalClientApplication" else (
            f"<externalClientApplication>{APP}</externalClientApplication>"
        )
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{type_name} {NS}>'
        return f"{head}{link}{body}</{type_name}>\n".encode()

    return {
        "ExternalClientApplication": doc(
            "ExternalClientApplication",
            "<contactEmail>a@example.com</contactEmail><distributionState>Local</distributionState>"
            "<label>Cov</label>",
        ),
        "ExtlClntAppConfigurablePolicies": doc(
            "ExtlClntAppConfigurablePolicies",
            "<isCanvasPluginEnabled>true</isCanvasPluginEnabled><isEnabled>true</isEnabled>"
            "<isNotificationPluginEnabled>true</isNotificationPluginEnabled>"
            "<isSamlPluginEnabled>false</isSamlPluginEnabled><label>p</label>",
        ),
        "ExtlClntAppSamlConfigurablePolicies": doc(
            "ExtlClntAppSamlConfigurablePolicies",
            "<acsUrl>https://sp.example.com/acs</acsUrl>"
            "<commaSeparatedPermissionSet>0PS000000000001,0PS000000000002</commaSeparatedPermissionSet>"
            "<commaSeparatedProfile>00e000000000001</commaSeparatedProfile>"
            "<entityUrl>https://sp.example.com</entityUrl><label>s</label>",
        ),
        "ExtlClntAppNotificationSettings": doc(
            "ExtlClntAppNotificationSettings",
            "<label>n</label><notificationTypes><notificationType>Approvals</notificationType>"
            "<pushByDefault>true</pushByDefault></notificationTypes><notificationTypes>"
            "<notificationType>Mentions</notificationType></notificationTypes>",
        ),
        "ExtlClntAppAttestSettings": doc(
            "ExtlClntAppAttestSettings", "<attestServiceType>Apple</attestServiceType><label>a</label>"
        ),
        "ExtlClntAppAttestConfigurablePolicies": doc(
            "ExtlClntAppAttestConfigurablePolicies", "<attestEnforceLevel>Strict</attestEnforceLevel>"
        ),
    }


EXPECTED = {
    "saml_profiles": ["00e000000000001"],
    "saml_permission_sets": ["0PS000000000001", "0PS000000000002"],
    "saml_plugin": False,
    "canvas_plugin": True,
    "notification_plugin": True,
    "notification_types": ["Approvals", "Mentions"],
    "attest_service": "Apple",
    "attest_enforce_level": "Strict",
}


def _write_folder(root: Path) -> None:
    for type_name, data in _files().items():
        path = root / schema.filename_for(type_name, f"{APP}_{type_name}", "source")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    sec = root / schema.filename_for("ExtlClntAppOauthSecuritySettings", f"{APP}_sec", "source")
    sec.parent.mkdir(parents=True, exist_ok=True)
    sec.write_bytes(SECURITY)


def test_a_folder_gives_the_new_eca_settings_and_keeps_the_security_settings(tmp_path: Path) -> None:
    _write_folder(tmp_path)
    inv = load_folder(tmp_path)
    bundle = next(b for b in inv.apps if b.name == APP)
    for fid, want in EXPECTED.items():
        assert read_value(bundle, fid) == want, fid
    sec = bundle.doc("ExtlClntAppOauthSecuritySettings")
    assert sec is not None and sec.to_bytes() == SECURITY  # byte for byte
    apps = toolkit.audit(str(tmp_path))["apps"].set_index("name")
    assert apps.loc[APP, "attest_enforce_level"] == "Strict" and apps.loc[APP, "attest_service"] == "Apple"


def test_an_org_gives_them_too_and_is_not_asked_for_types_the_wsdl_lacks(fresh_demo_org: Any) -> None:
    demo = fresh_demo_org
    assert "ExtlClntAppOauthSecuritySettings" not in ECA_TYPES
    assert {"ExtlClntAppAttestSettings", "ExtlClntAppAttestConfigurablePolicies"} <= set(ECA_TYPES)
    try:
        for type_name, data in _files().items():
            name = APP if type_name == "ExternalClientApplication" else f"{APP}_{type_name}"
            put_component(demo.state, MetadataDocument.from_bytes(data, full_name=name))
        org = toolkit.connect(
            "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
        )
        inv = load_org(org, strict=True)
    finally:
        demo.reset()
    bundle = next(b for b in inv.apps if b.name == APP)
    for fid, want in EXPECTED.items():
        assert read_value(bundle, fid) == want, fid


def test_the_coverage_table_in_the_docs_is_generated_from_the_wsdl_and_the_catalog(shared_dir: Path) -> None:
    script = Path(__file__).parent.parent / "scripts" / "gen_eca_coverage.py"
    spec = importlib.util.spec_from_file_location("gen_eca_coverage", script)
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    table = gen.generate(shared_dir / "wsdl" / "metadata-v66.wsdl")
    doc = (Path(__file__).parent.parent / "docs" / "field-catalog.md").read_text(encoding="utf-8")
    assert f"{gen.START}\n{table}{gen.END}" in doc, "regenerate: python scripts/gen_eca_coverage.py"
    for fid in EXPECTED:  # the settings this issue added are read, per the table
        assert f"catalog `{fid}`" in table, fid
    assert "ExtlClntAppOauthSecuritySettings" in table and "org table `eca_secret_rest_access`" in table


def test_a_folder_edit_of_the_app_leaves_the_security_settings_file_byte_for_byte(tmp_path: Path) -> None:
    root = tmp_path / "src"
    _write_folder(root)
    sec = root / schema.filename_for("ExtlClntAppOauthSecuritySettings", f"{APP}_sec", "source")
    policies = root / schema.filename_for(
        "ExtlClntAppConfigurablePolicies", f"{APP}_ExtlClntAppConfigurablePolicies", "source"
    )
    before = policies.read_bytes()
    plan = toolkit.plan_edits(root, ["saml_plugin=true", "attest_enforce_level=None"], apps=[APP])
    assert plan.ok, plan.problems
    result = plan.apply(journal_dir=str(tmp_path / "j"))
    assert result.exit_code == 0, result.results
    assert len(plan.components) == 2  # the two policies files, nothing else
    assert sec.read_bytes() == SECURITY
    assert policies.read_bytes() != before and b"<isSamlPluginEnabled>true<" in policies.read_bytes()
    attest = root / schema.filename_for(
        "ExtlClntAppAttestConfigurablePolicies", f"{APP}_ExtlClntAppAttestConfigurablePolicies", "source"
    )
    assert b"<attestEnforceLevel>None</attestEnforceLevel>" in attest.read_bytes()
