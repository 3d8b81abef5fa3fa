"""Lossless metadata documents: the raw XML bytes are the source of truth.

A :class:`MetadataDocument` keeps the exact bytes it was read from. Reading goes through an lxml tree
built from those bytes; writing (``set``/``remove``) is a byte-level patch of the original text, so an
unmodified document serialises to identical bytes and a patched one changes only the patched element.

CONTRACT (other packages rely on this; extend, do not break):
- ``MetadataDocument.from_bytes(data, source=..., full_name=...)`` / ``from_file(path)``
- ``.type_name`` (root local name, e.g. ``"ConnectedApp"``), ``.full_name``, ``.source``, ``.format``
  (``"source"`` for ``*-meta.xml`` files, ``"mdapi"`` otherwise)
- ``.to_bytes()`` -> bytes (identical to the input when unmodified)
- ``.get(path)`` -> str | None: text of the first element at a dotted path, e.g. ``"oauthConfig.callbackUrl"``
- ``.get_all(path)`` -> list[str]: texts of every element at the path (repeated elements such as scopes)
- ``.elements(path)`` -> list of lxml elements at the path (for repeated complex elements: ipRanges...)
- ``.is_nil(path)`` -> bool (``xsi:nil="true"``)
- ``.has(path)`` -> bool
- ``.set(path, value)`` -> MetadataDocument: a new document with the leaf patched (created in WSDL order
  when absent, parents created as needed); ``value=None`` removes it
- ``.set_all(path, values)`` -> MetadataDocument: replace a repeated leaf (e.g. ``oauthConfig.scopes``)
- ``.children()`` -> list of (local_name, element) of the root, in document order
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from ..errors import MetadataParseError

MD_NS = "http://soap.sforce.com/2006/04/metadata"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_PARSER = etree.XMLParser(
    remove_blank_text=False,
    resolve_entities=False,
    strip_cdata=False,
    remove_comments=False,
    remove_pis=False,
    huge_tree=True,
    no_network=True,
    load_dtd=False,
)


def local_name(el: Any) -> str:
    """The local name of an element (``{ns}tag`` -> ``tag``); ``""`` for comments and PIs."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


class MetadataDocument:
    """One metadata component (a ConnectedApp, an ExternalClientApplication, ...), kept losslessly.

    >>> doc = MetadataDocument.from_bytes(
    ...     b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata"><label>Demo</label>'
    ...     b'<contactEmail>a@b.c</contactEmail></ConnectedApp>', full_name="Demo")
    >>> doc.get("label")
    'Demo'
    """

    def __init__(self, data: bytes, *, source: str | None = None, full_name: str | None = None) -> None:
        self._data = data
        self.source = source or "<bytes>"
        try:
            self.tree = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if isinstance(exc.lineno, int) else None
            raise MetadataParseError(self.source, line, _clean_msg(exc.msg or str(exc))) from None
        self.type_name = local_name(self.tree)
        self.full_name = full_name or self.get("fullName") or _name_from_source(self.source)
        self.format = "source" if self.source.endswith("-meta.xml") else "mdapi"

    # construction -------------------------------------------------------------------------------
    @classmethod
    def from_bytes(
        cls, data: bytes, *, source: str | None = None, full_name: str | None = None
    ) -> MetadataDocument:
        return cls(data, source=source, full_name=full_name)

    @classmethod
    def from_file(cls, path: str | Path, *, full_name: str | None = None) -> MetadataDocument:
        p = Path(path)
        return cls(p.read_bytes(), source=str(p), full_name=full_name)

    # reading ------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        return self._data

    def elements(self, path: str) -> list[Any]:
        nodes: list[Any] = [self.tree]
        for part in path.split("."):
            nodes = [c for n in nodes for c in n if local_name(c) == part]
        return nodes

    def has(self, path: str) -> bool:
        return bool(self.elements(path))

    def get(self, path: str) -> str | None:
        els = self.elements(path)
        if not els or self._nil(els[0]):
            return None
        return str(els[0].text or "")

    def get_all(self, path: str) -> list[str]:
        return [str(e.text or "") for e in self.elements(path) if not self._nil(e)]

    def is_nil(self, path: str) -> bool:
        els = self.elements(path)
        return bool(els) and self._nil(els[0])

    def children(self) -> list[tuple[str, Any]]:
        return [(local_name(c), c) for c in self.tree if local_name(c)]

    @staticmethod
    def _nil(el: Any) -> bool:
        return el.get(f"{{{XSI_NS}}}nil") in ("true", "1")

    def __repr__(self) -> str:
        return f"<MetadataDocument {self.type_name} {self.full_name!r} from {self.source}>"


def _clean_msg(msg: str) -> str:
    return msg.split(", line ")[0].strip()


def _name_from_source(source: str) -> str:
    name = Path(source).name
    for suffix in ("-meta.xml", ".xml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.rsplit(".", 1)[0] if "." in name else name
