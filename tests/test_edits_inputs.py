"""Bad inputs to ``python -m toolkit edit``: each ends in one clear error (app, field, value, what is
allowed), exit code 2, and nothing written: not a byte of the folder, not one write call to the org."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.commands import main
from toolkit.edits import PlanHasProblems, SelectionError, SpecError

REPO = Path(__file__).resolve().parent.parent
CA_WEB = "Legacy_Partner_Portal"  # no mobile settings, refresh policy infinite
CA_IOS = "Field_Sales_iOS"
ECA = "Field_Sales_Next"

# (apps, change, words the error must contain besides the app; the value is checked too when not empty)
BAD: list[tuple[str, str, list[str]]] = [
    (CA_WEB, "ip_relaxation=LOOSE", ["ENFORCE", "BYPASS"]),
    (ECA, "ip_relaxation=LOOSE", ["ENFORCE_RELAXREFRESH"]),
    (CA_WEB, "ip_relaxation=", ["ENFORCE"]),
    (CA_WEB, "pkce=maybe", ["true, false"]),
    (ECA, "pkce=maybe", ["true, false"]),
    (CA_WEB, "session_timeout=ten", ["whole number"]),
    (CA_WEB, "session_timeout=0", ["whole number"]),
    (CA_WEB, "session_timeout=-5", ["whole number"]),
    (ECA, "session_timeout=1.5", ["whole number"]),
    (CA_WEB, "refresh_n=abc", ["whole number"]),
    (CA_WEB, "refresh_unit=WEEKS", ["HOURS, DAYS, MONTHS"]),
    (CA_WEB, "refresh_policy=forever", ["infinite", "specific_lifetime"]),
    (CA_WEB, "refresh_policy=specific_lifetime", ["refresh_n"]),
    (CA_WEB, "refresh_n=90", ["specific"]),
    (CA_WEB, "permitted_users=Everyone", ["AdminApprovedPreAuthorized"]),
    (CA_WEB, "session_level=ULTRA", ["HIGH_ASSURANCE"]),
    (CA_WEB, "policy_action=Explode", ["RaiseSessionLevel"]),
    (CA_WEB, "info_url=www.example.com", ["absolute URL"]),
    (CA_WEB, "info_url=ftp://files.example.com", ["http"]),
    (CA_WEB, "logo_url=not a url", ["absolute URL"]),
    (CA_WEB, "contact_email=nobody", ["e-mail"]),
    (CA_WEB, "contact_email=a@b", ["e-mail"]),
    (CA_WEB, "callback_urls+=not a url", ["absolute URL"]),
    (CA_WEB, "callback_urls+=https://", ["absolute URL"]),
    (CA_WEB, "callback_urls=https://ok.example.com/cb,bad url", ["absolute URL"]),
    (ECA, "callback_urls+=nope", ["absolute URL"]),
    (CA_WEB, "scopes+=Everything", ["RefreshToken"]),
    (CA_WEB, "scopes=Api,Bogus", ["RefreshToken"]),
    (ECA, "scopes+=Bogus", ["OpenID"]),
    (CA_IOS, "pin_length=6", ["Setup > App Manager", "PIN Length"]),
    (CA_IOS, "lock_after=5", ["Setup > App Manager", "ExtlClntAppMobileConfigurablePolicies"]),
    (ECA, "pin_length=6", ["connected apps only"]),
    (ECA, "lock_after=7", ["0, 1, 5, 10"]),
    (CA_WEB, "consumer_key=3MVGnewkey", ["consumerKey is set only at creation"]),
    (ECA, "consumer_key=3MVGnewkey", ["consumerKey"]),
    (CA_WEB, "high_assurance=true", ["session_level"]),
    (CA_WEB, "push_service=Apple", ["Setup"]),
    (CA_WEB, "device_flow=true", ["Setup UI checkbox"]),
    (CA_WEB, "distribution_state=Local", ["external client apps only"]),
    (ECA, "platform=ios", ["connected apps only"]),
    (ECA, "min_os=17.0", ["connected apps only"]),
    (CA_WEB, "bogus_field=1", ["ip_relaxation", "raw path"]),
    (CA_WEB, "ip_relaxaton=ENFORCE", ["did you mean ip_relaxation"]),
    (CA_WEB, "ConnectedApp:oauthConfig.notAThing=1", ["ConnectedApp:"]),
    (CA_WEB, "Widget:foo=1", ["ConnectedApp"]),
    (CA_WEB, "ConnectedApp:oauthConfig.consumerKey=x", ["non-secret"]),
    (CA_WEB, "ExtlClntAppGlobalOauthSettings:callbackUrl=https://x.example.com", ["ConnectedApp"]),
    (ECA, "ConnectedApp:label=X", ["ExtlClntAppGlobalOauthSettings"]),
    (CA_WEB, "ConnectedApp:oauthPolicy.ipRelaxation=LOOSE", ["BYPASS"]),
    (CA_WEB, "ConnectedApp:oauthConfig.isPkceRequired=maybe", ["true, false"]),
    (CA_WEB, "ConnectedApp:mobileAppConfig.minimumOsVersion=17.0", ["devicePlatform"]),
    (CA_WEB, "min_os=17.0", ["mobileAppConfig.devicePlatform"]),
    (CA_WEB, "ConnectedApp:oauthPolicy.refreshTokenPolicy=specific_lifetime:x:DAYS", ["specific_lifetime"]),
    (CA_WEB, "ip_relaxation+=ENFORCE", ["="]),
    (CA_WEB, "pkce-=true", ["="]),
    (CA_WEB, "ConnectedApp:label+=X", ["="]),
    (CA_WEB, "ip_ranges=10.0.0.1", ["not supported by bulk edits"]),
    (CA_WEB, "custom_attributes=x", ["not supported by bulk edits"]),
    (CA_WEB, "biometric=true", ["not supported by bulk edits"]),
    (CA_WEB, "certificate=MIIB", ["no API can write it"]),
    (CA_WEB, "label=bad\x01label", ["control characters"]),
    (CA_WEB, "description=" + "x" * 5000, ["4000 characters"]),
    (CA_WEB, "scopes+=", ["a non-empty name", "RefreshToken"]),
    (CA_WEB, "id_token_validity=1.5", ["whole number"]),
    (CA_WEB, "canvas_access_method=Put", ["Get, Post"]),
    (CA_WEB, "saml_signing_algo=MD5", ["SHA256"]),
    ("HR_Portal_SAML", "saml_encryption=Triple_Des", ["AES_128, AES_256", "replace Triple DES with AES"]),
    ("HR_Portal_SAML", "ConnectedApp:samlConfig.encryptionType=Triple_Des", ["AES_256", "Triple DES"]),
    (CA_IOS, "private_app=perhaps", ["true, false"]),
    (CA_IOS, "platform=windows", ["ios", "android"]),
    (CA_IOS, "device_type=watch", ["tablet"]),
    ("No_Such_App", "ip_relaxation=ENFORCE", ["never create"]),
    ("Legacy_Partner_Portl", "ip_relaxation=ENFORCE", ["did you mean Legacy_Partner_Portal"]),
]


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("bad-inputs") / "examples"
    shutil.copytree(REPO / "examples", dest)
    return dest


@pytest.mark.parametrize(("app", "change", "words"), BAD, ids=[f"{a}:{c[:40]}" for a, c, _ in BAD])
def test_bad_input_is_one_clear_error_and_writes_nothing(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], app: str, change: str, words: list[str]
) -> None:
    before = _digest(project)
    code = main(
        [
            "edit",
            "--project",
            str(project),
            "--apps",
            app,
            "--set",
            change,
            "--apply",
            "--journal-dir",
            str(tmp_path / "j"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = [
        line for line in err.splitlines() if line.startswith("error: ") and "nothing was written" not in line
    ]
    assert len(lines) == 1, err
    line = lines[0]
    field, _, value = (
        change.partition("=")
        if "+=" not in change and "-=" not in change
        else (change.replace("-=", "=").replace("+=", "=").partition("="))
    )
    assert app in line and field.rstrip("+-") in line and "allowed:" in line, line
    if value and len(value) < 100:
        assert repr(value)[1:-1] in line, line
    for word in words:
        assert word in line, (word, line)
    assert "Traceback" not in err
    assert _digest(project) == before
    assert not (tmp_path / "j").exists()  # refused before any journal was started


SELECTION: list[tuple[list[str], str]] = [
    (
        ["--where", "__import__('os').system('touch /tmp/pwned')", "--set", "pkce=true"],
        "a call is not allowed",
    ),
    (["--where", "platform.upper() == 'IOS'", "--set", "pkce=true"], "is not allowed"),
    (["--where", "apps[0] == 1", "--set", "pkce=true"], "a subscript is not allowed"),
    (["--where", "name.__class__ == 1", "--set", "pkce=true"], "attribute access is not allowed"),
    (["--where", "nocolumn == 1", "--set", "pkce=true"], "no column 'nocolumn'"),
    (["--where", "platform ==", "--set", "pkce=true"], "not a valid expression"),
    (["--where", "(lambda: 1)() == 1", "--set", "pkce=true"], "is not allowed"),
    (["--where", "platform == 'symbian'", "--set", "pkce=true"], "selects no app"),
    (["--apps", CA_WEB, "--set", "ip_relaxation ENFORCE"], "is not FIELD=VALUE"),
    (["--apps", CA_WEB, "--set", "=ENFORCE"], "is not FIELD=VALUE"),
    (["--apps", CA_WEB], "nothing to change"),
    (["--set", "pkce=true"], "no apps selected"),
]


@pytest.mark.parametrize(("args", "words"), SELECTION, ids=[w for _, w in SELECTION])
def test_bad_selection_is_one_clear_error(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    before = _digest(project)
    code = main(["edit", "--project", str(project), *args, "--apply"])
    err = capsys.readouterr().err
    assert code == 2 and words in err, err
    assert "Traceback" not in err
    assert _digest(project) == before
    assert not Path("/tmp/pwned").exists()


def test_all_problems_are_reported_together_and_apply_refuses(project: Path) -> None:
    plan = toolkit.plan_edits(
        project, ["ip_relaxation=LOOSE", "pkce=maybe", "pin_length=6"], apps=[CA_WEB, CA_IOS, ECA, "Ghost"]
    )
    problems = plan.problems
    assert list(problems.columns) == ["app", "kind", "field", "value", "problem", "allowed"]
    assert len(problems) == 1 + 3 * 2 + 3  # Ghost; LOOSE/maybe on 3 apps; pin_length on 3 apps
    assert (problems["allowed"] != "").all()
    with pytest.raises(PlanHasProblems, match="nothing was written"):
        plan.apply()


def test_dataframe_of_changes_and_bad_operator(project: Path) -> None:
    changes = pd.DataFrame(
        {
            "app": [CA_WEB, CA_IOS],
            "field": ["ip_relaxation", "scopes"],
            "value": ["ENFORCE", "Api"],
            "op": ["=", "*="],
        }
    )
    plan = toolkit.plan_edits(project, changes)
    assert plan.problems[["app", "field", "allowed"]].values.tolist() == [[CA_IOS, "scopes", "=, +=, -="]]
    with pytest.raises(SpecError, match="lacks column"):
        toolkit.plan_edits(project, pd.DataFrame({"app": ["A"], "value": ["x"]}))
    with pytest.raises(SelectionError, match="no 'name' or 'app' column"):
        toolkit.plan_edits(project, ["pkce=true"], apps=pd.DataFrame({"x": [1]}))


def test_secret_values_are_never_echoed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "edit",
            "--project",
            str(project),
            "--apps",
            CA_WEB,
            "--set",
            "consumer_secret=TOPSECRETVALUE123",
            "--set",
            "ConnectedApp:oauthConfig.consumerSecret=ZZSECRET9",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "consumer_secret" in err and "consumerSecret" in err
    assert "TOPSECRETVALUE123" not in err and "ZZSECRET9" not in err


BAD_ON_ORG = [
    ("Mobile_Portal_Ios_0003", "pin_length=6", "Setup > App Manager"),
    ("Mobile_Portal_Ios_0003", "ip_relaxation=LOOSE", "BYPASS_2FACTOR"),
    ("Eca_Field_000", "ip_relaxation=Relaxed", "ENFORCE"),
    ("loop__Portal_Ledger_0004", "ip_relaxation=ENFORCE", "installed from a package"),
    ("Eca_Portal_004", "pkce=true", "set by the publisher of package acme"),  # its policies are editable
    ("Brand_New_App", "ip_relaxation=ENFORCE", "never create"),
    ("Summit_Pulse_Web_0019", "min_os=17.0", "devicePlatform"),
    ("Eca_Field_000", "profiles+=No Such Profile", "Standard User"),
    ("Mobile_Portal_Ios_0003", "consumer_key=3MVGx", "consumerKey"),
    ("Eca_Sales_001", "lock_after=2", "0, 1, 5"),
    ("Inventory_Summit_Saml_0008", "saml_encryption=Triple_Des", "replace Triple DES with AES"),
]


@pytest.mark.parametrize(("app", "change", "word"), BAD_ON_ORG, ids=[f"{a}:{c}" for a, c, _ in BAD_ON_ORG])
def test_bad_input_on_the_org_writes_nothing(
    demo_org: Any, capsys: pytest.CaptureFixture[str], app: str, change: str, word: str
) -> None:
    writes = (
        "updateMetadata",
        "createMetadata",
        "deploy",
        "upsertMetadata",
        "deleteMetadata",
        "create",
        "delete",
    )
    before = {k: demo_org.stats()["requests"].get(k, 0) for k in writes}
    code = main(
        [
            "edit",
            "--instance-url",
            demo_org.instance_url,
            "--access-token",
            demo_org.access_token,
            "--ca-file",
            demo_org.ca_file,
            "--apps",
            app,
            "--set",
            change,
            "--apply",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert app in err and change.split("=")[0].rstrip("+") in err and word in err and "allowed" in err, err
    assert {k: demo_org.stats()["requests"].get(k, 0) for k in writes} == before


def test_a_refresh_policy_on_an_app_without_oauth_policy_is_refused_not_a_crash(tmp_path: Path) -> None:
    """refresh_policy creates oauthPolicy, which also needs IP Relaxation: a refusal naming both, no trace."""
    import shutil

    project = shutil.copytree(Path(__file__).resolve().parent.parent / "examples", tmp_path / "p")
    plan = toolkit.plan_edits(str(project), ["refresh_policy=zero"], apps=["HR_Portal_SAML"])
    (row,) = plan.problems.to_dict("records")
    assert row["app"] == "HR_Portal_SAML" and "oauthPolicy.ipRelaxation" in row["problem"]


def test_scopes_are_accepted_the_way_admins_write_them(project: Path) -> None:
    """`api`, `refresh_token`, `chatter_api` (the OAuth wire names, as in the seed and the Mobile SDK) plan
    the same edit as the metadata names; a name that is neither is still refused."""
    wire = toolkit.plan_edits(project, ["scopes+=refresh_token", "scopes+=chatter_api"], apps=[CA_WEB])
    enum = toolkit.plan_edits(project, ["scopes+=RefreshToken", "scopes+=Chatter"], apps=[CA_WEB])
    assert wire.problems.empty and enum.problems.empty
    columns = ["app", "field", "before", "after"]
    same = enum.preview()[columns].astype(str).values.tolist()
    assert wire.preview()[columns].astype(str).values.tolist() == same
    bad = toolkit.plan_edits(project, ["scopes+=refresh_tokens"], apps=[CA_WEB])
    assert bad.problems[["app", "field", "value"]].values.tolist() == [[CA_WEB, "scopes", "refresh_tokens"]]
