"""Change specs (``ip_relaxation=ENFORCE``, ``callback_urls+=https://x``, ``ConnectedApp:path=v``), values.

A spec names a catalog field (or a raw metadata path of a component), an operator (``=``, ``+=``/``-=`` for
lists) and a value as text. Values are parsed by the catalog type of the field: booleans, whole numbers,
enums (the allowed values are listed), URLs, e-mail addresses, lists.

>>> parse_spec("callback_urls += https://app.example.com/cb")
ChangeSpec(field='callback_urls', op='+=', value='https://app.example.com/cb', app=None)
>>> canonical_value(field("pkce"), "Yes")
'true'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from ..errors import InvalidValueError, ToolkitError
from ..model.catalog import SCOPE_WIRE_NAMES, Field, field, refused_value  # noqa: F401 - field: doctests

OPS = ("=", "+=", "-=")
_SPEC = re.compile(r"^\s*(?P<field>[A-Za-z_][\w.:]*)\s*(?P<op>\+=|-=|=)(?P<value>.*)$", re.S)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
MAX_TEXT = 4000  # longer values are refused rather than sent (no Metadata API text field is that long)
XSD_INT_MAX = 2_147_483_647  # xsd:int, what the WSDL types every number of these components as
WHOLE = f"a whole number from 1 to {XSD_INT_MAX} (xsd:int)"
_NAME_CHARS = "letters, digits, '.', '-', '_'"
# fields whose Salesforce value is an identifier, not prose: markup (<img onerror=...>) is refused here
IDENTIFIERS: dict[str, tuple[str, str]] = {
    "bundle_id": (r"[A-Za-z0-9][A-Za-z0-9._-]*", f"a bundle id or package name: {_NAME_CHARS} (com.app)"),
    "push_bundle": (r"[A-Za-z0-9][A-Za-z0-9._-]*", f"a bundle id: {_NAME_CHARS} (com.example.app)"),
    "app_version": (r"[0-9A-Za-z][0-9A-Za-z._+-]*", f"a version: {_NAME_CHARS}, '+' (1.2.3)"),
    "min_os": (r"[0-9A-Za-z][0-9A-Za-z._+-]*", f"a version: {_NAME_CHARS}, '+' (17.0)"),
    "push_key_id": (r"[A-Za-z0-9]+", "letters and digits (Apple's key id, e.g. ABC123DEFG)"),
    "push_team_id": (r"[A-Za-z0-9]+", "letters and digits (Apple's team id, e.g. ABC123DEFG)"),
    "push_fcm_project": (r"[a-z0-9][a-z0-9-]*", "a Firebase project id: lowercase letters, digits, '-'"),
    "plugin": (
        r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?",
        "an Apex class API name: letters, digits, '_' (Namespace.ClassName)",
    ),
    "binary_file_name": (r"[A-Za-z0-9_][A-Za-z0-9 ._()-]*", f"a file name: {_NAME_CHARS}, spaces, '(', ')'"),
    "icon_file_name": (r"[A-Za-z0-9_][A-Za-z0-9 ._()-]*", f"a file name: {_NAME_CHARS}, spaces, '(', ')'"),
    "run_as": (r"[^@\s<>\"'&]+@[^@\s<>\"'&]+", "a username such as integration@example.com"),
    "plugin_run_as": (r"[^@\s<>\"'&]+@[^@\s<>\"'&]+", "a username such as integration@example.com"),
}


@dataclass(frozen=True)
class ChangeSpec:
    """One change: ``field op value``, for every selected app (``app=None``) or one app.

    >>> ChangeSpec("ip_relaxation", "=", "ENFORCE").text
    'ip_relaxation=ENFORCE'
    """

    field: str
    op: str
    value: str
    app: str | None = None

    @property
    def text(self) -> str:
        return f"{self.field}{self.op}{self.value}"

    @property
    def is_raw_path(self) -> bool:
        """``ConnectedApp:mobileAppConfig.minimumOsVersion`` style: a metadata path of one component type."""
        return ":" in self.field


class SpecError(ToolkitError):
    """A change that cannot even be parsed (no ``=``, empty field)."""


def parse_spec(text: str, app: str | None = None) -> ChangeSpec:
    """``"field=value"``, ``"field+=item"``, ``"field-=item"`` -> :class:`ChangeSpec`.

    >>> parse_spec("ConnectedApp:mobileAppConfig.minimumOsVersion=17.0").field
    'ConnectedApp:mobileAppConfig.minimumOsVersion'
    >>> parse_spec("ip_relaxation ENFORCE")
    Traceback (most recent call last):
    toolkit.edits.changes.SpecError: change 'ip_relaxation ENFORCE' is not FIELD=VALUE; allowed: \
