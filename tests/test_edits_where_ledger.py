"""What ``plan_edits(org, where=...)`` reads (issue 13 item 8): only what the expression needs, counted by the
demo org (``stats()["requests"]`` per operation, ``stats()["queried"]`` per SOQL object).

A ``where`` on metadata columns costs the plan's own listing and reads, the same as naming every app: no
SOQL, no ``/limits``, no login. A ``where`` on a usage column reads the SOQL of the apps and their usage, once
each, and none of the org-wide reads (Settings, permission holders, ``/limits``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import toolkit
from toolkit.demoorg import DemoOrg

# IdpEventLog: SAML sign-ins count as use; UserPermissionAccess: whether the running user sees every token
USAGE = {"OauthToken", "LoginHistory", "User", "IdpEventLog", "UserPermissionAccess"}
POSTURE = {"PermissionSetAssignment"}  # the holders of the gating permissions (org-wide, the org table)
WRITES = {"create", "update", "delete", "updateMetadata", "upsertMetadata", "deleteMetadata", "deploy"}
CHANGE = ["ip_relaxation=ENFORCE"]


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[DemoOrg, Any]]:
    with DemoOrg(apps=8, ecas=2, seed=3) as org:
        with toolkit.connect(
            instance_url=org.instance_url, access_token=org.access_token, ca_file=org.ca_file
        ) as connected:
            yield org, connected


def ledger(demo: tuple[DemoOrg, Any], **selection: Any) -> tuple[dict[str, int], dict[str, int], Any]:
    org, connected = demo
    org.reset()
    plan = toolkit.plan_edits(connected, CHANGE, **selection)
    stats = org.stats()
    return dict(stats["requests"]), dict(stats["queried"]), plan


def test_where_on_a_metadata_field_reads_no_soql_no_usage_no_limits(demo: tuple[DemoOrg, Any]) -> None:
    requests, queried, plan = ledger(demo, where="ip_relaxation == 'ENFORCE'")
    assert queried == {}, queried
    assert not {"query", "queryAll", "queryMore", "bulk_query_create", "limits"} & set(requests), requests
    assert not [op for op in requests if op.startswith("oauth_") or op == "login"], requests
    assert not WRITES & set(requests), requests
    assert set(requests) <= {"listMetadata", "readMetadata"}, requests
    # the same reads as naming every app: evaluating the expression costs no call of its own
    assert plan.selection is not None and plan.selection.names
    everyone = toolkit.audit(demo[1])["apps"]
    by_name, by_name_queried, _ = ledger(demo, apps=list(everyone["name"]))
    assert requests == by_name, (requests, by_name)
    assert by_name_queried == {}


def test_where_on_a_usage_field_reads_usage_once_and_nothing_org_wide(demo: tuple[DemoOrg, Any]) -> None:
    requests, queried, plan = ledger(demo, where="tokens > 0")
    assert "OauthToken" in queried, queried
    assert all(n == 1 for n in queried.values()), queried  # each object once
    assert not POSTURE & set(queried), queried  # no org-wide permission holders
    assert "limits" not in requests, requests
    assert not WRITES & set(requests), requests
    assert plan.selection is not None and plan.selection.names


@pytest.mark.parametrize("where", ["tokens > 0", "logins > 0 or inactive_user_tokens > 0", "used == False"])
def test_where_on_usage_selects_what_the_full_audit_selects(demo: tuple[DemoOrg, Any], where: str) -> None:
    """Reading less does not select differently: the same apps as the expression over a full audit."""
    from toolkit.edits.select import evaluate_where

    full = evaluate_where(toolkit.audit(demo[1])["apps"], where)
    try:
        _, _, plan = ledger(demo, where=where)
    except toolkit.ToolkitError as exc:  # selects no app: then neither does the full audit
        assert not full.names, exc
        return
    assert plan.selection is not None
    assert sorted(plan.selection.names) == sorted(full.names)
    assert sorted(plan.selection.unknown) == sorted(full.unknown)


def test_where_on_a_usage_field_reads_only_the_usage_and_the_apps_it_joins(demo: tuple[DemoOrg, Any]) -> None:
    _, queried, _ = ledger(demo, where="tokens > 0")
    assert set(queried) <= USAGE | {"AppMenuItem", "ConnectedApplication", "ExternalClientApplication"}, (
        queried
    )
