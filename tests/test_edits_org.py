"""Bulk edits end to end: ``python -m toolkit edit`` in subprocesses against ``python -m toolkit demo-org``.

Faults come through the demo org's control plane. After every scenario each app is either unchanged or fully
changed, the journal (or a re-read) says which, and a rollback restores every component's raw readMetadata
XML byte for byte.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

import toolkit
from toolkit.edits.journal import Journal
from toolkit.edits.targets import OrgTarget

REPO = Path(__file__).resolve().parent.parent
CHANGES = [
    "session_timeout=120",
    "description=Edited by the toolkit",
    "callback_urls+=https://edit.example.com/cb",
]


class DemoProcess:
    """A demo org served by a ``python -m toolkit demo-org`` child process, and its control plane."""

    def __init__(self, proc: subprocess.Popen[str], info: dict[str, Any]) -> None:
        self.proc, self.info = proc, info
        self.url, self.token, self.ca = info["instance_url"], info["access_token"], info["ca_file"]
        self.http = requests.Session()
        self.http.verify = self.ca
        self.http.trust_env = False
        self.journals = ""

    def control(self, method: str, action: str, payload: dict[str, Any] | None = None) -> Any:
        r = self.http.request(
            method,
            f"{self.url}/__emulator/{action}",
            json=payload or {},
            timeout=30,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        r.raise_for_status()
        return r.json()

    def reset(self) -> None:
        self.control("POST", "reset")

    def fault(self, kind: str, **kw: Any) -> None:
        self.control("POST", "faults", {"kind": kind, **kw})

    def requests(self) -> dict[str, int]:
        return dict(self.control("GET", "stats")["requests"])

    def new_token(self) -> str:
        return str(self.control("POST", "sessions")["access_token"])

    def org(self, token: str | None = None) -> toolkit.Org:
        return toolkit.connect(
            instance_url=self.url, access_token=token or self.token, ca_file=self.ca, api_version="66.0"
        )

    def raw(self) -> dict[tuple[str, str], bytes]:
        """Every readable component's record as readMetadata returns it (all apps, not only edited)."""
        org = self.org()
        target = OrgTarget(org)
        target.load(None)
        out: dict[tuple[str, str], bytes] = {}
        keys = [k for k, row in target.listing.items() if row.get("manageableState") != "installed"]
        by_type: dict[str, list[str]] = {}
        for t, n in keys:
            by_type.setdefault(t, []).append(n)
        for t, names in by_type.items():
            for i in range(0, len(names), 10):
                for rec in org.read_metadata(t, names[i : i + 10]):
                    name = next((c.text for c in rec if str(c.tag).endswith("fullName")), None)
                    if name:
                        out[(t, name)] = etree.tostring(rec)
        return out

    def edit(
        self, *args: str, token: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args, token=token), cwd=REPO, capture_output=True, text=True, timeout=timeout
        )

    def command(self, *args: str, token: str | None = None) -> list[str]:
        extra = ["--journal-dir", self.journals] if "--apply" in args and "--journal-dir" not in args else []
        return [
            sys.executable,
            "-m",
            "toolkit",
            "edit",
            "--instance-url",
            self.url,
            "--access-token",
            token or self.token,
            "--ca-file",
            self.ca,
            *args,
            *extra,
        ]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "demo-org", "--apps", "60", "--ecas", "10"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        demo = DemoProcess(proc, json.loads(proc.stdout.readline()))
        demo.journals = str(tmp_path_factory.mktemp("journals"))
        yield demo
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def org(demo: DemoProcess) -> DemoProcess:
    demo.reset()
    return demo


@pytest.fixture(scope="module")
def apps(demo: DemoProcess) -> list[str]:
    """Connected apps with OAuth settings that the org lets us change (45 of the seeded 60)."""
    target = OrgTarget(demo.org())
    inventory, _ = target.load(None)
    names = [
        a.name
        for a in inventory.apps
        if a.kind == "ConnectedApp" and a.editable and a.documents and a.documents[0].has("oauthConfig")
    ]
    assert len(names) >= 30
    return names


def _sets() -> list[str]:
    return [arg for c in CHANGES for arg in ("--set", c)]


