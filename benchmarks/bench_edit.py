"""Benchmark: bulk-edit N apps of a demo org with injected latency; API calls, wall time vs naive, memory.

    .venv/bin/python benchmarks/bench_edit.py                          # N = 50, 500 at 50 ms latency
    .venv/bin/python benchmarks/bench_edit.py --sizes 50 --naive-sample 20
    .venv/bin/python benchmarks/bench_edit.py --whole-process --sizes 500   # the CLI vs the naive script

Each size runs the demo org in its own process (as bench_audit.py) and each client in a fresh process
(peak RSS from ``resource.getrusage``; the org is reset between runs). The toolkit run is
``toolkit.plan_edits(org, CHANGES, apps=names)`` then ``plan.apply()`` (fresh read, pre-images to the journal,
``updateMetadata`` in chunks of 10, verification read); between the two, ``plan.impact()`` (what the CLI
prints before an ``--apply --max-impact N``) is timed and its calls counted apart (goal: at most 10 % of the
apply's calls, and no per-app query). The naive baseline is the simple-salesforce loop
``sf.mdapi.ConnectedApp.read(name)`` then ``sf.mdapi.ConnectedApp.update(app)`` per app (zeep, bundled WSDL,
which drops the elements it does not know: it is also lossy). Above ``--naive-sample`` apps the per-app loop
is timed on a sample and extrapolated.

``--whole-process`` measures what a user waits for: ``python -m toolkit edit --instance-url ... --apps ...
--set ... --apply --yes`` from spawn to exit (interpreter start, imports, login, plan, apply, journal,
verification), against a naive script run the same way (start, import simple-salesforce, log in, then the
read+update loop; above ``--naive-sample`` apps the loop part is extrapolated, the start-up is not). API calls
are counted by the demo org itself (its request counters), not by the client.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from anywhere: the checkout's toolkit, not an installed one
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _child import add_child_arguments, run_child  # noqa: E402
from bench_audit import _serve  # noqa: E402

CHANGES = ["session_timeout=120", "callback_urls+=https://bench.example.com/cb"]


def _names(info: dict[str, Any], size: int) -> list[str]:
    import toolkit
    from toolkit.edits.targets import OrgTarget

    org = toolkit.connect(
        instance_url=info["instance_url"],
        access_token=info["access_token"],
        ca_file=info["ca_file"],
        api_version="66.0",
    )
    inventory, _ = OrgTarget(org).load(None)
    names = [
        a.name
        for a in inventory.apps
        if a.kind == "ConnectedApp" and a.editable and a.documents and a.documents[0].has("oauthConfig")
    ]
    return names[:size]


def _child_edit(info: dict[str, Any], size: int) -> dict[str, Any]:
    import simple_salesforce.api  # noqa: F401 - imports outside the timed part

    import toolkit
    import toolkit.edits.apply  # noqa: F401

    names = info["names"][:size]
    t0 = time.perf_counter()
    org = toolkit.connect(
        instance_url=info["instance_url"],
        access_token=info["access_token"],
        ca_file=info["ca_file"],
        api_version="66.0",
    )
    plan = toolkit.plan_edits(org, CHANGES, apps=names)
    t_plan = time.perf_counter() - t0
    plan_calls = dict(org.ledger.calls)
    org.ledger.calls.clear()
    t1 = time.perf_counter()
    table = plan.impact()  # what the CLI prints before an --apply --max-impact N
    t_impact = time.perf_counter() - t1
    impact_calls = dict(org.ledger.calls)
    org.ledger.calls.clear()
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as journals:
        result = plan.apply(journal_dir=journals)
    t_apply = time.perf_counter() - t2
    wall = time.perf_counter() - t0
    apply_calls = dict(org.ledger.calls)
    statuses = result.results["status"].value_counts().to_dict()
    return {
        "wall": wall,
        "plan_s": t_plan,
        "impact_s": t_impact,
        "apply_s": t_apply,
        "plan_calls": sum(plan_calls.values()) - plan_calls.get("versions", 0),
        "impact_calls": sum(impact_calls.values()),
        "impact_rows": len(table),
        "apply_calls": sum(apply_calls.values()),
        "by_kind": {"plan": plan_calls, "impact": impact_calls, "apply": apply_calls},
        "statuses": statuses,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child_naive(info: dict[str, Any], sample: int) -> dict[str, Any]:
    import requests
    from simple_salesforce.api import Salesforce

    os.environ["REQUESTS_CA_BUNDLE"] = info["ca_file"]  # zeep's own session trusts the demo org this way
    session = requests.Session()
    session.verify, session.trust_env = info["ca_file"], False
    sf = Salesforce(
        instance_url=info["instance_url"], session_id=info["access_token"], session=session, version="66.0"
    )
    names = info["names"]
    picked = names[:sample]
    t0 = time.perf_counter()
    for name in picked:
        app = sf.mdapi.ConnectedApp.read(name)
        app.description = "edited by the naive loop"
        sf.mdapi.ConnectedApp.update(app)
    per_app = (time.perf_counter() - t0) / max(1, len(picked))
    return {"wall": per_app * len(names), "measured": len(picked), "extrapolated": len(picked) < len(names)}


def _metadata_calls(info: dict[str, Any]) -> dict[str, int]:
    """The demo org's own count of Metadata API calls since the last reset (reset/latency calls excluded)."""
    requests = _control(info, "GET", "stats")["requests"]
    return {k: v for k, v in sorted(requests.items()) if k[:1].islower() and "Metadata" in k}


