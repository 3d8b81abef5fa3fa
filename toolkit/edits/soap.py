"""Metadata API write envelopes (``updateMetadata``, ``deploy checkOnly``) and their results, by hand.

Same reason as :mod:`toolkit.sources.mdapi_client`: the components are raw XML from lossless documents, so
elements a WSDL does not know are sent back as they were read.
"""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from ..model import schema
from ..model.document import MD_NS, MetadataDocument, local_name
from ..sources.mdapi_client import SOAP_NS

UPDATE_ITEMS_PER_CALL = 10  # updateMetadata: at most 10 components, all of one type (domain doc §4.3)


@dataclass(frozen=True)
class SaveResult:
    """One item of an ``updateMetadata`` answer.

    >>> SaveResult("A", False, "FIELD_INTEGRITY_EXCEPTION: bad").ok
    False
    """

    full_name: str
    success: bool
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.success


def _envelope(session_id: str, headers: str, body: bytes) -> bytes:
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP_NS}" xmlns:m="{MD_NS}"><s:Header>'
        f"<m:SessionHeader><m:sessionId>{_esc(session_id)}</m:sessionId></m:SessionHeader>{headers}"
        "</s:Header><s:Body>"
    ).encode()
    return head + body + b"</s:Body></s:Envelope>"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def update_request(session_id: str, docs: list[MetadataDocument], *, all_or_none: bool = False) -> bytes:
    """``updateMetadata`` of up to ten documents of one type (partial save unless ``all_or_none``).

    >>> d = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label></ConnectedApp>', full_name="A")
    >>> b"<fullName>A</fullName><label>A</label></metadata></m:updateMetadata>" in update_request("S", [d])
    True
    """
    if not 0 < len(docs) <= UPDATE_ITEMS_PER_CALL or len({d.type_name for d in docs}) != 1:
        raise ValueError(f"updateMetadata takes 1 to {UPDATE_ITEMS_PER_CALL} components of one type")
    header = f"<m:AllOrNoneHeader><m:allOrNone>{str(all_or_none).lower()}</m:allOrNone></m:AllOrNoneHeader>"
    body = (
        b"<m:updateMetadata>"
        + b"".join(d.to_soap_metadata("metadata") for d in docs)
        + b"</m:updateMetadata>"
    )
    return _envelope(session_id, header, body)


def parse_save_results(response: Any) -> list[SaveResult]:
    """SaveResults of an ``updateMetadataResponse``: Salesforce's statusCode and message per failed item."""
    out = []
    for result in response:
        if local_name(result) != "result":
            continue
        name, success, messages = "", False, []
        for child in result:
            tag = local_name(child)
            if tag == "fullName":
                name = child.text or ""
            elif tag == "success":
                success = (child.text or "").strip() == "true"
            elif tag == "errors":
                parts = {local_name(c): (c.text or "") for c in child if local_name(c)}
                messages.append(f"{parts.get('statusCode', 'ERROR')}: {parts.get('message', '')}".strip())
        out.append(SaveResult(name, success, "; ".join(messages)))
    return out


def deploy_zip(docs: list[MetadataDocument], api_version: str) -> bytes:
    """An mdapi zip (``package.xml`` + one file per component) for a ``deploy``.

    >>> d = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label></ConnectedApp>', full_name="A")
    >>> sorted(zipfile.ZipFile(io.BytesIO(deploy_zip([d], "66.0"))).namelist())
    ['connectedApps/A.connectedApp', 'package.xml']
    """
    types: dict[str, list[str]] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for d in docs:
            types.setdefault(d.type_name, []).append(d.full_name)
            zf.writestr(schema.filename_for(d.type_name, d.full_name, "mdapi"), d.to_bytes())
        members = "".join(
            "<types>"
            + "".join(f"<members>{_esc(n)}</members>" for n in sorted(ns))
            + f"<name>{t}</name></types>"
            for t, ns in sorted(types.items())
        )
        zf.writestr(
            "package.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{MD_NS}">{members}'
            f"<version>{api_version}</version></Package>",
        )
    return buf.getvalue()


def deploy_request(session_id: str, zip_bytes: bytes, *, check_only: bool = True) -> bytes:
    """``deploy`` of a zip with ``checkOnly`` (a server-side validation that changes nothing)."""
    options = (
        f"<m:DeployOptions><m:checkOnly>{str(check_only).lower()}</m:checkOnly>"
        "<m:rollbackOnError>true</m:rollbackOnError><m:singlePackage>true</m:singlePackage></m:DeployOptions>"
    )
    body = (
        b"<m:deploy><m:ZipFile>"
        + base64.b64encode(zip_bytes)
        + b"</m:ZipFile>"
        + options.encode()
        + b"</m:deploy>"
    )
    return _envelope(session_id, "", body)


def check_deploy_request(session_id: str, job_id: str) -> bytes:
    """``checkDeployStatus`` with details."""
    body = (
        f"<m:checkDeployStatus><m:asyncProcessId>{_esc(job_id)}</m:asyncProcessId>"
        "<m:includeDetails>true</m:includeDetails></m:checkDeployStatus>"
    ).encode()
    return _envelope(session_id, "", body)


def leaf(el: Any, name: str) -> str:
    """Text of the first descendant named ``name`` ("" when absent)."""
    for d in el.iter():
        if local_name(d) == name:
            return str(d.text or "")
    return ""


def component_failures(response: Any) -> list[dict[str, str]]:
    """``details.componentFailures`` of a DeployResult as dicts (fullName, componentType, problem)."""
    out = []
    for d in response.iter():
        if local_name(d) == "componentFailures":
            out.append({local_name(c): (c.text or "") for c in d if local_name(c)})
    return out
