"""What the SOQL engine knows about objects: the :class:`RowSource` protocol and normalised describe info.

Core (the REST layer) implements :class:`RowSource` over ``OrgState``; :class:`TableSource` is a ready-made
implementation over plain dicts (tests, and core if convenient). ``describe`` may answer in any of these
forms:

- the REST describe shape ``{"name": "User", "fields": [{"name": "Id", "type": "id", "filterable": true,
  "referenceTo": [], "relationshipName": null, ...}, ...]}`` (preferred: core serves it anyway);
- a mapping ``{field name: {"type": ..., "filterable": ..., "referenceTo": [...], "relationshipName": ...}}``;
- a mapping ``{field name: type string}``;
- ``None`` (or raising ``KeyError``) for an object the org does not have -> ``INVALID_TYPE``.

Missing ``filterable``/``sortable``/``groupable``/``aggregatable`` flags default to true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

STRING_TYPES = frozenset(
    {
        "string",
        "picklist",
        "multipicklist",
        "textarea",
        "url",
        "email",
        "phone",
        "combobox",
        "encryptedstring",
        "anytype",
    }
)
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent", "long"})


class RowSource(Protocol):
    """What the SOQL engine reads: rows and describe info of an sObject (names are API names)."""

    def rows(self, sobject: str) -> Iterable[Mapping[str, Any]]:
        """Every row of ``sobject`` (its canonical API name), in a stable order."""
        ...

    def describe(self, sobject: str) -> Any:
        """Field info of ``sobject`` (matched case-insensitively), or None when the org has no such object."""
        ...


@dataclass(frozen=True)
class FieldInfo:
    """One field as the engine needs it (a subset of the REST describe field).

    >>> FieldInfo("CreatedById", "reference", reference_to=("User",), relationship_name="CreatedBy").kind
    'id'
    """

    name: str
    type: str = "string"
    filterable: bool = True
    sortable: bool = True
    groupable: bool = True
    aggregatable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    custom: bool = False

    @property
    def kind(self) -> str:
        """Comparison family: string, id, number, boolean, date, datetime or other."""
        t = self.type
        if t in STRING_TYPES:
            return "string"
        if t in ID_TYPES:
            return "id"
        if t in NUMBER_TYPES:
            return "number"
        if t in ("boolean", "date", "datetime"):
            return t
        return "other"


@dataclass
class ObjectSchema:
    """An object's fields keyed by lower-case name, and its parent relationships by lower-case name."""

    name: str
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    relationships: dict[str, FieldInfo] = field(default_factory=dict)

    @classmethod
    def build(cls, name: str, infos: Iterable[FieldInfo]) -> ObjectSchema:
        """Index field infos.

        >>> s = ObjectSchema.build("User", [FieldInfo("ProfileId", "reference", reference_to=("Profile",),
        ...                                           relationship_name="Profile")])
        >>> s.relationships["profile"].name
        'ProfileId'
        """
        schema = cls(name)
        for info in infos:
            schema.fields[info.name.lower()] = info
            if info.relationship_name and info.reference_to:
                schema.relationships[info.relationship_name.lower()] = info
        return schema


def _as_tuple(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def field_info(name: str, spec: Any) -> FieldInfo:
    """A :class:`FieldInfo` from a REST describe field dict, a type string or a FieldInfo.

    >>> field_info("IsActive", "boolean").type
    'boolean'
    >>> field_info("Application", {"type": "string", "filterable": False}).filterable
    False
    """
    if isinstance(spec, FieldInfo):
        return spec
    if isinstance(spec, str):
        return FieldInfo(name, spec.lower())
    get = spec.get
    return FieldInfo(
        name=str(get("name") or name),
        type=str(get("type") or "string").lower(),
        filterable=bool(get("filterable", True)),
        sortable=bool(get("sortable", True)),
        groupable=bool(get("groupable", True)),
        aggregatable=bool(get("aggregatable", True)),
        reference_to=_as_tuple(get("referenceTo", get("reference_to"))),
        relationship_name=get("relationshipName", get("relationship_name")),
        custom=bool(get("custom", False)),
    )


def normalise_describe(requested: str, described: Any) -> ObjectSchema | None:
    """Turn whatever ``RowSource.describe`` answered into an :class:`ObjectSchema` (None: no such object).

    >>> normalise_describe("user", {"name": "User", "fields": [{"name": "Id", "type": "id"}]}).name
    'User'
    >>> sorted(normalise_describe("Profile", {"Id": "id", "Name": "string"}).fields)
    ['id', 'name']
    """
    if described is None:
        return None
    if isinstance(described, ObjectSchema):
        return described
    if isinstance(described, Mapping) and isinstance(described.get("fields"), list | tuple):
        name = str(described.get("name") or requested)
        return ObjectSchema.build(name, (field_info(str(f.get("name")), f) for f in described["fields"]))
    if isinstance(described, Mapping):
        return ObjectSchema.build(requested, (field_info(str(k), v) for k, v in described.items()))
    raise TypeError(f"describe({requested!r}) returned {type(described).__name__}; expected a mapping")


class TableSource:
    """A :class:`RowSource` over plain dicts, matching object names case-insensitively.

    ``describes`` maps object name -> describe info (any form accepted by :func:`normalise_describe`);
    ``rows`` maps object name -> list of rows, or is a callable ``rows(name)``.

    >>> src = TableSource({"User": {"Id": "id", "Name": "string"}}, {"User": [{"Id": "005A", "Name": "Ann"}]})
    >>> src.describe("USER").name, list(src.rows("User"))[0]["Name"]
    ('User', 'Ann')
    """

    def __init__(
        self,
        describes: Mapping[str, Any],
        rows: Mapping[str, Iterable[Mapping[str, Any]]] | Callable[[str], Iterable[Mapping[str, Any]]],
    ) -> None:
        self._describes = {k.lower(): (k, v) for k, v in describes.items()}
        self._rows = rows

    def describe(self, sobject: str) -> Any:
        found = self._describes.get(sobject.lower())
        if found is None:
            return None
        name, described = found
        # answer with the canonical name, so FROM user works as FROM User
        return normalise_describe(name, described)

    def rows(self, sobject: str) -> Iterable[Mapping[str, Any]]:
        if callable(self._rows):
            return self._rows(sobject)
        for key, value in self._rows.items():
            if key.lower() == sobject.lower():
                return value
        return ()
