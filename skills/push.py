"""Push: slide an object along the table with the closed fingers of one hand.

A push moves what the hand had better not lift, and moves things across the table
further than a pick-and-place with one arm can: from the shared middle into a side
region. The hand comes down behind the object with its fingers closed, moves in a
straight line through where the object stands, and backs off; perception then checks
where the object actually went, since a push can glance off or stall.
"""

from __future__ import annotations

import math

from robollm.geometry import Pose, top_down
from robollm.robot.motion import Motion
from robollm.skill import DIRECTIONS, Outcome, Param, Skill, SkillContext
from robollm.skills.manipulation import APPROACH, other
from robollm.world.state import ObjectInfo, SceneState
from robollm.world.symbolic import ARMS, SymbolicState

PUSH_DISTANCE = 0.10  # m a push in a direction moves the object
PAST_BOUNDARY = 0.01  # m the object's trailing edge goes past a region boundary
FINGER_REACH = 0.012  # m from the grasp point to the front of the closed fingers
CLEARANCE = 0.025  # m between the fingers and the object before the push starts
PUSH_HEIGHT = 0.015  # m above the table for the grasp point: fingertips just clear it
BACK_OFF = 0.02  # m the hand withdraws before lifting, so it does not drag the object
EDGE_MARGIN = 0.02  # m a pushed object keeps from the table's edge
MIN_PUSH = 0.03  # m: a push with less room than this is not worth making
DIRECTION_VECTORS = {"forward": (1.0, 0.0), "backward": (-1.0, 0.0),
                     "leftward": (0.0, 1.0), "rightward": (0.0, -1.0)}
ROUND_TYPES = ("bowl", "cup", "plate")


def _name(obj: str) -> str:
    return obj.replace("_", " ")


def half_extent(obj: ObjectInfo, d: tuple[float, float]) -> float:
    """How far the object reaches from its centre along the unit direction `d`."""
    if obj.type in ROUND_TYPES:
        return max(obj.footprint) / 2
    c, s = math.cos(obj.yaw), math.sin(obj.yaw)
    along_x, along_y = d[0] * c + d[1] * s, -d[0] * s + d[1] * c
    return 0.5 * (abs(obj.footprint[0] * along_x) + abs(obj.footprint[1] * along_y))


def reach(obj: ObjectInfo) -> float:
    """How far the object reaches from its centre in any direction."""
    return max(obj.footprint) / 2 if obj.type in ROUND_TYPES else obj.radius


def destination(scene: SceneState, obj: ObjectInfo, target: str) -> tuple[float, float]:
    """Where the object's centre should end up: a fixed distance in a direction (less
    where the table ends), or the nearest point of the target region with the whole
    object just past the boundary (no further: a shorter stroke stays within more arms'
    reach)."""
    x, y = obj.pose.position[:2]
    if target in DIRECTION_VECTORS:
        d = DIRECTION_VECTORS[target]
        boxes = scene.regions.values()
        low = (min(b.low[0] for b in boxes), min(b.low[1] for b in boxes))
        high = (max(b.high[0] for b in boxes), max(b.high[1] for b in boxes))
        inset = half_extent(obj, d) + EDGE_MARGIN
        room = PUSH_DISTANCE
        for axis, (pos, step) in enumerate(((x, d[0]), (y, d[1]))):
            if step > 0:
                room = min(room, (high[axis] - inset - pos) / step)
            elif step < 0:
                room = min(room, (pos - low[axis] - inset) / -step)
        room = max(room, 0.0)
        return x + d[0] * room, y + d[1] * room
    box = scene.regions[target]

    def clamp(inset: float) -> tuple[float, float]:
        return (min(max(x, box.low[0] + inset), box.high[0] - inset),
                min(max(y, box.low[1] + inset), box.high[1] - inset))

    gx, gy = clamp(obj.radius)
    dist = math.hypot(gx - x, gy - y)
    if dist < 1e-9:
        return gx, gy
    return clamp(half_extent(obj, ((gx - x) / dist, (gy - y) / dist)) + PAST_BOUNDARY)


