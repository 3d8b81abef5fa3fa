"""The edit journal: an append-only record of one apply, on disk before anything is written.

A journal is a folder ``edit-<UTC time>-<id>/`` holding:

- ``journal.jsonl``: one JSON record per line, each flushed and fsynced before the step it announces
  (``plan``, ``preimages``, ``intent`` before each chunk, ``result`` after it, ``verify``, ``done``,
  ``rollback``..., ``revoked`` for token revocations);
- ``pre.jsonl``: the raw XML of every component as read just before the first write (the backups), one
  ``{"i": n, "xml": "..."}`` line per component (one file, one fsync: 500 backups cost one disk flush);
- ``post.jsonl``: what each component is meant to be after the edit, the same way.

No secret is ever written: components are read without their secret leaves, and revoked tokens are recorded
by user and dates, never by token.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ToolkitError

JOURNAL_FILE = "journal.jsonl"
DEFAULT_DIR = "out/edits"


class JournalError(ToolkitError):
    """A journal that cannot be read or written."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Journal:
    """One journal folder (see the module doc).

    >>> import tempfile
    >>> j = Journal.create(tempfile.mkdtemp(), prefix="edit")
    >>> j.append({"type": "plan", "n": 1}); j.records()[0]["type"]
    'plan'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, base: str | Path | None, prefix: str = "edit") -> Journal:
        root = Path(base or DEFAULT_DIR)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = root / f"{prefix}-{stamp}-{secrets.token_hex(3)}"
        try:
            path.mkdir(parents=True, exist_ok=False)
        except OSError as exc:
            raise JournalError(
                f"{path}: cannot create the journal ({exc.strerror}); nothing was written"
            ) from None
        _fsync_dir(root)
        return cls(path)

    @classmethod
    def open(cls, path: str | Path) -> Journal:
        p = Path(path)
        if p.is_file() and p.name == JOURNAL_FILE:
            p = p.parent
        if not (p / JOURNAL_FILE).is_file():
            raise JournalError(
                f"{p}: not an edit journal (no {JOURNAL_FILE}); allowed: a folder printed by --apply"
            )
        return cls(p)

    def append(self, record: dict[str, Any]) -> None:
        """Add a record; it is on disk (fsynced) when this returns."""
        record = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), **record}
        line = json.dumps(record, sort_keys=False, default=str) + "\n"
        with open(self.path / JOURNAL_FILE, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def write_images(self, kind: str, images: dict[int, bytes]) -> None:
        """``pre.jsonl`` or ``post.jsonl``: every component's XML, on disk (fsynced) when this returns."""
        path = self.path / f"{kind}.jsonl"
        with open(path, "a", encoding="utf-8") as fh:
            for i, data in sorted(images.items()):
                try:
                    line = {"i": i, "xml": data.decode("utf-8")}
                except UnicodeDecodeError:
                    line = {"i": i, "b64": base64.b64encode(data).decode()}
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(self.path)
        self.__dict__.pop(f"_{kind}", None)

    def blob(self, kind: str, index: int) -> bytes | None:
        """The pre- or post-image of component ``index`` (None when the journal has none)."""
        cache = self.__dict__.get(f"_{kind}")
        if cache is None:
            cache = {}
            path = self.path / f"{kind}.jsonl"
            if path.is_file():
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a torn last line: never complete, and nothing was written after it
                    raw = rec["xml"].encode("utf-8") if "xml" in rec else base64.b64decode(rec["b64"])
                    cache[int(rec["i"])] = raw
            self.__dict__[f"_{kind}"] = cache
        value: bytes | None = cache.get(index)
        return value

    def records(self) -> list[dict[str, Any]]:
        """Every record; a torn last line (the process died while writing it) is ignored."""
        out = []
        with open(self.path / JOURNAL_FILE, encoding="utf-8") as fh:
            for line in fh:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def plan_record(self) -> dict[str, Any]:
        for rec in self.records():
            if rec.get("type") == "plan":
                return rec
        raise JournalError(f"{self.path}: the journal has no plan record; nothing was written by it")

    def __str__(self) -> str:
        return str(self.path)
