"""Many orgs in one run (issue 17): three demo orgs audited at once, one failing mid-way (a persistent fault
on readMetadata: its audit is partial), the others complete; the ``org`` column; one app seeded in two orgs
with one setting changed shows in ``same_app.csv``; exit 3; one history snapshot per org."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_notify import webhook  # noqa: F401  (the local HTTPS webhook fixture)

from toolkit.commands import main
from toolkit.demoorg import DemoOrg

KEY = "3MVG9FLEETTESTKEY000000000000000000000000000000000000000000000000000000000000000001"


def _app(ip_relaxation: str, *, key: str = KEY) -> str:
    return textwrap.dedent(f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
            <contactEmail>ops@example.org</contactEmail>
            <label>Field Service</label>
            <oauthConfig>
                <callbackUrl>https://field.example.org/oauth/callback</callbackUrl>
                <consumerKey>{key}</consumerKey>
                <isPkceRequired>true</isPkceRequired>
                <scopes>Api</scopes>
                <scopes>RefreshToken</scopes>
            </oauthConfig>
            <oauthPolicy>
                <ipRelaxation>{ip_relaxation}</ipRelaxation>
                <refreshTokenPolicy>specific_inactivity:30:DAYS</refreshTokenPolicy>
            </oauthPolicy>
        </ConnectedApp>
        """)


