"""Mobile SDK boot configuration files: iOS ``bootconfig.plist``, Android ``res/values/bootconfig.xml`` (and
``res/xml/servers.xml``), hybrid ``bootconfig.json`` (domain notes §5.1).

Each file becomes one :class:`BootConfig`: consumer key, callback (``oauthRedirectURI``), the scopes it asks
for (None when the file asks for none: the app then gets every scope of the connected app, Mobile SDK 13.2+),
and the login servers of ``servers.xml``. Template placeholders (``__INSERT_CONSUMER_KEY_HERE__``) are kept
and flagged, never matched.

>>> cfg = parse_bootconfig_text('{"remoteAccessConsumerKey": "3MVG9X", "oauthRedirectURI": "myapp://done",'
...                             ' "oauthScopes": ["web", "api"]}', "www/bootconfig.json")
>>> cfg.platform, cfg.consumer_key, cfg.callback, cfg.scopes
('hybrid', '3MVG9X', 'myapp://done', ('web', 'api'))
"""

from __future__ import annotations

import json
import plistlib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import SourceError

PLACEHOLDER = "__INSERT_"
NAMES = ("bootconfig.plist", "bootconfig.xml", "bootconfig.json", "servers.xml")


@dataclass(frozen=True)
class BootConfig:
    """One Mobile SDK configuration file, as read."""

    path: str
    platform: str  # ios | android | hybrid | android-servers
    consumer_key: str | None = None
    callback: str | None = None
    scopes: tuple[str, ...] | None = None
    servers: tuple[tuple[str, str], ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def placeholder(self) -> bool:
        return any(v and PLACEHOLDER in v for v in (self.consumer_key, self.callback))


def parse_bootconfig(path: str | Path) -> BootConfig:
    """Read one file; :class:`SourceError` (naming the file) when it is not a bootconfig it knows."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise SourceError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_bootconfig_text(data, str(p))


def parse_bootconfig_text(data: bytes | str, path: str) -> BootConfig:
    raw = data.encode() if isinstance(data, str) else data
    head = raw.lstrip()[:200]
    if path.endswith(".json") or head.startswith(b"{"):
        return _json(raw, path)
    if path.endswith(".plist") or b"<plist" in head or b"<!DOCTYPE plist" in head:
        return _plist(raw, path)
    return _android(raw, path)


def _json(raw: bytes, path: str) -> BootConfig:
    try:
        doc = json.loads(raw)
    except RecursionError:
        raise SourceError(
            f"{path}: not a usable bootconfig.json: nested too deeply; allowed: a flat object"
        ) from None
    except ValueError as exc:
        raise SourceError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise SourceError(f"{path}: a bootconfig.json is an object with remoteAccessConsumerKey...")
    return _config(path, "hybrid", doc)


def _plist(raw: bytes, path: str) -> BootConfig:
    try:
        doc = plistlib.loads(raw)
    except RecursionError:
        raise SourceError(
            f"{path}: not a usable property list: nested too deeply; allowed: a flat <dict>"
        ) from None
    except Exception as exc:  # plistlib raises ExpatError, AttributeError... on malformed input
        raise SourceError(f"{path}: not a valid property list: {exc}") from None
    if not isinstance(doc, dict):
        raise SourceError(f"{path}: a bootconfig.plist holds a <dict>")
    return _config(path, "ios", doc)


def _android(raw: bytes, path: str) -> BootConfig:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{path}:{exc.lineno}: not valid XML: {exc.msg}") from None
    if root.tag == "servers":
        servers = tuple((str(s.get("name") or ""), str(s.get("url") or "")) for s in root.iter("server"))
        return BootConfig(path, "android-servers", servers=servers)
    if root.tag != "resources":
        raise SourceError(f"{path}: expected <resources> (bootconfig.xml) or <servers>, found <{root.tag}>")
    values: dict[str, object] = {}
    for el in root:
        name = el.get("name") if isinstance(el.tag, str) else None
        if not name:
            continue
        if el.tag == "string-array":
            values[name] = [str(i.text or "").strip() for i in el.iter("item")]
        else:
            values[name] = str(el.text or "").strip()
    return _config(path, "android", values)


def _config(path: str, platform: str, doc: dict[str, object]) -> BootConfig:
    try:
        return _config_of(path, platform, doc)
    except RecursionError:
        raise SourceError(
            f"{path}: a value is nested too deeply; allowed: text, numbers, lists of text"
        ) from None


def _config_of(path: str, platform: str, doc: dict[str, object]) -> BootConfig:
    scopes = doc.get("oauthScopes")
    return BootConfig(
        path=path,
        platform=platform,
        consumer_key=_str(doc.get("remoteAccessConsumerKey")),
        callback=_str(doc.get("oauthRedirectURI")),
        scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else None,
        extra={
            k: str(v)
            for k, v in doc.items()
            if k not in ("remoteAccessConsumerKey", "oauthRedirectURI", "oauthScopes")
        },
    )


def _str(value: object) -> str | None:
    return str(value).strip() if value not in (None, "") else None


def find_bootconfigs(paths: list[str | Path]) -> list[Path]:
    """The files given, and every bootconfig/servers file under the folders given (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.name.endswith(NAMES))
        elif p.is_file():
            out.append(p)
        else:
            raise SourceError(f"{p}: no such file or folder")
    return out
