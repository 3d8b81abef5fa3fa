"""Apply, verify, roll back and resume a bulk edit, with a journal (see :mod:`toolkit.edits.journal`).

Apply: the journal path is known (and reported) first; a fresh read of every component refuses those changed
since the plan (stale) unless forced; the fresh bytes are the pre-images, written and fsynced before the first
write; ``updateMetadata`` in chunks of 10 of one type, each announced by an ``intent`` record and closed by a
``result`` record (per-item SaveResults); a final read verifies that each component is exactly what was
intended (the edited leaves changed, nothing else). A component whose chunk has an intent but no result (the
process died, the connection dropped) is *in doubt*: resume and rollback settle it by reading it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import OrgError, SourceError, ToolkitError
from ..model.document import MetadataDocument
from .journal import Journal, JournalError
from .plan import ComponentPlan, EditPlan, Op, PlanHasProblems
from .targets import FolderTarget, Key, OrgTarget, Target, in_chunks, key_text, target_for

RESULT_COLUMNS = ["app", "component", "status", "message"]
# statuses: applied, already applied, restored, unchanged | failed, stale, in doubt, verify failed,
# not attempted
GOOD = frozenset({"applied", "already applied", "restored", "unchanged", "no-op"})
Progress = Callable[[str], None] | None


@dataclass
class EditResult:
    """What an apply/rollback/resume did: the journal, one row per component, and the exit code it means."""

    journal: str
    results: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RESULT_COLUMNS))
    grants: pd.DataFrame = field(default_factory=pd.DataFrame)

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
        return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to do"


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
                record = {}
                for i, res in zip(chunk, results, strict=True):
                    record[str(i)] = {"ok": res.ok, "message": res.message}
                    self.status[i] = ("written", "") if res.ok else ("failed", res.message)
                self.journal.append({"type": "result", "phase": phase, "chunk": n, "items": record})
                done[0] += len(chunk)
                _say(self.progress, f"{phase}: {done[0]}/{len(docs)} components written")

        workers = max(1, min(self.target.parallel_writes, len(chunks)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edit-write") as pool:
            list(pool.map(one, range(len(chunks)), chunks))
        return not failures

    def verify(
        self, expected: dict[int, MetadataDocument], pre: dict[int, bytes], phase: str, good: str = "applied"
    ) -> None:
        """Read back every component of ``expected`` and settle its status (intended, as before, neither)."""
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
        self.journal.append({"type": "verify", "phase": phase, "items": record})

    def table(self) -> pd.DataFrame:
        rows = [
            {"app": self.components[i]["app"], "component": key_text(self.key(i)), "status": s, "message": m}
            for i, (s, m) in sorted(self.status.items())
        ]
        return pd.DataFrame(rows, columns=RESULT_COLUMNS)


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
) -> EditResult:
    """Write a plan (see the module doc). Raises :class:`PlanHasProblems` before anything when it has any."""
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
            "file": str(target.paths.get(c.key, "")) if isinstance(target, FolderTarget) else "",
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
    run = _Run(journal, target, components, progress)
    fresh = target.read([c.key for c in comps]) if comps else {}
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
    journal.write_images("pre", pre)
    journal.write_images("post", {i: d.to_bytes() for i, d in to_write.items()})
    journal.append({"type": "preimages", "items": sorted(pre), "to_write": sorted(to_write)})
    _say(progress, f"pre-images of {len(pre)} components saved; writing {len(to_write)}")
    if to_write:
        run.write_chunks(to_write, "apply")
        run.verify(to_write, pre, "apply")
    grants = _apply_grants(plan, journal, progress)
    journal.append(
        {"type": "done", "phase": "apply", "statuses": {str(i): s for i, (s, _) in run.status.items()}}
    )
    return EditResult(str(journal), run.table(), grants)


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
def _open(journal: str | Path, source: Any) -> tuple[Journal, Target, dict[str, Any]]:
    j = Journal.open(journal)
    rec = j.plan_record()
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
        for c in rec["components"]:
            target.paths[(c["type"], c["name"])] = Path(c["file"])
    elif described["origin"] != target.origin:
        raise SourceError(f"{j.path}: journal of the org {described['origin']}, not of {target.origin}")
    return j, target, rec


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
        elif r.get("type") == "done":
            out -= {int(i) for i, status in r.get("statuses", {}).items() if status in NOT_WRITTEN}
    return out


def rollback_edits(
    journal: str | Path, source: Any = None, *, force: bool = False, progress: Progress = None
) -> EditResult:
    """Write back the pre-image of every component an apply (or resume) touched or may have touched; verify.

    A component changed by someone else since the edit (neither as intended nor as before) is refused unless
    ``force``. Grants added or removed are reverted. Token revocations are never rolled back (they cannot be).
    ``source`` is the org (folders are found from the journal).
    """
    j, target, rec = _open(journal, source)
    components = rec["components"]
    run = _Run(j, target, components, progress)
    grants = pd.DataFrame()
    if isinstance(target, OrgTarget) and any(r.get("type") == "grant_intent" for r in j.records()):
        from .grants import rollback_grants

        # first: a grant shows in the app's metadata (profileName); undone, the component matches its
        # post-image again
        grants = rollback_grants(target.org, j, progress)
    touched = sorted(_touched(j.records()))
    j.append({"type": "rollback_start", "items": touched})
    pre: dict[int, bytes] = {}
    post: dict[int, MetadataDocument] = {}
    for i in touched:
        p, q = j.blob("pre", i), j.blob("post", i)
        if p is not None:
            pre[i] = p
        if q is not None:
            post[i] = _post_doc(target, run.key(i), q)
    fresh = target.read([run.key(i) for i in touched]) if touched else {}
    to_write: dict[int, MetadataDocument] = {}
    for i in touched:
        cur = fresh.get(run.key(i))
        if i not in pre:
            run.status[i] = ("failed", "no pre-image in the journal")
            continue
        before = target.document(run.key(i), pre[i])
        if cur is None:
            run.status[i] = ("failed", "the component cannot be read now; nothing written")
            continue
        now = target.document(run.key(i), cur)
        if cur == pre[i] or same(now, before):
            run.status[i] = ("unchanged", "already as before the edit")
            continue
        if i in post and not same(now, post[i]) and not force:
            run.status[i] = (
                "stale",
                "changed by someone else since the edit; not rolled back "
                "(force=True / --force-stale to overwrite)",
            )
            continue
        to_write[i] = before
    if to_write:
        run.write_chunks(to_write, "rollback")
        run.verify(to_write, {}, "rollback", good="restored")
    j.append(
        {"type": "done", "phase": "rollback", "statuses": {str(i): s for i, (s, _) in run.status.items()}}
    )
    return EditResult(str(j), run.table(), grants)


def resume_edits(journal: str | Path, source: Any = None, *, progress: Progress = None) -> EditResult:
    """Finish an interrupted apply: settle in-doubt components by reading them, write what is left, verify.

    A component that is neither as before nor as intended changed meanwhile: reported stale, not written.
    """
    j, target, rec = _open(journal, source)
    components = rec["components"]
    run = _Run(j, target, components, progress)
    records = j.records()
    planned = [i for i in range(len(components)) if j.blob("post", i) is not None]
    settled: dict[int, str] = {}
    for r in records:
        if r.get("type") == "verify" and r.get("phase") in ("apply", "resume") and "items" in r:
            for i, s in r["items"].items():
                settled[int(i)] = s
    open_items = [i for i in planned if settled.get(i) not in ("applied",)]
    j.append({"type": "resume_start", "items": open_items})
    fresh = target.read([run.key(i) for i in open_items]) if open_items else {}
    to_write: dict[int, MetadataDocument] = {}
    pre: dict[int, bytes] = {}
    expected: dict[int, MetadataDocument] = {}
    for i in open_items:
        post_raw, pre_raw = j.blob("post", i), j.blob("pre", i)
        assert post_raw is not None
        expected[i] = _post_doc(target, run.key(i), post_raw)
        cur = fresh.get(run.key(i))
        if cur is None:
            run.status[i] = ("failed", "the component cannot be read now")
            continue
        now = target.document(run.key(i), cur)
        if same(now, expected[i]):
            run.status[i] = ("applied", "already as intended (settled by re-reading)")
        elif pre_raw is not None and (cur == pre_raw or same(now, target.document(run.key(i), pre_raw))):
            pre[i] = pre_raw
            to_write[i] = expected[i]
        else:
            run.status[i] = ("stale", "changed by someone else since the plan; not written")
    for i in planned:
        if i not in open_items:
            run.status[i] = ("applied", "applied and verified before the interruption")
    if to_write:
        run.write_chunks(to_write, "resume")
        run.verify(to_write, pre, "resume")
    grants = _resume_grants(j, target, rec, progress)
    j.append({"type": "done", "phase": "resume", "statuses": {str(i): s for i, (s, _) in run.status.items()}})
    return EditResult(str(j), run.table(), grants)


def _post_doc(target: Target, key: Key, data: bytes) -> MetadataDocument:
    # post-images are source-format documents (the file bytes for a folder, the patched record for an org)
    if isinstance(target, FolderTarget):
        return target.document(key, data)
    return MetadataDocument(data, source=f"journal#{key_text(key)}", full_name=key[1])


__all__ = ["EditResult", "JournalError", "Op", "apply_plan", "resume_edits", "rollback_edits"]