def _folder(root: Path, files: dict[str, str]) -> Path:
    apps = root / "force-app" / "main" / "default" / "connectedApps"
    apps.mkdir(parents=True)
    for name, text in files.items():
        (apps / f"{name}.connectedApp-meta.xml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def three_orgs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[DemoOrg]]:
    """prod and uat hold Field_Service (same consumer key; uat renamed it and relaxed IP restrictions) and
    Shared_Portal (no key, same name, same settings); dev is a generated org that fails mid-way."""
    base = tmp_path_factory.mktemp("fleet")
    portal = _app("ENFORCE", key="").replace("<consumerKey></consumerKey>", "")
    prod = _folder(base / "prod", {"Field_Service": _app("ENFORCE"), "Shared_Portal": portal})
    uat = _folder(base / "uat", {"Field_Service_UAT": _app("BYPASS"), "Shared_Portal": portal})
    orgs = [DemoOrg(from_dir=prod, seed=31), DemoOrg(from_dir=uat, seed=32)]
    orgs.append(DemoOrg(apps=12, ecas=2, seed=33))
    try:
        for org in orgs:
            org.start()
        yield orgs
    finally:
        for org in orgs:
            org.stop()


def _orgs_file(path: Path, orgs: list[DemoOrg], names: tuple[str, ...] = ("prod", "uat", "dev")) -> Path:
    entries = [
        {"name": n, "instance_url": o.instance_url, "access_token": o.access_token, "ca_file": o.ca_file}
        for n, o in zip(names, orgs, strict=True)
    ]
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_three_orgs_one_failing_mid_way(
    three_orgs: list[DemoOrg], tmp_path: Path, history_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod, uat, dev = three_orgs
    dev.reset()
    dev.inject_fault("http500", operation="readMetadata")  # every Metadata read of dev fails: a partial audit
    out = tmp_path / "out"
    code = main([
        "audit", "--orgs-file", str(_orgs_file(tmp_path / "orgs.json", three_orgs)), "--out", str(out),
        "--concurrency", "4",
    ])
    captured = capsys.readouterr()
    assert code == 3, captured.err
    assert "org dev PARTIAL" in captured.err and "readMetadata" in captured.err
    assert prod.access_token not in captured.out + captured.err

    apps = pd.read_csv(out / "apps.csv")
    assert list(apps.columns)[0] == "org"
    assert set(apps["org"]) == {"prod", "uat", "dev"}
    assert {"Field_Service", "Shared_Portal"} <= set(apps.loc[apps["org"] == "prod", "name"])
    assert (apps.loc[apps["org"] != "dev", "coverage"] != "unreadable").all()

    fleet = pd.read_csv(out / "fleet.csv").set_index("org")
    assert fleet.loc[["prod", "uat"], "status"].tolist() == ["complete", "complete"]
    assert fleet.at["dev", "status"] == "partial" and "readMetadata" in fleet.at["dev", "reason"]
    assert fleet["org_id"].nunique() == 3 and (fleet["apps"] > 0).all()
    if importlib.util.find_spec("toolkit.rules.score") is not None:  # the score, where the rules layer scores
        assert fleet.loc[["prod", "uat"], "grade"].isin(list("ABCDF")).all()
        assert fleet.loc[["prod", "uat"], "score"].between(0, 100).all()
    assert "org dev partial" in (out / "summary.html").read_text(encoding="utf-8")

    same = pd.read_csv(out / "same_app.csv", keep_default_na=False)
    field = same[same["app"] == "Field_Service = Field_Service_UAT"]
    assert field[["matched_by", "field", "prod", "uat", "dev"]].values.tolist() == [
        ["consumer key", "ip_relaxation", "ENFORCE", "BYPASS", ""]
    ]
    assert not (same["app"] == "Shared_Portal").any()  # the same settings in both: no row

    assert main(["diff", str(out), str(out)]) == 2  # several orgs' outputs: diff says what to give instead
    assert "the outputs of 3 orgs" in capsys.readouterr().err

    # one snapshot per org, each with its own org id
    kept = sorted(p.name for p in history_dir.iterdir())
    assert len(kept) == 3 and all(k.startswith("00D") for k in kept)
    assert KEY not in captured.out and KEY not in (out / "apps.csv").read_text(encoding="utf-8")


def test_an_org_that_cannot_be_read_leaves_the_others_complete(
    three_orgs: list[DemoOrg], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod, uat, dev = three_orgs
    dev.reset()
    dead = DemoOrg(apps=2, ecas=0, seed=34).start()
    url, token = dead.instance_url, dead.access_token
    dead.stop()  # its port no longer answers
    orgs = _orgs_file(tmp_path / "orgs.json", [prod, uat], ("prod", "uat"))
    entries = [*json.loads(orgs.read_text()), {"name": "gone", "instance_url": url, "access_token": token}]
    orgs.write_text(json.dumps(entries), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["audit", "--orgs-file", str(orgs), "--out", str(out), "--timeout", "2", "--no-history"])
    captured = capsys.readouterr()
    assert code == 3, captured.err
    assert "org gone could not be read" in captured.err
    fleet = pd.read_csv(out / "fleet.csv", keep_default_na=False).set_index("org")
    assert fleet.at["gone", "status"] == "failed" and fleet.at["gone", "reason"]
    problems = pd.read_csv(out / "problems.csv")
    assert problems.loc[problems["org"] == "gone", "problem"].str.startswith("not read:").all()
    assert set(pd.read_csv(out / "apps.csv")["org"]) == {"prod", "uat"}


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        ('[{"name": "a"}]', ".json", "give alias or instance_url"),
        ('[{"alias": "a", "colour": "red"}]', ".json", "unknown field 'colour'"),
        ('[[org]]\ninstance_url = "https://h.example.com"\n', ".toml", "needs access_token"),
        ("prod\nprod\n", ".txt", "named twice"),
        ("# nothing\n", ".txt", "lists no org"),
    ],
)
def test_bad_orgs_files_are_refused_before_any_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, suffix: str, message: str
) -> None:
    path = tmp_path / f"orgs{suffix}"
    path.write_text(text, encoding="utf-8")
    assert main(["audit", "--orgs-file", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_repeated_org_options_name_several_orgs() -> None:
    import argparse

    from toolkit.commands import audit
    from toolkit.commands.orgs import fleet_targets, is_fleet

    parser = argparse.ArgumentParser()
    audit.add_arguments(parser)
    args = parser.parse_args(["--org", "prod", "--org", "uat"])
    assert is_fleet(args) and [t.alias for t in fleet_targets(args)] == ["prod", "uat"]
    one = parser.parse_args(["--org", "prod"])
    assert not is_fleet(one) and one.org == "prod"


def test_check_of_several_orgs_gates_on_all_of_them(
    three_orgs: list[DemoOrg], tmp_path: Path, history_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod, uat, dev = three_orgs
    dev.reset()
    dev.inject_fault("http500", operation="readMetadata")
    orgs = str(_orgs_file(tmp_path / "orgs.json", three_orgs))
    assert main(["check", "--orgs-file", orgs, "--format", "json", "--out", str(tmp_path / "f.json")]) == 3
    assert "PARTIAL check: org dev partial" in capsys.readouterr().err
    found = pd.DataFrame(json.loads((tmp_path / "f.json").read_text())["findings"])
    assert set(found["org"]) == {"prod", "uat", "dev"}
    assert not found["app"].str.contains("/").any()  # json keeps the app's own name, the org apart
    relaxed = found[(found["field"] == "ip_relaxation") & (found["status"] == "fail")]
    assert ("uat", "Field_Service_UAT") in set(zip(relaxed["org"], relaxed["app"], strict=True))
    assert ("prod", "Field_Service") not in set(zip(relaxed["org"], relaxed["app"], strict=True))

    code = main(["check", "--orgs-file", orgs, "--fail-on", "high", "--no-history"])
    captured = capsys.readouterr()
    assert code == 1 and "in 3 orgs" in captured.err
    assert "uat/Field_Service_UAT" in captured.out  # text names the org with the app
    assert len(list(history_dir.iterdir())) == 3


def test_report_of_two_orgs_has_the_orgs_section(
    three_orgs: list[DemoOrg], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod, uat, _dev = three_orgs
    orgs = _orgs_file(tmp_path / "orgs.toml", [prod, uat], ("prod", "uat"))
    toml = "".join(
        f'[[org]]\nname = "{e["name"]}"\ninstance_url = "{e["instance_url"]}"\n'
        f'access_token = "{e["access_token"]}"\nca_file = "{e["ca_file"]}"\n'
        for e in json.loads(orgs.read_text())
    )
    orgs.write_text(toml, encoding="utf-8")
    out = tmp_path / "report"
    assert main(["report", "--orgs-file", str(orgs), "--out", str(out), "--no-history"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    flat = page.replace('"', "'")  # the notebook's export writes double quotes
    assert "<h2 id='orgs'>Orgs</h2>" in flat and "href='#orgs'" in flat  # and in the contents
    assert "1 app(s) set differently" in page
    assert prod.access_token not in page and KEY not in page
    assert set(pd.read_csv(out / "fleet.csv")["org"]) == {"prod", "uat"}
    assert "ip_relaxation" in set(pd.read_csv(out / "same_app.csv")["field"])
    assert "report:" in capsys.readouterr().out


def test_the_orgs_share_one_bound_on_requests_in_flight(three_orgs: list[DemoOrg]) -> None:
    import toolkit
    from toolkit.analysis.audit import audit_org
    from toolkit.analysis.fleet import audit_fleet
    from toolkit.sources.org import RequestBound

    for org in three_orgs:
        org.reset()
        org.set_latency(20)  # requests overlap: without one shared bound, 3 orgs x 16 would be in flight

    def opener(demo: DemoOrg) -> object:
        return lambda: toolkit.connect(
            instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
        )

    def read(org: toolkit.Org) -> tuple[object, object, dict[str, object]]:
        inventory, tables = audit_org(org)
        return inventory, tables, {}

    bound = RequestBound(3)
    try:
        orgs = [(name, opener(demo)) for name, demo in zip("abc", three_orgs, strict=True)]
        runs = audit_fleet(orgs, read, bound=bound)
    finally:
        for org in three_orgs:
            org.reset()
    assert [r.status for r in runs] == ["complete"] * 3
    assert 2 <= bound.peak <= 3


def test_repeated_org_aliases_through_the_sf_cli(
    three_orgs: list[DemoOrg],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--org prod --org uat``: each alias through ``sf org display`` (a stand-in ``sf`` on PATH answering
    as the Salesforce CLI does), one CA bundle holding both demo orgs' CAs."""
    import os
    import stat
    import sys

    prod, uat, _dev = three_orgs
    logins = {
        alias: {"accessToken": o.access_token, "instanceUrl": o.instance_url, "apiVersion": "66.0"}
        for alias, o in (("prod", prod), ("uat", uat))
    }
    (tmp_path / "logins.json").write_text(json.dumps(logins), encoding="utf-8")
    sf = tmp_path / "bin" / "sf"
    sf.parent.mkdir()
    sf.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"logins = json.load(open({str(tmp_path / 'logins.json')!r}))\n"
        "alias = sys.argv[sys.argv.index('--target-org') + 1]\n"
        "if alias not in logins:\n"
        "    print(json.dumps({'status': 1, 'message': f'No authorization found for {alias}'}))\n"
        "    sys.exit(1)\n"
        "print(json.dumps({'status': 0, 'result': logins[alias]}))\n",
        encoding="utf-8",
    )
    sf.chmod(sf.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{sf.parent}{os.pathsep}{os.environ['PATH']}")
    bundle = tmp_path / "cas.pem"
    bundle.write_text(Path(prod.ca_file).read_text() + Path(uat.ca_file).read_text(), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["audit", "--org", "prod", "--org", "uat", "--org", "qa", "--ca-file", str(bundle)]
    assert main([*argv, "--out", str(out), "--no-history"]) == 3
    err = capsys.readouterr().err
    assert "org qa could not be read" in err and "No authorization found for qa" in err
    assert set(pd.read_csv(out / "apps.csv")["org"]) == {"prod", "uat"}
    same = pd.read_csv(out / "same_app.csv", keep_default_na=False)
    relaxed = same.loc[same["field"] == "ip_relaxation", ["prod", "uat"]]
    assert relaxed.values.tolist() == [["ENFORCE", "BYPASS"]]
    assert "qa" not in same.columns  # an org that could not be read has no column


def test_many_secrets_are_scrubbed_in_one_pass_as_one_at_a_time() -> None:
    """A fleet's outputs are scrubbed of every org's secrets: thousands, found in one pass (a trie regex)
    with the same result as replacing them one by one."""
    import random
    import string

    from toolkit.redact import MASK, _one_pass, redact

    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "._-!"
    secrets = ["3MVG9" + "".join(rng.choice(alphabet) for _ in range(80)) for _ in range(300)]
    secrets += [secrets[0][:20], secrets[1] + "tail", "abcd", "abcdef"]
    words = [*secrets, "plain", "3MVG9", "abc", "abcde"]
    text = " ".join(rng.choice(words) + "".join(rng.choice(alphabet) for _ in range(5)) for _ in range(3000))
    one_by_one = text
    for secret in sorted(set(secrets), key=len, reverse=True):
        one_by_one = one_by_one.replace(secret, MASK)
    assert redact(text, secrets, keywords=False) == one_by_one
    assert not any(s in redact(text, secrets, keywords=False) for s in secrets)
    assert _one_pass(("abcd", "abcdef")).sub("*", "abcdefg abcd abc") == "*g * abc"


def test_notify_posts_one_summary_per_org(
    three_orgs: list[DemoOrg],
    tmp_path: Path,
    webhook: Any,  # noqa: F811 (test_notify's fixture)
    capsys: pytest.CaptureFixture[str],
) -> None:
    prod, uat, _dev = three_orgs
    orgs = _orgs_file(tmp_path / "orgs.json", [prod, uat], ("prod", "uat"))
    assert main(["check", "--orgs-file", str(orgs), "--format", "json", "--out", str(tmp_path / "f.json"),
                 "--notify", webhook.url]) == 0
    texts = [json.loads(p["body"])["text"] for p in webhook.posts]
    assert len(texts) == 2 and any("org prod" in t for t in texts) and any("org uat" in t for t in texts)
    for post in webhook.posts:
        assert prod.access_token not in post["body"] and uat.access_token not in post["body"]
        assert KEY not in post["body"]
    assert capsys.readouterr().err.count("notified 127.0.0.1") == 2


def test_an_org_label_that_would_clash_with_a_column_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--org", "prod", "--org", "setting", "--out", "unused"]) == 2
    assert "cannot be an org's label" in capsys.readouterr().err
