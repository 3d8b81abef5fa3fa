"""Lossless metadata documents: the raw XML bytes are the source of truth.

A :class:`MetadataDocument` keeps the exact bytes it was read from. Reading goes through an lxml tree
built from those bytes; writing (``set``/``set_all``/``remove``) is a byte-level splice of the original text
(element byte spans come from expat), so an unmodified document serialises to identical bytes and a patched
one changes only the patched element: comments, entities, CRLF line ends, indentation and unknown elements
elsewhere stay byte for byte.

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

Extensions:
- ``.remove(path)`` -> MetadataDocument without every element at the path (and its line).
- ``set``/``set_all`` validate against the WSDL schema (enums, ``true``/``false``, ints, the
  ``refreshTokenPolicy`` grammar) and raise ``InvalidValueError``; paths the schema does not know raise
  ``UnknownFieldError`` unless ``allow_unknown=True``. Setting a value clears ``xsi:nil``.
- Creating a missing optional parent (``mobileAppConfig.minimumOsVersion`` on an app without
  ``mobileAppConfig``) needs the parent's other required leaves: pass them as
  ``required={"mobileAppConfig.devicePlatform": "ios", ...}``; missing ones raise
  ``MissingRequiredError`` listing them (nothing is invented).
- ``.diff(other)`` -> list[Change(path, old, new)] at leaf level; repeated leaves compare as tuples.
- ``MetadataDocument.from_soap_record(el_or_bytes)`` reads a ``readMetadata`` ``<records xsi:type=...>``
  into a normal source-format file; ``.to_soap_metadata(tag)`` writes the ``updateMetadata`` element.
  Whitespace-only text between elements is layout, not data: the SOAP form has none, the file form is
  indented with four spaces.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from lxml import etree

from ..errors import ArgumentError, InvalidValueError, MetadataParseError, ToolkitError, UnknownFieldError
from . import schema
from .values import REFRESH_ALLOWED, RefreshTokenPolicy

MD_NS = "http://soap.sforce.com/2006/04/metadata"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'

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
# the largest real connected app file seen is ~45 KB (a certificate and many scopes): 10 MB is generous
MAX_FILE_BYTES = 10 * 1024 * 1024
# metadata types nest a handful of levels; a deeper document is refused (walking it would exhaust the stack)
MAX_DEPTH = 64
# leaves whose values are secrets: never echoed in error messages
SECRET_LEAVES = frozenset({"consumerSecret", "password", "signingKey", "privateKey"})
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class MissingRequiredError(ToolkitError):
    """Creating an element would leave required siblings missing; they are reported, never invented.

    >>> str(MissingRequiredError("A", "mobileAppConfig.privateApp", ["mobileAppConfig.version"]))
    "A: setting mobileAppConfig.privateApp creates a parent that also requires mobileAppConfig.version; \
pass required={'mobileAppConfig.version': ...}"
    """

    def __init__(self, app: str, field: str, missing: list[str]) -> None:
        self.app, self.field, self.missing = app, field, missing
        need = ", ".join(missing)
        example = ", ".join(f"{m!r}: ..." for m in missing)
        super().__init__(
            f"{app}: setting {field} creates a parent that also requires {need}; pass required={{{example}}}"
        )


@dataclass(frozen=True)
class Change:
    """One leaf-level difference between two documents (``old``/``new`` are tuples for repeated leaves).

    >>> Change("label", "A", "B")
    Change(path='label', old='A', new='B')
    """

    path: str
    old: str | tuple[str, ...] | None
    new: str | tuple[str, ...] | None


def read_regular_file(file: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; :class:`OSError` for anything else.

    A FIFO, a device or a symlink to one is refused before it is opened for reading (opening a FIFO
    would block), and ``O_NONBLOCK`` guards against a file swapped for one in between.

    >>> read_regular_file("/dev/zero")
    Traceback (most recent call last):
    OSError: not a regular file (a character device); only regular files are read
    """
    info = os.stat(file)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"not a regular file ({_kind(info.st_mode)}); only regular files are read")
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError("not a regular file; only regular files are read")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"larger than {limit / (1024 * 1024):g} MB, the most a metadata file may be")
    return data


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    )
    return next((name for test, name in kinds if test(mode)), "not a file")


