"""File-based Metadata API calls of the demo org: deploy/checkDeployStatus and retrieve/checkRetrieveStatus.

A deploy is processed when it arrives (the org is fast); ``deploy`` still answers with a queued AsyncResult
and ``checkDeployStatus`` with the finished DeployResult, as Salesforce does. The zip holds ``package.xml``
(optionally ``destructiveChanges.xml``) and mdapi-format files such as ``connectedApps/X.connectedApp``, at
the root (singlePackage) or below one folder. Each component is saved like ``upsertMetadata`` (same rules:
Spring '26 refuses new connected apps, consumerKey cannot change, packaged apps are locked, required fields);
``checkOnly`` validates without changing anything; ``rollbackOnError`` keeps the org unchanged when any
component fails.
"""

from __future__ import annotations

import base64
import binascii
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from ..model import schema
from ..model.document import MetadataDocument
from . import metadata_rules as rules
from .metadata_api import Batch, _now, file_properties, is_locked, sf_time, user_name
from .metadata_soap import MD_NS, MetadataFault, SoapRequest, el, envelope, is_true, local
from .models import OrgState

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass
class Job:
    """A finished deploy or retrieve, kept until the org is reset."""

    id: str
    kind: str  # "deploy" | "retrieve"
    created: datetime
    created_by: str
    created_by_name: str
    result: str = ""  # the serialised result body (without <result>), minus the zip
    zip_b64: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def _jobs(state: OrgState) -> dict[str, Job]:
    # OrgState has no field for async jobs yet (models.py belongs to core): keep them on the instance.
    # LEAD/core: an ``md_jobs: dict[str, Any]`` field on OrgState would make this explicit.
    jobs: dict[str, Job] | None = state.__dict__.get("_md_jobs")
    if jobs is None:
        jobs = {}
        state.__dict__["_md_jobs"] = jobs
    return jobs


def _job_id(state: OrgState, prefix: str) -> str:
    from .seed import sf_id

    jobs = _jobs(state)
    n = 700000 + len(jobs)
    while sf_id(prefix, n) in jobs:
        n += 1
    return sf_id(prefix, n)


def _queued(operation: str, job_id: str) -> bytes:
    return envelope(
        operation, ["<result>" + el("done", False) + el("id", job_id) + el("state", "Queued") + "</result>"]
    )


# --- package.xml ----------------------------------------------------------------------------------------
def parse_package(data: bytes) -> dict[str, list[str]]:
    """Members by type of a ``package.xml`` (or destructiveChanges.xml / an ``unpackaged`` element).

    >>> parse_package(b'<Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>*</members>'
    ...               b'<name>ConnectedApp</name></types><version>66.0</version></Package>')
    {'ConnectedApp': ['*']}
    """
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"package.xml is not well-formed XML: {exc.msg}") from None
    return _types_of(root)


