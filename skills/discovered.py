"""Skills found by skill discovery: a trained policy behind the ordinary `Skill` shape.

Each lives in a folder with `manifest.json` (name, language template, typed
parameters, success predicate, verified success rate, how it was made) and
`policy.safetensors` (the policy network). The catalog registers every such folder
under `skills/discovered/`, so the planner chooses these skills like any other: the
template gives the language model its text, `apply` states the effect derived from
the success predicate, and `affordance` is the verified success rate.

Running one: the hand closes its fingers and moves in straight lines to the start
pose beside the object (`robollm.training.discovery.features.plan_start`), then the
policy steers it one control tick at a time through `Motion.servo`, seeing what
perception reports, until the success predicate holds in the perceived scene or its
ticks run out; then the hand lifts away and perception says how it went.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from robollm.geometry import Pose
from robollm.robot.motion import Motion
from robollm.skill import Outcome, Param, Skill, SkillContext
from robollm.training.discovery.features import (
    LIFT_AWAY,
    OBS_SIZE,
    PolicyTask,
    Start,
    hand_target,
    observe,
    plan_start,
)
from robollm.world.effects import derive_effect
from robollm.world.perceived import PerceivedFacts
from robollm.world.predicates import evaluate, parse
from robollm.world.state import SceneState
from robollm.world.symbolic import ARMS, SymbolicState

DISCOVERED_DIR = Path(__file__).resolve().parent / "discovered"
MANIFEST = "manifest.json"
POLICY = "policy.safetensors"


def _name(obj: str) -> str:
    return obj.replace("_", " ")


def discovered_manifests(folder: Path = DISCOVERED_DIR) -> list[Path]:
    """Every shipped skill's manifest, in name order."""
    return sorted(folder.glob(f"*/{MANIFEST}"))


class PolicySkill(Skill):
    """One discovered skill, read from its manifest."""

    def __init__(self, manifest: str | Path) -> None:
        self.manifest_path = Path(manifest)
        data = json.loads(self.manifest_path.read_text())
        self.manifest = data
        self.name = data["name"]
        self.template = data["template"]
        self.params = tuple(Param(n, ("region",) if kind == "region" else (f"type:{kind}",))
                            for n, kind in data["params"].items())
        self.success_template = data["success_template"]  # over {obj}, {target}, {region}
        self.push_height = float(data["push_height"])
        self.max_steps = int(data["max_steps"])
        self.affordance = float(data["verified"]["success_rate"])

    @cached_property
    def policy(self):
        from robollm.training.discovery.ppo import load_policy

        return load_policy(self.manifest_path.parent / POLICY, OBS_SIZE, 3)

    def success(self, **args: str) -> str:
        return self.success_template.format(**args)

    # -- symbolic effect --------------------------------------------------------------
    def apply(self, state: SymbolicState, **args: str) -> Outcome:
        """Preconditions as in training: the object stands free on the table, upright,
        with nothing on it; a region argument is the one it stands in, and a second
        object stands in that region too; a free hand reaches it."""
        obj = args["obj"]
        if state.types.get(obj) is None:
            return Outcome.fail("object not found")
        if state.holder(obj):
            return Outcome.fail(f"the {_name(obj)} is in a hand", state.holder(obj))
        if state.relation.get(obj) != "at" or state.stacked_on(obj):
            return Outcome.fail(f"the {_name(obj)} is not standing free on the table")
        if not state.holds("upright", (obj,)):
            return Outcome.fail(f"the {_name(obj)} is lying on its side")
        region = state.region_of(obj)
        if "region" in args and args["region"] != region:
            return Outcome.fail(f"the {_name(obj)} is not in the {args['region']} region")
        target = args.get("target")
        if target is not None and (target == obj or state.region_of(target) != region
                                   or state.relation.get(target) != "at"):
            return Outcome.fail(f"the {_name(target)} is not standing beside the {_name(obj)}")
        goal = parse(self.success(**args))
        if evaluate(goal, state):
            return Outcome.fail(f"{self.describe(**args)}: already done")
        arms = [a for a in ARMS if state.reaches(a, region)]
        free = [a for a in arms if state.holding(a) is None]
        if not free:
            return Outcome.fail("target out of reach" if not arms else "a hand is full", (arms or [None])[0])
        derive_effect(goal).apply(state)
        return Outcome(True, arm=free[0])

    # -- motion -----------------------------------------------------------------------
    def task(self, **args: str) -> PolicyTask:
        """The low-level task of one call: its success predicate, object, push height, ticks."""
        return PolicyTask(self.success(**args), args["obj"], push_height=self.push_height, max_steps=self.max_steps)

    def start(self, scene: SceneState, motion: Motion, **args: str) -> Start | None:
        """Where the policy takes over in this scene, or None where no arm's motion reaches
        a start beside the object (the skill then refuses: "target out of reach")."""
        return plan_start(scene, self.task(**args), motion.arms, motion)

    def run(self, ctx: SkillContext, **args: str) -> Outcome:
        check = self.apply(ctx.symbolic().copy(), **args)
        if not check.success:
            return check
        m = ctx.motion
        scene = ctx.perceive()
        task = self.task(**args)
        goal = task.goal
        plan = self.start(scene, m, **args)
        if plan is None:
            return Outcome.fail("target out of reach", check.arm)
        arm, direction, start = plan.arm, plan.direction, plan.pose
        m.close_gripper(arm, force=0.0, wait=0.4)
        for target in (start.offset(dz=plan.approach), start):
            res = m.move({arm: target})
            if not res.ok:
                m.home(arm)
                return Outcome.fail(res.reason, arm)
        ticks = 0
        for ticks in range(task.max_steps):
            scene = ctx.perceive()
            if evaluate(goal, PerceivedFacts(scene)):
                break
            hand = Pose(m.ee_pose(arm).position, start.orientation)
            action = self.policy.act(observe(scene, hand, task, ticks, direction, goal))
            m.servo({arm: hand_target(hand, action, scene, task, direction)}, 1.0 / task.control_hz)
        m.move({arm: m.ee_pose(arm).offset(dz=LIFT_AWAY)})
        m.home(arm)
        done = evaluate(goal, PerceivedFacts(ctx.perceive()))
        data = {"ticks": ticks}
        if not done:
            return Outcome(False, f"{self.describe(**args)}: not done after {ticks} control ticks", arm, data)
        return Outcome(True, arm=arm, data=data)
