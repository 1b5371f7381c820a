"""`robollm bench skills`: per-skill success rates over random scenes, and the example
tasks' scripted plans over their seeds."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np
from tqdm import tqdm

from robollm.config import load_config
from robollm.errors import ConfigError
from robollm.eval.tasks import load_tasks
from robollm.plan import SkillCall, parse_plan
from robollm.session import Session
from robollm.sim.world import SimWorld
from robollm.world.predicates import evaluate
from robollm.world.scene import ObjectSpec, SceneSpec

BLOCK_COLOURS = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan")
MATERIALS = ("metal", "wood", "plastic", "foam", "glass", "ceramic")


def random_scene(rng: np.random.Generator) -> SceneSpec:
    colours = rng.choice(BLOCK_COLOURS, size=int(rng.integers(2, 4)), replace=False)
    objects = [ObjectSpec("block", str(c), material=str(rng.choice(MATERIALS)),
                          region=str(rng.choice(["left", "middle", "right"]))) for c in colours]
    bowl_side = str(rng.choice(["left", "right"]))
    objects.append(ObjectSpec("bowl", "white", region=bowl_side))
    objects.append(ObjectSpec("plate", "brown", region="right" if bowl_side == "left" else "left"))
    return SceneSpec(objects, source="random scene")


def trials_for(scene: SceneSpec, rng: np.random.Generator) -> list[list[SkillCall]]:
    """Skill sequences to try on one scene; each list starts from a fresh layout."""
    blocks = [o.object_name for o in scene.objects if o.type == "block"]
    b = str(rng.choice(blocks))
    target = str(rng.choice(["white_bowl", "brown_plate", "left", "middle", "right"]))
    direction = str(rng.choice(["forward", "backward", "leftward", "rightward"]))
    return [
        [SkillCall("pick", (b,)), SkillCall("place", (b, target))],
        [SkillCall("pick", (b,)), SkillCall("hand_over", (b,))],
        [SkillCall("push", (b, direction))],
        [SkillCall("knock", (b,)), SkillCall("touch", (b,)), SkillCall("weigh", (b,))],
    ]


TRAY_SCENE = SceneSpec([ObjectSpec("tray", "grey", material="metal")], source="tray scene")
TRAY_TRIAL = [SkillCall("lift_with_both_arms", ("grey_tray",)), SkillCall("put_down", ("grey_tray", "middle"))]


def bench_skills(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="robollm bench skills")
    parser.add_argument("--scenes", type=int, default=50, help="random scenes for the per-skill rates")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config")
    parser.add_argument("--tasks", help="task file (default: the shipped example tasks)")
    parser.add_argument("--tasks-only", action="store_true")
    parser.add_argument("--skills-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    report: dict = {}
    ok = True
    if not args.tasks_only:
        report["skills"] = skill_rates(config, args.scenes, args.seed)
    if not args.skills_only:
        report["tasks"] = task_rates(config, args.tasks)
        ok = all(t["succeeded"] >= 0.9 * t["runs"] for t in report["tasks"].values())
    if args.json:
        print(json.dumps(report))
    else:
        for name, r in report.get("skills", {}).items():
            print(f"skill {name:<22} {r['succeeded']:>3}/{r['attempts']:<3} {r['rate']:6.1%}  {r['failures']}")
        for tid, r in report.get("tasks", {}).items():
            print(f"task  {tid:<28} {r['succeeded']:>2}/{r['runs']}  failed seeds {r['failed_seeds']}")
    return 0 if ok else 1


def _run_trial(config, scene, seed, calls, counts, reasons) -> None:
    with Session(config, scene, seed) as session:
        for call in calls:
            out = session.execute(call).outcome
            counts[call.skill][0] += 1
            counts[call.skill][1] += int(out.success)
            if not out.success:
                reasons[call.skill][out.reason] += 1
                break


def skill_rates(config, n_scenes: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    reasons: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    layout = SimWorld(config)  # only to check that a drawn scene fits on the table
    for i in tqdm(range(n_scenes), desc="random scenes", unit="scene", leave=False):
        while True:  # a crowded draw that does not fit is drawn again
            scene = random_scene(rng)
            try:
                layout.load_scene(scene, seed + i)
                break
            except ConfigError:
                continue
        for calls in trials_for(scene, rng):
            _run_trial(config, scene, seed + i, calls, counts, reasons)
        if i % 5 == 0:
            _run_trial(config, TRAY_SCENE, seed + i, TRAY_TRIAL, counts, reasons)
    layout.close()
    return {name: {"attempts": a, "succeeded": s, "rate": s / a if a else 0.0,
                   "failures": dict(reasons[name])} for name, (a, s) in sorted(counts.items())}


def task_rates(config, path: str | None) -> dict:
    out = {}
    tasks = load_tasks(path)
    for task in tqdm(tasks, desc="example tasks", unit="task", leave=False):
        scene = task.scene_spec(path or "examples")
        plan = parse_plan(task.plan)
        failed = []
        for seed in task.seeds:
            with Session(config, scene, seed) as session:
                goal = session.parse_goal(task.success)
                for call in plan:
                    if not session.execute(call).outcome.success:
                        break
                if not evaluate(goal, session.facts()):
                    failed.append(seed)
        out[task.id] = {"runs": len(task.seeds), "succeeded": len(task.seeds) - len(failed),
                        "failed_seeds": failed}
    return out