# true when some element sits deeper than MAX_DEPTH levels (evaluated in C: ~2 µs for a typical app)
_TOO_DEEP = etree.XPath("boolean(" + "/".join(["*"] * MAX_DEPTH) + ")")


def local_name(el: Any) -> str:
    """The local name of an element (``{ns}tag`` -> ``tag``); ``""`` for comments and PIs.

    >>> local_name(etree.fromstring(b'<a xmlns="urn:x"/>'))
    'a'
    """
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


# --- byte spans --------------------------------------------------------------------------------------
@dataclass
class _Span:
    name: str  # local name
    start: int  # index of "<"
    open_end: int  # index after the ">" of the start tag
    close_start: int  # index of "</" (== open_end for an empty-element tag)
    end: int  # index after the element
    self_closing: bool
    children: list[_Span] = field(default_factory=list)


_TAG_END = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")


def _spans(data: bytes, source: str) -> _Span:
    """Element byte spans of a document, from expat's byte offsets."""
    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[_Span] = []
    root: list[_Span] = []

    def start(name: str, _attrs: Any) -> None:
        i = parser.CurrentByteIndex
        m = _TAG_END.match(data, i)
        assert m is not None  # expat accepted the tag
        open_end = m.end()
        closing = data[open_end - 2 : open_end] == b"/>"
        span = _Span(name.rsplit("}", 1)[-1], i, open_end, open_end, open_end, closing)
        (stack[-1].children if stack else root).append(span)
        stack.append(span)

    def end(_name: str) -> None:
        span = stack.pop()
        if not span.self_closing:
            i = parser.CurrentByteIndex
            span.close_start = i
            span.end = data.index(b">", i) + 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise MetadataParseError(source, exc.lineno, expat.ErrorString(exc.code)) from None
    return root[0]


def _escape(text: str) -> str:
    # CR is written as a character reference: a literal CR would be normalised away by any XML parser
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _leading_ws(data: bytes, pos: int) -> bytes:
    """The layout before ``pos``: whitespace back to and including the last line break (or inline spaces)."""
    i = pos
    while i > 0 and data[i - 1 : i] in (b" ", b"\t", b"\n", b"\r"):
        i -= 1
    run = data[i:pos]
    nl = max(run.rfind(b"\n"), run.rfind(b"\r"))
    if nl < 0:
        return run
    cut = nl - 1 if run[nl : nl + 1] == b"\n" and run[nl - 1 : nl] == b"\r" else nl
    return run[cut:]


def _qname(data: bytes, span: _Span) -> bytes:
    m = re.match(rb"<([^\s/>]+)", data[span.start : span.open_end])
    assert m is not None
    return m.group(1)


