"""Benchmark: audit a fleet of N demo orgs of M apps each in one run, at injected latency; whole process.

    .venv/bin/python benchmarks/bench_fleet.py                                   # 3 orgs of 50 apps, 50 ms
    .venv/bin/python benchmarks/bench_fleet.py --orgs 20 --apps 200 --latency-ms 50  # issue 17's figure

The demo orgs run in ``--server-procs`` processes of their own (each serving its share of the orgs). The
fleet run is the whole ``python -m toolkit audit --orgs-file FILE`` command, in a fresh process: its wall
time (connect, read, tables, findings, CSV and summary.html written), its peak RSS (``resource.getrusage``),
the calls each org cost against that org's lower bound (its ``api_calls`` table), and the most requests that
were ever in flight at once across the fleet (the shared ``--concurrency`` bound). The same command on one
org of the same size, in another fresh process, is the yardstick (goal: the fleet in under 3x its time).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from anywhere: the checkout's toolkit, not an installed one

from _child import add_child_arguments, run_child  # noqa: E402  (benchmarks/ is sys.path[0] when a script runs)

from toolkit.sources.org import DEFAULT_CONCURRENCY  # noqa: E402


def _serve(seeds: list[int], apps: int, latency_ms: float, conn: Any) -> None:
    from toolkit.demoorg import DemoOrg

    orgs = [DemoOrg(apps=apps, ecas=0, seed=seed, latency_ms=0) for seed in seeds]
    infos = []
    for seed, org in zip(seeds, orgs, strict=True):
        org.start()
        org.set_latency(latency_ms)
        infos.append({"name": f"org{seed:02d}", "instance_url": org.instance_url,
                      "access_token": org.access_token, "ca_file": org.ca_file})
    conn.send(infos)
    conn.recv()  # wait for "stop"
    conn.send([org.stats()["requests"] for org in orgs])
    for org in orgs:
        org.stop()


def _child_fleet(info: dict[str, Any], concurrency: int) -> dict[str, Any]:
    """One ``audit`` command (several orgs or one) in this fresh process: wall, RSS, calls, peak in flight."""
    import contextlib
    import io

    import pandas as pd

    import toolkit.sources.org as org_module
    from toolkit.commands import main

    bounds: list[Any] = []

    class Recorded(org_module.RequestBound):
        def __init__(self, limit: int) -> None:
            super().__init__(limit)
            bounds.append(self)

    org_module.RequestBound = Recorded  # type: ignore[misc]  # the fleet's bound, to read its peak after
    import toolkit.analysis.fleet as fleet_module

    reading: list[float] = []
    audit_fleet = fleet_module.audit_fleet

    def timed(*args: Any, **kwargs: Any) -> Any:  # the reading phase: every org connected, read, closed
        t = time.perf_counter()
        try:
            return audit_fleet(*args, **kwargs)
        finally:
            reading.append(time.perf_counter() - t)

    fleet_module.audit_fleet = timed
    out = Path(tempfile.mkdtemp(prefix="bench-fleet-")) / "out"
    orgs = info["orgs"]
    if len(orgs) > 1:
        orgs_file = out.parent / "orgs.json"
        orgs_file.write_text(json.dumps(orgs), encoding="utf-8")
        argv = ["audit", "--orgs-file", str(orgs_file)]
    else:
        argv = ["audit", "--instance-url", orgs[0]["instance_url"], "--access-token", orgs[0]["access_token"],
                "--ca-file", orgs[0]["ca_file"]]
    argv += ["--out", str(out), "--no-history", "--concurrency", str(concurrency)]
    said = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    wall = time.perf_counter() - t0
    api = pd.read_csv(out / "api_calls.csv")
    if "org" not in api.columns:
        api.insert(0, "org", orgs[0]["name"])
    per_org = {
        str(org): {"calls": int(rows.loc[rows["kind"] == "TOTAL", "calls"].iloc[0]),
                   "bound": int(rows.loc[rows["kind"] == "lower_bound", "calls"].iloc[0])}
        for org, rows in api.groupby("org")
    }
    apps = pd.read_csv(out / "apps.csv")
    return {
        "code": code,
        "wall": wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "per_org": per_org,
        "apps": len(apps),
        "peak_in_flight": bounds[0].peak if bounds else None,
        "read_s": reading[0] if reading else None,
    }


def bench(orgs: int, apps: int, latency_ms: float, concurrency: int, server_procs: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    seeds = list(range(1, orgs + 1))
    shares = [seeds[i::server_procs] for i in range(min(server_procs, orgs))]
    servers = []
    infos: list[dict[str, Any]] = []
    for share in shares:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(share, apps, latency_ms, child), daemon=True)
        proc.start()
        servers.append((proc, parent))
    try:
        for _proc, parent in servers:
            infos += parent.recv()
        infos.sort(key=lambda i: i["name"])
        single = run_child(__file__, "fleet", {"orgs": infos[:1]}, concurrency)
        fleet = run_child(__file__, "fleet", {"orgs": infos}, concurrency)
    finally:
        for proc, parent in servers:
            parent.send("stop")
            parent.recv()
            proc.join(30)
    calls = [v["calls"] for v in fleet["per_org"].values()]
    ratios = [v["calls"] / v["bound"] for v in fleet["per_org"].values()]
    first = infos[0]["name"]
    return {
        "orgs": orgs, "apps_per_org": apps, "latency_ms": latency_ms, "concurrency": concurrency,
        "single": single, "fleet": fleet,
        "calls_per_org": {"min": min(calls), "max": max(calls), "mean": sum(calls) / len(calls)},
        "calls_to_bound": {"min": min(ratios), "max": max(ratios)},
        # the first org audited alone and within the fleet: the same calls (the bound is per org)
        "first_org": {"alone": single["per_org"][first], "in_fleet": fleet["per_org"][first]},
        "ratio_to_single": fleet["wall"] / single["wall"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orgs", type=int, default=3, help="demo orgs in the fleet (default 3)")
    p.add_argument("--apps", type=int, default=50, help="connected apps per org (default 50)")
    p.add_argument("--latency-ms", type=float, default=50)
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="shared by the whole fleet")
    p.add_argument("--server-procs", type=int, default=2, help="processes serving the demo orgs (default 2)")
    p.add_argument("--json", help="also write the results to this file")
    add_child_arguments(p)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child_fleet(json.loads(args.info), args.arg)))
        return 0
    r = bench(args.orgs, args.apps, args.latency_ms, args.concurrency, max(1, args.server_procs))
    f, s = r["fleet"], r["single"]
    print(f"{r['orgs']} orgs of {r['apps_per_org']} apps, latency {r['latency_ms']:g} ms, "
          f"concurrency {r['concurrency']} in all (exit {f['code']})")
    print(f"{'':8} {'wall s':>8} {'apps':>7} {'RSS MB':>7} {'calls per org':>14} {'calls/bound':>12} "
          f"{'peak in flight':>15}")
    c, q, one = r["calls_per_org"], r["calls_to_bound"], r["first_org"]
    alone = one["alone"]
    print(f"{'one org':8} {s['wall']:>8.2f} {s['apps']:>7} {s['rss_mb']:>7.0f} {alone['calls']:>14} "
          f"{alone['calls'] / alone['bound']:>12.2f} {s['peak_in_flight'] or '-':>15}")
    print(f"{'fleet':8} {f['wall']:>8.2f} {f['apps']:>7} {f['rss_mb']:>7.0f} {c['min']:>6}-{c['max']:<7} "
          f"{q['min']:>5.2f}-{q['max']:<6.2f} {f['peak_in_flight']:>15}")
    print(f"fleet: {f['read_s']:.2f} s reading the orgs (connect + audit, in parallel), "
          f"{f['wall'] - f['read_s']:.2f} s after (findings, stacking, same_app, CSVs, summary.html)")
    print(f"the first org: {alone['calls']} calls alone, {one['in_fleet']['calls']} in the fleet "
          f"(bound {alone['bound']})")
    print(f"fleet / one org: {r['ratio_to_single']:.2f}x the time (goal < 3x); peak requests in flight "
          f"{f['peak_in_flight']} (bound {r['concurrency']}); peak RSS {f['rss_mb']:.0f} MB (goal < 1024)")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