FIELD=VALUE, FIELD+=ITEM, FIELD-=ITEM (e.g. ip_relaxation=ENFORCE)
    """
    m = _SPEC.match(text if isinstance(text, str) else "")
    if m is None:
        raise SpecError(
            f"change {text!r} is not FIELD=VALUE; allowed: FIELD=VALUE, FIELD+=ITEM, FIELD-=ITEM "
            "(e.g. ip_relaxation=ENFORCE)"
        )
    return ChangeSpec(m.group("field"), m.group("op"), m.group("value").strip(), app)


def check_text(app: str, name: str, value: str) -> str:
    """Plain text: no control characters, not absurdly long."""
    if _CONTROL.search(value):
        raise InvalidValueError(app, name, value, "text without control characters")
    if len(value) > MAX_TEXT:
        raise InvalidValueError(app, name, value[:40] + "...", f"at most {MAX_TEXT} characters")
    return value


def check_identifier(app: str, name: str, value: str, field_id: str = "") -> str:
    """The value of an identifier field (``IDENTIFIERS``: bundle ids, versions, API names), or an error naming
    the allowed pattern; other fields pass unchanged. ``field_id``: the catalog id when ``name`` is a path.

    >>> check_identifier("A", "bundle_id", "com.example.app")
    'com.example.app'
    >>> check_identifier("A", "bundle_id", "<img src=x onerror=alert(1)>")
    Traceback (most recent call last):
    toolkit.errors.InvalidValueError: A: bundle_id cannot be '<img src=x onerror=alert(1)>'; allowed: a \
bundle id or package name: letters, digits, '.', '-', '_' (com.app)
    """
    rule = IDENTIFIERS.get(field_id or name)
    if rule is not None and value and not re.fullmatch(rule[0], value, re.ASCII):
        raise InvalidValueError(app, name, value if len(value) <= 200 else value[:60] + "...", rule[1])
    return value


def check_int(app: str, name: str, value: str, minimum: int | None = 1) -> str:
    """An xsd:int written in ASCII digits (not Arabic-Indic or other Unicode digits), within its range.

    >>> check_int("A", "session_timeout", "0120")
    '120'
    >>> check_int("A", "x", "\u0661\u0662")
    Traceback (most recent call last):
    toolkit.errors.InvalidValueError: A: x cannot be '\u0661\u0662'; allowed: a whole number from 1 to \
