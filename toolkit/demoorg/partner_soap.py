"""A minimal partner SOAP API (``/services/Soap/u/<ver>``): ``query``, ``queryAll``, ``queryMore``,
``getUserInfo`` and ``getServerTimestamp``.

Salesforce's own clients (Data Loader, the WSC-based Java tools) and generic SOAP clients (zeep with the
official partner WSDL) read data this way rather than through REST. The SOQL engine and the query cursors
are the REST layer's (:class:`~toolkit.demoorg.rest.RestApi`): the same query gives the same rows and the
same page sizes on both APIs. Records are partner ``sObject``s: ``type``, ``Id`` (nil when not selected),
then the selected fields in the ``urn:sobject.partner.soap.sforce.com`` namespace (``Id`` again when it
was selected, as Salesforce sends it), parents as nested ``sObject``s, nulls as ``xsi:nil``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from .auth import user_info_xml
from .exceptions import RestError, SoapFault
from .models import OrgState
from .rest import RestApi

PARTNER_NS = "urn:partner.soap.sforce.com"
SOBJECT_NS = "urn:sobject.partner.soap.sforce.com"
OPERATIONS = frozenset({"query", "queryAll", "queryMore", "getUserInfo", "getServerTimestamp"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
_REST_DATETIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\+0000$")
_ROW_COL = re.compile(r"ERROR at Row:(\d+):Column:(\d+)")
# REST errorCode -> the partner fault detail element Salesforce uses for it
_FAULT_DETAIL = {
    "MALFORMED_QUERY": "MalformedQueryFault",
    "INVALID_FIELD": "InvalidFieldFault",
    "INVALID_TYPE": "InvalidSObjectFault",
    "INVALID_QUERY_LOCATOR": "InvalidQueryLocatorFault",
    # the partner WSDL has no fault type of its own for this code: MalformedQueryFault carries it
    "INVALID_QUERY_FILTER_OPERATOR": "MalformedQueryFault",
}
# the detail types that extend ApiQueryFault (required row and column)
_QUERY_FAULTS = frozenset({"MalformedQueryFault", "InvalidFieldFault", "InvalidSObjectFault"})


def handle_partner_soap(
    state: OrgState, rest: RestApi, body: bytes, version: str, user: dict[str, Any]
) -> bytes:
    """Answer one partner call (the session was checked by the caller); errors raise :class:`SoapFault`.

    >>> from toolkit.demoorg.seed import build
    >>> st = build(apps=3, ecas=0, seed=1).state
    >>> req = (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
    ...        b'<p:query xmlns:p="urn:partner.soap.sforce.com"><p:queryString>SELECT COUNT() FROM '
    ...        b'ConnectedApplication</p:queryString></p:query></e:Body></e:Envelope>')
    >>> b"<size>3</size>" in handle_partner_soap(st, RestApi(st), req, "66.0", st.objects["User"][0])
    True
    """
    root = etree.fromstring(body, _PARSER)
    op, args = _operation(root)
    if op == "getUserInfo":
        return _envelope(op, "<result>" + user_info_xml(state, user) + "</result>")
    if op == "getServerTimestamp":
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return _envelope(op, f"<result><timestamp>{now}</timestamp></result>")
    try:
        if op == "queryMore":
            page = rest.query_more(version, args.get("queryLocator", ""))
        else:
            batch = args.get("batchSize")
            header = f"batchSize={batch}" if batch and batch.isdigit() else None
            page = rest.query(
                version, args.get("queryString", ""), header, False, op == "queryAll", user.get("Id")
            )
    except RestError as exc:
        raise query_fault(exc) from None
    return _envelope(op, "<result>" + query_result_xml(page) + "</result>")


def query_fault(exc: RestError) -> SoapFault:
    """A REST query error as the partner fault Salesforce sends (``sf:MALFORMED_QUERY``...).

    >>> f = query_fault(RestError(400, "INVALID_FIELD", "\\nx\\n^\\nERROR at Row:1:Column:8\\nNo col"))
    >>> f.code, f.detail, "<sf:row>1</sf:row><sf:column>8</sf:column>" in f.body().decode()
    ('INVALID_FIELD', 'InvalidFieldFault', True)
    """
    detail = _FAULT_DETAIL.get(exc.error_code, "UnexpectedErrorFault")
    extra = ""
    if detail in _QUERY_FAULTS:
        m = _ROW_COL.search(exc.message)
        row, col = (m.group(1), m.group(2)) if m else ("-1", "-1")
        extra = f"<sf:row>{row}</sf:row><sf:column>{col}</sf:column>"
    return SoapFault(exc.error_code, exc.message, detail=detail, detail_extra=extra)


def query_result_xml(page: dict[str, Any]) -> str:
    """A REST query page -> the children of a partner ``QueryResult`` (done, queryLocator, records, size).

    >>> page = {"totalSize": 3, "done": False, "nextRecordsUrl": "/services/data/v66.0/query/01gA-2",
    ...         "records": [{"attributes": {"type": "User"}, "Id": "005A", "IsActive": True}]}
    >>> query_result_xml(page)[:70]
    '<done>false</done><queryLocator>01gA-2</queryLocator><records xsi:type'
    """
    locator = page.get("nextRecordsUrl")
    out = [f"<done>{_bool(page['done'])}</done>"]
    if locator:
        out.append(f"<queryLocator>{escape(locator.rsplit('/', 1)[-1])}</queryLocator>")
    else:
        out.append('<queryLocator xsi:nil="true"/>')
    out.extend(_sobject("records", r) for r in page["records"])
    out.append(f"<size>{int(page['totalSize'])}</size>")
    return "".join(out)


def _sobject(tag: str, record: dict[str, Any]) -> str:
    sobject = str(record.get("attributes", {}).get("type", ""))
    # the partner WSDL knows only sObject: aggregate rows are sObjects of type AggregateResult whose
    # values carry their xsi:type (the enterprise API's sf:AggregateResult type does not exist here)
    aggregate = sobject == "AggregateResult"
    parts = [f'<{tag} xsi:type="sf:sObject"><sf:type>{escape(sobject)}</sf:type>']
    rid = record.get("Id")
    parts.append(f"<sf:Id>{escape(str(rid))}</sf:Id>" if rid else '<sf:Id xsi:nil="true"/>')
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            parts.append(_sobject(f"sf:{key}", value))
        elif value is None:
            parts.append(f'<sf:{key} xsi:nil="true"/>')
        else:
            typed = f' xsi:type="{_xsd_type(value)}"' if aggregate else ""
            parts.append(f"<sf:{key}{typed}>{escape(_text(value))}</sf:{key}>")
    parts.append(f"</{tag}>")
    return "".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return _bool(value)
    text = str(value)
    # REST dateTimes end in +0000; the SOAP APIs send xsd:dateTime in UTC with a Z
    m = _REST_DATETIME.match(text)
    return m.group(1) + "Z" if m else text


def _xsd_type(value: Any) -> str:
    if isinstance(value, bool):
        return "xsd:boolean"
    if isinstance(value, int):
        return "xsd:int"
    if isinstance(value, float):
        return "xsd:double"
    if isinstance(value, str) and _REST_DATETIME.match(value):
        return "xsd:dateTime"
    return "xsd:string"


def _bool(value: Any) -> str:
    return "true" if value else "false"


def _operation(root: Any) -> tuple[str, dict[str, str]]:
    """The body's first element and its direct children's texts, plus ``QueryOptions.batchSize``."""
    op, args = "", {}
    for part in root:
        local = part.tag.rsplit("}", 1)[-1] if isinstance(part.tag, str) else ""
        if local == "Header":
            for el in part.iter():
                if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "batchSize":
                    args["batchSize"] = (el.text or "").strip()
        elif local == "Body":
            for el in part:
                if isinstance(el.tag, str):
                    op = el.tag.rsplit("}", 1)[-1]
                    for arg in el:
                        if isinstance(arg.tag, str):
                            args[arg.tag.rsplit("}", 1)[-1]] = arg.text or ""
                    break
    return op, args


def _envelope(op: str, inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns="{PARTNER_NS}" xmlns:sf="{SOBJECT_NS}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        f"<{op}Response>{inner}</{op}Response></soapenv:Body></soapenv:Envelope>"
    ).encode()


__all__ = ["OPERATIONS", "handle_partner_soap", "query_fault", "query_result_xml"]