def _process_edit(info: dict[str, Any], size: int) -> dict[str, Any]:
    """``python -m toolkit edit ... --apply --yes`` as a user runs it; wall time from spawn to exit."""
    import subprocess

    names = info["names"][:size]
    with tempfile.TemporaryDirectory() as journals:
        cmd = [sys.executable, "-m", "toolkit", "edit", "--instance-url", info["instance_url"]]
        cmd += ["--ca-file", info["ca_file"], "--apps", ",".join(names)]
        for change in CHANGES:
            cmd += ["--set", change]
        cmd += ["--apply", "--yes", "--journal-dir", journals]
        env = {**os.environ, "SF_ACCESS_TOKEN": info["access_token"], "PYTHONPATH": str(REPO)}
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=journals, check=False)
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"toolkit edit exited {done.returncode}:\n{done.stderr[-3000:]}")
    return {"wall": wall, "calls": _metadata_calls(info)}


def _process_naive(info: dict[str, Any], sample: int) -> dict[str, Any]:
    """The naive script as a whole process: its start-up measured, its loop extrapolated past ``sample``."""
    t0 = time.perf_counter()
    inner = _run_child("naive", info, sample)
    wall = time.perf_counter() - t0
    loop = inner["wall"] * min(sample, len(info["names"])) / len(info["names"])
    startup = wall - loop
    return {"wall": startup + inner["wall"], "startup": startup, "extrapolated": inner["extrapolated"]}


def _run_child(mode: str, info: dict[str, Any], arg: int) -> dict[str, Any]:
    return run_child(__file__, mode, info, arg)


