"""Where an edit reads and writes: an org (Metadata API) or a folder of metadata files.

Both speak in components keyed by ``(type, fullName)`` and in *raw* bytes: for an org the ``readMetadata``
record as the org returned it (secret leaves removed), for a folder the file's bytes. Pre-images, stale
checks, verification and rollback compare raw bytes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lxml import etree

from ..errors import OrgError, SourceError
from ..model.bundle import AppBundle, AppKind, Inventory
from ..model.catalog import ECA_FAMILY, policies_only_reason, publisher_types
from ..model.document import MetadataDocument
from ..sources import mdapi_client as mdapi
from ..sources.org import Org
from ..sources.resilience import WriteInDoubt
from ..sources.sfdx import group_documents, load_folder
from . import soap

Key = tuple[str, str]  # (metadata type, fullName)
CA_TYPE: AppKind = "ConnectedApp"
ECA_TYPE: AppKind = "ExternalClientApplication"
LOCKED_STATES = frozenset({"installed", "beta", "deprecated", "deleted"})
MAX_PARALLEL_WRITES = 4


def key_text(key: Key) -> str:
    """``ConnectedApp:My_App``.

    >>> key_text(("ConnectedApp", "A"))
    'ConnectedApp:A'
    """
    return f"{key[0]}:{key[1]}"


class Target:
    """The common face of :class:`OrgTarget` and :class:`FolderTarget`."""

    kind = "?"
    origin = ""
    parallel_writes = 1  # write calls in flight at once
    all_names: list[str] = []  # every app name the last load() saw (for "did you mean")
    chunk_size = soap.UPDATE_ITEMS_PER_CALL

    def load(self, names: list[str] | None) -> tuple[Inventory, dict[Key, bytes]]:
        """The apps (all, or these names; unknown names are simply absent) and each component's raw bytes."""
        raise NotImplementedError

    def read(self, keys: list[Key]) -> dict[Key, bytes | None]:
        """Current raw bytes of components (None: the component does not exist or cannot be read)."""
        raise NotImplementedError

    def document(self, key: Key, raw: bytes) -> MetadataDocument:
        """The lossless document of a component's raw bytes."""
        raise NotImplementedError

    def write(self, docs: list[MetadataDocument]) -> list[soap.SaveResult]:
        """Write up to ``chunk_size`` documents of one type; one result per document, in order."""
        raise NotImplementedError

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind, "origin": self.origin}


