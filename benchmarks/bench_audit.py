"""Benchmark: audit a demo org of N apps with injected latency; calls vs lower bound, wall vs naive, memory.

    .venv/bin/python benchmarks/bench_audit.py                 # N = 50, 500, 5000, 50 ms latency
    .venv/bin/python benchmarks/bench_audit.py --sizes 50 --latency-ms 50 --naive-sample 50

Each size runs the demo org in its own process (so the audit's memory is measured alone) and the audit in
another fresh process (peak RSS from ``resource.getrusage``). The naive baseline is what a script built on
simple-salesforce does: ``sf.mdapi.ConnectedApp.read(name)`` one app at a time (zeep, bundled WSDL), then the
same SOQL with ``sf.query_all`` one query after the other. Above ``--naive-sample`` apps only a sample of the
per-app reads is timed and the loop is extrapolated.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from anywhere: the checkout's toolkit, not an installed one

from _child import add_child_arguments, run_child  # noqa: E402  (benchmarks/ is sys.path[0] when a script runs)

from toolkit.sources.org import DEFAULT_CONCURRENCY  # noqa: E402


def _serve(apps: int, latency_ms: float, conn: Any) -> None:
    from toolkit.demoorg import DemoOrg

    org = DemoOrg(apps=apps, ecas=0, seed=1, latency_ms=0)
    org.start()
    org.set_latency(latency_ms)
    conn.send(
        {
            "instance_url": org.instance_url,
            "access_token": org.access_token,
            "ca_file": org.ca_file,
            "startup": org.startup_seconds,
        }
    )
    conn.recv()  # wait for "stop"
    conn.send(org.stats())
    org.stop()


def _child_audit(info: dict[str, Any], concurrency: int) -> dict[str, Any]:
    # imports outside the timed part, as for the naive loop (whose client is built before its clock starts)
    import simple_salesforce.api  # noqa: F401

    import toolkit
    import toolkit.analysis.org_tables  # noqa: F401
    import toolkit.analysis.tables  # noqa: F401
    import toolkit.sources.org_inventory  # noqa: F401

    t0 = time.perf_counter()
    org = toolkit.connect(
        "demo",
        instance_url=info["instance_url"],
        access_token=info["access_token"],
        ca_file=info["ca_file"],
        concurrency=concurrency,
    )
    tables = toolkit.audit(org, strict=True)
    wall = time.perf_counter() - t0
    api = tables["api_calls"].set_index("kind")["calls"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "wall": wall,
        "calls": int(api["TOTAL"]),
        "bound": int(api["lower_bound"]),
        "apps": len(tables["apps"]),
        "tokens": len(tables["tokens"]),
        "rss_mb": rss_mb,
        # readMetadata calls beyond the plan (isolating unloadable apps), already in "calls"
        "split": sum(int(v) for k, v in api.items() if str(k).startswith("extra:readMetadata split")),
        "by_kind": {k: int(v) for k, v in api.items() if not str(k).startswith(("TOTAL", "lower", "daily"))},
    }


def _child_naive(info: dict[str, Any], sample: int) -> dict[str, Any]:
    import requests
    from simple_salesforce.api import Salesforce

    from toolkit.sources.org_inventory import soql_queries

    # zeep (sf.mdapi) makes its own requests session: it trusts the demo org's CA through the environment
    os.environ["REQUESTS_CA_BUNDLE"] = info["ca_file"]
    session = requests.Session()
    session.verify, session.trust_env = info["ca_file"], False
    sf = Salesforce(
        instance_url=info["instance_url"], session_id=info["access_token"], session=session, version="66.0"
    )
    t0 = time.perf_counter()
    names = [r["fullName"] for r in _list_names(sf)]
    t_list = time.perf_counter() - t0
    picked = names[:sample]
    t1 = time.perf_counter()
    for name in picked:
        try:
            sf.mdapi.ConnectedApp.read(name)
        except Exception:  # noqa: BLE001 - an installed app that cannot be loaded fails its read (a fault)
            pass
    per_app = (time.perf_counter() - t1) / max(1, len(picked))
    t2 = time.perf_counter()
    for soql in soql_queries().values():
        try:
            sf.query_all(soql)
        except Exception:  # noqa: BLE001 - an object the org lacks costs the naive loop nothing more
            pass
    t_soql = time.perf_counter() - t2
    return {
        "wall": t_list + per_app * len(names) + t_soql,
        "measured_reads": len(picked),
        "apps": len(names),
        "extrapolated": len(picked) < len(names),
    }


def _list_names(sf: Any) -> list[dict[str, Any]]:
    query = sf.mdapi.ListMetadataQuery(type="ConnectedApp")
    return [{"fullName": r.fullName} for r in sf.mdapi.list_metadata([query]) or []]


def _run_child(mode: str, info: dict[str, Any], arg: int) -> dict[str, Any]:
    return run_child(__file__, mode, info, arg)


def bench(
    size: int, latency_ms: float, concurrency: int, naive_sample: int, repeat: int = 1
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(size, latency_ms, child), daemon=True)
    proc.start()
    info = parent.recv()
    try:
        runs = [_run_child("audit", info, concurrency) for _ in range(repeat)]
        audit = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]  # the median run
        audit["walls"] = [round(r["wall"], 2) for r in runs]
        naive = (
            _run_child("naive", info, naive_sample)
            if naive_sample
            else {"wall": float("nan"), "extrapolated": False, "measured_reads": 0}
        )
    finally:
        parent.send("stop")
        parent.recv()
        proc.join(30)
    return {
        "N": size,
        "latency_ms": latency_ms,
        **{f"audit_{k}": v for k, v in audit.items()},
        "naive_wall": naive["wall"],
        "naive_extrapolated": naive["extrapolated"],
        "naive_measured_reads": naive["measured_reads"],
        "speedup": naive["wall"] / audit["wall"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 5000])
    p.add_argument("--latency-ms", type=float, default=50)
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    p.add_argument(
        "--naive-sample",
        type=int,
        default=500,
        help="per-app reads timed before extrapolating (0: skip the naive loop)",
    )
    p.add_argument("--repeat", type=int, default=3, help="audit runs per size; the median is reported")
    p.add_argument("--json", help="also write the results to this file")
    add_child_arguments(p)
    args = p.parse_args(argv)
    if args.child:
        info = json.loads(args.info)
        result = _child_audit(info, args.arg) if args.child == "audit" else _child_naive(info, args.arg)
        print(json.dumps(result))
        return 0
    rows = [bench(n, args.latency_ms, args.concurrency, args.naive_sample, args.repeat) for n in args.sizes]
    cols = (
        ("N", 6),
        ("calls", 6),
        ("split", 6),
        ("bound", 6),
        ("ratio", 6),
        ("audit s", 8),
        ("naive s", 9),
        ("speedup", 8),
    )
    header = " ".join(f"{c:>{w}}" for c, w in cols) + f" {'RSS MB':>7}"
    print(f"latency {args.latency_ms:g} ms, concurrency {args.concurrency}")
    print(header)
    for r in rows:
        naive = f"{r['naive_wall']:.1f}{'*' if r['naive_extrapolated'] else ' '}"
        print(
            f"{r['N']:>6} {r['audit_calls']:>6} {r['audit_split']:>6} {r['audit_bound']:>6} "
            f"{r['audit_calls'] / r['audit_bound']:>6.2f} "
            f"{r['audit_wall']:>8.2f} {naive:>9} {r['speedup']:>7.1f}x {r['audit_rss_mb']:>7.0f}"
        )
    print(
        "* extrapolated from a sample of per-app reads; split: readMetadata calls isolating unloadable apps"
    )
    for r in rows:
        print(f"N={r['N']}: audit runs {r['audit_walls']} s; calls by kind {r['audit_by_kind']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
