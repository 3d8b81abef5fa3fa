"""The edit journal: an append-only record of one apply, on disk before anything is written.

A journal is a folder ``edit-<UTC time>-<id>/`` holding:

- ``journal.jsonl``: one JSON record per line, each flushed and fsynced before the step it announces
  (``plan``, ``preimages``, ``intent`` before each chunk, ``result`` after it, ``verify``, ``done``,
  ``rollback``..., ``revoked`` for token revocations);
- ``pre/<i>.xml``: the raw bytes of component ``i`` as read just before the first write (the backup);
- ``post/<i>.xml``: what component ``i`` is meant to be after the edit.

No secret is ever written: components are read without their secret leaves, and revoked tokens are recorded
by user and dates, never by token.
"""

from __future__ import annotations

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
            (path / "pre").mkdir(parents=True, exist_ok=False)
            (path / "post").mkdir()
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

    def write_blob(self, folder: str, index: int, data: bytes) -> None:
        """``pre/<i>.xml`` or ``post/<i>.xml`` (fsynced; call :meth:`sync` once after a batch)."""
        with open(self.path / folder / f"{index}.xml", "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def sync(self) -> None:
        for sub in ("pre", "post", "."):
            _fsync_dir(self.path / sub)

    def blob(self, folder: str, index: int) -> bytes | None:
        p = self.path / folder / f"{index}.xml"
        return p.read_bytes() if p.is_file() else None

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