class OrgTarget(Target):
    """An org through :class:`~toolkit.sources.org.Org` (retries, re-login, API ledger included)."""

    kind = "org"

    def __init__(self, org: Org) -> None:
        self.org = org
        # updateMetadata calls in flight at once: short calls, well under the org's limit of 25 long-running
        # requests; more would only add row-lock contention (UNABLE_TO_LOCK_ROW) on Salesforce's side
        self.parallel_writes = min(MAX_PARALLEL_WRITES, org.concurrency)
        self._docs: dict[Key, tuple[bytes, MetadataDocument]] = {}
        self.origin = org.instance_url
        self.listing: dict[Key, dict[str, str]] = {}

    def load(self, names: list[str] | None) -> tuple[Inventory, dict[Key, bytes]]:
        # one listMetadata call names every app; the other ECA types are listed only when an ECA is selected
        rows = self.org.list_metadata([CA_TYPE, ECA_TYPE])
        self.listing = {(r.get("type", ""), r.get("fullName", "")): r for r in rows}
        self.all_names = [n for (t, n) in self.listing if t in (CA_TYPE, ECA_TYPE)]
        wanted = set(names) if names is not None else None
        ca_names = [n for (t, n) in self.listing if t == CA_TYPE and (wanted is None or n in wanted)]
        eca_names = [n for (t, n) in self.listing if t == ECA_TYPE and (wanted is None or n in wanted)]
        keys: list[Key] = [(CA_TYPE, n) for n in ca_names if not self._locked((CA_TYPE, n))]
        if eca_names:  # ECA settings/policies are grouped by their externalClientApplication element
            more = self.org.list_metadata(sorted(ECA_FAMILY - {ECA_TYPE}))
            self.listing.update({(r.get("type", ""), r.get("fullName", "")): r for r in more})
            keys += [k for k in self.listing if k[0] in ECA_FAMILY]
        raws = {k: r for k, r in self.read(keys).items() if r is not None}
        docs = [self.document(k, r) for k, r in raws.items()]
        inventory = Inventory(origin=self.origin)
        inventory.apps = group_documents(docs, inventory.problems)
        known = {(b.kind, b.name) for b in inventory.apps}
        for t, n in self.listing:  # packaged apps: listed, not readable, never editable
            if t in (CA_TYPE, ECA_TYPE) and (t, n) not in known and (wanted is None or n in wanted):
                inventory.apps.append(
                    AppBundle(
                        name=n,
                        kind=CA_TYPE if t == CA_TYPE else ECA_TYPE,
                        origin=self.origin,
                        coverage="unreadable",
                        editable=False,
                        not_editable_reason=self._why_locked((t, n)),
                    )
                )
        for app in inventory.apps:
            key = (app.kind, app.name)
            if self._locked(key) and app.kind == ECA_TYPE and app.documents:
                # a packaged ECA: its policies are the subscriber's to change, its settings the publisher's
                row = self.listing.get(key, {})
                ns, state = row.get("namespacePrefix") or "", row.get("manageableState") or ""
                app.editable, app.not_editable_reason = True, policies_only_reason(ns, state)
                app.read_only = publisher_types(ns)
            elif self._locked(key):
                app.editable, app.not_editable_reason = False, self._why_locked(key)
        inventory.apps = [a for a in inventory.apps if wanted is None or a.name in wanted]
        return inventory, raws

    def _locked(self, key: Key) -> bool:
        row = self.listing.get(key, {})
        return row.get("manageableState", "") in LOCKED_STATES

    def _why_locked(self, key: Key) -> str:
        row = self.listing.get(key, {})
        ns = row.get("namespacePrefix") or "?"
        return (
            f"installed from a package (namespace {ns}, "
            f"manageableState {row.get('manageableState') or '?'}): "
            "subscribers cannot change it through the API; edit its policies in Setup > Connected Apps > "
            "Manage Connected Apps"
        )

    def read(self, keys: list[Key]) -> dict[Key, bytes | None]:
        by_type: dict[str, list[str]] = {}
        for t, n in keys:
            by_type.setdefault(t, []).append(n)
        chunks = [
            (t, ns[i : i + mdapi.READ_NAMES_PER_CALL])
            for t, ns in by_type.items()
            for i in range(0, len(ns), mdapi.READ_NAMES_PER_CALL)
        ]
        out: dict[Key, bytes | None] = {k: None for k in keys}

        def one(chunk: tuple[str, list[str]]) -> None:
            t, names = chunk
            for rec in self.org.read_metadata(t, names):
                name = mdapi.record_full_name(rec)
                if name is None:
                    continue
                mdapi.record_to_document(rec, t, self.origin)  # strips secret leaves in place
                out[(t, name)] = etree.tostring(rec)

        if chunks:
            with ThreadPoolExecutor(max_workers=max(1, min(self.org.concurrency, len(chunks)))) as pool:
                list(pool.map(one, chunks))
        return out

    def document(self, key: Key, raw: bytes) -> MetadataDocument:
        cached = self._docs.get(key)
        if cached is not None and cached[0] == raw:
            return cached[1]  # documents are immutable: the plan's, the stale check's and rollback's share it
        doc = MetadataDocument.from_soap_record(raw, source=f"{self.origin}#{key[0]}/{key[1]}")
        self._docs[key] = (raw, doc)
        return doc

    def write(self, docs: list[MetadataDocument]) -> list[soap.SaveResult]:
        # updateMetadata sends whole documents: sending the same ones twice leaves the org as once, so a lost
        # answer is simply retried with the read policy (idempotent, unlike a create or a deploy)
        body = self.org.metadata_call(
            lambda sid: soap.update_request(sid, docs),
            f"updateMetadata {docs[0].type_name} {docs[0].full_name}..{docs[-1].full_name}",
        )
        results = soap.parse_save_results(body)
        by_name = {r.full_name: r for r in results}
        return [
            by_name.get(d.full_name) or soap.SaveResult(d.full_name, False, "no SaveResult") for d in docs
        ]

    def validate(
        self, docs: list[MetadataDocument], poll: float = 0.2, budget_s: float = 300
    ) -> list[dict[str, str]]:
        """``deploy`` with ``checkOnly``: the component failures Salesforce reports (empty: all valid)."""
        data = soap.deploy_zip(docs, self.org.api_version)
        # a deploy starts a job: sent again only when it surely never reached the org; a lost answer leaves a
        # job we cannot name (checkOnly: it changes nothing), so the validation says so instead of piling up
        try:
            started = self.org.metadata_call(
                lambda sid: soap.deploy_request(sid, data), "deploy (checkOnly)", idempotent=False
            )
        except WriteInDoubt as exc:
            raise OrgError(
                exc.kind,
                f"{exc}; a checkOnly deploy changes nothing in the org: validate again (not re-sent "
                "automatically, so that no second validation job runs)",
            ) from None
        job = soap.leaf(started, "id")
        # checkDeployStatus only reads the job: polled through the read retry policy
        deadline = time.monotonic() + budget_s
        while True:
            status = self.org.metadata_call(
                lambda sid: soap.check_deploy_request(sid, job), "checkDeployStatus"
            )
            if soap.leaf(status, "done") == "true":
                failures = soap.component_failures(status)
                if not failures and soap.leaf(status, "status") not in ("Succeeded", ""):
                    failures = [
                        {"fullName": "", "problem": soap.leaf(status, "errorMessage") or "deploy failed"}
                    ]
                return failures
            if time.monotonic() > deadline:
                raise OrgError("DEPLOY_TIMEOUT", f"checkOnly deploy {job} not done after {budget_s:.0f} s")
            time.sleep(poll)