def _journal(stdout: str) -> str:
    lines = stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("journal: "))
    assert not any(" applied " in line for line in lines[:first])  # the path comes before any result
    return lines[first].split(" ", 1)[1]


def _statuses(stdout: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1].startswith("ConnectedApp:"):
            out[parts[0]] = parts[2] if parts[2] not in ("in", "not", "already") else f"{parts[2]} {parts[3]}"
    return out


def _assert_each_app_before_or_after(org: DemoProcess, journal: str) -> dict[str, str]:
    """Every component the journal planned is exactly its pre-image or its intended post-image."""
    journal_ = Journal.open(journal)
    plan = journal_.plan_record()
    now = org.raw()
    target = OrgTarget(org.org())
    seen: dict[str, str] = {}
    for c in plan["components"]:
        key, i = (c["type"], c["name"]), c["i"]
        pre, post = journal_.blob("pre", i), journal_.blob("post", i)
        assert pre is not None and post is not None
        doc = target.document(key, now[key])
        if now[key] == pre:
            seen[c["name"]] = "before"
        else:
            intended = toolkit.MetadataDocument(post, full_name=key[1])
            assert not doc.diff(intended), (key, doc.diff(intended))
            seen[c["name"]] = "after"
    return seen


def test_dry_run_apply_verify_rollback_restores_every_byte(org: DemoProcess, apps: list[str]) -> None:
    pristine = org.raw()
    dry = org.edit("--where", "kind == 'ConnectedApp' and editable == True and has_oauth == True", *_sets())
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was written" in dry.stdout and f"to change in {len(apps)} apps" in dry.stdout
    assert org.requests().get("updateMetadata", 0) == 0 and org.raw() == pristine
    before_calls = org.requests()
    applied = org.edit("--apps", ",".join(apps), *_sets(), "--apply")
    assert applied.returncode == 0, applied.stderr
    journal = _journal(applied.stdout)
    assert set(_statuses(applied.stdout).values()) == {"applied"} and len(_statuses(applied.stdout)) == len(
        apps
    )
    calls = {k: v - before_calls.get(k, 0) for k, v in org.requests().items()}
    chunks = math.ceil(len(apps) / 10)
    assert calls["updateMetadata"] == chunks
    after = org.raw()
    changed = {k for k in pristine if after[k] != pristine[k]}
    assert changed == {("ConnectedApp", a) for a in apps}
    assert all(b"https://edit.example.com/cb" in after[("ConnectedApp", a)] for a in apps)
    rolled = org.edit("--rollback", journal)
    assert rolled.returncode == 0, rolled.stderr
    assert set(_statuses(rolled.stdout).values()) == {"restored"}
    assert org.raw() == pristine  # every app of the org, byte for byte


def test_per_item_save_failures_are_recorded_and_the_rest_goes_on(org: DemoProcess, apps: list[str]) -> None:
    pristine = org.raw()
    for name in apps[3:5]:
        org.fault(
            "save_failure",
            full_name=name,
            status_code="UNABLE_TO_LOCK_ROW",
            message="unable to obtain exclusive access to this record",
        )
    applied = org.edit("--apps", ",".join(apps), *_sets(), "--apply")
    assert applied.returncode == 3, applied.stderr
    statuses = _statuses(applied.stdout)
    assert {a for a, s in statuses.items() if s != "applied"} == set(apps[3:5])
    assert "UNABLE_TO_LOCK_ROW" in applied.stdout
    journal = _journal(applied.stdout)
    seen = _assert_each_app_before_or_after(org, journal)
    assert {a for a, s in seen.items() if s == "before"} == set(apps[3:5])
    org.control("DELETE", "faults")
    assert org.edit("--rollback", journal).returncode == 0
    assert org.raw() == pristine


def test_5xx_and_resets_during_apply_are_retried(org: DemoProcess, apps: list[str]) -> None:
    pristine = org.raw()
    org.fault("http500", operation="updateMetadata", count=2)
    org.fault("reset", operation="updateMetadata", count=1)
    org.fault("http503", operation="readMetadata", count=2)
    applied = org.edit("--apps", ",".join(apps), *_sets(), "--apply")
    assert applied.returncode == 0, applied.stderr
    assert set(_statuses(applied.stdout).values()) == {"applied"}
    assert set(_assert_each_app_before_or_after(org, _journal(applied.stdout)).values()) == {"after"}
    assert org.edit("--rollback", _journal(applied.stdout)).returncode == 0
    assert org.raw() == pristine


