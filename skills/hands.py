"""Skills that name the hand: which arm picks, or both arms picking at once.

The built-in `pick` leaves the arm to a rule (the only arm that reaches, else the free
one). These let the language model decide instead, as in LABOR: "with your left hand"
becomes `pick_with(red_block, left)`, and "one in each hand at the same time" becomes
`pick_both(red_block, blue_block)`, the two arms grasping side by side, each at its own
pace (`both_async`). Reachability still rules out what an arm cannot do. They join the
library through `skills.library: robollm.skills.catalog:register_with_hands`.
"""

from __future__ import annotations

from robollm.geometry import Pose, top_down
from robollm.skill import Outcome, Param, Skill, SkillContext
from robollm.skills.manipulation import (
    APPROACH,
    CARRY_HEIGHT,
    EMPTY_WIDTH,
    RISE_FRACTION,
    cannot_pick,
    clear_grasp_yaw,
    grasp_height,
    hand_full,
    pick_up,
    squeeze,
)
from robollm.world.symbolic import ARMS, SymbolicState


def _words(name: str) -> str:
    return name.replace("_", " ")


def take(state: SymbolicState, obj: str, arm: str) -> Outcome:
    """`arm` picks `obj` in the symbolic scene, if it can: the preconditions of pick, with
    the arm given rather than chosen."""
    refused = cannot_pick(state, obj)
    if refused:
        return refused
    if not state.reaches(arm, state.region_of(obj)):
        return Outcome.fail(f"the {_words(obj)} is out of the {arm} arm's reach", arm)
    if state.holding(arm) is not None:
        return hand_full(state, arm)
    state.put(obj, "held", arm)
    return Outcome(True, arm=arm)


class PickWith(Skill):
    name = "pick_with"
    template = "pick up the {obj} with the {arm} hand"
    params = (Param("obj", ("graspable",)), Param("arm", ("arm",)))

    def apply(self, state: SymbolicState, obj: str, arm: str) -> Outcome:
        return take(state, obj, arm)

    def run(self, ctx: SkillContext, obj: str, arm: str) -> Outcome:
        check = self.apply(ctx.symbolic(), obj=obj, arm=arm)
        if not check.success:
            return check
        out = pick_up(ctx, arm, ctx.scene.objects[obj])
        ctx.motion.home(arm) if not out.success else None
        return out


class PickBoth(Skill):
    name = "pick_both"
    template = "pick up the {obj} with the left hand and the {target} with the right hand"
    params = (Param("obj", ("graspable",)), Param("target", ("graspable",)))

    def apply(self, state: SymbolicState, obj: str, target: str) -> Outcome:
        for thing, arm in ((obj, "left"), (target, "right")):
            out = take(state, thing, arm)
            if not out.success:
                return out
        return Outcome(True, data={"arms": list(ARMS), "pattern": "both_async"})

    def run(self, ctx: SkillContext, obj: str, target: str) -> Outcome:
        check = self.apply(ctx.symbolic(), obj=obj, target=target)
        if not check.success:
            return check
        m = ctx.motion
        objects = {"left": ctx.scene.objects[obj], "right": ctx.scene.objects[target]}
        grasps = {}
        for arm, o in objects.items():
            x, y, _ = o.pose.position
            grasps[arm] = Pose((x, y, grasp_height(o)), top_down(clear_grasp_yaw(ctx.scene, o)))
            m.open_gripper(arm, wait=0.0)
        m.wait(0.3)

        def give_up(reason: str, arm: str | None = None) -> Outcome:
            for a in ARMS:
                m.open_gripper(a, wait=0.0)
            m.wait(0.2)
            for a in ARMS:
                m.home(a)
            return Outcome.fail(reason, arm)

        for dz in (APPROACH, 0.0):
            res = m.move({a: g.offset(0.0, 0.0, dz) for a, g in grasps.items()}, "both_async")
            if not res.ok:
                return give_up(res.reason)
        for arm in ARMS:
            if squeeze(m, arm, objects[arm])[0] < EMPTY_WIDTH:
                return give_up(f"grasp missed: the {arm} fingers closed on nothing", arm)
        lift = {a: max(g.position[2] + APPROACH, CARRY_HEIGHT) for a, g in grasps.items()}
        res = m.move({a: Pose((*g.position[:2], lift[a]), g.orientation) for a, g in grasps.items()}, "both_async")
        seen = ctx.perceive().objects
        for arm in ARMS:
            if m.gripper_width(arm) < EMPTY_WIDTH:
                return give_up(f"grasp slipped from the {arm} hand", arm)
            o = objects[arm]
            rise = seen[o.name].pose.position[2] - o.pose.position[2] if o.name in seen else -1.0
            if rise < RISE_FRACTION * (lift[arm] - grasps[arm].position[2]):
                return give_up(f"grasp failed: the {_words(o.name)} did not rise with the {arm} hand", arm)
        if not res.ok:
            return give_up(res.reason)
        return Outcome(True, data={"arms": list(ARMS), "pattern": "both_async"})