class FolderTarget(Target):
    """A folder of metadata files (SFDX project or mdapi): byte-stable patches written in place."""

    kind = "folder"
    chunk_size = 50

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise SourceError(
                f"{self.root}: no such folder; give an SFDX project or a folder of metadata files"
            )
        self.origin = str(self.root)
        self.paths: dict[Key, Path] = {}

    def load(self, names: list[str] | None) -> tuple[Inventory, dict[Key, bytes]]:
        inventory = load_folder(self.root)
        raws: dict[Key, bytes] = {}
        for app in inventory.apps:
            for doc in app.documents:
                key = (doc.type_name, doc.full_name)
                path = Path(os.path.abspath(doc.source))  # absolute, folders resolved: any cwd later
                self.paths[key] = path.parent.resolve() / path.name
                raws[key] = doc.to_bytes()
        self.all_names = [a.name for a in inventory.apps]
        if names is not None:
            inventory.apps = [a for a in inventory.apps if a.name in set(names)]
        return inventory, raws

    def read(self, keys: list[Key]) -> dict[Key, bytes | None]:
        out: dict[Key, bytes | None] = {}
        for key in keys:
            path = self.paths.get(key)
            try:
                out[key] = path.read_bytes() if path is not None else None
            except OSError:
                out[key] = None
        return out

    def document(self, key: Key, raw: bytes) -> MetadataDocument:
        path = self.paths.get(key)
        return MetadataDocument(raw, source=str(path) if path else key_text(key), full_name=key[1])

    def write(self, docs: list[MetadataDocument]) -> list[soap.SaveResult]:
        out = []
        for doc in docs:
            path = self.paths.get((doc.type_name, doc.full_name))
            if path is None:
                out.append(soap.SaveResult(doc.full_name, False, "no file for this component"))
                continue
            try:
                atomic_write(path, doc.to_bytes())
                out.append(soap.SaveResult(doc.full_name, True))
            except OSError as exc:
                out.append(soap.SaveResult(doc.full_name, False, f"cannot write {path}: {exc.strerror}"))
        return out

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind, "origin": str(self.root.resolve())}


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so a crash leaves the old or the new bytes, never a mix (temp file, fsync, rename).

    A symlink is written through: the link's target gets the new bytes (the temp file beside the target),
    the link stays a link."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    mode = path.stat().st_mode if path.exists() else None
    os.replace(tmp, path)
    if mode is not None:
        os.chmod(path, mode & 0o7777)
    try:  # the rename itself is durable once the folder is flushed
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def target_for(source: Any) -> Target:
    """An :class:`OrgTarget` for an :class:`~toolkit.sources.org.Org`, a :class:`FolderTarget` for a path."""
    if isinstance(source, Target):
        return source
    if isinstance(source, Org):
        return OrgTarget(source)
    if isinstance(source, str | os.PathLike):
        return FolderTarget(os.fspath(source))
    raise SourceError(
        f"edits take an org from toolkit.connect() or a folder path, not {type(source).__name__}"
    )


def in_chunks(items: Iterable[Any], size: int, key: Callable[[Any], str]) -> list[list[Any]]:
    """Items grouped by ``key`` (the metadata type), then cut into chunks of ``size``.

    >>> in_chunks([("A", 1), ("B", 2), ("A", 3)], 1, key=lambda x: x[0])
    [[('A', 1)], [('A', 3)], [('B', 2)]]
    """
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return [g[i : i + size] for _, g in sorted(groups.items()) for i in range(0, len(g), size)]
