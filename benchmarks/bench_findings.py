"""Benchmark: findings, the mobile matrix and drift on top of the audit tables of a demo org of N apps.

    .venv/bin/python benchmarks/bench_findings.py                 # N = 5000 connected apps + 100 ECAs
    .venv/bin/python benchmarks/bench_findings.py --apps 500 --repeat 3

The demo org (seed 1, no latency) is audited once (not timed: bench_audit.py measures that); then each step
runs ``--repeat`` times on the tables and the median is printed: ``findings`` (Salesforce recommended),
``findings`` (Mobile SDK ready), ``mobile_matrix`` (values + statuses), ``style_mobile_matrix`` rendered to
HTML, ``diff_audits`` between the tables and an edited copy (50 settings changed, 10 apps added/removed), and
a snapshot saved and loaded. Goal: findings + matrix + drift under 2 s for 5,000 apps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from anywhere: the checkout's toolkit, not an installed one


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """(median wall time, [(wall, cpu) per run], result): CPU time shows the cost on a busy machine."""
    runs, result = [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        runs.append((time.perf_counter() - t0, time.process_time() - c0))
    return statistics.median(r[0] for r in runs), runs, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--apps", type=int, default=5000)
    parser.add_argument("--ecas", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import pandas as pd

    import toolkit
    from toolkit.demoorg import DemoOrg

    with DemoOrg(apps=args.apps, ecas=args.ecas, seed=1) as demo:
        org = toolkit.connect(instance_url=demo.instance_url, access_token=demo.access_token,
                              ca_file=demo.ca_file)
        t0 = time.perf_counter()
        tables = toolkit.audit(org, strict=True)
        audit_s = time.perf_counter() - t0
    apps = tables["apps"]
    print(f"audit of {len(apps)} apps ({args.apps} connected apps, {args.ecas} ECAs, phantoms): "
          f"{audit_s:.2f} s (not part of the figures below)")

    edited = {k: v.copy() for k, v in tables.items()}
    e = edited["apps"]
    local = e.index[e["coverage"] == "metadata+soql"][:50]
    e.loc[local, "ip_relaxation"] = "ENFORCE"
    e.loc[local[:25], "session_timeout"] = 15
    extra = e.iloc[:5].assign(name=lambda d: d["name"] + "_copy")
    edited["apps"] = pd.concat([e.iloc[5:], extra], ignore_index=True)

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("findings (Salesforce recommended)", lambda: toolkit.findings(tables)),
        ("findings (Mobile SDK ready)", lambda: toolkit.findings(tables, "Mobile SDK ready")),
        ("mobile_matrix (values + statuses)",
         lambda: (toolkit.mobile_matrix(tables), toolkit.mobile_matrix(tables, status=True))),
        ("style_mobile_matrix -> HTML", lambda: toolkit.style_mobile_matrix(tables).to_html()),
        ("diff_audits (tables vs edited copy)", lambda: toolkit.diff_audits(tables, edited)),
    ]
    rows = []
    for name, fn in steps:
        median, runs, result = _median(fn, args.repeat)
        size = len(result) if hasattr(result, "__len__") and not isinstance(result, tuple | str) else (
            len(result[0]) if isinstance(result, tuple) else len(result))
        rows.append((name, median, runs, size))
    with tempfile.TemporaryDirectory() as d:
        median, runs, _ = _median(lambda: toolkit.save_snapshot(tables, Path(d) / "s"), args.repeat)
        rows.append(("save_snapshot", median, runs, len(apps)))
        median, runs, loaded = _median(lambda: toolkit.load_snapshot(Path(d) / "s"), args.repeat)
        rows.append(("load_snapshot", median, runs, len(loaded[0]["apps"])))
        median, runs, diff = _median(lambda: toolkit.diff_audits(Path(d) / "s", edited), args.repeat)
        rows.append(("diff_audits (snapshot folder vs edited copy)", median, runs, len(diff)))

    print("\n| step | wall median (s) | CPU median (s) | rows out | runs wall/CPU (s) |")
    print("|---|---:|---:|---:|---|")
    cpu: dict[str, float] = {}
    for name, median, runs, size in rows:
        cpu[name] = statistics.median(r[1] for r in runs)
        shown = ", ".join(f"{w:.2f}/{c:.2f}" for w, c in runs)
        print(f"| {name} | {median:.3f} | {cpu[name]:.3f} | {size:,} | {shown} |")
    core = [rows[0], rows[2], rows[4]]
    print(
        f"\nfindings + matrix + drift (medians): {sum(r[1] for r in core):.2f} s wall, "
        f"{sum(cpu[r[0]] for r in core):.2f} s CPU for {len(apps):,} apps (goal: under 2 s)"
    )


if __name__ == "__main__":
    main()
