"""`robollm bench eval`: the same episodes on one worker, two local workers and Ray with two
CPUs, in one run, so the speed-ups are measured on the same machine at the same time.

Start-up (spawning workers, starting Ray, loading a planner per worker) is timed apart from
the episodes: episodes per second is over the episodes alone, start-up is printed beside.
Every executor must also give the same outcomes, or the figures would compare different work.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from robollm.eval.evaluate import LOCAL_RAY, load_jobs, make_executor


def _measure(name: str, executor, jobs) -> dict[str, Any]:
    started = time.perf_counter()
    with executor:
        executor.start()
        ready = time.perf_counter()
        results = list(executor.map(jobs))
        finished = time.perf_counter()
    return {"name": name, "startup_s": ready - started, "episodes_s": finished - ready,
            "episodes_per_s": len(jobs) / (finished - ready),
            "outcomes": sorted((r.outcome() for r in results), key=lambda o: (o["id"], o["seed"], o["executor"]))}


def bench_eval(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="robollm bench eval", description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="wording", help="suite name or file (default: wording)")
    parser.add_argument("--executor", choices=("physics", "symbolic"), help="only this executor (default: both)")
    parser.add_argument("--limit", type=int, help="only the first N episodes of each suite")
    parser.add_argument("--config", help="launch file (default: the embedded model)")
    parser.add_argument("--workers", type=int, default=2, help="local workers and Ray CPUs (default 2)")
    parser.add_argument("--no-ray", action="store_true", help="leave Ray out")
    parser.add_argument("--min-processes", type=float, default=1.7, help="target speed-up of the workers")
    parser.add_argument("--min-ray", type=float, default=1.6, help="target speed-up on Ray")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    _, jobs = load_jobs(args.suite, [args.executor] if args.executor else None, args.limit)
    plans = [("1 worker", make_executor(args.config, 1)),
             (f"{args.workers} workers", make_executor(args.config, args.workers))]
    if not args.no_ray:
        plans.append((f"Ray, {args.workers} CPUs", make_executor(args.config, args.workers, LOCAL_RAY)))
    rows = [_measure(name, executor, jobs) for name, executor in plans]
    base = rows[0]["episodes_per_s"]
    targets = [args.min_processes, args.min_ray]
    for row, target in zip(rows[1:], targets, strict=False):
        row["speedup"], row["target"] = row["episodes_per_s"] / base, target
    same = all(r["outcomes"] == rows[0]["outcomes"] for r in rows)
    passed = same and all(r["speedup"] >= r["target"] for r in rows[1:])
    if args.json:
        print(json.dumps({"runs": len(jobs), "same_outcomes": same, "passed": passed,
                          "executors": [{k: v for k, v in r.items() if k != "outcomes"} for r in rows]}))
    else:
        print(f"{len(jobs)} runs of {args.suite}, each executor; start-up timed apart")
        print(f"{'executor':<16} {'start-up s':>10} {'episodes s':>10} {'episodes/s':>10} {'vs 1 worker':>11}")
        for r in rows:
            ratio = f"{r['speedup']:.2f}x" if "speedup" in r else "1.00x"
            target = f" (target {r['target']:.1f}x)" if "target" in r else ""
            print(f"{r['name']:<16} {r['startup_s']:10.1f} {r['episodes_s']:10.1f} "
                  f"{r['episodes_per_s']:10.3f} {ratio:>11}{target}")
        print(f"same outcomes on every executor: {'yes' if same else 'NO'}")
    return 0 if passed else 1
