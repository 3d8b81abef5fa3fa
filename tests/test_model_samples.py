"""Every real sample round-trips byte for byte, and a patch changes exactly one leaf (needs ../shared)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from toolkit.model import schema
from toolkit.model.document import MetadataDocument

pytestmark = pytest.mark.shared

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "samples"
FILES = sorted(
    [*SAMPLES.glob("connected-apps/*.xml"), *SAMPLES.glob("external-client-apps/*.xml")]
) or [Path("absent")]


def c14n(data: bytes) -> str:
    return etree.canonicalize(data.decode("utf-8"), strip_text=True)


def value_for(doc: MetadataDocument, path: str, old: str | None) -> str:
    """A valid value for the leaf that differs from ``old``."""
    info = schema.field_info(doc.type_name, path)
    if info.enum:
        return next(v for v in info.enum if v != old)
    if info.grammar:
        return "specific_inactivity:30:DAYS" if old != "specific_inactivity:30:DAYS" else "zero"
    if info.base_type == "xsd:boolean":
        return "false" if old == "true" else "true"
    if info.base_type in ("xsd:int", "xsd:double"):
        return str(int(old or "0") + 1)
    return f'changed & <"{path}">'


def without(data: bytes, path: str) -> str:
    tree = etree.fromstring(data)
    nodes = [tree]
    for part in path.split("."):
        nodes = [c for n in nodes for c in n if isinstance(c.tag, str) and etree.QName(c).localname == part]
    for n in nodes[:1]:
        n.getparent().remove(n)
    return c14n(etree.tostring(tree))


def splice_region(a: bytes, b: bytes) -> tuple[bytes, bytes]:
    """The differing middle of two byte strings (after the longest common prefix and suffix)."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[-1 - j] == b[-1 - j]:
        j += 1
    return a[i : len(a) - j], b[i : len(b) - j]


def check_patch(doc: MetadataDocument, path: str) -> None:
    old = doc.get(path)
    new_value = value_for(doc, path, old)
    patched = doc.set(path, new_value)
    assert patched.get(path) == new_value
    # the infoset differs by exactly that leaf
    assert without(doc.to_bytes(), path) == without(patched.to_bytes(), path)
    before, after = doc.leaves(), patched.leaves()
    after_path = after.pop(path)
    assert after_path[0] == new_value
    before.pop(path, None)
    assert before == after
    # every byte outside the spliced span is unchanged
    cut, put = splice_region(doc.to_bytes(), patched.to_bytes())
    if old is not None and not doc.is_nil(path):
        assert b"<" not in cut and b"<" not in put, (cut, put)
    else:
        # a pure insertion of one element (plus layout), whatever the common prefix/suffix shifted
        name = path.rsplit(".", 1)[-1].encode()
        assert cut == b"", cut
        assert put.count(b"<") == 2 and put.count(b"</" + name + b">") == 1, put


@pytest.mark.parametrize("path", FILES, ids=[p.name[:60] for p in FILES])
def test_sample_round_trip_and_patches(path: Path, shared_dir: Path) -> None:
    data = path.read_bytes()
    doc = MetadataDocument.from_file(path)
    assert doc.to_bytes() == data
    assert c14n(doc.to_bytes()) == c14n(data)
    assert doc.type_name == schema.type_for_filename(path.name.replace(".connectedApp.xml", ".connectedApp"))
    leaves = [p for p in doc.leaves() if schema.has_field(doc.type_name, p) and not schema.is_repeated(
        doc.type_name, p) and not p.startswith(("ipRanges.", "attributes.", "customAttributes."))]
    # an existing leaf
    existing = "label" if "label" in leaves else leaves[0]
    check_patch(doc, existing)
    # a leaf that does not exist (top level, and inside oauthConfig when present)
    present = set(doc.leaves())
    missing = next(
        p for p in schema.child_order(doc.type_name)
        if p not in present and p not in ("fullName", "module")
        and not schema.field_info(doc.type_name, p).is_complex and not schema.is_repeated(doc.type_name, p)
    )
    check_patch(doc, missing)
    if doc.has("oauthConfig"):
        inner = next(f"oauthConfig.{p}" for p in schema.child_order("ConnectedAppOauthConfig")
                     if f"oauthConfig.{p}" not in present
                     and not schema.field_info("ConnectedAppOauthConfig", p).is_complex
                     and not schema.is_repeated(doc.type_name, f"oauthConfig.{p}"))
        check_patch(doc, inner)


@pytest.mark.parametrize("path", FILES, ids=[p.name[:60] for p in FILES])
def test_sample_soap_round_trip(path: Path, shared_dir: Path) -> None:
    doc = MetadataDocument.from_file(path)
    soap = doc.to_soap_metadata("records")
    back = MetadataDocument.from_soap_record(soap)
    assert back.type_name == doc.type_name and back.full_name == doc.full_name
    assert back.leaves() == {k: v for k, v in doc.leaves().items() if k != "fullName"}
    assert back.to_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<' + doc.type_name.encode())
    # a second trip is byte-stable
    assert MetadataDocument.from_soap_record(back.to_soap_metadata("records")).to_bytes() == back.to_bytes()
    assert back.to_soap_metadata() == MetadataDocument.from_soap_record(soap).to_soap_metadata()
