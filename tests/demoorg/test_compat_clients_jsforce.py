"""The demo org driven by jsforce (Node.js), the most used JavaScript Salesforce client (issue #3).

jsforce is installed once per machine into ``.venv/node-clients`` (git-ignored, outside the package) and
reused (``scripts/node_clients.py``'s locked install, shared with the Salesforce CLI tests). The test
skips, saying why, when node/npm are missing or the install fails (no registry access).
undici is pinned to 6.x: jsforce 3.10's own undici 8 needs Node 22 (``zlib.createZstdDecompress``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prerequisites import missing

from toolkit.demoorg import DemoOrg

pytestmark = pytest.mark.xdist_group("demo_org")
REPO = Path(__file__).resolve().parents[2]
CLIENTS = REPO / ".venv" / "node-clients"
PACKAGE = {"private": True, "dependencies": {"jsforce": "3.10.26"}, "overrides": {"undici": "6.21.3"}}

SCRIPT = r"""
const jsforce = require("jsforce");
const [url, username, password] = process.argv.slice(2);
(async () => {
  const out = {};
  const conn = new jsforce.Connection({ loginUrl: url, version: "66.0" });
  const info = await conn.login(username, password);  // SOAP partner login
  out.login = { userId: info.id, orgId: info.organizationId, instanceUrl: conn.instanceUrl };
  let res = await conn.query("SELECT Id, LoginTime FROM LoginHistory",
                             { autoFetch: false, headers: { "Sforce-Query-Options": "batchSize=200" } });
  const pages = [res.records.length], ids = res.records.map(r => r.Id), total = res.totalSize;
  while (!res.done) {
    res = await conn.queryMore(res.nextRecordsUrl);
    pages.push(res.records.length);
    res.records.forEach(r => ids.push(r.Id));
  }
  out.query = { total, pages, distinct: new Set(ids).size };
  out.first = (await conn.query(
    "SELECT Name, CreatedBy.Name FROM ConnectedApplication ORDER BY Name LIMIT 1")).records[0];
  const list = await conn.metadata.list([{ type: "ConnectedApp" }], "66.0");
  out.list = list.map(p => ({ fullName: p.fullName, ns: p.namespacePrefix || null,
                              state: p.manageableState }));
  const names = list.filter(p => !p.namespacePrefix).map(p => p.fullName).sort().slice(0, 3);
  const read = await conn.metadata.read("ConnectedApp", names);
  out.read = read.map(r => ({ fullName: r.fullName, label: r.label, oauth: !!r.oauthConfig,
                              secret: r.oauthConfig ? (r.oauthConfig.consumerSecret || null) : null }));
  out.limits = (await conn.limits()).DailyApiRequests;
  const d = await conn.describe("ConnectedApplication");
  out.describe = { name: d.name, fields: d.fields.map(f => f.name) };
  try { await conn.query("SELECT Nope FROM User"); } catch (e) { out.error = { errorCode: e.errorCode }; }
  console.log(JSON.stringify(out));
})().catch(e => { console.error("FAILED", e.name, e.errorCode || "", e.message); process.exit(1); });
"""


def _install(node_clients: ModuleType) -> Path:
    """node_modules with jsforce (installed once, under a lock so parallel runs do not race)."""
    package, wanted = CLIENTS / "package.json", json.dumps(PACKAGE, indent=2)
    marker = CLIENTS / "node_modules" / "jsforce" / "package.json"

    def done() -> bool:
        return marker.exists() and package.exists() and package.read_text() == wanted

    def install() -> None:
        package.write_text(wanted)
        node_clients.run_npm(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"], CLIENTS, "npm install jsforce"
        )

    try:
        node_clients.need_node()
        CLIENTS.mkdir(parents=True, exist_ok=True)
        node_clients.locked_install(CLIENTS / "node_modules", done, install)
    except node_clients.InstallError as exc:
        missing(f"jsforce compatibility not checked: {exc}")
    if not marker.exists():
        missing("jsforce compatibility not checked: npm install left no jsforce")
    return CLIENTS / "node_modules"


@pytest.fixture(scope="module")
def jsforce_run(
    node_clients: ModuleType, demo_org: DemoOrg, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    modules = _install(node_clients)
    script = tmp_path_factory.mktemp("jsforce") / "run.js"
    script.write_text(SCRIPT)
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": demo_org.ca_file, "NODE_PATH": str(modules)}
    done = subprocess.run(
        ["node", str(script), demo_org.instance_url, demo_org.username, demo_org.password],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # the script prints no secret; stderr is jsforce's own error text
    assert done.returncode == 0, done.stderr[-2000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def test_jsforce_soap_login(jsforce_run: dict[str, Any], demo_org: DemoOrg) -> None:
    login = jsforce_run["login"]
    assert login["instanceUrl"] == demo_org.instance_url
    assert login["orgId"] == demo_org.state.org_id and login["userId"].startswith("005")


def test_jsforce_query_more_over_pages(jsforce_run: dict[str, Any], demo_org: DemoOrg) -> None:
    total = len(demo_org.state.objects["LoginHistory"])
    q = jsforce_run["query"]
    assert q["total"] == q["distinct"] == sum(q["pages"]) == total and len(q["pages"]) > 2
    first = jsforce_run["first"]
    assert (
        first["attributes"]["type"] == "ConnectedApplication" and first["CreatedBy"]["Name"] == "Demo Admin"
    )
    assert jsforce_run["error"] == {"errorCode": "INVALID_FIELD"}


def test_jsforce_metadata_list_and_read(jsforce_run: dict[str, Any], demo_org: DemoOrg) -> None:
    listed = {p["fullName"]: p for p in jsforce_run["list"]}
    assert set(listed) == set(demo_org.truth()["apps"])
    packaged = demo_org.truth()["categories"]["packaged"][0]
    assert listed[packaged]["ns"] and listed[packaged]["state"] == "installed"
    read = jsforce_run["read"]
    assert len(read) == 3 and all(r["label"] and r["secret"] is None for r in read)
    assert [r["fullName"] for r in read] == sorted(r["fullName"] for r in read)


def test_jsforce_limits_and_describe(jsforce_run: dict[str, Any]) -> None:
    assert jsforce_run["limits"]["Max"] == 15000 and jsforce_run["limits"]["Remaining"] <= 15000
    assert jsforce_run["describe"]["name"] == "ConnectedApplication"
    assert {"Id", "Name"} <= set(jsforce_run["describe"]["fields"])