class MetadataDocument:
    """One metadata component (a ConnectedApp, an ExternalClientApplication, ...), kept losslessly.

    >>> doc = MetadataDocument.from_bytes(
    ...     b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata"><label>Demo</label>'
    ...     b'<contactEmail>a@b.c</contactEmail></ConnectedApp>', full_name="Demo")
    >>> doc.get("label")
    'Demo'
    """

    def __init__(
        self,
        data: bytes,
        *,
        source: str | None = None,
        full_name: str | None = None,
        format: str | None = None,
    ) -> None:
        if not isinstance(data, bytes | bytearray):
            raise ArgumentError("data", f"<{type(data).__name__}>", "the bytes of a metadata XML document")
        if source is not None and not isinstance(source, str):
            raise ArgumentError("source", f"<{type(source).__name__}>", "text (a file name, an origin)")
        if full_name is not None and not isinstance(full_name, str):
            raise ArgumentError("full_name", f"<{type(full_name).__name__}>", "text (the component's name)")
        self._data = data = bytes(data)
        self.source = source or "<bytes>"
        try:
            self.tree = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if isinstance(exc.lineno, int) else None
            raise MetadataParseError(self.source, line, _clean_msg(exc.msg or str(exc))) from None
        if _TOO_DEEP(self.tree):
            raise MetadataParseError(
                self.source,
                None,
                f"elements nested more than {MAX_DEPTH} levels deep (metadata types nest a few levels)",
            )
        self.type_name = local_name(self.tree)
        self.full_name = full_name or self.get("fullName") or _name_from_source(self.source)
        self.format = format or ("source" if self.source.endswith("-meta.xml") else "mdapi")
        self._span_root: _Span | None = None

    # construction -------------------------------------------------------------------------------
    @classmethod
    def from_bytes(
        cls, data: bytes, *, source: str | None = None, full_name: str | None = None
    ) -> MetadataDocument:
        """Read a document from bytes (see the class example)."""
        return cls(data, source=source, full_name=full_name)

    @classmethod
    def from_file(cls, path: str | Path, *, full_name: str | None = None) -> MetadataDocument:
        """Read a metadata file (source ``*-meta.xml`` or mdapi format): a regular file, see
        :func:`read_regular_file` (``OSError`` otherwise)."""
        p = Path(path)
        shown = os.fsencode(p).decode("utf-8", "replace")  # undecodable name bytes: U+FFFD, never a crash
        return cls(read_regular_file(p), source=shown, full_name=full_name)

    @classmethod
    def from_soap_record(cls, record: Any, *, source: str | None = None) -> MetadataDocument:
        """A ``readMetadata`` record (lxml element or bytes) as a source-format document.

        The type comes from ``xsi:type``; ``fullName`` becomes :attr:`full_name` and leaves the body;
        every other child (unknown ones too, ``xsi:nil`` included) is kept.

        >>> rec = (b'<records xmlns="http://soap.sforce.com/2006/04/metadata" '
        ...        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ConnectedApp">'
        ...        b'<fullName>A</fullName><contactEmail xsi:nil="true"/><label>A &amp; B</label></records>')
        >>> doc = MetadataDocument.from_soap_record(rec)
        >>> doc.type_name, doc.full_name, doc.get("label"), doc.is_nil("contactEmail")
        ('ConnectedApp', 'A', 'A & B', True)
        """
        el = _record_element(record)
        xsi_type = el.get(f"{{{XSI_NS}}}type") or local_name(el)
        type_name = xsi_type.rsplit(":", 1)[-1]
        full_name = ""
        body: list[str] = []
        for child in el:
            if local_name(child) == "fullName" and not full_name:
                full_name = child.text or ""
                continue
            if isinstance(child.tag, str) or child.tag is etree.Comment:
                body.append(_write(child, "    ", "\n"))
        text = f'<{type_name} xmlns="{MD_NS}"{_xsi_decl(el)}>\n' + "".join(body) + f"</{type_name}>\n"
        src = source or f"readMetadata:{type_name}:{full_name}"
        return cls(XML_DECL + text.encode("utf-8"), source=src, full_name=full_name or None, format="source")

    # reading ------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The document's bytes (identical to the input when unmodified)."""
        return self._data

    def to_soap_metadata(self, tag: str = "metadata") -> bytes:
        """The component as an ``updateMetadata``/``createMetadata`` element (or a ``records`` element).

        >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
        ...     b'\\n    <label>A</label>\\n</ConnectedApp>', full_name="A")
        >>> doc.to_soap_metadata()[:60]
        b'<metadata xmlns="http://soap.sforce.com/2006/04/metadata" xm'
        >>> doc.to_soap_metadata().split(b'>', 1)[1]
        b'<fullName>A</fullName><label>A</label></metadata>'
        """
        parts = [f"<fullName>{_escape(self.full_name)}</fullName>"]
        for child in self.tree:
            if isinstance(child.tag, str) and local_name(child) != "fullName":
                parts.append(_write(child, "", ""))
        head = f'<{tag} xmlns="{MD_NS}" xmlns:xsi="{XSI_NS}" xsi:type="{self.type_name}">'
        return (head + "".join(parts) + f"</{tag}>").encode("utf-8")

    def elements(self, path: str) -> list[Any]:
        """lxml elements at a dotted path (every branch), in document order."""
        index = self.__dict__.get("_path_index")
        if index is None:
            # documents are immutable (patches return new ones), so the path index is built once: tables
            # read ~80 catalog paths per app, and scanning children for each one dominated audit time
            index = {}

            def walk(node: Any, prefix: str) -> None:
                for child in node:
                    name = local_name(child)
                    if name:
                        child_path = f"{prefix}.{name}" if prefix else name
                        index.setdefault(child_path, []).append(child)
                        walk(child, child_path)

            walk(self.tree, "")
            self.__dict__["_path_index"] = index
        return list(index.get(path, ()))

    def has(self, path: str) -> bool:
        """Whether an element exists at the path."""
        return bool(self.elements(path))

    def get(self, path: str) -> str | None:
        """Text of the first element at the path (None when absent or nil)."""
        els = self.elements(path)
        if not els or self._nil(els[0]):
            return None
        return str(els[0].text or "")

    def get_all(self, path: str) -> list[str]:
        """Texts of every (non-nil) element at the path."""
        return [str(e.text or "") for e in self.elements(path) if not self._nil(e)]

    def line_of(self, path: str = "") -> int | None:
        """The line of the first element at the path (``""``: the root element), None when absent.

        >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
        ...     b'\\n  <label>A</label>\\n  <oauthConfig>\\n    <scopes>Api</scopes>\\n  </oauthConfig>'
        ...     b'\\n</ConnectedApp>')
        >>> doc.line_of(), doc.line_of("label"), doc.line_of("oauthConfig.scopes"), doc.line_of("startUrl")
        (1, 2, 4, None)
        """
        line = self.tree.sourceline if not path else next(iter(self.elements(path)), self.tree).sourceline
        if path and not self.elements(path):
            return None
        return line if isinstance(line, int) else None

    def is_nil(self, path: str) -> bool:
        """Whether the first element at the path carries ``xsi:nil="true"``."""
        els = self.elements(path)
        return bool(els) and self._nil(els[0])

    def children(self) -> list[tuple[str, Any]]:
        """(local name, element) of the root's child elements, in document order."""
        return [(local_name(c), c) for c in self.tree if local_name(c)]

    def leaves(self) -> dict[str, list[str | None]]:
        """Every leaf element's text by dotted path (None for nil), in document order.

        >>> MetadataDocument.from_bytes(b'<A><b><c>1</c><c>2</c></b><d/></A>').leaves()
        {'b.c': ['1', '2'], 'd': ['']}
        """
        out: dict[str, list[str | None]] = {}

        def walk(el: Any, prefix: str) -> None:
            for c in el:
                name = local_name(c)
                if not name:
                    continue
                path = prefix + name
                if any(local_name(g) for g in c):
                    walk(c, path + ".")
                else:
                    out.setdefault(path, []).append(None if self._nil(c) else str(c.text or ""))

        walk(self.tree, "")
        return out

    def diff(self, other: MetadataDocument) -> list[Change]:
        """Leaf-level differences from this document to ``other`` (for edit previews).

        >>> a = MetadataDocument.from_bytes(b'<A><label>x</label><s>1</s></A>')
        >>> a.diff(MetadataDocument.from_bytes(b'<A><label>y</label><s>1</s><s>2</s></A>'))
        [Change(path='label', old='x', new='y'), Change(path='s', old=('1',), new=('1', '2'))]
        """
        mine, theirs = self.leaves(), other.leaves()
        changes: list[Change] = []
        for path in list(mine) + [p for p in theirs if p not in mine]:
            old, new = mine.get(path, []), theirs.get(path, [])
            if old == new:
                continue
            if self._repeated(path) or len(old) > 1 or len(new) > 1:
                changes.append(Change(path, tuple(v or "" for v in old), tuple(v or "" for v in new)))
            else:
                changes.append(Change(path, old[0] if old else None, new[0] if new else None))
        return changes

    @staticmethod
    def _nil(el: Any) -> bool:
        return el.get(f"{{{XSI_NS}}}nil") in ("true", "1")

    def __repr__(self) -> str:
        return f"<MetadataDocument {self.type_name} {self.full_name!r} from {self.source}>"

    # writing ------------------------------------------------------------------------------------
    def set(
        self,
        path: str,
        value: str | bool | int | None,
        *,
        allow_unknown: bool = False,
        required: Mapping[str, str | bool | int] | None = None,
    ) -> MetadataDocument:
        """A new document with one leaf set (``None`` removes it); a byte-level splice of this one.

        >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
        ...     b'\\n    <contactEmail>a@b.c</contactEmail>\\n    <label>A</label>\\n</ConnectedApp>\\n')
        >>> print(doc.set("description", "Audit & test").to_bytes().decode())
        <ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
            <contactEmail>a@b.c</contactEmail>
            <description>Audit &amp; test</description>
            <label>A</label>
        </ConnectedApp>
        <BLANKLINE>
        """
        info = self._info(path, allow_unknown)
        if value is None:
            return self.remove(path, allow_unknown=allow_unknown)
        if info is not None and info.repeated:
            return self.set_all(path, [value], allow_unknown=allow_unknown)
        text = self._check(path, info, value)
        spans = self._spans_at(path)
        if spans:
            return self._derive(_replace_text(self._data, spans[0], text))
        return self._create(path, text, required or {}, allow_unknown)

    def set_all(
        self, path: str, values: Iterable[str | bool | int], *, allow_unknown: bool = False
    ) -> MetadataDocument:
        """A new document whose repeated leaf holds exactly ``values`` (in order); ``[]`` removes them all.

        >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
        ...     b'<label>A</label><oauthConfig><callbackUrl>x:/</callbackUrl><scopes>Api</scopes>'
        ...     b'</oauthConfig></ConnectedApp>')
        >>> doc.set_all("oauthConfig.scopes", ["Api", "RefreshToken"]).get_all("oauthConfig.scopes")
        ['Api', 'RefreshToken']
        """
        info = self._info(path, allow_unknown)
        texts = [self._check(path, info, v) for v in values]
        parent_path, _, name = path.rpartition(".")
        doc: MetadataDocument = self
        for i, text in enumerate(texts):
            spans = doc._spans_at(path, first_parent=True)
            if i < len(spans):
                if doc._text_of(spans[i]) != text:
                    doc = doc._derive(_replace_text(doc._data, spans[i], text))
            elif not spans:
                doc = doc._create(path, text, {}, allow_unknown)
            else:
                parent = doc._parent_span(parent_path)
                assert parent is not None
                doc = doc._derive(doc._insert(parent, name, _escape(text), allow_unknown))
        extra = doc._spans_at(path, first_parent=True)[len(texts) :]
        if extra:
            doc = doc._derive(_cut(doc._data, extra))
        return doc

    def remove(self, path: str, *, allow_unknown: bool = False) -> MetadataDocument:
        """A new document without the elements at the path (each with its line's indentation).

        >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
        ...     b'\\n  <description>x</description>\\n  <label>A</label>\\n</ConnectedApp>')
        >>> doc.remove("description").to_bytes()[-40:]
        b'ata">\\n  <label>A</label>\\n</ConnectedApp>'
        """
        self._info(path, allow_unknown)
        spans = self._spans_at(path)
        return self._derive(_cut(self._data, spans)) if spans else self

    # internals ----------------------------------------------------------------------------------
    def _derive(self, data: bytes) -> MetadataDocument:
        return MetadataDocument(data, source=self.source, full_name=self.full_name, format=self.format)

    def _repeated(self, path: str) -> bool:
        try:
            return schema.is_repeated(self.type_name, path)
        except UnknownFieldError:
            return False

    def _info(self, path: str, allow_unknown: bool) -> schema.FieldInfo | None:
        if schema.has_field(self.type_name, path):
            info = schema.field_info(self.type_name, path)
            if info.is_complex:
                example = schema.child_order(info.xsd_type)
                raise UnknownFieldError(
                    self.full_name, path, f"it is a group; set one of its leaves, e.g. {path}.{example[0]}"
                )
            return info
        if allow_unknown:
            return None
        raise UnknownFieldError(
            self.full_name, path, f"not a {self.type_name} element in WSDL v66 (allow_unknown=True to force)"
        )

    def _check(self, path: str, info: schema.FieldInfo | None, value: str | bool | int) -> str:
        shown: object = "****" if path.rsplit(".", 1)[-1] in SECRET_LEAVES else value
        base = info.base_type if info else "xsd:string"
        if isinstance(value, bool):
            if base != "xsd:boolean":
                raise InvalidValueError(self.full_name, path, shown, f"a {base} value, not a boolean")
            return "true" if value else "false"
        if isinstance(value, int):
            if base not in ("xsd:int", "xsd:long", "xsd:double"):
                raise InvalidValueError(self.full_name, path, shown, f"a {base} value, not a number")
            value = str(value)
        if not isinstance(value, str):
            raise InvalidValueError(self.full_name, path, shown, "a string, boolean or int")
        if _XML_ILLEGAL.search(value):
            raise InvalidValueError(self.full_name, path, shown, "text without control characters")
        if info is None:
            return value
        if base == "xsd:boolean" and value not in ("true", "false"):
            raise InvalidValueError(self.full_name, path, shown, ["true", "false"])
        if base in ("xsd:int", "xsd:long") and not re.fullmatch(r"-?\d+", value):
            raise InvalidValueError(self.full_name, path, shown, "an integer")
        if base == "xsd:double" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
            raise InvalidValueError(self.full_name, path, shown, "a number")
        if info.enum and value not in info.enum:
            raise InvalidValueError(self.full_name, path, shown, info.enum)
        if info.grammar == "refreshTokenPolicy":
            try:
                RefreshTokenPolicy.parse(value)
            except ValueError:
                raise InvalidValueError(self.full_name, path, shown, REFRESH_ALLOWED) from None
        return value

    @property
    def _root_span(self) -> _Span:
        if self._span_root is None:
            self._span_root = _spans(self._data, self.source)
        return self._span_root

    def _spans_at(self, path: str, first_parent: bool = False) -> list[_Span]:
        nodes = [self._root_span]
        parts = path.split(".")
        for depth, part in enumerate(parts):
            nodes = [c for n in nodes for c in n.children if c.name == part]
            if first_parent and depth < len(parts) - 1:
                nodes = nodes[:1]
        return nodes

    def _parent_span(self, parent_path: str) -> _Span | None:
        if not parent_path:
            return self._root_span
        found = self._spans_at(parent_path)
        return found[0] if found else None

    def _text_of(self, span: _Span) -> str | None:
        # expat start events and lxml's element iteration share document order
        flat: list[_Span] = []

        def walk(node: _Span) -> None:
            flat.append(node)
            for c in node.children:
                walk(c)

        walk(self._root_span)
        el = list(self.tree.iter(etree.Element))[flat.index(span)]
        return None if self._nil(el) else str(el.text or "")

    def _create(
        self, path: str, text: str, required: Mapping[str, str | bool | int], allow_unknown: bool
    ) -> MetadataDocument:
        parts = path.split(".")
        depth = 0
        while depth < len(parts) - 1 and self._spans_at(".".join(parts[: depth + 1])):
            depth += 1
        if depth < len(parts) - 1:
            top = ".".join(parts[: depth + 1])  # the outermost parent to create
            need: list[str] = []
            if schema.has_field(self.type_name, top):
                owner = schema.field_info(self.type_name, top).xsd_type
                need = [f"{top}.{r}" for r in schema.required_fields(owner)]
            missing = [r for r in need if r != path and r not in required]
            if missing:
                raise MissingRequiredError(self.full_name, path, missing)
        parent = self._parent_span(".".join(parts[:depth]))
        assert parent is not None
        fragment = _escape(text)
        for name in reversed(parts[depth + 1 :]):
            fragment = _Nested(name, fragment)  # type: ignore[assignment]
        doc = self._derive(self._insert(parent, parts[depth], fragment, allow_unknown))
        for key, val in required.items():
            doc = doc.set(key, val, allow_unknown=allow_unknown)
        return doc

    def _insert(self, parent: _Span, name: str, content: str | _Nested, allow_unknown: bool) -> bytes:
        """Bytes with a new child ``name`` of ``parent``, placed in WSDL order, indented like its siblings."""
        data = self._data
        order = self._order_of(parent)
        kids = parent.children
        anchor: _Span | None = None
        if name in order:
            rank = order.index(name)
            for c in kids:
                if c.name in order and order.index(c.name) <= rank:
                    anchor = c
        elif kids:
            anchor = kids[-1]  # unknown element: append
        prefix = _qname(data, parent).rpartition(b":")[0].decode()
        prefix = prefix + ":" if prefix else ""
        unit = _indent_unit(data, self._root_span)
        if anchor is not None:
            ws = _leading_ws(data, anchor.start)
            new = ws + _render(name, content, ws, unit, prefix)
            return data[: anchor.end] + new + data[anchor.end :]
        if kids:
            ws = _leading_ws(data, kids[0].start)
            new = _render(name, content, ws, unit, prefix) + ws
            return data[: kids[0].start] + new + data[kids[0].start :]
        pws = _leading_ws(data, parent.start)
        if pws and b"\n" not in pws and b"\r" not in pws:
            pws = b""
        cws = pws + unit if pws else b""
        elem = cws + _render(name, content, cws, unit, prefix) + pws
        if parent.self_closing:
            open_tag = data[parent.start : parent.open_end - 2].rstrip() + b">"
            close = b"</" + _qname(data, parent) + b">"
            return data[: parent.start] + open_tag + elem + close + data[parent.end :]
        inner = data[parent.open_end : parent.close_start]
        if inner.strip() == b"":
            return data[: parent.open_end] + elem + data[parent.close_start :]
        new = cws + _render(name, content, cws, unit, prefix)
        return data[: parent.open_end] + new + data[parent.open_end :]

    def _order_of(self, span: _Span) -> list[str]:
        # the complex type of a span: follow the schema from the root along the span's ancestry
        trail: list[str] = []

        def find(node: _Span) -> bool:
            if node is span:
                return True
            for c in node.children:
                trail.append(c.name)
                if find(c):
                    return True
                trail.pop()
            return False

        find(self._root_span)
        type_name = self.type_name
        if trail:
            if not schema.has_field(self.type_name, ".".join(trail)):
                return []
            type_name = schema.field_info(self.type_name, ".".join(trail)).xsd_type
        try:
            return schema.child_order(type_name)
        except UnknownFieldError:
            return []