def test_persistent_5xx_leaves_items_in_doubt_and_resume_finishes(org: DemoProcess, apps: list[str]) -> None:
    pristine = org.raw()
    org.fault("http500", operation="updateMetadata")
    applied = org.edit("--apps", ",".join(apps), *_sets(), "--apply")
    assert applied.returncode == 3
    statuses = _statuses(applied.stdout)
    assert set(statuses.values()) <= {"not applied", "not attempted", "in doubt"}
    journal = _journal(applied.stdout)
    assert set(_assert_each_app_before_or_after(org, journal).values()) == {"before"}
    org.control("DELETE", "faults")
    resumed = org.edit("--resume", journal)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert set(_assert_each_app_before_or_after(org, journal).values()) == {"after"}
    writes = org.requests().get("updateMetadata", 0)
    again = org.edit("--resume", journal)  # resuming a finished apply changes nothing
    assert again.returncode == 0 and org.requests().get("updateMetadata", 0) == writes
    assert org.edit("--rollback", journal).returncode == 0
    assert org.raw() == pristine


def test_expired_session_during_apply_then_resume_with_a_new_token(org: DemoProcess, apps: list[str]) -> None:
    pristine = org.raw()
    token = org.new_token()
    org.control("POST", "latency", {"ms": 200})  # chunk 5 starts well after the expiry
    proc = subprocess.Popen(
        org.command("--apps", ",".join(apps), *_sets(), "--apply", token=token),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while org.requests().get("updateMetadata", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    org.control("POST", "expire-sessions", {"token": token})
    out, err = proc.communicate(timeout=120)
    org.control("POST", "latency", {"ms": 0})
    assert proc.returncode == 3, out + err
    assert "INVALID_SESSION_ID" in out + err and token not in out + err
    journal = _journal(out)
    seen = _assert_each_app_before_or_after(org, journal)
    assert "before" in seen.values()
    fresh = org.new_token()
    resumed = org.edit("--resume", journal, token=fresh)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert set(_assert_each_app_before_or_after(org, journal).values()) == {"after"}
    assert org.edit("--rollback", journal, token=fresh).returncode == 0
    assert org.raw() == pristine


def test_an_app_changed_between_plan_and_apply_is_stale(
    org: DemoProcess, apps: list[str], tmp_path: Path
) -> None:
    pristine = org.raw()
    client = org.org()
    plan = toolkit.plan_edits(client, CHANGES, apps=apps[:12])
    other = toolkit.plan_edits(client, ["ip_relaxation=BYPASS_2FACTOR"], apps=[apps[5]]).apply(
        journal_dir=str(tmp_path)
    )
    assert other.exit_code == 0
    result = plan.apply(journal_dir=str(tmp_path))
    statuses = dict(zip(result.results["app"], result.results["status"], strict=True))
    assert statuses.pop(apps[5]) == "stale" and set(statuses.values()) == {"applied"}
    assert result.exit_code == 3
    now = org.raw()[("ConnectedApp", apps[5])]
    assert b"BYPASS_2FACTOR" in now and b"edit.example.com" not in now  # the other change was kept
    assert toolkit.rollback_edits(result.journal, client).exit_code == 0
    assert toolkit.rollback_edits(other.journal, client).exit_code == 0
    assert org.raw() == pristine


def _kill_mid_apply(org: DemoProcess, apps: list[str], tmp_path: Path) -> str:
    org.control("POST", "latency", {"ms": 120})
    proc = subprocess.Popen(
        org.command("--apps", ",".join(apps), *_sets(), "--apply", "--journal-dir", str(tmp_path)),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 60
    killed = False
    while time.monotonic() < deadline and not killed:
        for path in tmp_path.glob("edit-*/journal.jsonl"):
            types = [
                json.loads(line).get("type") for line in path.read_text().splitlines() if line.endswith("}")
            ]
            # a chunk is in flight (an intent without its result) after at least one landed
            if types.count("result") >= 1 and types.count("intent") > types.count("result"):
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
        time.sleep(0.005)
    proc.wait(timeout=30)
    org.control("POST", "latency", {"ms": 0})
    assert killed and proc.returncode == -signal.SIGKILL
    return str(next(tmp_path.glob("edit-*")))


def test_sigkill_mid_apply_then_resume_and_rollback(
    org: DemoProcess, apps: list[str], tmp_path: Path
) -> None:
    pristine = org.raw()
    journal = _kill_mid_apply(org, apps, tmp_path)
    seen = _assert_each_app_before_or_after(org, journal)
    assert (
        "after" in seen.values()
    )  # at least one chunk landed; the rest is as before, or in doubt and settled
    resumed = org.edit("--resume", journal)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert set(_assert_each_app_before_or_after(org, journal).values()) == {"after"}
    assert org.edit("--rollback", journal).returncode == 0
    assert org.raw() == pristine


def test_sigkill_mid_apply_then_rollback_settles_in_doubt_apps(
    org: DemoProcess, apps: list[str], tmp_path: Path
) -> None:
    pristine = org.raw()
    journal = _kill_mid_apply(org, apps, tmp_path)
    rolled = org.edit("--rollback", journal)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert org.raw() == pristine


def test_validate_runs_a_check_only_deploy_and_writes_nothing(org: DemoProcess, apps: list[str]) -> None:
    pristine = org.raw()
    out = org.edit("--apps", ",".join(apps[:12]), *_sets(), "--validate")
    assert out.returncode == 0, out.stderr
    assert "no problem" in out.stdout and org.requests().get("deploy", 0) == 1
    assert org.raw() == pristine


def test_grants_and_their_rollback(org: DemoProcess, apps: list[str]) -> None:
    pristine = org.raw()
    client = org.org()
    query = "SELECT Id FROM SetupEntityAccess WHERE SetupEntityType = 'ConnectedApplication'"
    rows = len(client.query(query))
    applied = org.edit("--apps", ",".join(apps[:3]), "--set", "profiles+=Standard User", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert len(client.query(query)) == rows + 3
    assert org.edit("--rollback", _journal(applied.stdout)).returncode == 0
    assert len(client.query(query)) == rows and org.raw() == pristine


def test_token_revocation_needs_confirmation_and_never_writes_a_token(
    org: DemoProcess, tmp_path: Path
) -> None:
    app = "Mobile_Portal_Ios_0003"
    refused = org.edit("--revoke-tokens", app, "--tokens", "all", "--journal-dir", str(tmp_path))
    assert refused.returncode == 2 and "not confirmed" in refused.stderr and not list(tmp_path.iterdir())
    client = org.org()
    label = client.read_metadata("ConnectedApp", [app])[0]
    name = next(c.text for c in label if str(c.tag).endswith("label"))
    count = f"SELECT COUNT() FROM OauthToken WHERE AppName = '{name}'"
    total = client.sf.query(count)["totalSize"]
    tokens = {
        r["DeleteToken"] for r in client.query(f"SELECT DeleteToken FROM OauthToken WHERE AppName = '{name}'")
    }
    done = org.edit("--revoke-tokens", app, "--tokens", "all", "--yes", "--journal-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert total > 0 and f"{total} revoked (irreversible)" in done.stdout
    assert client.sf.query(count)["totalSize"] == 0  # the OauthToken rows are gone
    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl")) + done.stdout + done.stderr
    assert not any(t in text for t in tokens)
    rollback = org.edit("--rollback", str(next(tmp_path.glob("revoke-*"))))
    assert rollback.returncode == 2 and "cannot be restored" in rollback.stderr


def test_unknown_elements_survive_and_only_the_edited_leaf_changes(org: DemoProcess, tmp_path: Path) -> None:
    future = org.control("GET", "truth")["future_element_apps"][:3]
    client = org.org()
    before = {n: v for (t, n), v in org.raw().items() if n in future}
    assert all(b"isFutureFlag2030" in v for v in before.values())
    result = toolkit.plan_edits(client, ["session_timeout=45"], apps=future).apply(journal_dir=str(tmp_path))
    assert result.exit_code == 0
    after = {n: v for (t, n), v in org.raw().items() if n in future}
    target = OrgTarget(client)
    for name in future:
        assert b"<isFutureFlag2030>true</isFutureFlag2030>" in after[name]
        changes = target.document(("ConnectedApp", name), before[name]).diff(
            target.document(("ConnectedApp", name), after[name])
        )
        assert [c.path for c in changes] == ["sessionPolicy.sessionTimeout"], changes


def test_revoking_tokens_of_inactive_users_or_unused_ones(org: DemoProcess, tmp_path: Path) -> None:
    client = org.org()
    users = {u["Id"]: u["IsActive"] for u in client.query("SELECT Id, IsActive FROM User")}
    rows = client.query("SELECT AppName, UserId, LastUsedDate FROM OauthToken")
    by_app: dict[str, list[bool]] = {}
    for r in rows:
        by_app.setdefault(r["AppName"], []).append(users.get(r["UserId"], True))
    label = next(a for a, flags in by_app.items() if not all(flags) and any(flags))
    app = next(name for name in toolkit.audit(client)["apps"].query("label == @label")["name"])
    result = toolkit.revoke_tokens(
        client,
        app,
        "inactive-users",
        confirm=lambda summary: "IRREVERSIBLE" in summary,
        journal_dir=str(tmp_path),
    )
    assert result.exit_code == 0 and len(result.table) == by_app[label].count(False)
    assert not result.table["user_active"].any()
    left = client.query(f"SELECT UserId FROM OauthToken WHERE AppName = '{label}'")
    assert len(left) == by_app[label].count(True) and all(users[r["UserId"]] for r in left)
    unused = toolkit.revoke_tokens(client, app, "unused-days=100000", confirm=True, journal_dir=str(tmp_path))
    assert len(unused.table) == 0  # nothing is that old
    with pytest.raises(toolkit.ToolkitError, match="not confirmed"):
        toolkit.revoke_tokens(client, app, "all", journal_dir=str(tmp_path))


def test_cli_resume_refuses_an_app_changed_meanwhile(org: DemoProcess, apps: list[str]) -> None:
    pristine = org.raw()
    org.fault("http500", operation="updateMetadata")
    failed = org.edit("--apps", ",".join(apps[:15]), *_sets(), "--apply")
    assert failed.returncode == 3
    org.control("DELETE", "faults")
    journal = _journal(failed.stdout)
    other = org.edit("--apps", apps[7], "--set", "ip_relaxation=BYPASS_2FACTOR", "--apply")  # another process
    assert other.returncode == 0, other.stderr
    resumed = org.edit("--resume", journal)
    assert resumed.returncode == 3
    statuses = _statuses(resumed.stdout)
    assert statuses.pop(apps[7]) == "stale" and set(statuses.values()) == {"applied"}
    assert b"BYPASS_2FACTOR" in org.raw()[("ConnectedApp", apps[7])]  # the other change was not overwritten
    assert org.edit("--rollback", journal).returncode == 0
    assert org.edit("--rollback", _journal(other.stdout)).returncode == 0
    assert org.raw() == pristine


def test_cli_apply_enabling_pkce_needs_the_client_change_acknowledgement(
    org: DemoProcess, apps: list[str]
) -> None:
    """Salesforce: clients must change before PKCE is required (expect downtime), and partner apps cannot
    switch it off again: without --ack-client-change the apply writes nothing (exit 2)."""
    pristine = org.raw()
    plan = toolkit.plan_edits(org.org(), ["pkce=true"], apps=apps)
    off = [r.app for r in plan.preview().itertuples() if r.status == "change"]
    assert off, "the seed has connected apps without PKCE"
    refused = org.edit("--apps", off[0], "--set", "pkce=true", "--apply", "--yes")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--ack-client-change" in refused.stderr and "nothing was written" in refused.stderr
    assert org.raw() == pristine
    done = org.edit("--apps", off[0], "--set", "pkce=true", "--apply", "--yes", "--ack-client-change")
    assert done.returncode == 0, done.stderr
    assert b"<isPkceRequired>true</isPkceRequired>" in org.raw()[("ConnectedApp", off[0])]
    assert org.edit("--rollback", _journal(done.stdout)).returncode == 0
    assert org.raw() == pristine