def _measure(
    size: int,
    latency_ms: float,
    repeat: int,
    edit: Callable[[dict[str, Any]], dict[str, Any]],
    naive: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Serve a demo org for ``size`` apps, run ``edit`` ``repeat`` times and ``naive`` once, each after a
    reset: (the median edit run, every edit run, the naive run)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    # about 3 in 4 seeded apps are local connected apps with OAuth settings
    proc = ctx.Process(target=_serve, args=(size * 4 // 3 + 30, latency_ms, child), daemon=True)
    proc.start()
    info = parent.recv()
    try:
        info["names"] = _names_no_latency(info, size)
        runs = []
        for _ in range(repeat):
            _reset(info)
            runs.append(edit(info))
        _reset(info)
        baseline = naive(info)
    finally:
        parent.send("stop")
        parent.recv()
        proc.join(30)
    return sorted(runs, key=lambda r: r["wall"])[len(runs) // 2], runs, baseline


def bench_processes(size: int, latency_ms: float, naive_sample: int, repeat: int) -> dict[str, Any]:
    """The CLI and the naive script as whole processes (see the module docstring)."""
    edit, runs, naive = _measure(
        size,
        latency_ms,
        repeat,
        lambda info: _process_edit(info, size),
        lambda info: _process_naive(info, naive_sample),
    )
    return {
        "N": size,
        "latency_ms": latency_ms,
        "budget": 3 * math.ceil(size / 10) + 10,
        "calls": sum(edit["calls"].values()),
        "by_kind": edit["calls"],
        "wall": edit["wall"],
        "walls": [round(r["wall"], 2) for r in runs],
        "naive_wall": naive["wall"],
        "naive_startup": naive["startup"],
        "naive_extrapolated": naive["extrapolated"],
        "speedup": naive["wall"] / edit["wall"],
    }


def bench(size: int, latency_ms: float, naive_sample: int, repeat: int) -> dict[str, Any]:
    edit, runs, naive = _measure(
        size,
        latency_ms,
        repeat,
        lambda info: _run_child("edit", info, size),
        lambda info: (
            _run_child("naive", info, naive_sample)
            if naive_sample
            else {"wall": float("nan"), "extrapolated": False}
        ),
    )
    edit["walls"] = [round(r["wall"], 2) for r in runs]
    chunks = math.ceil(size / 10)
    return {
        "N": size,
        "latency_ms": latency_ms,
        "budget": 3 * chunks,
        **{f"edit_{k}": v for k, v in edit.items()},
        "naive_wall": naive["wall"],
        "naive_extrapolated": naive["extrapolated"],
        "speedup": naive["wall"] / edit["wall"],
    }


def _control(info: dict[str, Any], method: str, action: str, payload: dict[str, Any] | None = None) -> Any:
    import requests

    r = requests.request(
        method,
        f"{info['instance_url']}/__emulator/{action}",
        json=payload or {},
        headers={"Authorization": f"Bearer {info['access_token']}"},
        verify=info["ca_file"],
        timeout=60,
    )
    r.raise_for_status()
    return r.json()


def _reset(info: dict[str, Any]) -> None:
    latency = _control(info, "GET", "stats")["latency_ms"]
    _control(info, "POST", "reset")
    _control(info, "POST", "latency", {"ms": latency})


def _names_no_latency(info: dict[str, Any], size: int) -> list[str]:
    latency = _control(info, "GET", "stats")["latency_ms"]
    _control(info, "POST", "latency", {"ms": 0})
    try:
        return _names(info, size)
    finally:
        _control(info, "POST", "latency", {"ms": latency})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[50, 500])
    p.add_argument("--latency-ms", type=float, default=50)
    p.add_argument(
        "--naive-sample", type=int, default=50, help="apps the naive loop edits before extrapolating"
    )
    p.add_argument("--repeat", type=int, default=3, help="toolkit runs per size; the median is reported")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument(
        "--whole-process", action="store_true", help="time `python -m toolkit edit --apply` vs a naive script"
    )
    add_child_arguments(p)
    args = p.parse_args(argv)
    if args.child:
        info = json.loads(args.info)
        result = _child_edit(info, args.arg) if args.child == "edit" else _child_naive(info, args.arg)
        print(json.dumps(result, default=str))
        return 0
    if args.whole_process:
        return _print_processes(args)
    rows = [bench(n, args.latency_ms, args.naive_sample, args.repeat) for n in args.sizes]
    print(f"latency {args.latency_ms:g} ms; changes: {', '.join(CHANGES)}")
    print(
        f"{'N':>5} {'plan calls':>10} {'apply calls':>11} {'3⌈N/10⌉':>8} {'impact calls':>12} "
        f"{'of apply':>8} {'plan s':>7} {'impact s':>8} {'apply s':>8} {'total s':>8} {'naive s':>9} "
        f"{'speedup':>8} {'RSS MB':>7}"
    )
    for r in rows:
        naive = f"{r['naive_wall']:.1f}{'*' if r['naive_extrapolated'] else ' '}"
        share = r["edit_impact_calls"] / max(1, r["edit_apply_calls"])
        print(
            f"{r['N']:>5} {r['edit_plan_calls']:>10} {r['edit_apply_calls']:>11} {r['budget']:>8} "
            f"{r['edit_impact_calls']:>12} {share:>8.0%} {r['edit_plan_s']:>7.2f} {r['edit_impact_s']:>8.2f} "
            f"{r['edit_apply_s']:>8.2f} {r['edit_wall']:>8.2f} {naive:>9} {r['speedup']:>7.1f}x "
            f"{r['edit_rss_mb']:>7.0f}"
        )
        print(
            f"      calls by kind: {r['edit_by_kind']}; statuses {r['edit_statuses']}; runs {r['edit_walls']}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0


def _print_processes(args: argparse.Namespace) -> int:
    rows = [bench_processes(n, args.latency_ms, args.naive_sample, args.repeat) for n in args.sizes]
    print(f"whole processes; latency {args.latency_ms:g} ms; changes: {', '.join(CHANGES)}")
    head = f"{'N':>5} {'metadata calls':>14} {'3⌈N/10⌉+10':>11} {'toolkit s':>10} {'naive s':>9}"
    print(f"{head} {'speedup':>8}")
    for r in rows:
        naive = f"{r['naive_wall']:.1f}{'*' if r['naive_extrapolated'] else ' '}"
        print(
            f"{r['N']:>5} {r['calls']:>14} {r['budget']:>11} {r['wall']:>10.2f} {naive:>9} "
            f"{r['speedup']:>7.1f}x"
        )
        print(
            f"      calls by kind (counted by the demo org): {r['by_kind']}; runs {r['walls']}; "
            f"naive start-up {r['naive_startup']:.2f} s"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
