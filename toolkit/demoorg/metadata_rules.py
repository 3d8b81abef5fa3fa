"""Validation rules the demo org applies to metadata writes (create/update/upsert/deploy).

Each rule returns :class:`ItemError` values (Salesforce's ``Error``: statusCode, message, fields) instead of
raising, because a Metadata API write reports failures per item in its SaveResult. Messages name the
component, the field, the value and what is allowed; secret values are never echoed.

Rules (domain doc §1, §3.3, §4.3, §4.5):
- required elements of the WSDL v66 (``contactEmail``, ``label``; ``oauthConfig.callbackUrl`` when
  ``oauthConfig`` is present; ``oauthPolicy.ipRelaxation``/``refreshTokenPolicy``...) ->
  REQUIRED_FIELD_MISSING;
- enum values, ``xsd:boolean``/``xsd:int`` values and the ``refreshTokenPolicy`` grammar ->
  FIELD_INTEGRITY_EXCEPTION; elements the schema does not know are accepted and kept (newer API versions);
- ``consumerKey`` can only be set when an app is created -> FIELD_INTEGRITY_EXCEPTION on a change;
- creating a ConnectedApp is refused since Spring '26 -> INSUFFICIENT_ACCESS_OR_READONLY (our choice of code:
  Salesforce's exact code for the API refusal is not documented, see docs/demo-org.md (section Metadata API)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ToolkitError
from ..model import schema
from ..model.document import SECRET_LEAVES, MetadataDocument
from ..model.values import RefreshTokenPolicy, parse_bool, parse_int
from ..redact import mask_key
from .metadata_soap import XSI_NS, local

CONNECTED_APP = "ConnectedApp"
# ECA family root types that may be created through the Metadata API (MobileApplicationDetail is a CA detail)
CREATABLE = frozenset(t for t in schema.root_types() if t not in (CONNECTED_APP, "MobileApplicationDetail"))
SECRET_ELEMENTS = frozenset({"consumerSecret"}) | SECRET_LEAVES


@dataclass(frozen=True)
class ItemError:
    """One ``Error`` of a per-item result.

    >>> ItemError("REQUIRED_FIELD_MISSING", "Required field is missing: label", ("label",)).fields
    ('label',)
    """

    status_code: str
    message: str
    fields: tuple[str, ...] = field(default_factory=tuple)


def _nil(node: Any) -> bool:
    return node.get(f"{{{XSI_NS}}}nil") in ("true", "1")


def _check_leaf(app: str, type_name: str, path: str, info: schema.FieldInfo, node: Any) -> ItemError | None:
    if _nil(node):
        return None
    text = (node.text or "").strip()
    shown = "****" if info.name in SECRET_ELEMENTS else text
    try:
        if info.enum is not None and text not in info.enum:
            allowed = ", ".join(info.enum)
            return ItemError(
                "FIELD_INTEGRITY_EXCEPTION", f"{app}: {path} cannot be {shown!r}; allowed: {allowed}", (path,)
            )
        if info.grammar == "refreshTokenPolicy":
            RefreshTokenPolicy.parse(text)
        elif info.xsd_type == "xsd:boolean":
            parse_bool(text)
        elif info.xsd_type in ("xsd:int", "xsd:long"):
            parse_int(text)
    except (ValueError, ToolkitError):
        what = {"xsd:boolean": "true, false", "xsd:int": "an integer", "xsd:long": "an integer"}.get(
            info.xsd_type, "infinite, zero, specific_lifetime:N:HOURS|DAYS|MONTHS, specific_inactivity:N:UNIT"
        )
        return ItemError(
            "FIELD_INTEGRITY_EXCEPTION", f"{app}: {path} cannot be {shown!r}; allowed: {what}", (path,)
        )
    return None


def _walk(app: str, owner: str, node: Any, prefix: str, out: list[ItemError]) -> None:
    known = schema.child_order(owner)
    seen: set[str] = set()
    for child in node:
        name = local(child)
        if not name or name not in known:
            continue  # unknown elements (newer API versions) are accepted and stored as they are
        seen.add(name)
        path = prefix + name
        info = schema.field_info(owner, name)
        if info.is_complex:
            _walk(app, info.xsd_type, child, path + ".", out)
        else:
            err = _check_leaf(app, owner, path, info, child)
            if err is not None:
                out.append(err)
    for name in known:
        if not prefix and name == "fullName":
            continue
        info = schema.field_info(owner, name)
        if not info.required:
            continue
        present = [c for c in node if local(c) == name]
        if not present or all(
            _nil(c) or (not info.is_complex and not (c.text or "").strip()) for c in present
        ):
            path = prefix + name
            out.append(
                ItemError("REQUIRED_FIELD_MISSING", f"{app}: required field is missing: {path}", (path,))
            )


def validate(doc: MetadataDocument) -> list[ItemError]:
    """Schema errors of a component (required elements, enums, booleans, ints, refresh token grammar).

    >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label><oauthPolicy><ipRelaxation>LOOSE</ipRelaxation>'
    ...     b'<refreshTokenPolicy>infinite</refreshTokenPolicy></oauthPolicy></ConnectedApp>', full_name="A")
    >>> [(e.status_code, e.fields[0]) for e in validate(doc)]
    [('FIELD_INTEGRITY_EXCEPTION', 'oauthPolicy.ipRelaxation'), ('REQUIRED_FIELD_MISSING', 'contactEmail')]
    """
    out: list[ItemError] = []
    if doc.type_name not in schema.known_types():
        return out
    _walk(doc.full_name, doc.type_name, doc.tree, "", out)
    return out


def consumer_key_paths(type_name: str) -> list[str]:
    """Paths of the consumer key in a type (where it can only be set at creation).

    >>> consumer_key_paths("ConnectedApp"), consumer_key_paths("ExtlClntAppGlobalOauthSettings")
    (['oauthConfig.consumerKey'], ['consumerKey'])
    """
    if type_name == CONNECTED_APP:
        return ["oauthConfig.consumerKey"]
    if type_name == "ExtlClntAppGlobalOauthSettings":
        return ["consumerKey"]
    return []


def check_consumer_key(old: MetadataDocument, new: MetadataDocument) -> ItemError | None:
    """A changed consumer key is refused (it is settable only at creation); an omitted one is kept.

    >>> a = MetadataDocument.from_bytes(b'<ConnectedApp><oauthConfig><consumerKey>3MVG9AAAAAAAAAAA'
    ...     b'</consumerKey></oauthConfig></ConnectedApp>', full_name="A")
    >>> b = MetadataDocument.from_bytes(b'<ConnectedApp><oauthConfig><consumerKey>3MVG9BBBBBBBBBBB'
    ...     b'</consumerKey></oauthConfig></ConnectedApp>', full_name="A")
    >>> check_consumer_key(a, b).message
    "A: oauthConfig.consumerKey cannot be changed from '3MVG…AAAA' to '3MVG…BBBB'; allowed: the current key \
(a consumer key is set only when the app is created)"
    >>> check_consumer_key(a, a) is None
    True
    """
    for path in consumer_key_paths(new.type_name):
        before, after = old.get(path), new.get(path)
        if after is None or before is None or after.strip() == before.strip():
            continue
        return ItemError(
            "FIELD_INTEGRITY_EXCEPTION",
            f"{new.full_name}: {path} cannot be changed from {mask_key(before)!r} to {mask_key(after)!r}; "
            "allowed: the current key (a consumer key is set only when the app is created)",
            (path,),
        )
    return None


def create_refused(type_name: str, full_name: str) -> ItemError | None:
    """Why a create of this type is refused, if it is (Spring '26: no new connected apps).

    >>> create_refused("ConnectedApp", "X").status_code
    'INSUFFICIENT_ACCESS_OR_READONLY'
    >>> create_refused("ExternalClientApplication", "X") is None
    True
    """
    if type_name == CONNECTED_APP:
        return ItemError(
            "INSUFFICIENT_ACCESS_OR_READONLY",
            f"{full_name}: cannot create the ConnectedApp: as of Spring '26 new connected apps can't be "
            "created "
            "(UI or API, including the Metadata API); allowed: update existing connected apps, or create an "
            "ExternalClientApplication instead",
        )
    if type_name not in CREATABLE:
        allowed = ", ".join(sorted(CREATABLE))
        return ItemError(
            "INVALID_TYPE", f"{full_name}: the demo org cannot create {type_name}; allowed: {allowed}"
        )
    return None


_POLICY_FILES = ", or the policy files (...ConfigurablePolicies) of a packaged external client app"


def managed(type_name: str, full_name: str, state: str, verb: str = "modify") -> ItemError:
    """The failure for a packaged (installed/managed) component.

    >>> managed("ConnectedApp", "ns__App", "installed").status_code
    'CANNOT_MODIFY_MANAGED_OBJECT'
    """
    return ItemError(
        "CANNOT_MODIFY_MANAGED_OBJECT",
        f"Cannot {verb} managed object: entity={type_name}, component={full_name}, state={state}; "
        "allowed: components created in this org (manageableState unmanaged)"
        + (_POLICY_FILES if verb == "modify" else ""),
    )


def not_found(type_name: str, full_name: str) -> ItemError:
    """The failure for a name the org does not have (Salesforce's wording).

    >>> not_found("ConnectedApp", "Nope").message
    'In field: fullName - no ConnectedApp named Nope found'
    """
    return ItemError(
        "INVALID_CROSS_REFERENCE_KEY",
        f"In field: fullName - no {type_name} named {full_name} found",
        ("fullName",),
    )


def strip_secrets(doc: MetadataDocument) -> MetadataDocument:
    """The document without secret leaves (consumer secrets, push passwords and signing keys...).

    Salesforce never returns them on read/retrieve and stores them write-only; the demo org keeps none.

    >>> d = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label><oauthConfig><consumerSecret>s3cr3t</consumerSecret></oauthConfig>'
    ...     b'</ConnectedApp>')
    >>> b"s3cr3t" in strip_secrets(d).to_bytes()
    False
    """
    data = doc.to_bytes()
    # fast path for the common case (a full-org read sweep serialises thousands of components)
    if not any(name.encode() in data for name in SECRET_ELEMENTS):
        return doc
    for path in list(doc.leaves()):
        if path.rsplit(".", 1)[-1] in SECRET_ELEMENTS:
            doc = doc.remove(path, allow_unknown=True)
    return doc
