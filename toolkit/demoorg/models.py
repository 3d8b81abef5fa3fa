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

import threading
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

    @property
    def file_name(self) -> str:
        folder = {"ConnectedApp": "connectedApps", "ExternalClientApplication": "externalClientApps"}
        suffix = {"ConnectedApp": "connectedApp", "ExternalClientApplication": "eca"}
        return f"{folder.get(self.type_name, self.type_name)}/{self.full_name}.{suffix.get(self.type_name, 'xml')}"


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
    lock: threading.RLock = field(default_factory=threading.RLock)