@dataclass(frozen=True)
class _Nested:
    name: str
    content: str | _Nested


def _render(name: str, content: str | _Nested, ws: bytes, unit: bytes, prefix: str) -> bytes:
    tag = f"{prefix}{name}".encode()
    if isinstance(content, str):
        return b"<" + tag + b">" + content.encode("utf-8") + b"</" + tag + b">"
    inner_ws = ws + unit if ws else b""
    inner = _render(content.name, content.content, inner_ws, unit, prefix)
    return b"<" + tag + b">" + inner_ws + inner + ws + b"</" + tag + b">"


def _indent_unit(data: bytes, root: _Span) -> bytes:
    """The document's indentation step (four spaces when it cannot be seen)."""
    for parent in [root, *root.children]:
        if not parent.children:
            continue
        outer = _leading_ws(data, parent.start).lstrip(b"\r\n") if parent is not root else b""
        inner = _leading_ws(data, parent.children[0].start).lstrip(b"\r\n")
        if inner.startswith(outer) and len(inner) > len(outer):
            return inner[len(outer) :]
    return b"    "


def _replace_text(data: bytes, span: _Span, text: str) -> bytes:
    body = _escape(text).encode("utf-8")
    open_tag = data[span.start : span.open_end]
    if re.search(rb"\s[\w.-]+:nil\s*=", open_tag):
        open_tag = re.sub(rb"\s+[\w.-]+:nil\s*=\s*(\"[^\"]*\"|'[^']*')", b"", open_tag)
    if span.self_closing:
        open_tag = open_tag[:-2].rstrip() + b">"
        return data[: span.start] + open_tag + body + b"</" + _qname(data, span) + b">" + data[span.end :]
    return data[: span.start] + open_tag + body + data[span.close_start :]