def blocker(scene: SceneState, obj: ObjectInfo, start: tuple[float, float],
            end: tuple[float, float], skip: set[str]) -> str | None:
    """The first other object whose footprint the pushed object or the hand would sweep."""
    sx, sy = start
    ex, ey = end
    length2 = max((ex - sx) ** 2 + (ey - sy) ** 2, 1e-12)
    for o in scene.objects.values():
        if o.name == obj.name or o.name in skip or scene.holder(o.name):
            continue
        px, py = o.pose.position[:2]
        t = min(1.0, max(0.0, ((px - sx) * (ex - sx) + (py - sy) * (ey - sy)) / length2))
        gap = math.hypot(px - (sx + t * (ex - sx)), py - (sy + t * (ey - sy)))
        if gap < reach(obj) + reach(o) + 0.005:
            return o.name
    return None


def _not_a_target(target: str, state: SymbolicState) -> str:
    return (f"{target} is neither a region ({', '.join(state.region_names)}) nor a direction "
            f"({', '.join(DIRECTIONS)})")


def push_arm(state: SymbolicState, obj: str, dest_region: str | None) -> Outcome:
    """As for pick: an arm that reaches the object (and here also where it goes), a free
    one first. A hand that holds something cannot push with closed fingers."""
    region = state.region_of(obj)
    reaching = [a for a in ARMS if state.reaches(a, region) and state.reaches(a, dest_region)]
    if not reaching:
        return Outcome.fail("target out of reach")
    free = [a for a in reaching if state.holding(a) is None]
    if not free:
        return Outcome.fail("a hand is full", reaching[0])
    return Outcome(True, arm=free[0])