2147483647 (xsd:int)
    """
    text = value.strip()
    low = -XSD_INT_MAX - 1 if minimum is None else minimum
    allowed = WHOLE if minimum == 1 else f"an integer from {low} to {XSD_INT_MAX} (xsd:int)"
    shown = text if len(text) <= 40 else text[:20] + f"... ({len(text):,} characters)"
    if not re.fullmatch(r"[+-]?[0-9]{1,12}", text) or not low <= int(text) <= XSD_INT_MAX:
        raise InvalidValueError(app, name, shown, allowed)
    return str(int(text))


def check_url(app: str, name: str, value: str, *, custom_scheme: bool = False) -> str:
    """An absolute URL (``https://host/...``); callback URLs may use a custom scheme (``myapp://cb``).

    >>> check_url("A", "callback_urls", "myapp://cb", custom_scheme=True)
    'myapp://cb'
    >>> check_url("A", "info_url", "www.example.com")
    Traceback (most recent call last):
    toolkit.errors.InvalidValueError: A: info_url cannot be 'www.example.com'; allowed: an absolute URL \
such as https://host/path
    """
    allowed = "an absolute URL such as https://host/path" + (" or myapp://callback" if custom_scheme else "")
    check_text(app, name, value)
    parsed = urlparse(value)
    if not value or any(c.isspace() for c in value) or not parsed.scheme or "://" not in value:
        raise InvalidValueError(app, name, value, allowed)
    if parsed.scheme in ("http", "https") and not parsed.netloc:
        raise InvalidValueError(app, name, value, allowed)
    if not custom_scheme and parsed.scheme not in ("http", "https"):
        raise InvalidValueError(app, name, value, "an http:// or https:// URL")
    return value


def canonical_value(fld: Field, value: str, app: str = "(every app)", kind: str | None = None) -> str:
    """A value as the catalog's canonical text, checked against the field's type; InvalidValueError if not.

    With ``kind`` (an app's kind) the values that kind accepts: a connected app's Lock App After stops at 30
    minutes; SAML encryption is written AES only (an ECA has no Triple_Des, and on a connected app Salesforce
    says to replace it: ``catalog.REFUSED_VALUES``), although a connected app that holds it is read as is.

    >>> canonical_value(field("ip_relaxation"), "enforce")
    'ENFORCE'
    >>> canonical_value(field("lock_after"), "60", "My_CA", "ConnectedApp")
    Traceback (most recent call last):
    toolkit.errors.InvalidValueError: My_CA: lock_after cannot be '60'; allowed: 0, 1, 5, 10, 30
    >>> canonical_value(field("session_timeout"), "ten")
    Traceback (most recent call last):
    toolkit.errors.InvalidValueError: (every app): session_timeout cannot be 'ten'; allowed: a whole number \
from 1 to 2147483647 (xsd:int)
    """
    name = fld.id
    allowed_values = fld.allowed_for(kind) if kind else fld.allowed
    refused = refused_value(fld.id, kind, value) if kind else ""
    if refused:
        raise InvalidValueError(app, name, value, f"{', '.join(allowed_values)} ({refused})")
    kind = fld.type
    if kind == "boolean":
        low = value.strip().lower()
        if low in _TRUE:
            return "true"
        if low in _FALSE:
            return "false"
        raise InvalidValueError(app, name, value, "true, false")
    if kind == "integer":
        return check_int(app, name, value)
    if kind == "enum" and allowed_values and all(a.isdigit() for a in allowed_values):
        if re.fullmatch(r"[0-9]{1,12}", value.strip()):
            value = str(int(value))
    if kind == "enum" or (allowed_values and kind != "list"):
        for allowed in allowed_values:
            if value.strip().lower() == allowed.lower():
                return allowed
        raise InvalidValueError(app, name, value, allowed_values)
    if kind == "url":
        return check_url(app, name, value.strip())
    if kind == "email":
        if not _EMAIL.match(value.strip()):
            raise InvalidValueError(app, name, value, "an e-mail address such as admin@example.com")
        return value.strip()
    return check_identifier(app, name, check_text(app, name, value))


def list_item(fld: Field, value: str, app: str = "(every app)") -> str:
    """One item of a list field (a callback URL, a scope name, a profile name).

    >>> list_item(field("scopes"), "refreshtoken"), list_item(field("scopes"), "refresh_token")
    ('RefreshToken', 'RefreshToken')
    """
    item = value.strip()
    if fld.id == "callback_urls":
        return check_url(app, fld.id, item, custom_scheme=True)
    if not item:
        names = f": {', '.join(fld.allowed)}" if fld.allowed else ""
        raise InvalidValueError(app, fld.id, value, f"a non-empty name{names}")
    if fld.allowed:
        for allowed in fld.allowed:
            if item.lower() == allowed.lower():
                return allowed
        wire = SCOPE_WIRE_NAMES.get(item.lower()) if fld.id == "scopes" else None
        if wire in fld.allowed:  # the way admins and clients write scopes: api, refresh_token, chatter_api
            return str(wire)
        raise InvalidValueError(app, fld.id, value, fld.allowed)
    if not item:
        raise InvalidValueError(app, fld.id, value, "a non-empty name")
    return check_text(app, fld.id, item)


def split_items(value: str) -> list[str]:
    """The items of a whole-list value: comma- or newline-separated (``scopes=Api,RefreshToken``).

    >>> split_items("Api, RefreshToken"), split_items("")
    (['Api', 'RefreshToken'], [])
    """
    return [p.strip() for p in re.split(r"[,\n]", value) if p.strip()]


__all__ = [
    "ChangeSpec",
    "SpecError",
    "canonical_value",
    "check_identifier",
    "check_int",
    "check_url",
    "list_item",
    "parse_spec",
    "split_items",
]
