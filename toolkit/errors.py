"""Typed errors. Every message is a one-line sentence a user can act on.

Messages name the app, the field, the value and what is allowed, and never contain a secret
(see :mod:`toolkit.redact`). The CLI prints ``str(error)`` without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_SHOWN = 80  # characters of a value's repr in a message; longer ones are shortened in the middle


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr(value)``, shortened in the middle when longer than ``limit`` (a message stays one short line).

    >>> shown("9" * 5000)
    "'99999999999999999999999999999999…99999999999999999999' (5,000 characters)"
    >>> shown(-1.0)
    '-1.0'
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value) if isinstance(value, str | bytes) else len(text):,} characters)"
    return f"{text[: limit // 2 - 7]}…{text[-(limit // 4 + 1) :]}{size}"


class ToolkitError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class MetadataParseError(ToolkitError):
    """A metadata file could not be parsed.

    >>> str(MetadataParseError("force-app/x.connectedApp-meta.xml", 3, "mismatched tag"))
    'force-app/x.connectedApp-meta.xml:3: mismatched tag'
    """

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")


class InvalidValueError(ToolkitError):
    """A value is not allowed for a field.

    >>> str(InvalidValueError("My_App", "oauthPolicy.ipRelaxation", "LOOSE", ["ENFORCE", "BYPASS"]))
    "My_App: oauthPolicy.ipRelaxation cannot be 'LOOSE'; allowed: ENFORCE, BYPASS"
    """

    def __init__(self, app: str, field: str, value: object, allowed: Iterable[str] | str) -> None:
        self.app, self.field, self.value = app, field, value
        self.allowed = allowed if isinstance(allowed, str) else ", ".join(allowed)
        super().__init__(f"{app}: {field} cannot be {value!r}; allowed: {self.allowed}")


class UnknownFieldError(ToolkitError, KeyError):
    """A path names no setting of this metadata type (also a :class:`KeyError`, as a lookup miss)."""

    def __init__(self, app: str, field: str, hint: str = "") -> None:
        self.app, self.field = app, field
        super().__init__(f"{app}: no field {field!r}" + (f"; {hint}" if hint else ""))

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0])


class ReadOnlyFieldError(ToolkitError):
    """A setting exists but cannot be written through any API (or not through this one)."""

    def __init__(self, app: str, field: str, why: str) -> None:
        self.app, self.field, self.why = app, field, why
        super().__init__(f"{app}: {field} cannot be changed: {why}")


class SourceError(ToolkitError):
    """A source (folder, org) cannot be used at all."""


class OrgError(ToolkitError):
    """An org call failed in a way retries could not fix.

    ``kind`` is a stable code (Salesforce's ``errorCode``/fault code where there is one).
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {message}")


class ArgumentError(ToolkitError, ValueError):
    """An argument (a command-line option or a Python parameter) has a value that is not allowed.

    Also a :class:`ValueError`, so callers that caught ``ValueError`` before keep working.

    >>> str(ArgumentError("--concurrency", 0, "a whole number from 1 to 64"))
    '--concurrency cannot be 0; allowed: a whole number from 1 to 64'
    >>> str(ArgumentError("--out", "", "a folder path", why="'' would be the current folder"))
    "--out cannot be ''; allowed: a folder path ('' would be the current folder)"
    """

    def __init__(self, name: str, value: object, allowed: str, *, why: str = "") -> None:
        self.name, self.value, self.allowed, self.why = name, value, allowed, why
        super().__init__(
            f"{name} cannot be {shown(value)}; allowed: {allowed}" + (f" ({why})" if why else "")
        )


class OutputError(ToolkitError):
    """The outputs could not be written; the previous outputs (if any) are left as they were."""


class UnknownNameError(ToolkitError, KeyError):
    """A lookup by name found nothing (a catalog group, a table...). Also a :class:`KeyError`.

    >>> str(UnknownNameError("catalog group", "mobil", ["mobile", "oauth"]))
    "no catalog group 'mobil'; known: mobile, oauth"
    """

    def __init__(self, what: str, name: object, known: Iterable[str]) -> None:
        self.what, self.name = what, name
        super().__init__(f"no {what} {name!r}; known: {', '.join(known)}")

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0])