def _types_of(root: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for types in (c for c in root if local(c) == "types"):
        name = next(((c.text or "").strip() for c in types if local(c) == "name"), "")
        members = [(c.text or "").strip() for c in types if local(c) == "members"]
        if name:
            out.setdefault(name, []).extend(members)
    return out


def package_xml(types: dict[str, list[str]], version: str) -> bytes:
    """A ``package.xml`` for the given members.

    >>> package_xml({"ConnectedApp": ["A"]}, "66.0").decode().splitlines()[2]
    '    <types>'
    """
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<Package xmlns="{MD_NS}">']
    for name in sorted(types):
        lines.append("    <types>")
        lines.extend(f"        <members>{m}</members>" for m in sorted(types[name]))
        lines.append(f"        <name>{name}</name>")
        lines.append("    </types>")
    lines.append(f"    <version>{version}</version>")
    lines.append("</Package>")
    return ("\n".join(lines) + "\n").encode()


# --- deploy ---------------------------------------------------------------------------------------------
@dataclass
class _Message:
    file_name: str
    full_name: str
    component_type: str = ""
    problem: str | None = None
    created: bool = False
    deleted: bool = False
    changed: bool = False
    id: str | None = None
    line: int | None = None

    def xml(self, tag: str, when: str) -> str:
        ok = self.problem is None
        return (
            f"<{tag}>"
            + el("changed", self.changed)
            # always present (empty for package.xml, as on Salesforce): the Salesforce CLI reads every row
            + el("componentType", self.component_type)
            + el("created", self.created)
            + el("createdDate", when)
            + el("deleted", self.deleted)
            + el("fileName", self.file_name)
            + el("fullName", self.full_name)
            + el("id", self.id)
            + el("lineNumber", self.line)
            + el("problem", self.problem)
            + el("problemType", None if ok else "Error")
            + el("success", ok)
            + f"</{tag}>"
        )


def _options(req: SoapRequest) -> dict[str, str]:
    opts: dict[str, str] = {}
    for node in req.children("DeployOptions"):
        for c in node:
            if local(c):
                opts[local(c)] = (c.text or "").strip()
    return opts


def _zip_entries(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def _find_root(entries: dict[str, bytes]) -> str:
    for name in sorted(entries, key=len):
        if name == "package.xml" or (name.endswith("/package.xml") and name.count("/") == 1):
            return name[: -len("package.xml")]
    raise ValueError("No package.xml found")


def _deploy_components(batch: Batch, entries: dict[str, bytes], prefix: str) -> list[_Message]:
    msgs: list[_Message] = []
    package = parse_package(entries[prefix + "package.xml"])
    files: dict[tuple[str, str], str] = {}
    for path in entries:
        if not path.startswith(prefix) or path.endswith("-meta.xml"):
            continue
        rel = path[len(prefix) :]
        found = schema.type_for_filename(rel)
        if found is None:
            continue
        base = rel.rsplit("/", 1)[-1]
        files[(found, base.rsplit(".", 1)[0])] = path
    for type_name in sorted(package):
        members = package[type_name]
        wanted = sorted(n for (t, n) in files if t == type_name) if "*" in members else members
        for name in wanted:
            found_path = files.get((type_name, name))
            if found_path is None:
                msgs.append(
                    _Message(
                        "package.xml",
                        name,
                        type_name,
                        f"An object '{name}' of type {type_name} was named in package.xml, but was "
                        "not found in zipped directory",
                    )
                )
                continue
            msgs.append(_deploy_one(batch, type_name, name, found_path, entries[found_path], prefix))
    for kind in ("destructiveChangesPre.xml", "destructiveChanges.xml", "destructiveChangesPost.xml"):
        if prefix + kind in entries:
            for type_name, names in parse_package(entries[prefix + kind]).items():
                for name in names:
                    old = batch.get(type_name, name)
                    errs = batch.delete(type_name, name, "deploy")
                    msgs.append(
                        _Message(
                            kind,
                            name,
                            type_name,
                            errs[0].message if errs else None,
                            deleted=not errs,
                            id=old.id if old else None,
                        )
                    )
    return msgs


def _deploy_one(batch: Batch, type_name: str, name: str, path: str, data: bytes, prefix: str) -> _Message:
    rel = path[len(prefix) :]
    try:
        doc = MetadataDocument.from_bytes(data, source=rel, full_name=name)
    except Exception as exc:
        return _Message(rel, name, type_name, f"Error parsing file: {exc}")
    if doc.type_name != type_name:
        return _Message(
            rel, name, type_name, f"The root element of {rel} is {doc.type_name}; allowed: {type_name}"
        )
    existed = batch.get(type_name, name) is not None
    errs, created = batch.save(doc, "upsert", "deploy")
    if errs:
        problem = "; ".join(e.message for e in errs)
        return _Message(rel, name, type_name, problem)
    comp = batch.get(type_name, name)
    return _Message(
        rel, name, type_name, None, created=created, changed=existed, id=comp.id if comp else None
    )


def deploy(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """deploy: run the deployment now, answer with a queued AsyncResult."""
    opts = _options(req)
    check_only = is_true(opts.get("checkOnly"))
    rollback = is_true(opts.get("rollbackOnError", "true"))
    name = user_name(state, user)
    with state.lock:
        job = Job(_job_id(state, "0Af"), "deploy", _now(), str(user.get("Id") or ""), name)
        _jobs(state)[job.id] = job
        batch = Batch(state, user)
        error: tuple[str, str] | None = None
        msgs: list[_Message] = []
        try:
            raw = base64.b64decode(req.text("ZipFile") or "", validate=False)
            entries = _zip_entries(raw)
            prefix = _find_root(entries)
            msgs = _deploy_components(batch, entries, prefix)
        except (binascii.Error, zipfile.BadZipFile, ValueError) as exc:
            error = ("INVALID_ZIP" if not isinstance(exc, ValueError) else "UNKNOWN_EXCEPTION", str(exc))
        failures = [m for m in msgs if m.problem is not None]
        successes = [m for m in msgs if m.problem is None]
        if error is None and not check_only and (not failures or not rollback):
            batch.commit()
        if error is not None:
            status = "Failed"
        elif failures:
            status = "SucceededPartial" if (successes and not rollback and not check_only) else "Failed"
        else:
            status = "Succeeded"
        when = sf_time(_now())
        if error is None:
            successes.insert(0, _Message("package.xml", "package.xml", "", None, changed=True))
        details = (
            "<details>"
            + "".join(m.xml("componentFailures", when) for m in failures)
            + "".join(m.xml("componentSuccesses", when) for m in successes)
            + "</details>"
        )
        n_ok = len([m for m in successes if m.component_type])
        job.result = (
            el("checkOnly", check_only)
            + el("completedDate", when)
            + el("createdBy", job.created_by)
            + el("createdByName", job.created_by_name)
            + el("createdDate", sf_time(job.created))
            + details
            + el("done", True)
            + (el("errorMessage", error[1]) + el("errorStatusCode", error[0]) if error else "")
            + el("id", job.id)
            + el("ignoreWarnings", is_true(opts.get("ignoreWarnings")))
            + el("lastModifiedDate", when)
            + el("numberComponentErrors", len(failures))
            + el("numberComponentsDeployed", n_ok if status != "Failed" else 0)
            + el("numberComponentsTotal", len(failures) + n_ok)
            + el("numberTestErrors", 0)
            + el("numberTestsCompleted", 0)
            + el("numberTestsTotal", 0)
            + el("rollbackOnError", rollback)
            + el("runTestsEnabled", False)
            + el("startDate", sf_time(job.created))
            + el("status", status)
            + el("success", status == "Succeeded")
        )
    return _queued("deploy", job.id)


def _job(state: OrgState, req: SoapRequest, kind: str) -> Job:
    job_id = req.text("asyncProcessId") or req.text("id") or ""
    job = _jobs(state).get(job_id)
    if job is None or job.kind != kind:
        raise MetadataFault(
            "INVALID_ID_FIELD", f"Invalid asyncProcessId {job_id!r}; allowed: the id returned by {kind}"
        )
    return job


def check_deploy_status(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """checkDeployStatus: the finished DeployResult (details when includeDetails is true)."""
    job = _job(state, req, "deploy")
    body = job.result
    if not is_true(req.text("includeDetails")):
        start, end = body.find("<details>"), body.find("</details>")
        body = body[:start] + "<details/>" + body[end + len("</details>") :]
    return envelope("checkDeployStatus", ["<result>" + body + "</result>"])


def cancel_deploy(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """cancelDeploy: deployments finish at once, so there is nothing left to cancel."""
    job = _job(state, req, "deploy")
    return envelope("cancelDeploy", ["<result>" + el("done", True) + el("id", job.id) + "</result>"])


# --- retrieve -------------------------------------------------------------------------------------------
def retrieve(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """retrieve: build the zip now (unpackaged members incl. ``*``), answer with a queued AsyncResult."""
    # the WSDL names it retrieveRequest; jsforce (and so the Salesforce CLI) sends <request>, which
    # Salesforce accepts too
    request = next(iter(req.children("retrieveRequest") or req.children("request")), None)
    if request is None:
        raise MetadataFault("soapenv:Client", "retrieve needs a retrieveRequest element")
    fields = {local(c): c for c in request if local(c)}
    version = (fields["apiVersion"].text or "").strip() if "apiVersion" in fields else state.api_version
    single = is_true(fields["singlePackage"].text) if "singlePackage" in fields else False
    if [c for c in request if local(c) == "packageNames"]:
        raise MetadataFault(
            "INVALID_CROSS_REFERENCE_KEY",
            "packageNames: the demo org has no retrievable packages; allowed: unpackaged",
        )
    wanted = _types_of(fields["unpackaged"]) if "unpackaged" in fields else {}
    prefix = "" if single else "unpackaged/"
    name = user_name(state, user)
    with state.lock:
        job = Job(_job_id(state, "09S"), "retrieve", _now(), str(user.get("Id") or ""), name)
        _jobs(state)[job.id] = job
        files: dict[str, bytes] = {}
        props: list[str] = []
        messages: list[str] = []
        listed: dict[str, list[str]] = {}
        for type_name, members in wanted.items():
            comps = [c for (t, _n), c in sorted(state.metadata.items()) if t == type_name]
            if "*" in members:
                # the wildcard leaves out components installed from packages (general Metadata API rule)
                chosen = [c for c in comps if not c.namespace_prefix and not is_locked(c)]
            else:
                by_name = {c.full_name: c for c in comps}
                chosen = []
                for member in members:
                    comp = by_name.get(member)
                    if comp is None or not comp.readable or comp.load_fails:
                        # a component that cannot be loaded is a message of its own, the same words as
                        # readMetadata's fault (the retrieve goes on); an installed app readMetadata shows as
                        # nil is "cannot be found" (a guess: docs/demo-org.md)
                        problem = (
                            f"Load of metadata from db failed for metadata of type:{type_name} and "
                            f"file name:{comp.file_name}"
                            if comp is not None and comp.load_fails
                            else f"Entity of type '{type_name}' named '{member}' cannot be found"
                        )
                        messages.append(
                            "<messages>"
                            + el("fileName", f"{prefix}package.xml")
                            + el("problem", problem)
                            + "</messages>"
                        )
                        continue
                    chosen.append(comp)
            for comp in chosen:
                path = prefix + _file_name(comp.type_name, comp.full_name)
                files[path] = rules.strip_secrets(comp.doc).to_bytes()
                props.append(file_properties(comp, state, "fileProperties"))
                listed.setdefault(type_name, []).append(comp.full_name)
        files[prefix + "package.xml"] = package_xml(listed, version)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(files):
                zf.writestr(path, files[path])
        job.zip_b64 = base64.b64encode(buf.getvalue()).decode()
        job.result = "".join(props)
        job.data["messages"] = "".join(messages)
    return _queued("retrieve", job.id)


def _file_name(type_name: str, full_name: str) -> str:
    from .metadata_api import file_name

    return file_name(type_name, full_name)


def check_retrieve_status(state: OrgState, req: SoapRequest, user: dict[str, Any]) -> bytes:
    """checkRetrieveStatus: the RetrieveResult (the zip only when includeZip is true or absent)."""
    job = _job(state, req, "retrieve")
    include = req.text("includeZip")
    zip_part = el("zipFile", job.zip_b64) if include is None or is_true(include) else ""
    result = (
        "<result>"
        + el("done", True)
        + job.result
        + el("id", job.id)
        + job.data.get("messages", "")
        + el("status", "Succeeded")
        + el("success", True)
        + zip_part
        + "</result>"
    )
    return envelope("checkRetrieveStatus", [result])


HANDLERS: dict[str, Callable[[OrgState, SoapRequest, dict[str, Any]], bytes]] = {
    "deploy": deploy,
    "checkDeployStatus": check_deploy_status,
    "cancelDeploy": cancel_deploy,
    "retrieve": retrieve,
    "checkRetrieveStatus": check_retrieve_status,
}
