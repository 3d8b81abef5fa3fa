"""Wire helpers of the demo org's Metadata API: read a SOAP request, write SOAP responses and faults.

Responses use the shape Salesforce sends: ``soapenv:Envelope`` with the metadata namespace as the default
namespace, so both zeep (``sf.mdapi``) and clients that parse with fixed prefixes (simple-salesforce's
``deploy``/``retrieve`` helpers, ElementTree paths such as ``mt:result``) find every element.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MD_NS = "http://soap.sforce.com/2006/04/metadata"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="'
    + SOAP_ENV
    + '" xmlns="'
    + MD_NS
    + '" xmlns:xsi="'
    + XSI_NS
    + '"><soapenv:Body>'
)
_TAIL = "</soapenv:Body></soapenv:Envelope>"


class MetadataFault(Exception):
    """A call-level SOAP fault (HTTP 500) such as ``sf:EXCEEDED_ID_LIMIT`` or ``sf:INVALID_TYPE``.

    ``code`` without prefix gets ``sf:`` (Salesforce's fault namespace); ``soapenv:Client`` is kept as given.

    >>> MetadataFault("INVALID_TYPE", "Unknown type name 'Foo'").code
    'sf:INVALID_TYPE'
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code if ":" in code else f"sf:{code}"
        self.message = message
        super().__init__(f"{self.code}: {message}")

    def response(self) -> tuple[int, bytes]:
        """(500, fault envelope), as Salesforce answers a failed call."""
        return 500, fault_body(self.code, self.message)


def fault_body(code: str, message: str) -> bytes:
    """A SOAP 1.1 fault envelope; the ``faultstring`` repeats the code as Salesforce does.

    >>> b"<faultcode>sf:INVALID_SESSION_ID</faultcode>" in fault_body("sf:INVALID_SESSION_ID", "x")
    True
    """
    short = code.split(":", 1)[-1]
    text = message if code.startswith("soapenv:") else f"{short}: {message}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="'
        + SOAP_ENV
        + '" xmlns:sf="'
        + MD_NS
        + '"><soapenv:Body><soapenv:Fault><faultcode>'
        + escape(code)
        + "</faultcode><faultstring>"
        + escape(text)
        + "</faultstring></soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode("utf-8")


def envelope(operation: str, results: Iterable[str]) -> bytes:
    """A ``<operation>Response`` envelope around already serialised ``<result>`` elements.

    >>> envelope("deleteMetadata", ["<result/>"]).split(b"<soapenv:Body>")[1]
    b'<deleteMetadataResponse><result/></deleteMetadataResponse></soapenv:Body></soapenv:Envelope>'
    """
    return (_HEAD + f"<{operation}Response>" + "".join(results) + f"</{operation}Response>" + _TAIL).encode()


def el(tag: str, value: Any) -> str:
    """One simple element (``None`` -> nothing; booleans as ``true``/``false``; text escaped).

    >>> el("fullName", "A&B"), el("success", True), el("x", None)
    ('<fullName>A&amp;B</fullName>', '<success>true</success>', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def local(node: Any) -> str:
    """Local name of an lxml node ("" for comments and processing instructions).

    >>> local(etree.fromstring(b'<a:b xmlns:a="urn:x"/>'))
    'b'
    """
    return node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else ""


@dataclass
class SoapRequest:
    """A parsed Metadata API request: the operation element and the headers that change behaviour."""

    operation: str
    body: Any  # the lxml element of the operation (first child of soap:Body)
    all_or_none: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def texts(self, name: str) -> list[str]:
        """Texts of the direct children called ``name`` (any namespace), in order."""
        return [(c.text or "").strip() for c in self.body if local(c) == name]

    def text(self, name: str, default: str | None = None) -> str | None:
        """Text of the first direct child called ``name``."""
        found = self.texts(name)
        return found[0] if found else default

    def children(self, name: str) -> list[Any]:
        """Direct child elements called ``name``."""
        return [c for c in self.body if local(c) == name]


def parse_request(body: bytes) -> SoapRequest:
    """Parse a SOAP envelope; malformed XML or a missing body is a ``soapenv:Client`` fault.

    >>> r = parse_request(b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header>'
    ...     b'<m:AllOrNoneHeader xmlns:m="http://soap.sforce.com/2006/04/metadata"><m:allOrNone>true</m:allOrNone>'
    ...     b'</m:AllOrNoneHeader></e:Header><e:Body><m:readMetadata xmlns:m="http://soap.sforce.com/2006/04/'
    ...     b'metadata"><m:type>ConnectedApp</m:type></m:readMetadata></e:Body></e:Envelope>')
    >>> r.operation, r.all_or_none, r.text("type")
    ('readMetadata', True, 'ConnectedApp')
    """
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise MetadataFault("soapenv:Client", f"The request is not well-formed XML: {exc.msg}") from None
    if local(root) != "Envelope" or root.nsmap.get(root.prefix) != SOAP_ENV:
        raise MetadataFault("soapenv:VersionMismatch", "The request is not a SOAP 1.1 envelope")
    header = next((c for c in root if local(c) == "Header"), None)
    soap_body = next((c for c in root if local(c) == "Body"), None)
    op = next((c for c in soap_body if local(c)), None) if soap_body is not None else None
    if op is None:
        raise MetadataFault("soapenv:Client", "The SOAP Body holds no operation element")
    headers: dict[str, str] = {}
    if header is not None:
        for h in header:
            for leaf in h:
                if local(leaf):
                    headers[f"{local(h)}.{local(leaf)}"] = (leaf.text or "").strip()
    all_or_none = headers.get("AllOrNoneHeader.allOrNone", "").lower() in ("true", "1")
    return SoapRequest(local(op), op, all_or_none, headers)


def is_true(text: str | None) -> bool:
    """An ``xsd:boolean`` leniently (``True`` as simple-salesforce's templates write it is true).

    >>> is_true("True"), is_true("false"), is_true(None)
    (True, False, False)
    """
    return (text or "").strip().lower() in ("true", "1")


def error_xml(status_code: str, message: str, fields: Iterable[str] = ()) -> str:
    """One ``Error`` of a SaveResult/UpsertResult/DeleteResult.

    >>> print(error_xml("REQUIRED_FIELD_MISSING", "Required field is missing: label", ["label"]))
    <errors><fields>label</fields><message>Required field is missing: label</message>\
<statusCode>REQUIRED_FIELD_MISSING</statusCode></errors>
    """
    return (
        "<errors>"
        + "".join(el("fields", f) for f in fields)
        + el("message", message)
        + el("statusCode", status_code)
        + "</errors>"
    )
