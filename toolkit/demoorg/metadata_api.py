"""The demo org's Metadata API (SOAP ``/services/Soap/m/<ver>``): moto's ``responses`` for metadata.

Core's server validates the session and calls :func:`handle_metadata_soap` with the raw body; the operation is
the first element of ``soap:Body`` (zeep sends ``SOAPAction: ""``). Per-item write failures are SaveResult
``errors``; call-level problems (too many names, unknown operation, malformed XML) are SOAP faults.

Operations: describeMetadata, listMetadata, readMetadata, createMetadata, updateMetadata, upsertMetadata,
deleteMetadata, renameMetadata, describeValueType (here) and deploy/checkDeployStatus,
retrieve/checkRetrieveStatus (:mod:`toolkit.demoorg.metadata_zip`).
See docs/demo-org.md (section Metadata API).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..model import schema
from ..model.document import MetadataDocument
from ..redact import redact
from . import metadata_rules as rules
from .metadata_rules import ItemError
from .metadata_soap import (
    MetadataFault,
    SoapRequest,
    el,
    envelope,
    error_xml,
    fault_body,
    parse_request,
)
from .models import MetadataComponent, OrgState
from .org_settings import SETTINGS_TYPES, read_settings

__all__ = ["handle_metadata_soap", "invalid_session_fault", "put_component", "set_item_failure"]

MAX_NAMES = 10  # readMetadata / create / update / upsert / delete (domain doc §4.2, §4.3)
MAX_LIST_QUERIES = 3  # listMetadata (domain doc §4.1)
# manageable states whose components this org cannot change (installed from a package)
LOCKED_STATES = frozenset({"installed", "deprecated", "deleted", "beta"})
# Id key prefixes of the types this org stores (ConnectedApp 0H4; ECA family: our own 0x? choices)
_ID_PREFIX = {"ConnectedApp": "0H4", "ExternalClientApplication": "0xI"}


# --- entry points ---------------------------------------------------------------------------------------
def handle_metadata_soap(state: OrgState, body: bytes, user: dict[str, Any]) -> tuple[int, bytes]:
    """Serve one Metadata API SOAP call: (HTTP status, response envelope).

    >>> from toolkit.demoorg.seed import build
    >>> st = build(apps=3, ecas=0, seed=1).state
    >>> req = (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
    ...        b'<m:describeMetadata xmlns:m="http://soap.sforce.com/2006/04/metadata"><m:asOfVersion>66.0'
    ...        b'</m:asOfVersion></m:describeMetadata></e:Body></e:Envelope>')
    >>> status, data = handle_metadata_soap(st, req, {"Id": "005", "Username": "a@b.c"})
    >>> status, b"<xmlName>ConnectedApp</xmlName>" in data
    (200, True)
    """
    try:
        req = parse_request(body)
        handler = _HANDLERS.get(req.operation)
        if handler is None:
            from . import metadata_zip

            handler = metadata_zip.HANDLERS.get(req.operation)
        if handler is None:
            raise MetadataFault(
                "soapenv:Client",
                f"No operation available for request "
                f"{{http://soap.sforce.com/2006/04/metadata}}{req.operation}",
            )
        return 200, handler(state, req, user)
    except MetadataFault as fault:
        return fault.response()
    except Exception as exc:  # a bug of the emulator: answer as Salesforce does, with a fault, not a 500 page
        message = redact(f"{type(exc).__name__}: {exc}")
        return MetadataFault("UNKNOWN_EXCEPTION", f"An unexpected error occurred: {message}").response()


def invalid_session_fault() -> tuple[int, bytes]:
    """The fault Salesforce sends for a bad or expired session on the Metadata API.

    >>> status, data = invalid_session_fault()
    >>> status, b"sf:INVALID_SESSION_ID" in data
    (500, True)
    """
    return 500, fault_body(
        "sf:INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session"
    )


def set_item_failure(
    state: OrgState,
    full_name: str | None,
    status_code: str,
    message: str,
    count: int | None = 1,
    operation: str | None = None,
) -> None:
    """Inject a per-item SaveResult failure (for core's control endpoint; uses ``OrgState.faults``).

    >>> st = OrgState(org_id="00D000000000001AAA")
    >>> set_item_failure(st, "App_1", "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")
    >>> st.take_save_failure("App_1").status_code
    'UNABLE_TO_LOCK_ROW'
    """
    from .models import FaultRule

    with state.lock:
        state.faults.append(
            FaultRule(
                kind="save_failure",
                operation=operation,
                count=count,
                full_name=full_name,
                status_code=status_code,
                message=message,
            )
        )


def put_component(
    state: OrgState,
    doc: MetadataDocument,
    *,
    namespace_prefix: str | None = None,
    manageable_state: str = "unmanaged",
    readable: bool = True,
    user_name: str = "Demo Admin",
) -> MetadataComponent:
    """Add or replace a component without API rules (for seeding); returns the stored component.

    >>> st = OrgState(org_id="00D000000000001AAA")
    >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<contactEmail>a@b.c</contactEmail><label>A</label></ConnectedApp>', full_name="A")
    >>> put_component(st, doc).id[:3]
    '0H4'
    """
    with state.lock:
        old = state.metadata.get((doc.type_name, doc.full_name))
        now = _now()
        if old is not None:
            comp = dataclasses.replace(
                old,
                doc=doc,
                last_modified_date=_bump(old.last_modified_date, now),
                last_modified_by_name=user_name,
            )
        else:
            comp = MetadataComponent(
                doc.type_name,
                doc.full_name,
                doc,
                _new_id(state, doc.type_name),
                now,
                now,
                user_name,
                user_name,
            )
        comp.namespace_prefix, comp.manageable_state, comp.readable = (
            namespace_prefix,
            manageable_state,
            readable,
        )
        state.metadata[(doc.type_name, doc.full_name)] = comp
        return comp


# --- helpers shared with metadata_zip -------------------------------------------------------------------
def sf_time(value: datetime) -> str:
    """Salesforce's SOAP dateTime (UTC, milliseconds, ``Z``).

    >>> sf_time(datetime(2025, 1, 2, 3, 4, 5, 6000, tzinfo=UTC))
    '2025-01-02T03:04:05.006Z'
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _now() -> datetime:
    return datetime.now(UTC)


def _bump(previous: datetime, now: datetime) -> datetime:
    # a write always moves lastModifiedDate forward, even within the clock's resolution
    if previous.tzinfo is None:
        previous = previous.replace(tzinfo=UTC)
    return max(now, previous + timedelta(milliseconds=1))


def _new_id(state: OrgState, type_name: str, staged: set[str] | None = None) -> str:
    from .seed import sf_id

    prefix = _ID_PREFIX.get(type_name, "0xX")
    used = {c.id for c in state.metadata.values()} | (staged or set())
    n = 500000 + len(state.metadata)
    while sf_id(prefix, n) in used:
        n += 1
    return sf_id(prefix, n)


def user_name(state: OrgState, user: dict[str, Any]) -> str:
    """Display name of the calling user (``createdByName``/``lastModifiedByName``)."""
    for row in state.objects.get("User", []):
        if row.get("Id") == user.get("Id"):
            return str(row.get("Name") or row.get("Username") or "Demo Admin")
    return str(user.get("Username") or "Demo Admin")


def file_name(type_name: str, full_name: str) -> str:
    """The mdapi file name of a component (``connectedApps/X.connectedApp``).

    >>> file_name("ExtlClntAppMobileSettings", "E_mob")
    'extlClntAppMobileSettings/E_mob.ecaMobile'
    """
    try:
        return schema.filename_for(type_name, full_name, "mdapi")
    except Exception:  # a type without a known folder (never stored by the seed)
        return f"{type_name}/{full_name}"


def file_properties(comp: MetadataComponent, state: OrgState, tag: str = "result") -> str:
    """One ``FileProperties`` element (listMetadata results, retrieve fileProperties)."""
    admin = next(iter(state.objects.get("User", [])), {}).get("Id", "005000000000000AAA")
    return (
        f"<{tag}>"
        + el("createdById", admin)
        + el("createdByName", comp.created_by_name)
        + el("createdDate", sf_time(comp.created_date))
        + el("fileName", file_name(comp.type_name, comp.full_name))
        + el("fullName", comp.full_name)
        + el("id", comp.id)
        + el("lastModifiedById", admin)
        + el("lastModifiedByName", comp.last_modified_by_name)
        + el("lastModifiedDate", sf_time(comp.last_modified_date))
        + el("manageableState", comp.manageable_state)
        + el("namespacePrefix", comp.namespace_prefix)
        + el("type", comp.type_name)
        + f"</{tag}>"
    )


def is_locked(comp: MetadataComponent) -> bool:
    """Whether the component came from a package and cannot be changed here."""
    return (not comp.readable) or comp.manageable_state in LOCKED_STATES


def _type_or_fault(type_name: str | None) -> str:
    if not type_name:
        raise MetadataFault(
            "INVALID_TYPE", "Must specify a metadata type; allowed: " + ", ".join(schema.root_types())
        )
    t = type_name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
    if t not in schema.root_types():
        raise MetadataFault(
            "INVALID_TYPE",
            f"Unknown type name {t!r} for this organization; allowed: " + ", ".join(schema.root_types()),
        )
    return t


def _limit(n: int, limit: int, what: str = "records") -> None:
    if n > limit:
        raise MetadataFault(
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {limit} {what} in this operation",
        )


# --- read side ------------------------------------------------------------------------------------------
def describe_metadata(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """describeMetadata: the metadata types this org serves (ConnectedApp and the ECA family)."""
    objs = []
    for t in schema.root_types():
        if t == "MobileApplicationDetail":
            continue  # documented separately, but served inside ConnectedApp (domain doc §1.2)
        try:
            kind = schema.file_kind(t)
        except Exception:
            continue
        objs.append(
            "<metadataObjects>"
            + el("directoryName", kind.folder)
            + el("inFolder", False)
            + el("metaFile", False)
            + el("suffix", kind.suffix)
            + el("xmlName", t)
            + "</metadataObjects>"
        )
    result = (
        "<result>"
        + "".join(objs)
        + "<organizationNamespace></organizationNamespace>"
        + el("partialSaveAllowed", True)
        + el("testRequired", False)
        + "</result>"
    )
    return envelope("describeMetadata", [result])


def list_metadata(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """listMetadata (<= 3 queries): FileProperties of every component of the types, packaged ones too."""
    queries = req.children("queries")
    _limit(len(queries), MAX_LIST_QUERIES, "queries")
    out: list[str] = []
    with state.lock:
        comps = list(state.metadata.values())
    for q in queries:
        type_name = next(((c.text or "").strip() for c in q if c.tag.endswith("type")), "")
        if not type_name:
            raise MetadataFault(
                "INVALID_TYPE", "ListMetadataQuery needs a type; allowed: " + ", ".join(schema.root_types())
            )
        # types we do not emulate (ApexClass...) exist in a real org: they are listed as empty
        out.extend(file_properties(c, state) for c in comps if c.type_name == type_name)
    return envelope("listMetadata", out)


def record_xml(comp: MetadataComponent) -> str:
    """A readMetadata ``records`` element: the stored XML losslessly (unknown elements too), no secrets."""
    doc = rules.strip_secrets(comp.doc)
    if doc.full_name != comp.full_name:
        doc = MetadataDocument(doc.to_bytes(), source=doc.source, full_name=comp.full_name)
    return doc.to_soap_metadata(tag="records").decode("utf-8")


def read_metadata(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """readMetadata (<= 10 names): a record per name; nil for unknown names and packaged apps."""
    names = req.texts("fullNames")
    _limit(len(names), MAX_NAMES)
    settings_type = (req.text("type") or "").rsplit(":", 1)[-1]
    if settings_type in SETTINGS_TYPES:  # org-wide settings (org_settings.py)
        with state.lock:
            records = read_settings(state, settings_type, names)
        return envelope("readMetadata", ["<result>" + "".join(records) + "</result>"])
    type_name = _type_or_fault(req.text("type"))
    records = []
    with state.lock:
        for name in names:
            comp = state.metadata.get((type_name, name))
            if comp is not None and comp.load_fails:
                # one unloadable component fails the whole call, whatever the other names
                raise MetadataFault(
                    "UNKNOWN_EXCEPTION",
                    f"Load of metadata from db failed for metadata of type:{type_name} and file "
                    f"name:{comp.file_name}"
                    if comp.load_fault_names_file
                    else "Load of metadata from db failed",
                )
            # Salesforce returns no record for names it does not have and for connected apps that were not
            # created in the org (installed packages): the client sees a nil record (domain doc §4.2)
            if comp is None or not comp.readable:
                records.append('<records xsi:nil="true"/>')
            else:
                records.append(record_xml(comp))
    return envelope("readMetadata", ["<result>" + "".join(records) + "</result>"])


# --- write side -----------------------------------------------------------------------------------------
class Batch:
    """The staged changes of one write call: applied together, or not at all (AllOrNoneHeader, rollback)."""

    def __init__(self, state: OrgState, user: dict[str, Any]) -> None:
        self.state, self.user = state, user
        self.pending: dict[tuple[str, str], MetadataComponent | None] = {}
        self.user_name = user_name(state, user)

    def get(self, type_name: str, full_name: str) -> MetadataComponent | None:
        key = (type_name, full_name)
        return self.pending[key] if key in self.pending else self.state.metadata.get(key)

    def commit(self) -> None:
        for key, comp in self.pending.items():
            if comp is None:
                self.state.metadata.pop(key, None)
            else:
                self.state.metadata[key] = comp

    # -- one item each; on success the change is staged and [] returned ------------------------------
    def save(self, doc: MetadataDocument, mode: str, operation: str) -> tuple[list[ItemError], bool]:
        """Stage a create/update/upsert of ``doc``; returns (errors, created)."""
        name, type_name = doc.full_name, doc.type_name
        if not name:
            return [
                ItemError(
                    "REQUIRED_FIELD_MISSING",
                    f"{type_name}: required field is missing: fullName",
                    ("fullName",),
                )
            ], False
        if type_name not in schema.root_types():
            allowed = ", ".join(schema.root_types())
            return [
                ItemError("INVALID_TYPE", f"{name}: unknown metadata type {type_name!r}; allowed: {allowed}")
            ], False
        old = self.get(type_name, name)
        if mode == "create" and old is not None:
            return [
                ItemError(
                    "DUPLICATE_DEVELOPER_NAME",
                    f"{name}: a {type_name} named {name} already exists; allowed: a new name, or "
                    "updateMetadata to change it",
                    ("fullName",),
                )
            ], False
        if mode == "update" and old is None:
            return [rules.not_found(type_name, name)], False
        creating = old is None
        if creating:
            refused = rules.create_refused(type_name, name)
            if refused is not None:
                return [refused], False
        else:
            refused = self._update_refused(old)  # type: ignore[arg-type]
            if refused is not None:
                return [refused], False
        injected = self.state.take_save_failure(name, operation)
        if injected is not None:
            return [ItemError(injected.status_code, injected.message)], False
        doc = rules.strip_secrets(doc)
        if old is not None:
            key_error = rules.check_consumer_key(old.doc, doc)
            if key_error is not None:
                return [key_error], False
            doc = _keep_consumer_key(old.doc, doc)
        else:
            taken = self._key_taken(doc)
            if taken is not None:
                return [taken], False
        errors = rules.validate(doc)
        if not errors and type_name != rules.CONNECTED_APP and type_name != "ExternalClientApplication":
            errors = self._check_parent(doc)
        if errors:
            return errors, False
        now = _now()
        if old is None:
            staged = {c.id for c in self.pending.values() if c is not None}
            comp = MetadataComponent(
                type_name,
                name,
                doc,
                _new_id(self.state, type_name, staged),
                now,
                now,
                self.user_name,
                self.user_name,
            )
        else:
            comp = dataclasses.replace(
                old,
                doc=doc,
                last_modified_date=_bump(old.last_modified_date, now),
                last_modified_by_name=self.user_name,
            )
        self.pending[(type_name, name)] = comp
        return [], creating

    def _update_refused(self, old: MetadataComponent) -> ItemError | None:
        """The refusal of an update of an existing component, or None.

        A packaged component cannot be changed, except the policy files of an external client app: "Policies
        files - configured by the external client app subscriber" (help: xcloud.meta_enable_oauth_plugin.htm),
        "All changes are made through the metadata API" (help:
        xcloud.meta_configure_external_client_app_policies.htm). The settings of a packaged ECA are its
        publisher's, also the unpackaged ones the demo org keeps (global OAuth settings cannot be packaged).
        """
        if is_locked(old):
            if old.readable and old.type_name in schema.POLICY_TYPES:
                return None
            return rules.managed(old.type_name, old.full_name, old.manageable_state)
        if old.type_name in schema.POLICY_TYPES or old.type_name == "ExternalClientApplication":
            return None
        parent = old.doc.get("externalClientApplication") if old.type_name.startswith("ExtlClntApp") else None
        app = self.get("ExternalClientApplication", parent) if parent else None
        if app is not None and is_locked(app):
            return rules.managed(old.type_name, old.full_name, app.manageable_state)
        return None

    def _key_taken(self, doc: MetadataDocument) -> ItemError | None:
        # consumer keys are globally unique (domain doc §4.5: "The consumer key is already taken")
        for path in rules.consumer_key_paths(doc.type_name):
            key = doc.get(path)
            if not key:
                continue
            for comp in list(self.state.metadata.values()) + [c for c in self.pending.values() if c]:
                if any(comp.doc.get(p) == key for p in rules.consumer_key_paths(comp.type_name)):
                    return ItemError(
                        "DUPLICATE_VALUE",
                        f"{doc.full_name}: {path}: The consumer key is already taken (by {comp.full_name}); "
                        "allowed: leave the key out and let the org generate one",
                        (path,),
                    )
        return None

    def _check_parent(self, doc: MetadataDocument) -> list[ItemError]:
        parent = doc.get("externalClientApplication")
        if parent and self.get("ExternalClientApplication", parent) is None:
            return [
                ItemError(
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"{doc.full_name}: externalClientApplication {parent!r} does not exist in this org; "
                    "allowed: the name of an existing ExternalClientApplication",
                    ("externalClientApplication",),
                )
            ]
        return []

    def delete(self, type_name: str, name: str, operation: str = "deleteMetadata") -> list[ItemError]:
        """Stage a delete."""
        old = self.get(type_name, name)
        if old is None:
            return [rules.not_found(type_name, name)]
        if is_locked(old):
            return [rules.managed(type_name, name, old.manageable_state, "delete")]
        injected = self.state.take_save_failure(name, operation)
        if injected is not None:
            return [ItemError(injected.status_code, injected.message)]
        self.pending[(type_name, name)] = None
        return []

    def rename(self, type_name: str, old_name: str, new_name: str) -> list[ItemError]:
        """Stage a rename (the component keeps its Id and dates; lastModifiedDate moves)."""
        old = self.get(type_name, old_name)
        if old is None:
            return [rules.not_found(type_name, old_name)]
        if not new_name:
            return [
                ItemError(
                    "REQUIRED_FIELD_MISSING",
                    f"{old_name}: required field is missing: newFullName",
                    ("newFullName",),
                )
            ]
        if self.get(type_name, new_name) is not None:
            return [
                ItemError(
                    "DUPLICATE_DEVELOPER_NAME",
                    f"{new_name}: a {type_name} with this name already exists; allowed: a name not in use",
                    ("newFullName",),
                )
            ]
        if is_locked(old):
            return [rules.managed(type_name, old_name, old.manageable_state)]
        injected = self.state.take_save_failure(old_name, "renameMetadata")
        if injected is not None:
            return [ItemError(injected.status_code, injected.message)]
        doc = MetadataDocument(old.doc.to_bytes(), source=old.doc.source, full_name=new_name)
        self.pending[(type_name, old_name)] = None
        self.pending[(type_name, new_name)] = dataclasses.replace(
            old,
            full_name=new_name,
            doc=doc,
            last_modified_date=_bump(old.last_modified_date, _now()),
            last_modified_by_name=self.user_name,
        )
        return []


def _keep_consumer_key(old: MetadataDocument, new: MetadataDocument) -> MetadataDocument:
    # an update that omits the key keeps it: the key identifies the app and is not cleared by a replace
    for path in rules.consumer_key_paths(new.type_name):
        key = old.get(path)
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        if key and new.get(path) is None and (not parent or new.has(parent)):
            try:
                new = new.set(path, key, allow_unknown=True)
            except Exception:  # a malformed parent: validation reports it, the key stays out
                pass
    return new


def _result(tag_fields: str, name: str, errors: list[ItemError], extra: str = "") -> str:
    body = "".join(error_xml(e.status_code, e.message, e.fields) for e in errors)
    return f"<result>{body}{extra}" + el("fullName", name) + el("success", not errors) + "</result>"


def _rolled_back(name: str) -> ItemError:
    return ItemError(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        f"{name}: not saved because another item of this allOrNone call failed; allowed: fix the "
        "failing items, or call without AllOrNoneHeader for partial saves",
    )


def _run_batch(
    state: OrgState,
    req: SoapRequest,
    user: dict[str, Any],
    names: list[str],
    step: Callable[[Batch, int], list[ItemError]],
) -> list[list[ItemError]]:
    """Run ``step`` per item under the lock; commit unless allOrNone and something failed."""
    with state.lock:
        batch = Batch(state, user)
        outcomes = [step(batch, i) for i in range(len(names))]
        if req.all_or_none and any(outcomes):
            outcomes = [errs or [_rolled_back(names[i])] for i, errs in enumerate(outcomes)]
        else:
            batch.commit()
    return outcomes


def _docs(req: SoapRequest) -> list[MetadataDocument | ItemError]:
    items: list[MetadataDocument | ItemError] = []
    for node in req.children("metadata"):
        try:
            items.append(MetadataDocument.from_soap_record(node))
        except Exception as exc:  # an element the lossless model cannot hold
            items.append(ItemError("INVALID_FIELD", f"metadata item cannot be read: {exc}"))
    return items


def _write(mode: str, operation: str) -> Callable[[OrgState, SoapRequest, dict[str, Any]], bytes]:
    def handler(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
        items = _docs(req)
        _limit(len(items), MAX_NAMES)
        names = [d.full_name if isinstance(d, MetadataDocument) else "" for d in items]
        created: dict[int, bool] = {}

        def step(batch: Batch, i: int) -> list[ItemError]:
            item = items[i]
            if isinstance(item, ItemError):
                return [item]
            errs, created[i] = batch.save(item, mode, operation)
            return errs

        outcomes = _run_batch(state, req, user, names, step)
        results = []
        for i, errs in enumerate(outcomes):
            extra = el("created", bool(created.get(i)) and not errs) if mode == "upsert" else ""
            if mode == "upsert":
                results.append(_upsert_result(names[i], errs, bool(created.get(i)) and not errs))
            else:
                results.append(_result("", names[i], errs, extra))
        return envelope(operation, results)

    return handler


def _upsert_result(name: str, errors: list[ItemError], created: bool) -> str:
    # UpsertResult's sequence is created, errors, fullName, success (WSDL v66)
    body = "".join(error_xml(e.status_code, e.message, e.fields) for e in errors)
    return (
        "<result>"
        + el("created", created)
        + body
        + el("fullName", name)
        + el("success", not errors)
        + "</result>"
    )


def delete_metadata(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """deleteMetadata (<= 10 names): DeleteResult per name."""
    type_name = _type_or_fault(req.text("type"))
    names = req.texts("fullNames")
    _limit(len(names), MAX_NAMES)
    outcomes = _run_batch(state, req, user, names, lambda b, i: b.delete(type_name, names[i]))
    return envelope("deleteMetadata", [_result("", n, e) for n, e in zip(names, outcomes, strict=True)])


def rename_metadata(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """renameMetadata: one SaveResult under the new name."""
    type_name = _type_or_fault(req.text("type"))
    old, new = req.text("oldFullName") or "", req.text("newFullName") or ""
    outcomes = _run_batch(state, req, user, [new], lambda b, i: b.rename(type_name, old, new))
    return envelope("renameMetadata", [_result("", new, outcomes[0])])


def describe_value_type(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """describeValueType: the fields of a type (from the WSDL v66 schema), enums as picklist values."""
    type_name = _type_or_fault(req.text("type"))
    fields = "".join(_value_type_field(type_name, name, 0) for name in schema.child_order(type_name))
    result = (
        "<result>"
        + el("apiCreatable", type_name in rules.CREATABLE)
        + el("apiDeletable", True)
        + el("apiReadable", True)
        + el("apiUpdatable", True)
        + fields
        + "</result>"
    )
    return envelope("describeValueType", [result])


def _value_type_field(owner: str, name: str, depth: int) -> str:
    info = schema.field_info(owner, name)
    nested = ""
    if info.is_complex and depth < 6:
        nested = "".join(
            _value_type_field(info.xsd_type, n, depth + 1) for n in schema.child_order(info.xsd_type)
        )
    picks = "".join(
        "<picklistValues>"
        + el("active", True)
        + el("defaultValue", False)
        + el("label", v)
        + el("value", v)
        + "</picklistValues>"
        for v in (info.enum or ())
    )
    wrapper = "valueTypeFields" if depth == 0 else "fields"
    soap_type = info.xsd_type.split(":", 1)[1] if info.xsd_type.startswith("xsd:") else info.xsd_type
    if info.enum and not info.xsd_type.startswith("xsd:"):
        soap_type = "string"
    return (
        f"<{wrapper}>"
        + nested
        + el("isForeignKey", False)
        + el("isNameField", name == "fullName")
        + el("minOccurs", info.min_occurs)
        + el("name", name)
        + picks
        + el("soapType", soap_type)
        + el("valueRequired", info.required)
        + f"</{wrapper}>"
    )


_HANDLERS: dict[str, Callable[[OrgState, SoapRequest, dict[str, Any]], bytes]] = {
    "describeMetadata": describe_metadata,
    "listMetadata": list_metadata,
    "readMetadata": read_metadata,
    "createMetadata": _write("create", "createMetadata"),
    "updateMetadata": _write("update", "updateMetadata"),
    "upsertMetadata": _write("upsert", "upsertMetadata"),
    "deleteMetadata": delete_metadata,
    "renameMetadata": rename_metadata,
    "describeValueType": describe_value_type,
}
