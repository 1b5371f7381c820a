"""`robollm eval SUITE`: run every episode of a suite and report success rates.

Success means the episode's goal holds at the end and no object that the goal does
not name has moved. Plan success is success under the symbolic executor (the skills' stated effects,
no physics): it measures the planner. Execution success is success under physics:
planner and controllers together. Episodes run in separate worker processes, each
loading its own language model once.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from collections import defaultdict
from pathlib import Path

from tqdm import tqdm

from robollm.config import load_config
from robollm.errors import UserError
from robollm.eval.suites import load_suites

_WORKER: dict = {}


def _init_worker(config_path: str | None, threads: int | None = None) -> None:
    import torch

    from robollm.planner.saycan import SayCanPlanner

    if threads:
        torch.set_num_threads(threads)
    config = load_config(config_path)
    _WORKER["config"] = config
    _WORKER["planner"] = SayCanPlanner.from_config(config)


def _run_episode(job: dict) -> dict:
    from robollm.eval.suites import Episode
    from robollm.session import Session

    config, planner = _WORKER["config"], _WORKER["planner"]
    ep = Episode(**job["episode"])
    started = time.perf_counter()
    try:
        with Session(config, ep.scene_spec(job["source"]), job["seed"], executor=job["executor"]) as session:
            goal = session.parse_goal(ep.success)
            result = planner.run(session, ep.instruction)
            reached = session.succeeded(goal)
            disturbed = session.disturbed(goal)
        return {"id": ep.id, "family": ep.family, "seed": job["seed"], "executor": job["executor"],
                "instruction": ep.instruction, "success": reached and not disturbed,
                "goal_reached": reached, "disturbed": disturbed, "steps": len(result.steps),
                "plan": [s.chosen.text for s in result.steps], "stop_reason": result.stop_reason,
                "lm_seconds_per_step": result.lm_seconds_per_step,
                "failed_steps": [s.outcome.reason for s in result.steps if s.outcome and not s.outcome.success],
                "wall_seconds": time.perf_counter() - started}
    except Exception as e:  # noqa: BLE001 - one broken episode must not end the evaluation
        return {"id": ep.id, "family": ep.family, "seed": job["seed"], "executor": job["executor"],
                "instruction": ep.instruction, "success": False, "goal_reached": False,
                "disturbed": [], "steps": 0, "plan": [],
                "stop_reason": f"error: {type(e).__name__}: {e}", "lm_seconds_per_step": 0.0,
                "failed_steps": [], "wall_seconds": time.perf_counter() - started}


def summarise(results: list[dict]) -> dict:
    def stats(rows: list[dict]) -> dict:
        out: dict = {"episodes": len({(r["id"], r["seed"]) for r in rows})}
        for executor, key in (("symbolic", "plan_success"), ("physics", "execution_success")):
            sel = [r for r in rows if r["executor"] == executor]
            if sel:
                out[key] = sum(r["success"] for r in sel) / len(sel)
        # Runs that reached the goal but also moved objects the goal does not name: not
        # counted as successes, reported so that the difference stays visible.
        out["goal_but_disturbed"] = sum(r["goal_reached"] and bool(r["disturbed"]) for r in rows) / len(rows)
        steps = [r["steps"] for r in rows]
        lm = [r["lm_seconds_per_step"] for r in rows if r["steps"]]
        out["average_steps"] = sum(steps) / max(1, len(steps))
        out["lm_seconds_per_step"] = sum(lm) / max(1, len(lm))
        return out

    families = defaultdict(list)
    for r in results:
        families[r["family"]].append(r)
    return {"overall": stats(results), "families": {f: stats(rows) for f, rows in sorted(families.items())}}


def eval_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="robollm eval")
    parser.add_argument("suite", help="a suite file, a built-in suite name, 'all', or a held-out suite (heldout, wording)")
    parser.add_argument("--executor", choices=("physics", "symbolic"),
                        help="run only this executor (default: both)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--out", help="folder for episodes.jsonl and summary.json")
    parser.add_argument("--config", help="launch file")
    parser.add_argument("--limit", type=int, help="only the first N episodes of each suite")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    load_config(args.config)  # fail on a bad launch file before any worker starts
    suites = load_suites(args.suite)
    out_dir = _prepare_out(args.out)
    executors = [args.executor] if args.executor else ["symbolic", "physics"]
    jobs = []
    for suite in suites:
        for ep in suite.episodes[: args.limit]:
            for seed in ep.seeds:
                for executor in executors:
                    jobs.append({"episode": ep.__dict__, "source": suite.source, "seed": seed,
                                 "executor": executor})
    results = []
    if args.workers == 1:
        _init_worker(args.config)
        for job in tqdm(jobs, desc="episodes", unit="run"):
            results.append(_run_episode(job))
    else:
        ctx = mp.get_context("spawn")
        threads = max(1, (os.cpu_count() or 1) // args.workers)
        with ctx.Pool(args.workers, initializer=_init_worker, initargs=(args.config, threads)) as pool:
            for r in tqdm(pool.imap(_run_episode, jobs), total=len(jobs), desc="episodes", unit="run"):
                results.append(r)
    summary = summarise(results)
    summary["suites"] = [s.suite for s in suites]
    if out_dir is not None:
        with open(out_dir / "episodes.jsonl", "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary, out_dir)
    errors = [r for r in results if r["stop_reason"].startswith("error:")]
    return 1 if errors else 0


def _prepare_out(path: str | None) -> Path | None:
    if path is None:
        return None
    out = Path(path)
    for name in ("episodes.jsonl", "summary.json"):
        if (out / name).exists():
            raise UserError(f"--out {path!r} already holds {name}; choose a new folder so no results are overwritten")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _print_summary(summary: dict, out_dir: Path | None) -> None:
    def pct(v):
        return "   -  " if v is None else f"{v:6.1%}"

    print(f"{'family':<16} {'episodes':>8} {'plan':>7} {'exec':>7} {'extra':>7} {'steps':>6} {'LM s/step':>10}")
    rows = list(summary["families"].items()) + [("overall", summary["overall"])]
    for name, s in rows:
        print(f"{name:<16} {s['episodes']:>8} {pct(s.get('plan_success'))} {pct(s.get('execution_success'))} "
              f"{pct(s['goal_but_disturbed'])} {s['average_steps']:6.2f} {s['lm_seconds_per_step']:10.2f}")
    print("success: the goal holds and no object the goal does not name was moved; extra: runs "
          "that reached the goal but also moved other objects (not successes)")
    if out_dir is not None:
        print(f"results: {out_dir / 'episodes.jsonl'}, {out_dir / 'summary.json'}")
