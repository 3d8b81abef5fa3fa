"""The edit journal: an append-only record of one apply, on disk before anything is written.

A journal is a folder ``edit-<UTC time>-<id>/`` holding:

- ``journal.jsonl``: one JSON record per line, each flushed and fsynced before the step it announces
  (``plan``, ``preimages``, ``intent`` before each chunk, ``result`` after it, ``verify``, ``done``,
  ``rollback_start``, ``resume_start``..., ``revoked`` for token revocations). Every record carries
  ``chain``: the sha256 of the previous record's ``chain`` and its own content, so a record edited, removed
  or inserted later breaks the chain and the journal is refused (:class:`JournalError`);
- ``pre.jsonl``: the raw XML of every component as read just before the first write (the backups), one
  ``{"i": n, "xml": "..."}`` line per component (one file, one fsync: 500 backups cost one disk flush);
- ``post.jsonl``: what each component is meant to be after the edit, the same way;
- ``verified.jsonl``: what each verification read back (``{"sha": digest, "xml": ...}``, by digest).

The ``preimages`` record holds the sha256 of every pre- and post-image and each ``verify`` record the
digest of what it read back: an image that does not match its digest is refused. The chain is a check of
integrity (a hand edit, a truncated file), not a signature.

A journal's **state** (:func:`journal_state`) follows from its records: ``planned`` (no pre-images: nothing
written), ``applying`` (an apply or resume started and did not finish: interrupted), ``applied`` (finished,
every component as intended), ``partial`` (finished, some not), ``rolling back`` (a rollback started and
did not finish), ``rolled back`` (finished, every component as before), ``rollback partial`` (finished, some
refused or failed).

No secret is ever written: components are read without their secret leaves, and revoked tokens are recorded
by user and dates, never by token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ToolkitError

JOURNAL_FILE = "journal.jsonl"
DEFAULT_DIR = "out/edits"
IMAGE_KINDS = ("pre", "post", "verified")
# statuses of a component that ended as the phase meant it to
GOOD = frozenset({"applied", "already applied", "restored", "unchanged", "no-op"})
STATES = ("planned", "applying", "applied", "partial", "rolling back", "rolled back", "rollback partial")
MAX_LINE = 64 * 1024 * 1024


class JournalError(ToolkitError):
    """A journal that cannot be read or written, or that fails its checks (edited, truncated...)."""


def digest(data: bytes) -> str:
    """The sha256 of bytes, hex.

    >>> digest(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def _chain(prev: str, record: dict[str, Any]) -> str:
    body = json.dumps(record, sort_keys=True, ensure_ascii=True, default=str)
    return digest((prev + "\n" + body).encode("utf-8"))


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


def _heal(path: Path) -> None:
    """Cut a torn last line (a crash while writing it: never complete, nothing was done after it) before
    appending, so the next record starts on its own line."""
    try:
        size = path.stat().st_size
    except OSError:
        return
    if not size:
        return
    with open(path, "rb+") as fh:
        fh.seek(max(0, size - MAX_LINE))
        tail = fh.read()
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        fh.truncate(size - len(tail) + cut + 1 if cut >= 0 else max(0, size - len(tail)))
        fh.flush()
        os.fsync(fh.fileno())


def _lines(path: Path, what: str) -> list[dict[str, Any]]:
    """The JSON objects of a ``.jsonl`` file; only a torn LAST line (a crash while writing it) is ignored."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    raw = data.split(b"\n")
    torn_ok = not data.endswith(b"\n")  # a complete file ends with a newline; a crash can leave it torn
    out: list[dict[str, Any]] = []
    last = len(raw) - 1
    for n, line in enumerate(raw):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
            if not isinstance(rec, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError):
            if n == last and torn_ok:
                break
            raise JournalError(
                f"{path}: line {n + 1} of the {what} is not a JSON record; the journal was edited or "
                "damaged (only a torn last line, as a crash leaves, is ignored); nothing was done"
            ) from None
        out.append(rec)
    return out


class Journal:
    """One journal folder (see the module doc).

    >>> import tempfile
    >>> j = Journal.create(tempfile.mkdtemp(), prefix="edit")
    >>> j.append({"type": "plan", "n": 1}); j.records()[0]["type"]
    'plan'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._last: str | None = None  # the chain of the last record (None: not read yet)
        self._images: dict[str, dict[Any, bytes]] = {}
        self._records: list[dict[str, Any]] | None = None  # checked records, kept current by append()

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
        journal = cls(path.absolute())
        journal._last, journal._records = "", []
        return journal

    @classmethod
    def open(cls, path: Any) -> Journal:
        """An existing journal folder (or its ``journal.jsonl``)."""
        if not isinstance(path, str | os.PathLike):
            raise JournalError(
                f"journal cannot be {type(path).__name__} {path!r:.60}; allowed: the path of a journal "
                "folder printed by --apply (out/edits/edit-...)"
            )
        if not os.fspath(path).strip():
            raise JournalError(
                "the journal path is empty; allowed: the path of a journal folder printed by --apply "
                "(out/edits/edit-...)"
            )
        p = Path(path)
        if p.is_file() and p.name == JOURNAL_FILE:
            p = p.parent
        if not (p / JOURNAL_FILE).is_file():
            raise JournalError(
                f"{p}: not an edit journal (no {JOURNAL_FILE}); allowed: a folder printed by --apply"
            )
        return cls(p.absolute())

    def append(self, record: dict[str, Any]) -> None:
        """Add a record (chained to the previous one); it is on disk (fsynced) when this returns."""
        with self._lock:
            if self._last is None:
                recs = self.records()
                _heal(self.path / JOURNAL_FILE)
                self._last = str(recs[-1].get("chain", "")) if recs else ""
            record = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), **record}
            record.pop("chain", None)
            record["chain"] = _chain(self._last, record)
            line = json.dumps(record, sort_keys=False, default=str) + "\n"
            with open(self.path / JOURNAL_FILE, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self._last = record["chain"]
            if self._records is not None:
                self._records.append(json.loads(line))

    def write_images(self, kind: str, images: dict[int, bytes]) -> dict[str, str]:
        """``pre.jsonl``, ``post.jsonl`` or ``verified.jsonl``: every image, on disk (fsynced) when this
        returns; their digests by index (``verified`` images are found by digest)."""
        path = self.path / f"{kind}.jsonl"
        out: dict[str, str] = {}
        _heal(path)
        with open(path, "a", encoding="utf-8") as fh:
            for i, data in sorted(images.items()):
                sha = digest(data)
                out[str(i)] = sha
                line: dict[str, Any] = {"sha": sha} if kind == "verified" else {"i": i}
                try:
                    line["xml"] = data.decode("utf-8")
                except UnicodeDecodeError:
                    line["b64"] = base64.b64encode(data).decode()
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(self.path)
        self._images.pop(kind, None)
        return out

    def _image_file(self, kind: str) -> dict[Any, bytes]:
        cache = self._images.get(kind)
        if cache is None:
            cache = {}
            path = self.path / f"{kind}.jsonl"
            if path.is_file():
                for rec in _lines(path, f"{kind}-images file"):
                    try:
                        raw = rec["xml"].encode("utf-8") if "xml" in rec else base64.b64decode(rec["b64"])
                        cache[rec["sha"] if kind == "verified" else int(rec["i"])] = raw
                    except (KeyError, ValueError, TypeError, AttributeError):
                        raise JournalError(
                            f"{path}: an image line without its index and XML; the journal was edited or "
                            "damaged; nothing was done"
                        ) from None
            self._images[kind] = cache
        return cache

    def blob(self, kind: str, index: int) -> bytes | None:
        """The pre- or post-image of component ``index`` (None when the journal has none).

        An image that does not match the digest the ``preimages`` record holds for it is refused."""
        value = self._image_file(kind).get(index)
        if value is None:
            return None
        expected = self.image_digests(kind).get(str(index))
        if expected != digest(value):
            raise JournalError(
                f"{self.path}: the {kind}-image of component {index} does not match its digest in the "
                "journal (edited or damaged); nothing was done"
            )
        return value

    def verified(self, sha: str) -> bytes | None:
        """What a verification read back, by its digest (None when absent or not matching)."""
        value = self._image_file("verified").get(sha)
        return value if value is not None and digest(value) == sha else None

    def image_digests(self, kind: str) -> dict[str, str]:
        for rec in self.records():
            if rec.get("type") == "preimages":
                found = (rec.get("digests") or {}).get(kind) or {}
                return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
        return {}

    def records(self) -> list[dict[str, Any]]:
        """Every record, the chain checked; a torn last line (the process died while writing it) is
        ignored, any other bad line is a :class:`JournalError`."""
        if self._records is not None:
            return list(self._records)
        path = self.path / JOURNAL_FILE
        out = _lines(path, "journal")
        prev = ""
        for n, rec in enumerate(out):
            rec = dict(rec)
            chain = rec.pop("chain", None)
            if not isinstance(chain, str) or chain != _chain(prev, rec):
                what = "has no digest chain" if chain is None else "does not match the digest chain"
                raise JournalError(
                    f"{path}: record {n + 1} ({str(rec.get('type'))[:40]}) {what}: the journal was edited, "
                    "cut or written by an older toolkit; nothing was done"
                )
            prev = chain
        self._records = out
        return list(out)

    def plan_record(self) -> dict[str, Any]:
        records = self.records()
        if not records or records[0].get("type") != "plan":
            raise JournalError(f"{self.path}: the journal has no plan record; nothing was written by it")
        return records[0]

    def __str__(self) -> str:
        return str(self.path)


# --- the journal's state ---------------------------------------------------------------------------------
def journal_state(records: list[dict[str, Any]]) -> str:
    """The state of a journal from its records (see the module doc).

    >>> journal_state([{"type": "plan"}])
    'planned'
    >>> journal_state([{"type": "plan"}, {"type": "preimages"}, {"type": "intent", "phase": "apply"}])
    'applying'
    >>> journal_state([{"type": "plan"}, {"type": "preimages"},
    ...                {"type": "done", "phase": "apply", "statuses": {"0": "applied"}}])
    'applied'
    >>> journal_state([{"type": "plan"}, {"type": "preimages"}, {"type": "rollback_start"},
    ...                {"type": "done", "phase": "rollback", "statuses": {"0": "restored"}}])
    'rolled back'
    """
    state = "planned"
    for r in records:
        kind, phase = r.get("type"), r.get("phase")
        if kind == "preimages" or kind == "resume_start":
            state = "applying"
        elif kind == "rollback_start":
            state = "rolling back"
        elif kind == "done" and phase in ("apply", "resume", "rollback"):
            statuses = r.get("statuses") or {}
            good = isinstance(statuses, dict) and all(s in GOOD for s in statuses.values())
            if phase == "rollback":
                state = "rolled back" if good else "rollback partial"
            else:
                state = "applied" if good else "partial"
    return state


def _int_list(value: Any, what: str, path: Path, n: int) -> list[int]:
    if isinstance(value, dict):
        value = list(value)
    if not isinstance(value, list):
        raise JournalError(f"{path}: {what} is {type(value).__name__}; allowed: a list of component indices")
    out = []
    for v in value:
        try:
            i = int(v)
        except (TypeError, ValueError):
            i = -1
        if not 0 <= i < n or isinstance(v, bool):
            raise JournalError(
                f"{path}: {what} names component {v!r:.40}, not in the plan (0..{n - 1}); the journal was "
                "edited or damaged; nothing was done"
            )
        out.append(i)
    return out


def check_journal(journal: Journal, types: frozenset[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records and the plan record of an edit journal, after checking its shape: a plan first, every
    component with an index, a known type and a name, every index a record names is a planned component, and
    every written one was announced by the ``preimages`` record. A :class:`JournalError` names what is
    wrong."""
    records = journal.records()
    path = journal.path / JOURNAL_FILE
    plan = journal.plan_record()
    target, comps = plan.get("target"), plan.get("components")
    if plan.get("kind") == "revoke":
        return records, plan
    if not isinstance(target, dict) or not all(isinstance(target.get(k), str) for k in ("kind", "origin")):
        raise JournalError(f"{path}: the plan record has no target kind and origin; nothing was done")
    if target["kind"] not in ("org", "folder"):
        raise JournalError(f"{path}: target kind {target['kind']!r:.40} not allowed; allowed: org, folder")
    if not isinstance(comps, list):
        raise JournalError(f"{path}: the plan record has no component list; nothing was done")
    for n, c in enumerate(comps):
        ok = (
            isinstance(c, dict)
            and c.get("i") == n
            and c.get("type") in types
            and isinstance(c.get("name"), str)
            and c["name"]
            and isinstance(c.get("app"), str)
            and isinstance(c.get("file", ""), str)
        )
        if not ok:
            raise JournalError(
                f"{path}: planned component {n} is {json.dumps(c, default=str)[:120]}; allowed: "
                f"{{i: {n}, type: one of {', '.join(sorted(types))}, name, app, file}}; nothing was done"
            )
    size = len(comps)
    written: set[int] | None = None
    for r in records[1:]:
        kind = r.get("type")
        if kind == "preimages":
            items = _int_list(r.get("items", []), "the preimages record", path, size)
            written = set(_int_list(r.get("to_write", []), "the preimages record", path, size))
            if not written <= set(items):
                raise JournalError(f"{path}: the preimages record writes components it has no pre-image of")
        elif kind in ("intent", "result", "chunk_error", "verify", "rollback_start", "resume_start"):
            if "items" not in r and kind == "verify":
                continue
            items = _int_list(r.get("items", []), f"a {kind} record", path, size)
            if kind == "intent" and r.get("phase") in ("apply", "resume"):
                if written is None or not set(items) <= written:
                    raise JournalError(
                        f"{path}: an intent record writes components "
                        f"{sorted(set(items) - (written or set()))} that the preimages record"
                        " did not announce; "
                        "the journal was edited; "
                        "nothing was done"
                    )
        elif kind == "done":
            _int_list(r.get("statuses", {}), "a done record", path, size)
    return records, plan


__all__ = ["GOOD", "STATES", "Journal", "JournalError", "check_journal", "digest", "journal_state"]