def _cut(data: bytes, spans: list[_Span]) -> bytes:
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        ws = _leading_ws(data, span.start)
        data = data[: span.start - len(ws)] + data[span.end :]
    return data


# --- SOAP record helpers ---------------------------------------------------------------------------
def _record_element(record: Any) -> Any:
    if not isinstance(record, bytes | bytearray | str):
        return record
    raw = record.encode("utf-8") if isinstance(record, str) else bytes(record)
    try:
        return etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError:
        # a record cut out of a SOAP envelope relies on the envelope's namespace declarations
        fixed = re.sub(
            rb"^(\s*(?:<\?xml[^>]*>\s*)?<[\w.:-]+)",
            b'\\1 xmlns="' + MD_NS.encode() + b'" xmlns:xsi="' + XSI_NS.encode() + b'"',
            raw,
            count=1,
        )
        try:
            return etree.fromstring(fixed, _PARSER)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if isinstance(exc.lineno, int) else None
            raise MetadataParseError("<readMetadata record>", line, _clean_msg(exc.msg or str(exc))) from None


def _xsi_decl(el: Any) -> str:
    uses_xsi = any(
        any(k.startswith(f"{{{XSI_NS}}}") for k in d.attrib)
        for d in el.iterdescendants()
        if isinstance(d.tag, str)
    )
    return f' xmlns:xsi="{XSI_NS}"' if uses_xsi else ""


