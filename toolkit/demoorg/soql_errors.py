"""SOQL errors with Salesforce's error codes and message texts (the demo org's SOQL engine).

Salesforce reports a query error as ``[{"errorCode": ..., "message": ...}]``; for errors tied to a place
in the query the message starts with the query line, a caret and ``ERROR at Row:r:Column:c``.
:class:`SoqlError` carries both the code and that message, so the REST layer can serialise it as it is.
"""

from __future__ import annotations

from ..errors import OrgError

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"
QUERY_TOO_COMPLICATED = "QUERY_TOO_COMPLICATED"

CUSTOM_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
CUSTOM_OBJECT_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
CUSTOM_RELATIONSHIP_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom "
    "relationship name. Please reference your WSDL or the describe call for the appropriate names."
)


class SoqlError(OrgError):
    """A query Salesforce would refuse: ``error_code`` is Salesforce's ``errorCode``, ``message`` its text.

    >>> err = SoqlError("INVALID_TYPE", "sObject type 'Foo' is not supported.")
    >>> err.error_code, str(err)
    ('INVALID_TYPE', "INVALID_TYPE: sObject type 'Foo' is not supported.")
    >>> err.as_rest()
    [{'message': "sObject type 'Foo' is not supported.", 'errorCode': 'INVALID_TYPE'}]
    """

    def __init__(self, error_code: str, message: str, detail: str | None = None) -> None:
        self.error_code = error_code
        self.message = message
        # the last line of the message (without the located query echo): handy for tests and logs
        self.detail = detail if detail is not None else message.rsplit("\n", 1)[-1]
        super().__init__(error_code, message)

    def as_rest(self) -> list[dict[str, str]]:
        """The REST error body Salesforce sends for this error (HTTP 400)."""
        return [{"message": self.message, "errorCode": self.error_code}]


def located(query: str, pos: int | None, detail: str) -> str:
    """Salesforce's located message: the query line, a caret under ``pos`` and ``ERROR at Row:r:Column:c``.

    >>> print(located("SELECT Id FRM Account", 10, "unexpected token: FRM"))
    <BLANKLINE>
    SELECT Id FRM Account
              ^
    ERROR at Row:1:Column:11
    unexpected token: FRM
    """
    if pos is None:
        return detail
    pos = max(0, min(pos, len(query)))
    row = query.count("\n", 0, pos) + 1
    start = query.rfind("\n", 0, pos) + 1
    end = query.find("\n", pos)
    line = query[start : end if end >= 0 else len(query)]
    col = pos - start + 1
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}"


def error_at(code: str, query: str, pos: int | None, detail: str) -> SoqlError:
    """Build a :class:`SoqlError` located at ``pos`` in ``query``.

    >>> error_at("MALFORMED_QUERY", "SELECT", 6, "unexpected token: <EOF>").detail
    'unexpected token: <EOF>'
    """
    return SoqlError(code, located(query, pos, detail), detail)
