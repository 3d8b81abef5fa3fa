"""Metadata API SOAP, sent by hand: ``listMetadata`` and ``readMetadata`` envelopes and their answers.

We do not go through zeep and simple-salesforce's bundled WSDL: zeep builds objects from that (old) WSDL
and silently drops every element it does not know, so a read-modify-write could erase settings. Here the
``<records>`` elements stay raw XML and become lossless :class:`~toolkit.model.document.MetadataDocument`.
"""

from __future__ import annotations

import base64
from typing import Any

from lxml import etree

from ..model.document import MD_NS, XSI_NS, MetadataDocument, local_name
from .resilience import CallFailed

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
LIST_QUERIES_PER_CALL = 3  # listMetadata: at most 3 ListMetadataQuery per call
READ_NAMES_PER_CALL = 10  # readMetadata: at most 10 names per call (ConnectedApp and ECA types)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def envelope(session_id: str, operation: str, parts: list[tuple[str, Any]]) -> bytes:
    """A Metadata API request: ``SessionHeader`` plus one operation whose children are ``parts``.

    A part value may be a string (a leaf) or a list of (name, string) pairs (a complex element).

    >>> envelope("SID", "readMetadata", [("type", "ConnectedApp"), ("fullNames", "A&B")])[-120:]
    b'y><m:readMetadata><m:type>ConnectedApp</m:type><m:fullNames>A&amp;B</m:fullNames></m:readMetadata></s:Body></s:Envelope>'
    """
    nsmap = {"s": SOAP_NS, "m": MD_NS}
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap=nsmap)
    header = etree.SubElement(env, f"{{{SOAP_NS}}}Header")
    sh = etree.SubElement(header, f"{{{MD_NS}}}SessionHeader")
    etree.SubElement(sh, f"{{{MD_NS}}}sessionId").text = session_id
    body = etree.SubElement(env, f"{{{SOAP_NS}}}Body")
    op = etree.SubElement(body, f"{{{MD_NS}}}{operation}")
    for name, value in parts:
        el = etree.SubElement(op, f"{{{MD_NS}}}{name}")
        if isinstance(value, str):
            el.text = value
        else:
            for child, text in value:
                etree.SubElement(el, f"{{{MD_NS}}}{child}").text = text
    data: bytes = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    return data


def list_metadata_request(session_id: str, types: list[str], api_version: str) -> bytes:
    """``listMetadata`` for up to three types.

    >>> b"<m:type>ConnectedApp</m:type>" in list_metadata_request("SID", ["ConnectedApp"], "66.0")
    True
    """
    if not 0 < len(types) <= LIST_QUERIES_PER_CALL:
        raise ValueError(f"listMetadata takes 1 to {LIST_QUERIES_PER_CALL} queries, not {len(types)}")
    parts: list[tuple[str, Any]] = [("queries", [("type", t)]) for t in types]
    parts.append(("asOfVersion", api_version))
    return envelope(session_id, "listMetadata", parts)


def read_metadata_request(session_id: str, type_name: str, full_names: list[str]) -> bytes:
    """``readMetadata`` for up to ten components of one type.

    >>> read_metadata_request("SID", "ConnectedApp", ["A", "B"]).count(b"<m:fullNames>")
    2
    """
    if not 0 < len(full_names) <= READ_NAMES_PER_CALL:
        raise ValueError(f"readMetadata takes 1 to {READ_NAMES_PER_CALL} names, not {len(full_names)}")
    return envelope(
        session_id, "readMetadata", [("type", type_name)] + [("fullNames", n) for n in full_names]
    )


def retrieve_request(session_id: str, api_version: str, type_name: str, members: list[str]) -> bytes:
    """``retrieve`` of named components of one type, files at the zip root (``singlePackage``).

    >>> data = retrieve_request("SID", "66.0", "ConnectedApp", ["A", "B"])
    >>> data.count(b"<m:members>"), b"<m:name>ConnectedApp</m:name>" in data
    (2, True)
    """
    env = etree.fromstring(envelope(session_id, "retrieve", []))
    op = next(env.iter(f"{{{MD_NS}}}retrieve"))
    request = etree.SubElement(op, f"{{{MD_NS}}}retrieveRequest")
    etree.SubElement(request, f"{{{MD_NS}}}apiVersion").text = api_version
    etree.SubElement(request, f"{{{MD_NS}}}singlePackage").text = "true"
    unpackaged = etree.SubElement(request, f"{{{MD_NS}}}unpackaged")
    types = etree.SubElement(unpackaged, f"{{{MD_NS}}}types")
    for m in members:
        etree.SubElement(types, f"{{{MD_NS}}}members").text = m
    etree.SubElement(types, f"{{{MD_NS}}}name").text = type_name
    etree.SubElement(unpackaged, f"{{{MD_NS}}}version").text = api_version
    data: bytes = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    return data


def check_retrieve_status_request(session_id: str, job_id: str) -> bytes:
    """``checkRetrieveStatus`` of one job, the zip included.

    >>> b"<m:asyncProcessId>09S1</m:asyncProcessId>" in check_retrieve_status_request("SID", "09S1")
    True
    """
    return envelope(
        session_id, "checkRetrieveStatus", [("asyncProcessId", job_id), ("includeZip", "true")]
    )


def parse_async_id(response: Any) -> str:
    """The job Id of an ``AsyncResult`` (``retrieveResponse``)."""
    result = next((c for c in response if local_name(c) == "result"), None)
    job_id = _child_text(result, "id") if result is not None else None
    if not job_id:
        raise CallFailed("UNEXPECTED_RESPONSE", "the retrieve answer holds no job id")
    return job_id