def _write(el: Any, indent: str, nl: str, unit: str = "    ") -> str:
    """Plain serialisation of a metadata element: local names, xsi attributes as ``xsi:``, escaped text."""
    if el.tag is etree.Comment:
        return f"{indent}<!--{el.text or ''}-->{nl}"
    name = local_name(el)
    attrs = ""
    for key, val in el.attrib.items():
        k = key.rsplit("}", 1)[-1]
        prefix = "xsi:" if key.startswith(f"{{{XSI_NS}}}") else ""
        attrs += f' {prefix}{k}="{_escape(val).replace(chr(34), "&quot;")}"'
    kids = [c for c in el if isinstance(c.tag, str) or c.tag is etree.Comment]
    if not kids:
        text = el.text or ""
        if not text and el.get(f"{{{XSI_NS}}}nil") in ("true", "1"):
            return f"{indent}<{name}{attrs}/>{nl}"
        return f"{indent}<{name}{attrs}>{_escape(text)}</{name}>{nl}"
    inner = "".join(_write(c, indent + unit if nl else "", nl, unit) for c in kids)
    return f"{indent}<{name}{attrs}>{nl}{inner}{indent}</{name}>{nl}"


def _clean_msg(msg: str) -> str:
    msg = msg.split(", line ")[0].strip()
    if msg.startswith("Excessive depth"):  # libxml2's own limit (2048), named in its terms otherwise
        return f"elements nested more than 2048 levels deep (metadata types nest at most {MAX_DEPTH})"
    return msg


def _name_from_source(source: str) -> str:
    name = Path(source).name
    for suffix in ("-meta.xml", ".xml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.rsplit(".", 1)[0] if "." in name else name
