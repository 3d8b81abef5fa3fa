"""Load connected apps and external client apps from a folder: SFDX project, mdapi folder, or any folder.

- SFDX project (``sfdx-project.json``): the ``packageDirectories`` are searched (``force-app/**``).
- mdapi folder (``package.xml``, ``connectedApps/*.connectedApp``) and ANY folder: searched recursively.

A file is a candidate when its name ends in ``.xml`` or its extension is ``connectedApp``/``eca*`` (mdapi
format); its type comes from its root element (the file name is only a hint). Files of other types
(``package.xml``, Mobile SDK ``bootconfig.xml``...) are skipped silently; a file that looks like metadata but
does not parse becomes a :class:`~toolkit.model.bundle.LoadProblem` and the rest still loads.

Only regular files are read (a FIFO, a device or a symlink to one is a problem row, never opened for
reading), each at most :data:`~toolkit.model.document.MAX_FILE_BYTES`; a file name that is not valid UTF-8
is shown with replacement characters. A file that fails in any of these ways is one problem row; the rest
still loads.

The ECA family is grouped into one :class:`~toolkit.model.bundle.AppBundle` per ``ExternalClientApplication``
through each component's ``externalClientApplication`` element.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import MetadataParseError, SourceError
from ..model.bundle import AppBundle, AppKind, Inventory, LoadProblem
from ..model.catalog import APP_TYPES, ECA_FAMILY
from ..model.document import MD_NS, MetadataDocument, read_regular_file
from ..model.schema import NOT_IN_WSDL

_SKIP_DIRS = {".git", ".sf", ".sfdx", ".venv", "node_modules", "__pycache__", ".idea", ".vscode"}
_MD_NS_BYTES = MD_NS.encode()
_WANTED = "give an SFDX project, an mdapi folder or a folder of metadata files"
CA_TYPE: AppKind = "ConnectedApp"
ECA_TYPE: AppKind = "ExternalClientApplication"


def load_folder(path: str | Path) -> Inventory:
    """Every CA and ECA under ``path``; unreadable files become ``inventory.problems``.

    Raises :class:`~toolkit.errors.SourceError` when the folder does not exist.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "A.connectedApp-meta.xml").write_text(
    ...     '<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata"><label>A</label></ConnectedApp>')
    >>> inv = load_folder(d)
    >>> [(a.name, a.kind) for a in inv.apps], inv.problems
    ([('A', 'ConnectedApp')], [])
    """
    if not isinstance(path, str | os.PathLike) or not str(path).strip():
        raise SourceError(
            f"load_folder({path!r}) names no folder (it would mean the current folder); {_WANTED}"
        )
    root = Path(path)
    if not root.exists():
        raise SourceError(f"{root}: no such folder; {_WANTED}")
    if not root.is_dir():
        raise SourceError(f"{root}: not a folder; {_WANTED}")
    problems: list[LoadProblem] = []
    docs: list[MetadataDocument] = []
    for file in _candidate_files(root, problems):
        doc = _read(file, problems)
        if doc is not None:
            docs.append(doc)
    inventory = Inventory(apps=[], problems=problems, origin=str(root))
    inventory.apps = group_documents(docs, problems)
    return inventory


def search_roots(root: Path, problems: list[LoadProblem] | None = None) -> list[Path]:
    """The folders to search: the ``packageDirectories`` of ``sfdx-project.json``, else the folder itself.

    >>> search_roots(Path("/nonexistent-folder"))
    [PosixPath('/nonexistent-folder')]
    """
    project = root / "sfdx-project.json"
    if not project.exists():
        return [root]
    try:
        data = json.loads(read_regular_file(project).decode("utf-8"))
        dirs = [root / str(d["path"]) for d in data.get("packageDirectories", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else _reason(exc)
        if problems is not None:
            problems.append(
                LoadProblem(
                    shown(project), None, f"unreadable sfdx-project.json ({why}); searching the whole folder"
                )
            )
        return [root]
    existing = [d for d in dirs if d.is_dir()]
    if problems is not None:
        for d in dirs:
            if not d.is_dir():
                problems.append(
                    LoadProblem(shown(project), None, f"package directory {shown(d.name)!r} does not exist")
                )
    return existing or [root]


def _candidate_files(root: Path, problems: list[LoadProblem]) -> Iterator[Path]:
    seen: set[Path] = set()
    for base in search_roots(root, problems):
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for name in sorted(filenames):
                file = Path(dirpath) / name
                if _is_candidate(name) and file not in seen:
                    seen.add(file)
                    yield file


def _is_candidate(name: str) -> bool:
    if name.endswith(".xml"):
        return name != "package.xml"
    return _named_like_app(name)


def _named_like_app(name: str) -> bool:
    """``X.connectedApp``, ``X.eca-meta.xml``, ``X.ecaOauthPlcy``, ``X.connectedApp.xml``..."""
    for tail in ("-meta.xml", ".xml"):
        if name.endswith(tail):
            name = name[: -len(tail)]
            break
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return ext == "connectedApp" or ext.startswith("eca")


def shown(path: str | Path) -> str:
    """A path as text that can be printed and written as UTF-8 (undecodable bytes become U+FFFD).

    >>> shown(Path(b"caf\\xe9.xml".decode("utf-8", "surrogateescape")))
    'caf�.xml'
    """
    return os.fsencode(path).decode("utf-8", "replace")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


# the app types of WSDL v66, and the ECA types it lacks (ExtlClntAppOauthSecuritySettings: read and kept)
_READ_TYPES = APP_TYPES | NOT_IN_WSDL


def _read(file: Path, problems: list[LoadProblem]) -> MetadataDocument | None:
    source = shown(file)
    try:
        data = read_regular_file(file)
    except OSError as exc:
        problems.append(LoadProblem(source, None, f"cannot read the file: {_reason(exc)}"))
        return None
    head = data[:4096]
    named = _named_like_app(file.name)
    # other metadata (classes, profiles...) and other XML (bootconfig.xml...) are skipped without parsing
    if not named and not (_MD_NS_BYTES in head and any(f"<{t}".encode() in head for t in _READ_TYPES)):
        return None
    try:
        doc = MetadataDocument.from_bytes(data, source=source)
    except MetadataParseError as exc:
        what = "refused" if exc.problem.startswith("elements nested") else "not well-formed XML"
        problems.append(LoadProblem(source, exc.line, f"{what}: {exc.problem}"))
        return None
    if doc.type_name not in _READ_TYPES:
        if named:
            problems.append(
                LoadProblem(
                    source,
                    1,
                    f"root element <{doc.type_name}> is not a connected app or external client app type",
                )
            )
        return None
    if doc.tree.nsmap.get(None) != MD_NS:
        problems.append(
            LoadProblem(source, 1, f"<{doc.type_name}> is not in the metadata namespace {MD_NS}")
        )
        return None
    return doc


def group_documents(docs: list[MetadataDocument], problems: list[LoadProblem]) -> list[AppBundle]:
    """One bundle per ConnectedApp and per ExternalClientApplication (its settings/policies attached).

    >>> ns = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
    >>> eca = MetadataDocument.from_bytes(f'<ExternalClientApplication {ns}><label>E</label>'
    ...     '</ExternalClientApplication>'.encode(), full_name="E")
    >>> pol = MetadataDocument.from_bytes(f'<ExtlClntAppOauthConfigurablePolicies {ns}>'
    ...     '<externalClientApplication>E</externalClientApplication>'
    ...     '</ExtlClntAppOauthConfigurablePolicies>'.encode(), full_name="E_policy")
    >>> [(b.name, [d.type_name for d in b.documents]) for b in group_documents([pol, eca], [])]
    [('E', ['ExternalClientApplication', 'ExtlClntAppOauthConfigurablePolicies'])]
    """
    bundles: dict[tuple[str, str], AppBundle] = {}
    members: list[MetadataDocument] = []
    for doc in docs:
        if doc.type_name in (CA_TYPE, ECA_TYPE):
            key = (doc.type_name, doc.full_name)
            if key in bundles:
                problems.append(
                    LoadProblem(
                        doc.source,
                        None,
                        f"duplicate {doc.type_name} {doc.full_name!r}: "
                        f"already loaded from {bundles[key].origin}; this copy is ignored",
                    )
                )
                continue
            bundles[key] = AppBundle(
                name=doc.full_name,
                kind=CA_TYPE if doc.type_name == CA_TYPE else ECA_TYPE,
                documents=[doc],
                origin=doc.source,
            )
        elif doc.type_name in ECA_FAMILY or doc.type_name in NOT_IN_WSDL:
            members.append(doc)  # a type the WSDL lacks too: kept with its app, byte for byte
    # an ECA is also known by the name part of orgScopedExternalApp ("<OrgId>:<Name>"), which survives when a
    # file was saved under another name (the shared samples carry a provenance prefix)
    aliases = {_scoped_name(b.documents[0]): b for (kind, _), b in bundles.items() if kind == ECA_TYPE}
    for doc in members:
        owner = (doc.get("externalClientApplication") or "").strip()
        if not owner:
            problems.append(
                LoadProblem(
                    doc.source,
                    None,
                    f"{doc.type_name} {doc.full_name!r} has no "
                    "<externalClientApplication>: cannot tell which app it belongs to",
                )
            )
            continue
        bundle = bundles.get((ECA_TYPE, owner)) or aliases.get(owner)
        if bundle is None:
            problems.append(
                LoadProblem(
                    doc.source,
                    None,
                    f"{doc.type_name} {doc.full_name!r} belongs to external "
                    f"client app {owner!r}, which is not in the folder",
                )
            )
            bundle = bundles[(ECA_TYPE, owner)] = AppBundle(
                name=owner,
                kind=ECA_TYPE,
                origin=doc.source,
                coverage_reason=f"the ExternalClientApplication file of {owner!r} is missing",
            )
        bundle.documents.append(doc)
    return sorted(bundles.values(), key=lambda b: (b.kind != CA_TYPE, b.name.lower()))


def _scoped_name(doc: MetadataDocument) -> str:
    scoped = (doc.get("orgScopedExternalApp") or "").strip()
    return scoped.split(":", 1)[-1] if scoped else doc.full_name