def parse_retrieve_result(response: Any) -> dict[str, Any]:
    """A ``RetrieveResult``: ``done``, ``status``, ``errorMessage``, ``messages`` as (fileName, problem)
    pairs and the decoded ``zipFile`` bytes (None until done)."""
    result = next((c for c in response if local_name(c) == "result"), None)
    if result is None:
        raise CallFailed("UNEXPECTED_RESPONSE", "the checkRetrieveStatus answer holds no result")
    messages = [
        (_child_text(m, "fileName") or "", _child_text(m, "problem") or "")
        for m in result
        if local_name(m) == "messages"
    ]
    zipped = _child_text(result, "zipFile")
    return {
        "done": (_child_text(result, "done") or "").strip().lower() == "true",
        "status": _child_text(result, "status") or "",
        "errorMessage": _child_text(result, "errorMessage") or "",
        "messages": messages,
        "zip": base64.b64decode(zipped) if zipped else None,
    }


def parse_body(data: bytes, status: int) -> Any:
    """The first element inside ``soap:Body``; raises :class:`CallFailed` on a fault or garbage.

    >>> parse_body(b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    ...     b'<s:Fault><faultcode>sf:INVALID_SESSION_ID</faultcode><faultstring>expired</faultstring>'
    ...     b'</s:Fault></s:Body></s:Envelope>', 500)
    Traceback (most recent call last):
    ...
    toolkit.sources.resilience.CallFailed: INVALID_SESSION_ID: expired
    """
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        raise CallFailed(
            f"HTTP_{status}",
            f"the Metadata API answered HTTP {status} without a SOAP envelope",
            status=status,
        ) from None
    body = next((c for c in root if local_name(c) == "Body"), None)
    first = next((c for c in body if local_name(c)), None) if body is not None else None
    if first is None:
        raise CallFailed(f"HTTP_{status}", "empty SOAP body", status=status)
    if local_name(first) == "Fault":
        code = (_child_text(first, "faultcode") or f"HTTP_{status}").split(":")[-1]
        message = _child_text(first, "faultstring") or ""
        if message.startswith(code + ":"):
            message = message[len(code) + 1 :].strip()
        # a fault is classified by its code; the HTTP status (always 500) says nothing more
        raise CallFailed(code, message, status=None if code != f"HTTP_{status}" else status)
    if status >= 300:
        raise CallFailed(f"HTTP_{status}", "unexpected SOAP answer", status=status)
    return first


def parse_list_result(response: Any) -> list[dict[str, str]]:
    """``FileProperties`` of a ``listMetadataResponse`` as plain dicts (leaf name -> text)."""
    rows = []
    for result in response:
        if local_name(result) != "result":
            continue
        rows.append({local_name(c): (c.text or "") for c in result if local_name(c)})
    return rows


def parse_read_records(response: Any) -> list[Any]:
    """The ``<records>`` elements of a ``readMetadataResponse`` (nil records included)."""
    return [r for res in response if local_name(res) == "result" for r in res if local_name(r) == "records"]


def record_full_name(record: Any) -> str | None:
    """The ``fullName`` of a record; None for the nil/empty records returned for unreadable names."""
    if record.get(f"{{{XSI_NS}}}nil") in ("true", "1"):
        return None
    name = next((c.text for c in record if local_name(c) == "fullName"), None)
    return name or None


# secret leaves an org may return (ECA global OAuth settings, push settings): never kept in memory or output
SECRET_ELEMENTS = frozenset({"consumerSecret", "password", "signingKey", "serviceAccount"})


def without_secrets(data: bytes) -> bytes:
    """A retrieved metadata file without its secret leaves (bytes unchanged when it has none).

    >>> without_secrets(b'<A xmlns="x"><consumerSecret>s</consumerSecret><b>1</b></A>').endswith(
    ...     b'<A xmlns="x"><b>1</b></A>')
    True
    """
    root = etree.fromstring(data, _PARSER)
    found = 0
    for el in [e for e in root.iter() if local_name(e) in SECRET_ELEMENTS]:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
            found += 1
    if not found:
        return data
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def record_to_document(record: Any, type_name: str, origin: str) -> MetadataDocument:
    """A lossless document from a ``<records xsi:type="...">`` element (every child element kept).

    Secret leaves (``consumerSecret``...) are dropped first: an edit must never send them back anyway.

    >>> rec = etree.fromstring(b'<records xmlns="http://soap.sforce.com/2006/04/metadata" '
    ...     b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ConnectedApp">'
    ...     b'<fullName>A</fullName><label>A</label><futureThing>1</futureThing></records>')
    >>> doc = record_to_document(rec, "ConnectedApp", "https://x")
    >>> doc.type_name, doc.full_name, doc.get("futureThing")
    ('ConnectedApp', 'A', '1')
    """
    full_name = record_full_name(record)
    for el in list(record.iter()):
        if local_name(el) in SECRET_ELEMENTS and el.getparent() is not None:
            el.getparent().remove(el)
    source = f"{origin}#{type_name}/{full_name}"
    builder = getattr(MetadataDocument, "from_soap_record", None)
    if builder is not None:
        doc: MetadataDocument = builder(record, source=source)
        return doc
    # until the model's from_soap_record lands: re-root the children under <TypeName xmlns=MD_NS>
    nsmap: Any = {None: MD_NS}
    root = etree.Element(f"{{{MD_NS}}}{type_name}", nsmap=nsmap)
    for child in record:
        if local_name(child) != "fullName":
            root.append(_copy(child))
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return MetadataDocument.from_bytes(data, source=source, full_name=full_name)


def _copy(el: Any) -> Any:
    return etree.fromstring(etree.tostring(el), _PARSER)


def _child_text(el: Any, name: str) -> str | None:
    for c in el:
        if local_name(c) == name:
            return str(c.text or "")
    return None
