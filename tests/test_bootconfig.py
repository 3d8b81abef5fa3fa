"""Mobile SDK bootconfig files: every real sample parses; the cross-check against a demo org started from a
folder of matching and mismatching apps gives the expected rows; the command."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.commands import main
from toolkit.demoorg import DemoOrg
from toolkit.errors import SourceError
from toolkit.sources.bootconfig import find_bootconfigs, parse_bootconfig

FIX = Path(__file__).resolve().parent / "fixtures" / "findings" / "mobile-sdk"
IOS_KEY = "3MVG9FIXTUREIOS00000000000000000000000001"


@pytest.mark.shared
def test_every_shared_sample_parses(shared_dir: Path) -> None:
    files = sorted((shared_dir / "samples" / "mobile-sdk-config").iterdir())
    assert len(files) == 20
    configs = [parse_bootconfig(f) for f in files]
    by_platform = pd.Series([c.platform for c in configs]).value_counts().to_dict()
    assert by_platform == {"android": 8, "ios": 7, "hybrid": 4, "android-servers": 1}
    templates = [c for c in configs if "__INSERT_" in (c.consumer_key or "")]
    assert all(c.placeholder for c in templates) and len(templates) == 11
    old = next(c for c in configs if "pre2025-10__iOSNativeSwift" in c.path)
    assert old.callback == "testsfdc:///mobilesdk/detect/oauth/done" and old.scopes == ("web", "api")
    assert next(c for c in configs if c.platform == "android-servers").servers == (
        ("Default", "__INSERT_DEFAULT_LOGIN_SERVER__"),
    )
    assert next(c for c in configs if "SalesforcePushPOC" in c.path).extra == {
        "androidPushNotificationClientId": "433285038198"
    }


def test_bad_files_are_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bootconfig.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SourceError, match=r"bootconfig.json: not valid JSON"):
        parse_bootconfig(bad)
    xml = tmp_path / "bootconfig.xml"
    xml.write_text("<manifest/>", encoding="utf-8")
    with pytest.raises(SourceError, match="expected <resources>"):
        parse_bootconfig(xml)


@pytest.fixture(scope="module")
def sdk_org() -> Iterator[DemoOrg]:
    with DemoOrg(from_dir=FIX / "project", seed=2) as org:
        yield org


def test_cross_check_against_a_demo_org(sdk_org: DemoOrg) -> None:
    from toolkit.api import audit_org

    org = toolkit.connect(
        instance_url=sdk_org.instance_url, access_token=sdk_org.access_token, ca_file=sdk_org.ca_file
    )
    inventory, _ = audit_org(org)
    configs = [parse_bootconfig(f) for f in find_bootconfigs([FIX / "configs"])]
    result = toolkit.bootconfig_check(configs, inventory)
    got = {(Path(r.file).parent.name, r.app, r.check, r.status) for r in result.itertuples()}
    assert got == {
        ("SdkMatch", "Sdk_Match_iOS", "consumer key", "ok"),
        ("SdkMatch", "Sdk_Match_iOS", "callback registered", "ok"),
        ("SdkMatch", "Sdk_Match_iOS", "scopes granted", "ok"),
        ("SdkMatch", "Sdk_Match_iOS", "PKCE", "ok"),
        ("SdkMatch", "Sdk_Match_iOS", "mobile app", "ok"),
        ("values", "Sdk_Mismatch_Android", "mobile app", "ok"),
        ("www", "Sdk_Match_iOS", "mobile app", "ok"),
        ("values", "Sdk_Mismatch_Android", "consumer key", "ok"),
        ("values", "Sdk_Mismatch_Android", "callback registered", "fail"),
        ("values", "Sdk_Mismatch_Android", "scopes granted", "fail"),
        ("values", "Sdk_Mismatch_Android", "PKCE", "warn"),
        ("www", "Sdk_Match_iOS", "consumer key", "fail"),
        ("www", "Sdk_Match_iOS", "callback registered", "ok"),
        ("www", "Sdk_Match_iOS", "scopes granted", "ok"),
        ("www", "Sdk_Match_iOS", "PKCE", "ok"),
        ("other", None, "app found", "fail"),
    }
    scopes = result[(result["app"] == "Sdk_Mismatch_Android") & (result["check"] == "scopes granted")]
    assert scopes["detail"].iloc[0] == "requested but not granted: web"
    assert IOS_KEY not in result.to_csv()  # consumer keys are shown masked


def test_bootconfig_command(sdk_org: DemoOrg, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "bootconfig",
        str(FIX / "configs"),
        "--instance-url",
        sdk_org.instance_url,
        "--access-token",
        sdk_org.access_token,
        "--ca-file",
        sdk_org.ca_file,
    ]
    assert main(args) == 1  # failed checks exit 1, as check --fail-on
    out = capsys.readouterr().out
    assert "fail  " in out and "4 files, 4 failed checks" in out and IOS_KEY not in out
    assert main([*args, "--strict"]) == 1
    capsys.readouterr()
    assert main([*args, "--no-fail"]) == 0
    capsys.readouterr()
    assert main(["bootconfig", str(FIX / "nowhere"), "--project", str(FIX / "project")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_bootconfig_against_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["bootconfig", str(FIX / "configs"), "--project", str(FIX / "project"), "--format", "csv"]) == 1
    )
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(frame.columns) == {"file", "platform", "app", "kind", "check", "status", "detail"}
    assert (frame["status"] == "fail").sum() == 4


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_sample_bootconfigs_in_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """What README suggests trying: one sample matches its app, the other has two mistakes (exit 1)."""
    assert main(["bootconfig", str(EXAMPLES / "mobile"), "--project", str(EXAMPLES)]) == 1
    out = capsys.readouterr().out
    assert "2 files, 2 failed checks" in out
    assert "is not among the app's callback URLs" in out and "requested but not granted: web" in out
    assert main(["bootconfig", str(EXAMPLES / "mobile" / "FieldSales"), "--project", str(EXAMPLES)]) == 0
