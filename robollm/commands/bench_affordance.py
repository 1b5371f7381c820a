"""`robollm bench affordance`: the learned model and the heuristic on the same held-out calls.

Quality: AUROC, expected calibration error (10 bins) and Brier score, overall, on the
calls the rules allow, and per skill, over the held-out scenes not used for calibration.
Speed: the time to score every candidate of one planner step (80 candidates, the size of
a crowded table's step), both models side by side in one run, median of repeats. Both
models are called through the same `Affordance.score` the planner calls. Without --data
it reads the held-out file that ships beside the default weights; --data takes a
collected folder or such a file (another model's test calls). Exit 1 when a target
is missed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from robollm.commands.parser import Parser
from robollm.errors import UserError

SHIPPED_HELDOUT = "heldout-test.jsonl.gz"
TARGETS = {"auroc": 0.95, "ece": 0.05, "ms_80": 5.0}
CANDIDATES = 80


def shipped_heldout() -> Path:
    from robollm.affordance.learned import default_weights

    return default_weights().parent / SHIPPED_HELDOUT


def read_heldout(data: str | None) -> list[dict[str, Any]]:
    """The reporting half of held-out calls: the shipped file, a collected folder, or a
    `.jsonl.gz` of held-out calls (another model's test calls)."""
    from robollm.affordance.records import load_dataset, read_records
    from robollm.training.affordance import is_calibration

    if data is None:
        path = shipped_heldout()
        if not path.is_file():
            raise UserError(f"{path}: the shipped held-out calls are missing; pass --data with a folder "
                            "written by `robollm collect affordance`")
        records = read_records(path)
    elif data.endswith(".jsonl.gz"):
        records = read_records(data)
    else:
        records = load_dataset(data, need_train=False).heldout
    if not records:
        raise UserError(f"--data {data!r}: no held-out calls in it")
    return [r for r in records if not is_calibration(r["scene_seed"])]


def _timing(reader, learned, heuristic, records: list[dict[str, Any]], repeats: int = 30) -> dict[str, Any]:
    from robollm.affordance.base import AffordanceInput
    from robollm.planner.candidates import enumerate_calls

    best = max(records, key=lambda r: len(r["scene"]["objects"]))
    scene, state = reader.state(best)
    calls = [c for c in enumerate_calls(reader.skills, state) if c.skill != "done"]
    batch = [calls[i % len(calls)] for i in range(CANDIDATES)]
    given = AffordanceInput(scene, state, reader.skills)
    out = {"candidates": len(batch), "distinct_calls": len(calls), "objects": len(scene.objects)}
    for name, model in (("heuristic", heuristic), ("learned", learned)):
        model.score(given, batch)  # warm-up
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            model.score(given, batch)
            times.append(time.perf_counter() - t)
        out[f"{name}_ms"] = round(1000 * float(np.median(times)), 3)
    out["ratio"] = round(out["learned_ms"] / max(out["heuristic_ms"], 1e-9), 2)
    return out


def bench_affordance(argv: list[str]) -> int:
    parser = Parser(prog="robollm bench affordance")
    parser.add_argument("--data", help="a collected data folder, or a .jsonl.gz of held-out calls written by "
                        "`robollm train affordance` (default: the held-out calls shipped with the weights)")
    parser.add_argument("--weights", help="learned-v0 weights (default: the shipped file)")
    parser.add_argument("--config", help="launch file of the rig the data was collected on")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from robollm.affordance.base import AffordanceInput
    from robollm.affordance.dataset import RecordReader
    from robollm.affordance.heuristic import HeuristicAffordance
    from robollm.affordance.learned import LearnedAffordance, LearnedOptions
    from robollm.affordance.metrics import report
    from robollm.config import load_config
    from robollm.plan import SkillCall

    records = read_heldout(args.data)
    learned = LearnedAffordance(LearnedOptions(weights=args.weights))
    heuristic = HeuristicAffordance()
    reader = RecordReader(load_config(args.config))
    p, h, y, skills = [], [], [], []
    for r in records:
        scene, state = reader.state(r)
        given = AffordanceInput(scene, state, reader.skills)
        call = [SkillCall(r["call"]["skill"], tuple(r["call"]["args"]))]
        p.append(learned.score(given, call)[0])
        h.append(heuristic.score(given, call)[0])
        y.append(bool(r["success"]))
        skills.append(call[0].skill)
    p, h, y, names = np.array(p), np.array(h), np.array(y), np.array(skills)
    allow = h > 0
    result: dict[str, Any] = {
        "records": len(y), "scenes": len({r["scene_seed"] for r in records}),
        "weights": str(learned.path),
        "all": {"learned": report(p, y), "heuristic": report(h, y)},
        "rules_allow": {"learned": report(p[allow], y[allow]), "heuristic": report(h[allow], y[allow])},
        "per_skill": {k: {"learned": report(p[names == k], y[names == k]),
                          "heuristic": report(h[names == k], y[names == k])} for k in sorted(set(skills))},
        "timing": _timing(reader, learned, heuristic, records),
    }
    lo = result["all"]["learned"]
    result["targets"] = {"auroc": (lo["auroc"] or 0) >= TARGETS["auroc"], "ece": lo["ece"] <= TARGETS["ece"],
                         "ms_80": result["timing"]["learned_ms"] <= TARGETS["ms_80"]}
    status = 0 if all(result["targets"].values()) else 1  # like `bench eval`: a missed target is exit 1
    if args.json:
        print(json.dumps(result))
        return status
    print(f"held-out calls: {result['records']} from {result['scenes']} scenes (not used for training "
          f"or calibration); weights {result['weights']}")
    print(f"{'':<22}{'n':>5} {'succ':>6} | {'learned AUROC':>13} {'ECE':>6} {'Brier':>6} | "
          f"{'heuristic AUROC':>15} {'ECE':>6} {'Brier':>6}")
    rows = [("all calls", result["all"]), ("calls the rules allow", result["rules_allow"])]
    rows += [(f"  {k}", v) for k, v in result["per_skill"].items()]
    for label, v in rows:
        a, b = v["learned"], v["heuristic"]

        def f(x) -> str:
            return "  -  " if x is None else f"{x:.3f}"
        print(f"{label:<22}{a['n']:>5} {f(a['success_rate']):>6} | {f(a['auroc']):>13} {f(a['ece']):>6} "
              f"{f(a['brier']):>6} | {f(b['auroc']):>15} {f(b['ece']):>6} {f(b['brier']):>6}")
    t = result["timing"]
    print(f"scoring {t['candidates']} candidates of one step ({t['distinct_calls']} distinct calls, "
          f"{t['objects']} objects): learned {t['learned_ms']:.2f} ms, heuristic {t['heuristic_ms']:.2f} ms "
          f"(x{t['ratio']:.1f}); median of 30")
    met = ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in result["targets"].items())
    print(f"targets (AUROC >= 0.95, ECE <= 0.05, <= 5 ms for 80): {met}")
    return status
