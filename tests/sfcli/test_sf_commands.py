"""The pinned Salesforce CLI logs in to the demo org by access token, displays it, queries, lists, retrieves
and dry-run-deploys connected apps (issue #7, "The real Salesforce CLI")."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sf_support import SfLogin, left_behind

from toolkit.demoorg import DemoOrg

pytestmark = [pytest.mark.sfcli, pytest.mark.xdist_group("demo_org")]


def _project(root: Path) -> Path:
    (root / "force-app").mkdir(parents=True)
    (root / "sfdx-project.json").write_text(
        json.dumps(
            {"packageDirectories": [{"path": "force-app", "default": True}], "sourceApiVersion": "66.0"}
        )
    )
    return root


def test_login_and_display_hide_the_token(sf_cli: SfLogin, demo_org: DemoOrg) -> None:
    shown = sf_cli.run("org", "display", "--target-org", sf_cli.alias)["result"]
    assert shown["username"] == demo_org.username and shown["id"] == demo_org.state.org_id
    assert shown["instanceUrl"].rstrip("/") == demo_org.instance_url
    assert shown["connectedStatus"] == "Connected" and shown["apiVersion"] == "66.0"
    assert sf_cli.token not in json.dumps(shown)  # sf 2.136 redacts it here
    token = sf_cli.run("org", "auth", "show-access-token", "--target-org", sf_cli.alias)["result"]
    assert token["accessToken"] == sf_cli.token
    opened = sf_cli.run("org", "open", "--url-only", "--target-org", sf_cli.alias)["result"]
    assert opened["url"].startswith(f"{demo_org.instance_url}/secur/frontdoor.jsp?otp=")


def test_data_query_with_columns(sf_cli: SfLogin, demo_org: DemoOrg) -> None:
    soql = "SELECT Id, Name, CreatedBy.Name FROM ConnectedApplication ORDER BY Name LIMIT 5"
    records = sf_cli.run("data", "query", "--target-org", sf_cli.alias, "--query", soql)["result"]["records"]
    assert len(records) == 5 and records[0]["CreatedBy"]["Name"] == "Demo Admin"
    assert [r["Name"] for r in records] == sorted(r["Name"] for r in records)
    # human output lays the table out from `columns=true`: parent fields and aggregates by name
    counted = sf_cli.run(
        "data", "query", "--target-org", sf_cli.alias, "--query", "SELECT COUNT(Id) FROM LoginHistory"
    )["result"]["records"]
    assert counted[0]["expr0"] == len(demo_org.state.objects["LoginHistory"])


def test_list_metadata(sf_cli: SfLogin, demo_org: DemoOrg) -> None:
    listed = sf_cli.run(
        "org", "list", "metadata", "--target-org", sf_cli.alias, "--metadata-type", "ConnectedApp"
    )
    names = {p["fullName"] for p in listed["result"]}
    assert names == set(demo_org.truth()["apps"])


def test_retrieve_then_dry_run_deploy(sf_cli: SfLogin, demo_org: DemoOrg, tmp_path: Path) -> None:
    project = _project(tmp_path / "proj")
    before = demo_org.stats()["requests"].get("deploy", 0)
    got = sf_cli.retrieve(project, "ConnectedApp")["result"]
    local = {n for n in demo_org.truth()["apps"] if "__" not in n}
    retrieved = {f["fullName"] for f in got["files"]}
    assert got["status"] == "Succeeded" and retrieved and retrieved <= local
    files = sorted((project / "force-app").rglob("*.connectedApp-meta.xml"))
    assert len(files) == len(retrieved)
    assert all(b"consumerSecret" not in f.read_bytes() for f in files)
    snapshot = {k: c.doc.to_bytes() for k, c in demo_org.state.metadata.items()}
    deployed = sf_cli.dry_run_deploy(project, "ConnectedApp")["result"]
    assert deployed["status"] == "Succeeded" and deployed["checkOnly"] is True
    assert deployed["numberComponentsTotal"] == len(retrieved) and deployed["numberComponentErrors"] == 0
    assert demo_org.stats()["requests"]["deploy"] == before + 1
    assert {k: c.doc.to_bytes() for k, c in demo_org.state.metadata.items()} == snapshot  # nothing changed


def test_dry_run_deploy_reports_a_refused_change(sf_cli: SfLogin, demo_org: DemoOrg, tmp_path: Path) -> None:
    project = _project(tmp_path / "proj")
    name = "Demo_JWT_Integration"
    sf_cli.retrieve(project, f"ConnectedApp:{name}")
    path = next((project / "force-app").rglob(f"{name}.connectedApp-meta.xml"))
    assert "<consumerKey>" in path.read_text()
    path.write_text(path.read_text().replace("<consumerKey>", "<consumerKey>CHANGED", 1))
    out = sf_cli.dry_run_deploy(project, f"ConnectedApp:{name}", check=False)
    assert out["status"] != 0 and out["result"]["status"] == "Failed"
    failures = out["result"]["details"]["componentFailures"]
    failures = failures if isinstance(failures, list) else [failures]
    assert failures[0]["fullName"] == name and failures[0]["componentType"] == "ConnectedApp"
    assert "consumerKey cannot be changed" in failures[0]["problem"]


def test_sf_leaves_no_process_behind(node_clients: Any, tmp_path: Path) -> None:
    """A fresh HOME makes sf's update hook spawn a detached `sf update --autoupdate` (it would try to reach
    the internet) unless SF_DISABLE_AUTOUPDATE is set: the env the tests give sf sets it; nothing is left."""
    bin_dir = node_clients.install_sf(node_clients.SF_VERSION)
    env = node_clients.sf_env(tmp_path / "home", "/dev/null", bin_dir)
    (tmp_path / "home").mkdir()
    done = subprocess.run(["sf", "--version"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert left_behind(env["HOME"]) == []
