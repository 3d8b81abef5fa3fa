"""Salesforce's own error shapes (moto's ``exceptions.py``): REST JSON errors, SOAP faults, OAuth errors.

Handlers raise :class:`RestError` / :class:`SoapFault` / :class:`OAuthError`; the server turns them into the
exact wire shape Salesforce uses, so any client's error handling works unchanged.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from ..errors import ToolkitError

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER_FAULT_NS = "urn:fault.partner.soap.sforce.com"
METADATA_NS = "http://soap.sforce.com/2006/04/metadata"


class DemoOrgError(ToolkitError):
    """The demo org could not start or was used wrongly (not a wire error)."""


class RestError(Exception):
    """A REST error: HTTP ``status`` and a JSON list ``[{"message", "errorCode"}]``.

    >>> RestError(404, "NOT_FOUND", "The requested resource does not exist").body()
    b'[{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]'
    """

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status, self.error_code, self.message, self.fields = status, error_code, message, fields

    def body(self) -> bytes:
        item: dict[str, object] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            item["fields"] = self.fields
        return json.dumps([item]).encode()


def invalid_session() -> RestError:
    """The 401 every REST endpoint answers to a missing, unknown or expired session.

    >>> invalid_session().status
    401
    """
    return RestError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def not_found() -> RestError:
    """404 NOT_FOUND for an unknown REST resource.

    >>> not_found().error_code
    'NOT_FOUND'
    """
    return RestError(404, "NOT_FOUND", "The requested resource does not exist")


class SoapFault(Exception):
    """A SOAP fault (HTTP 500) with ``sf:<code>``; ``fault_ns`` is the partner or metadata fault namespace.

    >>> b"sf:INVALID_LOGIN" in SoapFault("INVALID_LOGIN", "Invalid username").body()
    True
    """

    def __init__(
        self,
        code: str,
        message: str,
        fault_ns: str = PARTNER_FAULT_NS,
        detail: str = "",
        detail_extra: str = "",
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.fault_ns, self.detail = code, message, fault_ns, detail
        # more detail elements after exceptionMessage (ApiQueryFault's required row and column)
        self.detail_extra = detail_extra

    def body(self) -> bytes:
        detail = ""
        if self.detail:
            detail = (
                f'<detail><sf:{self.detail} xsi:type="sf:{self.detail}">'
                f"<sf:exceptionCode>{self.code}</sf:exceptionCode>"
                f"<sf:exceptionMessage>{escape(self.message)}</sf:exceptionMessage>{self.detail_extra}"
                f"</sf:{self.detail}></detail>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:sf="{self.fault_ns}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
            f"<faultcode>sf:{self.code}</faultcode><faultstring>{escape(self.code)}: {escape(self.message)}"
            f"</faultstring>{detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        ).encode()


class OAuthError(Exception):
    """An OAuth token endpoint error: ``{"error": ..., "error_description": ...}`` (HTTP 400 by default).

    >>> OAuthError("invalid_grant", "authentication failure").body()
    b'{"error": "invalid_grant", "error_description": "authentication failure"}'
    """

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status

    def body(self) -> bytes:
        return json.dumps({"error": self.error, "error_description": self.description}).encode()
