"""State of the demo org (moto's ``models.py``): metadata components, sObject rows, sessions, counters.

CONTRACT between the emulator's parts (server/REST/auth, Metadata SOAP, SOQL engine):
- ``OrgState.metadata`` maps ``(type_name, full_name)`` to a :class:`MetadataComponent` whose ``doc`` is the
  lossless XML (a :class:`toolkit.model.document.MetadataDocument`). Unknown elements are kept as they are.
- sObject rows that mirror metadata (``ConnectedApplication``, ``ExternalClientApplication``,
  ``ExtlClntAppOauthPlcyCnfg``, ``AppMenuItem``...) are *derived* from the metadata on every query, plus the
  SOQL-only facts kept in ``OrgState.soql_only`` (PinLength, MobileSessionTimeout...), so a metadata update is
  visible to SOQL at once, as in Salesforce.
- Every mutation happens under ``OrgState.lock``.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..model.document import MetadataDocument


@dataclass
class MetadataComponent:
    """One metadata component as the org stores it (what listMetadata/readMetadata/retrieve serve)."""

    type_name: str
    full_name: str
    doc: MetadataDocument
    id: str  # 18-character Salesforce Id (ConnectedApp: prefix 0H4)
    created_date: datetime
    last_modified_date: datetime
    created_by_name: str = "Demo Admin"
    last_modified_by_name: str = "Demo Admin"
    namespace_prefix: str | None = None
    manageable_state: str = "unmanaged"  # released, installed, beta, unmanaged, installedEditable...
    # packaged/installed connected apps: listMetadata shows them, readMetadata returns a nil record
    readable: bool = True
    # listed, but loading it fails: a readMetadata call naming it fails whole with UNKNOWN_EXCEPTION "Load
    # of metadata from db failed" (as some installed apps do on real orgs: sfdx-hardis PR #2070)
    load_fails: bool = False
    # tests only: False makes that fault name no file (the client must then bisect the call to find it)
    load_fault_names_file: bool = True

    @property
    def file_name(self) -> str:
        folder = {"ConnectedApp": "connectedApps", "ExternalClientApplication": "externalClientApps"}
        suffix = {"ConnectedApp": "connectedApp", "ExternalClientApplication": "eca"}
        kind = suffix.get(self.type_name, "xml")
        return f"{folder.get(self.type_name, self.type_name)}/{self.full_name}.{kind}"


@dataclass
class OrgState:
    """Everything the demo org knows. Built by ``seed.py``; read and changed by the API handlers."""

    org_id: str
    api_version: str = "66.0"
    metadata: dict[tuple[str, str], MetadataComponent] = field(default_factory=dict)
    # sObject name -> list of rows (dicts keyed by field API name) for objects not derived from metadata
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # ConnectedApplication Id -> SOQL-only fields (PinLength, MobileSessionTimeout, ...)
    soql_only: dict[str, dict[str, Any]] = field(default_factory=dict)
    # org-wide settings served by readMetadata: settings type -> element values (org_settings.py)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # a test facility (DemoOrg.remove_from_schema): (sObject, field) pairs this org does not have, as an
    # older API version, a feature turned off or a missing permission would hide them; field None: the object
    absent: set[tuple[str, str | None]] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # --- added by core (server/auth/control); the other parts may read these ----------------------
    # access token -> Session (validated by the server before any data endpoint runs)
    sessions: dict[str, Session] = field(default_factory=dict)
    # operation name -> number of requests served ("query", "readMetadata", ...)
    requests: dict[str, int] = field(default_factory=dict)
    # sObject name -> number of SOQL queries of it served (REST query/queryAll and Bulk API 2.0 query jobs)
    queried: dict[str, int] = field(default_factory=dict)
    # active fault rules (control endpoint / DemoOrg.inject_fault); see FaultRule
    faults: list[FaultRule] = field(default_factory=list)
    latency_ms: float = 0.0
    api_usage: int = 0
    api_max: int = 15000
    # OAuth clients by consumer key: {"app": fullName, "secret": str, "cert_pem": str | None,
    # "client_credentials_user": username | None}
    oauth_clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    # refresh token -> username (refresh_token grant)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    # username -> password (+ security token) that SOAP login / the OAuth password flow accept
    passwords: dict[str, str] = field(default_factory=dict)

    def count(self, operation: str) -> None:
        """Count one request of ``operation`` (thread-safe)."""
        with self.lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1

    def count_query(self, soql: str) -> None:
        """Count one SOQL query of the object after its (first) ``FROM`` (a test facility: which tables a
        command read, not only how many queries).

        >>> s = OrgState(org_id="00D000000000001AAA")
        >>> s.count_query("SELECT Id, (SELECT Id FROM Tokens) FROM OauthToken WHERE x = 1"); s.queried
        {'OauthToken': 1}
        """
        outer = _outer_from(soql)
        if outer:
            with self.lock:
                self.queried[outer] = self.queried.get(outer, 0) + 1

    def take_fault(
        self, operation: str, kinds: tuple[str, ...], text: bytes | None = None
    ) -> FaultRule | None:
        """The first active fault rule of one of ``kinds`` that fires for ``operation`` (consumes a count).

        A rule with ``full_name`` fires only for requests whose ``text`` (SOAP body, REST query string)
        contains it: ``http500`` on ``listMetadata`` with ``full_name="ExtlClntAppOauthPolicies"`` fails only
        the listing of that type.

        >>> s = OrgState(org_id="00D000000000001AAA")
        >>> s.faults.append(FaultRule(kind="http500", operation="query", count=1))
        >>> s.take_fault("limits", ("http500",)) is None, s.take_fault("query", ("http500",)).kind
        (True, 'http500')
        >>> s.take_fault("query", ("http500",)) is None
        True
        """
        return self._take(
            lambda r: (
                r.kind in kinds
                and (not r.operation or r.operation == operation)
                and (not r.full_name or (text is not None and r.full_name.encode() in text))
            )
        )

    def take_save_failure(self, full_name: str, operation: str = "updateMetadata") -> FaultRule | None:
        """For the Metadata part: a per-item SaveResult failure to report for ``full_name``, if injected.

        The rule's ``status_code`` and ``message`` go into the SaveResult's ``errors``; ``full_name`` on the
        rule (when set) restricts it to that component.

        >>> s = OrgState(org_id="00D000000000001AAA")
        >>> s.faults.append(FaultRule(kind="save_failure", full_name="App_2", count=1))
        >>> s.take_save_failure("App_1") is None, s.take_save_failure("App_2").status_code
        (True, 'UNKNOWN_EXCEPTION')
        """
        return self._take(
            lambda r: (
                r.kind == "save_failure"
                and (not r.operation or r.operation == operation)
                and (not r.full_name or r.full_name == full_name)
            )
        )

    def _take(self, matches: Callable[[FaultRule], bool]) -> FaultRule | None:
        """The first matching rule that fires (rate drawn from its seeded rng); counted rules run out."""
        with self.lock:
            for rule in list(self.faults):
                if not matches(rule):
                    continue
                if rule.rate is not None and rule.rng.random() >= rule.rate:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.faults.remove(rule)
                return rule
        return None


@dataclass
class Session:
    """One access token the org accepts."""

    token: str
    user_id: str
    username: str
    client_id: str | None = None
    expired: bool = False

    def user(self) -> dict[str, Any]:
        """The dict handed to the API handlers (``metadata_api.handle_metadata_soap(..., user)``)."""
        return {"Id": self.user_id, "Username": self.username, "client_id": self.client_id}


FAULT_KINDS = ("http500", "http503", "reset", "request_limit", "save_failure", "slow", "drop_response")


@dataclass
class FaultRule:
    """An injected fault: fires for ``operation`` (any when None), ``count`` times (forever when None),
    with probability ``rate`` (always when None)."""

    kind: str  # one of FAULT_KINDS
    operation: str | None = None
    count: int | None = None
    rate: float | None = None
    # save_failure only: which component (None = any), and the SaveResult error to report
    full_name: str | None = None
    status_code: str = "UNKNOWN_EXCEPTION"
    message: str = "An unexpected error occurred (injected by the demo org)."
    # slow only: milliseconds to wait before handling the request (a client timeout below it: a timeout)
    ms: float = 5000.0
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def to_json(self) -> dict[str, Any]:
        """JSON view of the rule (for the control endpoint)."""
        return {
            k: getattr(self, k)
            for k in ("kind", "operation", "count", "rate", "full_name", "status_code", "message", "ms")
        }


def _outer_from(soql: str) -> str | None:
    """The object of the ``FROM`` outside any parentheses (subqueries of a SELECT list are inside)."""
    depth = 0
    for i, ch in enumerate(soql):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            m = re.match(r"FROM\s+([A-Za-z_][\w.]*)", soql[i:], flags=re.IGNORECASE)
            if m and (i == 0 or not (soql[i - 1].isalnum() or soql[i - 1] == "_")):
                return m.group(1)
    return None