class Push(Skill):
    name = "push"
    template = "push the {obj} {target}"
    params = (Param("obj", ("object",)), Param("target", ("region", "direction")))

    def describe(self, **args: str) -> str:
        obj, target = _name(args["obj"]), args["target"]
        if target in DIRECTIONS:
            words = {"forward": "away from you", "backward": "towards you",
                     "leftward": "a little to the left", "rightward": "a little to the right"}
            return f"push the {obj} {words[target]}"
        where = "into the middle of the table" if target == "middle" else f"over to the {target} side of the table"
        return f"push the {obj} {where}"

    def check_args(self, args: dict[str, str], state: SymbolicState) -> str:
        target = args.get("target")
        if target is not None and target not in state.types and target not in state.region_names \
                and target not in DIRECTIONS:
            return _not_a_target(target, state)
        return super().check_args(args, state)

    def apply(self, state: SymbolicState, obj: str, target: str) -> Outcome:
        if state.types.get(obj) is None:
            return Outcome.fail("object not found")
        if state.holder(obj):
            return Outcome.fail(f"the {_name(obj)} is in a hand", state.holder(obj))
        if state.relation.get(obj) != "at":
            return Outcome.fail(f"the {_name(obj)} is not standing on the table")
        if any(state.relation[o] == "on" for o in state.stacked_on(obj)):
            return Outcome.fail(f"something is on the {_name(obj)}")
        region = state.region_of(obj)
        if target in state.region_names:
            if target == region:
                return Outcome.fail(f"the {_name(obj)} is already in the {target} region")
            dest = target
        elif target in DIRECTIONS:
            dest = region  # a short push; which region it ends in is for perception to say
        else:
            return Outcome.fail(_not_a_target(target, state))
        check = push_arm(state, obj, dest)
        if check.success:
            state.put(obj, "at", dest)
        return check

    def stroke(self, scene: SceneState, obj: str, target: str, riders: set[str]
               ) -> tuple[Pose, Pose, tuple[float, float], tuple[float, float]] | str:
        """The hand's start and end of the stroke, its direction and the object's goal,
        from the perceived scene; or why no stroke can be made from it."""
        info = scene.objects[obj]
        x0, y0 = info.pose.position[:2]
        gx, gy = destination(scene, info, target)
        dist = math.hypot(gx - x0, gy - y0)
        if target in DIRECTION_VECTORS and dist < MIN_PUSH:
            return f"no room to push the {_name(obj)} {target}: the table ends there"
        if dist < 1e-3:
            return f"the {_name(obj)} is already in the {target} region"
        d = ((gx - x0) / dist, (gy - y0) / dist)
        behind = half_extent(info, d) + FINGER_REACH + CLEARANCE
        z = scene.regions[scene.region_of(obj) or "middle"].low[2] + PUSH_HEIGHT
        yaw = (math.atan2(d[1], d[0]) + math.pi / 2) % math.pi - math.pi / 2
        start = Pose((x0 - d[0] * behind, y0 - d[1] * behind, z), top_down(yaw))
        end = start.offset(d[0] * (dist + CLEARANCE), d[1] * (dist + CLEARANCE))
        in_way = blocker(scene, info, start.position[:2], (gx, gy), riders)
        if in_way:
            return f"the {_name(in_way)} is in the way"
        return start, end, d, (gx, gy)

    def scene_check(self, scene: SceneState, state: SymbolicState, **args: str) -> str:
        fallen = super().scene_check(scene, state, **args)
        obj, target = args["obj"], args["target"]
        if fallen or obj not in scene.objects or scene.holder(obj) \
                or (target not in scene.regions and target not in DIRECTION_VECTORS):
            return fallen  # a held object: the preconditions say why
        plan = self.stroke(scene, obj, target, set(state.stacked_on(obj)))
        return plan if isinstance(plan, str) else ""

    def run(self, ctx: SkillContext, obj: str, target: str) -> Outcome:
        sym = ctx.symbolic()
        check = self.apply(sym.copy(), obj=obj, target=target)
        if not check.success:
            return check
        m = ctx.motion
        scene = ctx.perceive()
        info = scene.objects[obj]
        plan = self.stroke(scene, obj, target, set(sym.stacked_on(obj)))
        if isinstance(plan, str):
            return Outcome.fail(plan, check.arm)
        start, end, d, goal = plan
        arm = self._arm(m, sym, check.arm, start, end)
        if arm is None:
            return Outcome.fail("target out of reach", check.arm)
        out = self._stroke(m, arm, start, end, d)
        m.home(arm)
        if not out.success:
            return out
        return self._verify(ctx.perceive(), info, target, goal, arm)

    def _arm(self, m: Motion, sym: SymbolicState, arm: str, start: Pose, end: Pose) -> str | None:
        """The chosen arm if it reaches the whole stroke, else the other one if it is free
        and does (an object near the middle's edge may be pushed out of one arm's reach)."""
        for a in (arm, other(arm)):
            if a != arm and sym.holding(a) is not None:
                continue
            if m.in_workspace(a, start.position) and m.in_workspace(a, end.position):
                return a
        return None

    def _stroke(self, m: Motion, arm: str, start: Pose, end: Pose, d: tuple[float, float]) -> Outcome:
        # A zero grasp force closes the fingers as a plain width move, so pressing them
        # against the object never counts as a grasp.
        m.close_gripper(arm, force=0.0, wait=0.4)
        for target in (start.offset(dz=APPROACH), start, end):
            res = m.move({arm: target})
            if not res.ok:
                m.move({arm: m.ee_pose(arm).offset(dz=APPROACH)})
                return Outcome.fail(res.reason, arm)
        m.move({arm: end.offset(-d[0] * BACK_OFF, -d[1] * BACK_OFF)})
        m.move({arm: m.ee_pose(arm).offset(dz=APPROACH)})
        return Outcome(True, arm=arm)

    def _verify(self, scene: SceneState, before: ObjectInfo, target: str,
                goal: tuple[float, float], arm: str) -> Outcome:
        after = scene.objects[before.name]
        (x0, y0), (x1, y1) = before.pose.position[:2], after.pose.position[:2]
        moved = math.hypot(x1 - x0, y1 - y0)
        wanted = math.hypot(goal[0] - x0, goal[1] - y0)
        data = {"moved": moved, "position": (x1, y1)}
        ox, oy = after.pose.orientation[:2]
        if 1.0 - 2.0 * (ox * ox + oy * oy) < math.cos(0.3):  # up axis tilted by over 0.3 rad
            return Outcome(False, f"the {_name(before.name)} tipped over", arm, data)
        if moved < 0.01:
            return Outcome(False, "object did not move", arm, data)
        if target in scene.regions and scene.region_of(before.name) != target:
            return Outcome(False, f"the {_name(before.name)} stopped short of the {target} region",
                           arm, data)
        if target in DIRECTION_VECTORS and moved < 0.5 * wanted:
            return Outcome(False, f"the {_name(before.name)} moved only {moved * 100:.0f} cm", arm, data)
        return Outcome(True, arm=arm, data=data)
