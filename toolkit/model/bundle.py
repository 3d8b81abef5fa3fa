"""An app as the layers above see it: its metadata documents plus whatever the org said about it.

CONTRACT shared by every source (SFDX folder, live org, demo org) and by the analysis layer:
sources produce an :class:`Inventory` of :class:`AppBundle`; the analysis layer turns it into tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .document import MetadataDocument

AppKind = Literal["ConnectedApp", "ExternalClientApplication"]
# what is known of the app, and from where
# "unreadable": listed, but its metadata could not be read; "metadata_unknown": known from SOQL while the
# listing of its type failed, so whether it has metadata (local or packaged) is not known either
Coverage = Literal["metadata", "metadata+soql", "soql_only", "tokens_only", "unreadable", "metadata_unknown"]


@dataclass
class AppBundle:
    """One connected app or external client app.

    ``documents`` holds every metadata component of the app: one ``ConnectedApp`` for a connected app;
    for an ECA the ``ExternalClientApplication`` plus its settings/policies components
    (``ExtlClntAppOauthSettings``, ``ExtlClntAppGlobalOauthSettings``, ``...ConfigurablePolicies``, ...).

    >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label></ConnectedApp>', full_name="A")
    >>> AppBundle(name="A", kind="ConnectedApp", documents=[doc]).doc("ConnectedApp").get("label")
    'A'
    """

    name: str  # API name (metadata fullName); for SOQL-only apps the ConnectedApplication Name
    kind: AppKind
    documents: list[MetadataDocument] = field(default_factory=list)
    origin: str = ""  # file path, folder or org instance URL
    coverage: Coverage = "metadata"
    coverage_reason: str = ""  # why the rest is not known (packaged, phantom, unreadable...)
    editable: bool | None = True  # None: unknown (what would tell could not be read)
    not_editable_reason: str = ""
    # metadata types of this app the org keeps read-only, each with why, although the app itself is editable:
    # on an ECA installed from a package, the publisher's settings (catalog.publisher_types)
    read_only: dict[str, str] = field(default_factory=dict)
    soql: dict[str, Any] = field(default_factory=dict)  # ConnectedApplication / ECA policy rows (org only)
    file_properties: dict[str, Any] = field(default_factory=dict)  # listMetadata FileProperties (org only)
    # what the source could not read for this app: "metadata" (its components), "metadata:<Type>" (the
    # components of one type), or a SOQL object ("ConnectedApplication", "OauthToken"...); the reasons are
    # in coverage_reason / problems
    unknown: list[str] = field(default_factory=list)

    def doc(self, type_name: str) -> MetadataDocument | None:
        """The first document of a metadata type, or None."""
        for d in self.documents:
            if d.type_name == type_name:
                return d
        return None

    def why_read_only(self, type_name: str) -> str:
        """Why this org refuses changes to the app's ``type_name`` component ("" when it takes them).

        >>> app = AppBundle("A", "ExternalClientApplication", read_only={"ExtlClntAppMobileSettings": "x"})
        >>> app.why_read_only("ExtlClntAppMobileSettings"), app.why_read_only("ExtlClntAppPushSettings")
        ('x', '')
        """
        if not self.editable:
            return self.not_editable_reason or "packaged/installed app"
        return self.read_only.get(type_name, "")

    def docs(self, type_name: str) -> list[MetadataDocument]:
        return [d for d in self.documents if d.type_name == type_name]


@dataclass
class LoadProblem:
    """A file or component that could not be loaded; the rest still loads."""

    source: str
    line: int | None
    problem: str


@dataclass
class Inventory:
    """Everything a source found: the apps, what could not be loaded, and whether it is complete."""

    apps: list[AppBundle] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    origin: str = ""
    partial: bool = False
    partial_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # org sources: usage rows, api call counts...
