"""Apply, verify, roll back and resume a bulk edit, with a journal (see :mod:`toolkit.edits.journal`).

Apply: the journal path is known (and reported) first; a fresh read of every component refuses those changed
since the plan (stale) unless forced; the fresh bytes are the pre-images, written and fsynced before the first
write; ``updateMetadata`` in chunks of 10 of one type, each announced by an ``intent`` record and closed by a
``result`` record (per-item SaveResults); a final read verifies that each component is exactly what was
intended (the edited leaves changed, nothing else). A component whose chunk has an intent but no result (the
process died, the connection dropped) is *in doubt*: resume and rollback settle it by reading it again.

An app is written all or nothing: when one of its components fails (a failed SaveResult, a call that failed,
a component not attempted) while others of the same app were written, those are written back to their
pre-images at once (phase ``autorollback``, verified) and reported ``rolled back automatically``.

Test hook (tests only): ``TOOLKIT_TEST_CRASH_AT=STEP[:N]`` ends the process (``os._exit(137)``, as a
SIGKILL would) at the N-th (default first) pass of STEP: ``plan`` (after the plan record), ``preimages``
(after the image files, before their record), ``intent`` (after an intent record), ``write`` (after a write
call returned, before its result record), ``result`` (after a result record), ``verify`` (after the verify
read, before its record).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ArgumentError, MetadataParseError, OrgError, SourceError, ToolkitError
from ..model.catalog import ECA_FAMILY
from ..model.document import MetadataDocument
from .journal import GOOD, Journal, JournalError, check_journal, journal_state
from .plan import ComponentPlan, EditPlan, Op, PlanHasProblems
from .targets import FolderTarget, Key, OrgTarget, Target, in_chunks, key_text, target_for

RESULT_COLUMNS = ["app", "component", "status", "message"]
# statuses: applied, already applied, restored, unchanged | failed, stale, in doubt, verify failed,
# not attempted
Progress = Callable[[str], None] | None
TYPES = frozenset(ECA_FAMILY | {"ConnectedApp"})
AUTO = "rolled back automatically"
# a component in one of these states leaves its app unfinished: the app's written components are undone
APP_FAILED = frozenset({"failed", "not applied", "not attempted", "verify failed"})
_crash_lock = threading.Lock()
_crash_seen: dict[str, int] = {}


def _crash_point(step: str) -> None:
    """The test hook of the module doc: ``TOOLKIT_TEST_CRASH_AT=step[:n]`` ends the process there."""
    wanted = os.environ.get("TOOLKIT_TEST_CRASH_AT", "")
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != step:
        return
    with _crash_lock:
        _crash_seen[step] = _crash_seen.get(step, 0) + 1
        if _crash_seen[step] == (int(count) if count.isdigit() else 1):
            os._exit(137)


@dataclass
class EditResult:
    """What an apply/rollback/resume did: the journal, one row per component, and the exit code it means.

    ``state`` is the journal's state afterwards (:func:`~toolkit.edits.journal.journal_state`); ``note`` says
    why nothing was done, when nothing was (a rollback of a rolled-back journal...)."""

    journal: str
    results: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RESULT_COLUMNS))
    grants: pd.DataFrame = field(default_factory=pd.DataFrame)
    state: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        """True when every component ended as intended."""
        statuses = list(self.results["status"]) + (
            list(self.grants["status"]) if "status" in self.grants else []
        )
        return all(s in GOOD for s in statuses)

    @property
    def exit_code(self) -> int:
        """0 everything as intended, 3 partial (some failed, stale or in doubt: the journal says which)."""
        return 0 if self.ok else 3

    def summary(self) -> str:
        counts = self.results["status"].value_counts().to_dict() if len(self.results) else {}
        text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to do"
        undone = sorted({str(r["app"]) for r in self.results.to_dict("records") if r["status"] == AUTO})
        if undone:
            text += f"; not applied, {AUTO} (an app is written all or nothing): {', '.join(undone[:10])}" + (
                f" and {len(undone) - 10} more" if len(undone) > 10 else ""
            )
        if self.note:
            text = f"{self.note}" if not len(self.results) else f"{text}; {self.note}"
        return text + (f" (journal state: {self.state})" if self.state else "")


def _say(progress: Progress, text: str) -> None:
    if progress is not None:
        progress(text)


class _Run:
    """State of one apply/resume/rollback: statuses by component index, journal writes."""

    def __init__(
        self, journal: Journal, target: Target, components: list[dict[str, Any]], progress: Progress
    ):
        self.journal, self.target, self.components, self.progress = journal, target, components, progress
        self.status: dict[int, tuple[str, str]] = {}

    def key(self, i: int) -> Key:
        c = self.components[i]
        return (c["type"], c["name"])

    def write_chunks(self, docs: dict[int, MetadataDocument], phase: str) -> bool:
        """Write in chunks (intent before, result after), a few chunks in flight at once (the target says how
        many); False when a call failed for good: chunks not started by then are skipped (not attempted)."""
        chunks = in_chunks(sorted(docs), self.target.chunk_size, key=lambda i: self.components[i]["type"])
        lock = threading.Lock()
        failures: list[str] = []
        done = [0]

        def one(n: int, chunk: list[int]) -> None:
            with lock:
                if failures:
                    for i in chunk:
                        self.status[i] = ("not attempted", f"stopped after an earlier failure: {failures[0]}")
                    return
                self.journal.append({"type": "intent", "phase": phase, "chunk": n, "items": chunk})
                _crash_point("intent")
            try:
                results = self.target.write([docs[i] for i in chunk])
            except OrgError as exc:
                message = str(exc)
                with lock:
                    failures.append(message)
                    self.journal.append(
                        {
                            "type": "chunk_error",
                            "phase": phase,
                            "chunk": n,
                            "items": chunk,
                            "message": message,
                        }
                    )
                    for i in chunk:
                        self.status[i] = ("in doubt", f"the write call failed ({message}); re-read to settle")
                    _say(self.progress, f"{phase}: chunk {n + 1}/{len(chunks)} failed: {message}")
                return
            with lock:
                _crash_point("write")
                record = {}
                for i, res in zip(chunk, results, strict=True):
                    record[str(i)] = {"ok": res.ok, "message": res.message}
                    self.status[i] = ("written", "") if res.ok else ("failed", res.message)
                self.journal.append({"type": "result", "phase": phase, "chunk": n, "items": record})
                _crash_point("result")
                done[0] += len(chunk)
                _say(self.progress, f"{phase}: {done[0]}/{len(docs)} components written")

        workers = max(1, min(self.target.parallel_writes, len(chunks)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edit-write") as pool:
            list(pool.map(one, range(len(chunks)), chunks))
        return not failures

    def verify(
        self, expected: dict[int, MetadataDocument], pre: dict[int, bytes], phase: str, good: str = "applied"
    ) -> None:
        """Read back every component of ``expected`` and settle its status (intended, as before, neither).

        What was read back is kept (``verified.jsonl``, by digest, named by the verify record's
        ``read_back``): a rollback compares the org with what was actually left."""
        indices = [i for i in expected if self.status.get(i, ("", ""))[0] in ("written", "in doubt")]
        if not indices:
            return
        try:
            fresh = self.target.read([self.key(i) for i in indices])
        except OrgError as exc:
            for i in indices:
                if self.status[i][0] == "written":
                    self.status[i] = ("in doubt", f"written, but the verification read failed: {exc}")
            self.journal.append({"type": "verify", "phase": phase, "error": str(exc)})
            return
        _crash_point("verify")
        record = {}
        for i in indices:
            raw = fresh.get(self.key(i))
            now = self.target.document(self.key(i), raw) if raw is not None else None
            was = self.status[i][0]
            if now is not None and same(now, expected[i]):
                self.status[i] = (
                    good,
                    "verified by reading back" + (" (was in doubt)" if was == "in doubt" else ""),
                )
            elif (
                now is not None
                and pre.get(i) is not None
                and same(now, self.target.document(self.key(i), pre[i]))
            ):
                self.status[i] = (
                    "failed" if was == "written" else "not applied",
                    "read back unchanged" + ("" if was == "written" else " (the call did not land)"),
                )
            else:
                diff = [c.path for c in expected[i].diff(now)] if now is not None else ["(missing)"]
                self.status[i] = (
                    "verify failed",
                    f"read back differs from the intended XML at {', '.join(diff[:5])}",
                )
            record[str(i)] = self.status[i][0]
        back = {i: raw for i in indices if (raw := fresh.get(self.key(i))) is not None}
        shas = self.journal.write_images("verified", back) if back else {}
        self.journal.append({"type": "verify", "phase": phase, "items": record, "read_back": shas})

    def undo_unfinished_apps(self, pre: dict[int, bytes], phase: str) -> None:
        """An app is written all or nothing: when one of its components failed (or was not attempted) while
        others were written, write those back to their pre-images (phase ``autorollback``, verified)."""
        by_app: dict[str, list[int]] = {}
        for i in self.status:
            by_app.setdefault(self.components[i]["app"], []).append(i)
        undo: dict[int, MetadataDocument] = {}
        reasons: dict[int, str] = {}
        for items in by_app.values():
            bad = [i for i in items if self.status[i][0] in APP_FAILED]
            done = [i for i in items if self.status[i][0] == "applied" and i in pre]
            if not bad or not done:
                continue
            why = "; ".join(
                f"{key_text(self.key(i))}: {self.status[i][0]} ({self.status[i][1]})" for i in bad
            )
            for i in bad:
                s, m = self.status[i]
                self.status[i] = (s, f"{m}; the app's other components were {AUTO}")
            for i in done:
                undo[i] = self.target.document(self.key(i), pre[i])
                reasons[i] = why
                self.status[i] = ("written", "")
        if not undo:
            return
        _say(
            self.progress,
            f"{phase}: {len(undo)} components of {len({self.components[i]['app'] for i in undo})} "
            "half-written apps are written back to their pre-images",
        )
        self.journal.append({"type": "autorollback_start", "phase": phase, "items": sorted(undo)})
        self.write_chunks(undo, "autorollback")
        self.verify(undo, {}, "autorollback", good=AUTO)
        for i in undo:
            s, m = self.status[i]
            if s == AUTO:
                self.status[i] = (s, f"not applied: another component of the app did not apply: {reasons[i]}")
            else:
                self.status[i] = (s, f"{m}; automatic rollback of the half-written app failed ({reasons[i]})")

    def table(self) -> pd.DataFrame:
        rows = [
            {"app": self.components[i]["app"], "component": key_text(self.key(i)), "status": s, "message": m}
            for i, (s, m) in sorted(self.status.items())
        ]
        return pd.DataFrame(rows, columns=RESULT_COLUMNS)

    def done(self, phase: str) -> None:
        self.journal.append(
            {"type": "done", "phase": phase, "statuses": {str(i): s for i, (s, _) in self.status.items()}}
        )


def same(a: MetadataDocument, b: MetadataDocument) -> bool:
    """Equal content (every leaf, in order), whatever the layout."""
    return a.to_bytes() == b.to_bytes() or not a.diff(b)


def apply_plan(
    plan: EditPlan,
    *,
    journal_dir: str | None = None,
    force_stale: bool = False,
    progress: Progress = None,
    on_journal: Callable[[str], None] | None = None,
    fresh_read: bool = True,
) -> EditResult:
    """Write a plan (see the module doc). Raises :class:`PlanHasProblems` before anything when it has any.

    ``fresh_read=False``: the plan's raw bytes are the pre-images (its own read was the fresh read).
    """
    if plan.problem_rows:
        raise PlanHasProblems(plan.problems)
    target = plan.target
    journal = Journal.create(journal_dir)
    if on_journal is not None:
        on_journal(str(journal))
    _say(progress, f"journal: {journal}")
    comps = list(plan.components.values())
    components = [
        {
            "i": i,
            "type": c.key[0],
            "name": c.key[1],
            "app": c.app,
            "ops": [o.to_json() for o in c.ops],
            "file": str(absolute(target.paths[c.key]))
            if isinstance(target, FolderTarget) and c.key in target.paths
            else "",
        }
        for i, c in enumerate(comps)
    ]
    journal.append(
        {
            "type": "plan",
            "target": target.describe(),
            "changes": [s.text + (f" @{s.app}" if s.app else "") for s in plan.specs],
            "components": components,
            "grants": [g.__dict__ for g in plan.grants],
        }
    )
    _crash_point("plan")
    run = _Run(journal, target, components, progress)
    if fresh_read:
        fresh = target.read([c.key for c in comps]) if comps else {}
    else:
        fresh = {c.key: c.raw for c in comps}
    to_write: dict[int, MetadataDocument] = {}
    pre: dict[int, bytes] = {}
    for i, comp in enumerate(comps):
        cur = fresh.get(comp.key)
        if cur is None:
            run.status[i] = ("failed", "the component no longer exists or cannot be read; nothing written")
            continue
        pre[i] = cur
        decided = _decide(target, comp, cur, force_stale)
        if isinstance(decided, tuple):
            run.status[i] = decided
            continue
        to_write[i] = decided
    _hold_unfinished_apps(run, to_write)
    digests = {
        "pre": journal.write_images("pre", pre),
        "post": journal.write_images("post", {i: d.to_bytes() for i, d in to_write.items()}),
    }
    _crash_point("preimages")
    journal.append(
        {"type": "preimages", "items": sorted(pre), "to_write": sorted(to_write), "digests": digests}
    )
    _say(progress, f"pre-images of {len(pre)} components saved; writing {len(to_write)}")
    if to_write:
        run.write_chunks(to_write, "apply")
        run.verify(to_write, pre, "apply")
        run.undo_unfinished_apps(pre, "apply")
    grants = _apply_grants(plan, journal, progress)
    run.done("apply")
    return EditResult(str(journal), run.table(), grants, state=journal_state(journal.records()))


def _hold_unfinished_apps(run: _Run, to_write: dict[int, MetadataDocument]) -> None:
    """An app with a component that cannot be written (stale, unreadable) is not written at all."""
    for i in list(to_write):
        app = run.components[i]["app"]
        blocked = [
            j
            for j, (s, _) in run.status.items()
            if run.components[j]["app"] == app and s in APP_FAILED | {"stale"}
        ]
        if blocked:
            del to_write[i]
            j = blocked[0]
            run.status[i] = (
                "not attempted",
                f"{key_text(run.key(j))} of the same app is {run.status[j][0]}; "
                "an app is written all or nothing",
            )


def absolute(path: Path) -> Path:
    """A file's absolute path, its folders resolved (symlinks too), the file name kept (it may be a link).

    >>> absolute(Path("/tmp/../tmp/x.xml")).name
    'x.xml'
    """
    return Path(os.path.abspath(path)).parent.resolve() / Path(path).name


def _decide(
    target: Target, comp: ComponentPlan, cur: bytes, force: bool
) -> MetadataDocument | tuple[str, str]:
    if cur == comp.raw:
        return comp.after
    now = target.document(comp.key, cur)
    if same(now, comp.after):
        return ("already applied", "the component already has the intended values; nothing written")
    if same(now, comp.before):  # same content, other bytes (layout): still safe
        return comp.after
    changed = [c.path for c in comp.before.diff(now)]
    if not force:
        return (
            "stale",
            f"changed since the plan (at {', '.join(changed[:5])}); re-plan, or apply with "
            "force_stale=True / --force-stale",
        )
    try:
        doc = now
        for op in comp.ops:
            doc = op.apply(doc)
        return doc
    except ToolkitError as exc:
        return ("failed", f"changed since the plan and the change no longer applies: {exc}")


# --- grants ---------------------------------------------------------------------------------------------
def _apply_grants(plan: EditPlan, journal: Journal, progress: Progress) -> pd.DataFrame:
    # never raises: a grant that fails after the metadata writes is a journaled row (exit 3, partial)
    if not plan.grants:
        return pd.DataFrame()
    from .grants import apply_grants

    assert isinstance(plan.target, OrgTarget)
    return apply_grants(plan.target.org, plan.grants, journal, progress)


def _resume_grants(j: Journal, target: Target, rec: dict[str, Any], progress: Progress) -> pd.DataFrame:
    """Apply (or settle by reading) the planned grants the journal does not show done."""
    from .grants import apply_grants, open_grants

    left = open_grants(j, rec.get("grants") or [])
    if not left or not isinstance(target, OrgTarget):
        return pd.DataFrame()
    return apply_grants(target.org, left, j, progress, phase="resume")


# --- rollback and resume --------------------------------------------------------------------------------
def _open(journal: Any, source: Any) -> tuple[Journal, Target, dict[str, Any], list[dict[str, Any]]]:
    """The journal (checked: :func:`~toolkit.edits.journal.check_journal`), its target, plan and records.

    A folder journal's files must be the project's own files (under the folder given or recorded, folders
    and symlinks resolved): anything else is refused before anything is read or written."""
    j = Journal.open(journal)
    records, rec = check_journal(j, TYPES)
    if rec.get("kind") == "revoke":
        raise JournalError(
            f"{j.path}: a token revocation journal; revoked tokens cannot be restored (users "
            "authorize the app again); nothing was done"
        )
    described = rec["target"]
    if source is None:
        if described["kind"] != "folder":
            raise SourceError(
                f"{j.path}: this journal edited the org {described['origin']}; pass the org "
                "(rollback_edits(journal, org) / --org or --instance-url)"
            )
        source = described["origin"]
    target = target_for(source)
    if described["kind"] != target.kind or (
        target.kind == "folder" and Path(target.origin).resolve() != Path(described["origin"])
    ):
        raise SourceError(
            f"{j.path}: journal of {described['kind']} {described['origin']}, not of "
            f"{target.kind} {target.origin}"
        )
    if isinstance(target, FolderTarget):
        _folder_paths(j, target, rec["components"])
    elif described["origin"] != target.origin:
        raise SourceError(f"{j.path}: journal of the org {described['origin']}, not of {target.origin}")
    return j, target, rec, records


def _folder_paths(j: Journal, target: FolderTarget, components: list[dict[str, Any]]) -> None:
    root = Path(target.origin).resolve()
    target.load(None)  # where the project keeps each component now
    found = {k: absolute(p) for k, p in target.paths.items()}
    for c in components:
        key, file = (c["type"], c["name"]), c.get("file", "")
        path = absolute(Path(file)) if file and Path(file).is_absolute() else None
        where = f"{j.path}: {key_text(key)} (app {c['app']})"
        if path is None:
            raise JournalError(
                f"{where}: file {file!r:.200} is not an absolute path (a journal of an older toolkit, or "
                "edited); allowed: a file of the project; nothing was done"
            )
        if not path.parent.is_relative_to(root):
            raise JournalError(
                f"{where}: file {file} is not under the project {root}; a folder journal only writes the "
                "project's own files; nothing was done"
            )
        if key in found and found[key] != path:
            raise JournalError(
                f"{where}: the journal names the file {file}, the project keeps it in {found[key]}; "
                "nothing was done"
            )
        target.paths[key] = path


def _images(
    j: Journal, target: Target, components: list[dict[str, Any]], indices: Iterable[int]
) -> dict[int, tuple[bytes, MetadataDocument]]:
    """The pre-image and the intended document of each component, both checked: present, matching their
    digests, and of that component (type and fullName)."""
    out = {}
    for i in indices:
        c = components[i]
        key = (c["type"], c["name"])
        where = f"{j.path}: {key_text(key)} (app {c['app']})"
        pre, post = j.blob("pre", i), j.blob("post", i)
        if pre is None or post is None:
            raise JournalError(
                f"{where}: the journal has no {'pre' if pre is None else 'post'}-image of this written "
                "component (edited or damaged); nothing was done"
            )
        try:
            before, after = target.document(key, pre), _post_doc(target, key, post)
        except MetadataParseError as exc:
            raise JournalError(f"{where}: an image in the journal is not metadata XML ({exc})") from None
        for what, doc in (("pre", before), ("post", after)):
            name = doc.full_name if what == "pre" else (doc.get("fullName") or key[1])
            if doc.type_name != key[0] or name != key[1]:
                raise JournalError(
                    f"{where}: the {what}-image is {doc.type_name}:{name}, not this component (edited); "
                    "nothing was done"
                )
        out[i] = (pre, after)
    return out


NOT_WRITTEN = frozenset({"not applied", "stale", "failed", "not attempted"})


def _touched(records: list[dict[str, Any]]) -> set[int]:
    """Components an apply or resume wrote or may have written: announced by an ``intent``, and not settled
    as never written (``not applied``, ``stale``...) by a later ``done`` record."""
    out: set[int] = set()
    for r in records:
        if r.get("phase") not in ("apply", "resume"):
            continue
        if r.get("type") == "intent":
            out.update(int(i) for i in r["items"])
        elif r.get("type") == "done" and isinstance(r.get("statuses"), dict):
            out -= {int(i) for i, status in r["statuses"].items() if status in NOT_WRITTEN}
    return out


def _left(j: Journal, records: list[dict[str, Any]]) -> dict[int, list[bytes]]:
    """What each verification read back (what the toolkit actually left), by component."""
    out: dict[int, list[bytes]] = {}
    for r in records:
        shas = r.get("read_back") if r.get("type") == "verify" else None
        if isinstance(shas, dict):
            for i, sha in shas.items():
                data = j.verified(str(sha))
                if data is not None:
                    out.setdefault(int(i), []).append(data)
    return out


def _forced(force: Any, components: list[dict[str, Any]]) -> Callable[[int], bool]:
    if isinstance(force, bool):
        return lambda _i: force
    names = {force} if isinstance(force, str) else force
    if not isinstance(names, list | tuple | set | frozenset) or not all(isinstance(n, str) for n in names):
        raise ArgumentError(
            "force", force, "True, False, or app names / components (Type:Name) to overwrite although stale"
        )
    wanted = set(names)

    def forced(i: int) -> bool:
        c = components[i]
        return bool({c["app"], c["name"], f"{c['type']}:{c['name']}"} & wanted)

    return forced


def rollback_edits(
    journal: str | Path, source: Any = None, *, force: bool | Iterable[str] = False, progress: Progress = None
) -> EditResult:
    """Write back the pre-image of every component an apply (or resume) touched or may have touched; verify.

    A component changed by someone else since the edit (neither as before, as intended, nor as the
    verification read it back) is refused unless forced: ``force=True`` for all, or names of apps or
    components (``Type:Name``) for those only. Grants added or removed are reverted. Token revocations are
    never rolled back (they cannot be). ``source`` is the org (folders are found from the journal).
    A journal already rolled back, or with nothing written (``planned``), is a no-op saying so.
    """
    j, target, rec, records = _open(journal, source)
    components = rec["components"]
    forced = _forced(force, components)
    state = journal_state(records)
    if state in ("planned", "rolled back"):
        note = (
            "the journal is planned: the apply stopped before saving its pre-images, so nothing was written "
            "by it; nothing to roll back"
            if state == "planned"
            else "the journal is rolled back already; nothing to do"
        )
        return EditResult(str(j), state=state, note=note)
    touched = sorted(_touched(records))
    images = _images(j, target, components, touched)
    left = _left(j, records)
    run = _Run(j, target, components, progress)
    grants = pd.DataFrame()
    if isinstance(target, OrgTarget) and any(r.get("type") == "grant_intent" for r in j.records()):
        from .grants import rollback_grants

        # first: a grant shows in the app's metadata (profileName); undone, the component matches its
        # post-image again
        grants = rollback_grants(target.org, j, progress)
    j.append({"type": "rollback_start", "items": touched})
    fresh = target.read([run.key(i) for i in touched]) if touched else {}
    to_write: dict[int, MetadataDocument] = {}
    for i in touched:
        key, (pre, post) = run.key(i), images[i]
        cur = fresh.get(key)
        before = target.document(key, pre)
        if cur is None:
            run.status[i] = ("failed", "the component cannot be read now; nothing written")
            continue
        now = target.document(key, cur)
        if cur == pre or same(now, before):
            run.status[i] = ("unchanged", "already as before the edit")
            continue
        ours = same(now, post) or any(cur == b or same(now, target.document(key, b)) for b in left.get(i, []))
        if not ours and not forced(i):
            run.status[i] = (
                "stale",
                "changed by someone else since the edit (neither as before, as intended, nor as the "
                "verification read it back); not rolled back (force=[this app] / --force-stale to overwrite)",
            )
            continue
        to_write[i] = before
    if to_write:
        run.write_chunks(to_write, "rollback")
        run.verify(to_write, {}, "rollback", good="restored")
    run.done("rollback")
    return EditResult(str(j), run.table(), grants, state=journal_state(j.records()))


def resume_edits(journal: str | Path, source: Any = None, *, progress: Progress = None) -> EditResult:
    """Finish an interrupted (or partial) apply: settle in-doubt components by reading them, write what is
    left, verify.

    A component that is neither as before nor as intended changed meanwhile: reported stale, not written.
    A journal rolled back (or rolling back) is refused; one already applied is a no-op saying so; one whose
    apply stopped before its pre-images (``planned``) is refused: nothing was written, apply the plan again.
    """
    j, target, rec, records = _open(journal, source)
    components = rec["components"]
    state = journal_state(records)
    if state == "planned":
        raise JournalError(
            f"{j.path}: the journal is planned: the apply stopped before saving its pre-images, so nothing "
            f"was written by it (0 of {len(components)} planned components changed); nothing to resume: "
            "run the same edit with --apply again to apply the plan"
        )
    if state in ("rolling back", "rolled back", "rollback partial"):
        raise JournalError(
            f"{j.path}: the journal is {state}; nothing to resume (plan the edit again and --apply it to "
            "make it again); nothing was done"
        )
    if state == "applied":
        return EditResult(
            str(j),
            state=state,
            note="the journal is applied: every component was verified; nothing to resume",
        )
    run = _Run(j, target, components, progress)
    planned = sorted(int(i) for r in records if r.get("type") == "preimages" for i in r.get("to_write", []))
    images = _images(j, target, components, planned)
    settled: dict[int, str] = {}
    for r in records:
        items = r.get("items")
        if r.get("type") == "verify" and r.get("phase") in ("apply", "resume", "autorollback"):
            if isinstance(items, dict):
                settled.update({int(i): str(s) for i, s in items.items()})
    open_items = [i for i in planned if settled.get(i) != "applied"]
    j.append({"type": "resume_start", "items": open_items})
    fresh = target.read([run.key(i) for i in open_items]) if open_items else {}
    to_write: dict[int, MetadataDocument] = {}
    pre = {i: images[i][0] for i in planned}
    for i in planned:
        if i not in open_items:
            run.status[i] = ("applied", "applied and verified before the interruption")
    for i in open_items:
        key, (pre_raw, expected) = run.key(i), images[i]
        cur = fresh.get(key)
        if cur is None:
            run.status[i] = ("failed", "the component cannot be read now")
            continue
        now = target.document(key, cur)
        if same(now, expected):
            run.status[i] = ("applied", "already as intended (settled by re-reading)")
        elif cur == pre_raw or same(now, target.document(key, pre_raw)):
            to_write[i] = expected
        else:
            run.status[i] = ("stale", "changed by someone else since the plan; not written")
    _hold_unfinished_apps(run, to_write)
    if to_write:
        run.write_chunks(to_write, "resume")
        run.verify(to_write, pre, "resume")
    run.undo_unfinished_apps(pre, "resume")
    grants = _resume_grants(j, target, rec, progress)
    run.done("resume")
    return EditResult(str(j), run.table(), grants, state=journal_state(j.records()))


def _post_doc(target: Target, key: Key, data: bytes) -> MetadataDocument:
    # post-images are source-format documents (the file bytes for a folder, the patched record for an org)
    if isinstance(target, FolderTarget):
        return target.document(key, data)
    return MetadataDocument(data, source=f"journal#{key_text(key)}", full_name=key[1])


__all__ = ["EditResult", "JournalError", "Op", "apply_plan", "resume_edits", "rollback_edits"]
