"""Two-handed skills: lift a tray or box by its handles with both arms, and put it down.

Each arm grips the handle on its side top-down, fingers closing across the bar. Held
at both ends by two stiff position-controlled arms, the object closes a kinematic
loop: any difference between the two hands' paths squeezes or twists it, and only the
grasps and the joint motors give. So while both hands hold it, the arms share one clock
(`both_sync`), and the two wrists are turned as mirror images of each other, so that
the two arms' joint-space paths between IK waypoints bend alike (measured: a quarter of
a millimetre apart, against 0.7 mm with both wrists turned the same way). Whether the
load is too heavy is left to the arms' joint torque limits: nothing here compares a
mass with a threshold.
"""

from __future__ import annotations

import math

from robollm.geometry import Pose, top_down
from robollm.robot.motion import Motion, MoveResult
from robollm.skill import Outcome, Param, Skill, SkillContext
from robollm.skills.manipulation import EMPTY_WIDTH, RISE_FRACTION
from robollm.world.scene import TWO_HANDED_TYPES
from robollm.world.state import ObjectInfo, SceneState
from robollm.world.symbolic import ARMS, SymbolicState

LIFT = 0.15  # m the object is raised
APPROACH = 0.10  # m above a handle where the straight descent starts
HANDLE_BELOW_RIM = 0.012  # m from the rim down to the middle of a handle bar (tray and box models)
RELEASE_GAP = 0.003  # m above the table where the object is let go
MAX_TILT = 0.15  # rad: a held object tilted more than this hangs from one hand
SPOT_MARGIN = 0.03  # m kept between a put-down footprint and other objects or the table edge

Hands = dict[str, Pose]


def _name(obj: str) -> str:
    return obj.replace("_", " ")


def handle_grasps(obj: ObjectInfo) -> Hands:
    """Top-down grasps midway along the two handle bars, each arm taking the one on its side.

    The handles stick out of the short ends (the object's y axis); the fingers close along
    the object's x axis, across a bar. A tray turned half round looks the same, so the yaw
    is folded to keep the left handle on the left arm's side.
    """
    yaw = (obj.yaw + math.pi / 2) % math.pi - math.pi / 2
    c, s = math.cos(yaw), math.sin(yaw)
    along = (obj.size + obj.footprint[1]) / 4  # between the end wall and the handle's tip
    x, y, z = obj.pose.position
    hz = z + obj.height - HANDLE_BELOW_RIM
    return {
        "left": Pose((x - s * along, y + c * along, hz), top_down(yaw - math.pi / 2)),
        "right": Pose((x + s * along, y - c * along, hz), top_down(yaw + math.pi / 2)),
    }


def shifted(hands: Hands, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0) -> Hands:
    return {arm: pose.offset(dx, dy, dz) for arm, pose in hands.items()}


def tilt(obj: ObjectInfo) -> float:
    """Angle between the object's up axis and the world's, in radians."""
    x, y, _, _ = obj.pose.orientation
    return math.acos(max(-1.0, min(1.0, 1.0 - 2.0 * (x * x + y * y))))


def open_both(m: Motion, wait: float = 0.4) -> None:
    for arm in ARMS:
        m.open_gripper(arm, wait=0.0)
    m.wait(wait)


def close_both(m: Motion) -> dict[str, float]:
    """Close both grippers at once, each with its two-handed (`both_sync`) grasp force."""
    for arm in ARMS:
        m.close_gripper(arm, m.grasp_force(arm, "both_sync"), wait=0.0)
    m.wait(0.6)
    return {arm: m.gripper_width(arm) for arm in ARMS}


def let_go(m: Motion, hands: Hands) -> None:
    """Open both hands where they are, back off upwards and return both arms home."""
    open_both(m)
    m.move(shifted(hands, dz=APPROACH), "both_sync")
    for arm in ARMS:
        m.home(arm)


def held_by_both(state: SymbolicState, obj: str) -> bool:
    return state.relation.get(obj) == "held" and obj in state.held_by_both


class LiftWithBothArms(Skill):
    name = "lift_with_both_arms"
    template = "lift the {obj} with both hands"
    params = (Param("obj", ("two_handed",)),)

    def apply(self, state: SymbolicState, obj: str) -> Outcome:
        kind = state.types.get(obj)
        if kind is None:
            return Outcome.fail("object not found")
        if kind not in TWO_HANDED_TYPES:
            return Outcome.fail(f"a {kind} has no handles for two hands")
        if state.holder(obj):
            return Outcome.fail("already holding", state.holder(obj))
        for arm in ARMS:
            if state.holding(arm) is not None:
                return Outcome.fail("a hand is full", arm)
        if state.relation.get(obj) != "at":
            return Outcome.fail(f"the {_name(obj)} is not standing on the table")
        state.hold_with_both(obj)
        return Outcome(True)

    def run(self, ctx: SkillContext, obj: str) -> Outcome:
        check = self.apply(ctx.symbolic(), obj=obj)
        if not check.success:
            return check
        m = ctx.motion
        before = ctx.perceive().objects[obj]
        grasps = handle_grasps(before)
        open_both(m, wait=0.3)
        for targets in (shifted(grasps, dz=APPROACH), grasps):
            res = m.move(targets, "both_sync")
            if not res.ok:
                for arm in ARMS:
                    m.home(arm)
                return Outcome.fail(res.reason)
        widths = close_both(m)
        for arm in ARMS:
            if widths[arm] < EMPTY_WIDTH:
                let_go(m, grasps)
                return Outcome.fail(f"grasp missed: the {arm} fingers closed on nothing", arm)
        res = m.move(shifted(grasps, dz=LIFT), "both_sync")
        m.wait(0.5)  # hold still: a grasp that is going to slip does so now
        after = ctx.perceive().objects[obj]
        rise = after.pose.position[2] - before.pose.position[2]
        reason = self._failure(m, res, rise, after)
        if reason:
            # Undo: lower it to where it was and let go.
            m.move(grasps, "both_sync")
            let_go(m, grasps)
            return Outcome.fail(reason)
        return Outcome(True, data={"arms": list(ARMS), "rise": rise, "grasp_widths": widths})

    def _failure(self, m: Motion, res: MoveResult, rise: float, after: ObjectInfo) -> str:
        for arm in ARMS:
            if m.gripper_width(arm) < EMPTY_WIDTH:
                return f"grasp slipped from the {arm} hand"
        if not res.ok:
            return res.reason
        if tilt(after) > MAX_TILT:
            return f"the {_name(after.name)} tilted in the hands"
        if rise < RISE_FRACTION * LIFT:
            return f"the {_name(after.name)} came up only {rise * 100:.0f} cm"
        return ""


class PutDown(Skill):
    name = "put_down"
    template = "put the {obj} down in the {target}"
    params = (Param("obj", ("two_handed",)), Param("target", ("region",)))

    def describe(self, **args: str) -> str:
        target = args["target"]
        where = "in the middle of the table" if target == "middle" else f"on the {target} side of the table"
        return f"put the {_name(args['obj'])} down {where}"

    def apply(self, state: SymbolicState, obj: str, target: str) -> Outcome:
        if state.types.get(obj) is None:
            return Outcome.fail("object not found")
        if not held_by_both(state, obj):
            return Outcome.fail(f"not holding the {_name(obj)} with both hands")
        if target not in state.region_names:
            return Outcome.fail(f"{target} is not a region of the table")
        state.put(obj, "at", target)
        return Outcome(True)

    def run(self, ctx: SkillContext, obj: str, target: str) -> Outcome:
        sym = ctx.symbolic()
        check = self.apply(sym.copy(), obj=obj, target=target)
        if not check.success:
            return check
        m = ctx.motion
        scene = ctx.perceive()
        info = scene.objects[obj]
        # Keep the grasps as they are: start from where the hands are, squarely top-down.
        hands = {a: _square(m.ee_pose(a)) for a in ARMS}
        x, y = info.pose.position[:2]
        if scene.region_of(obj) == target:
            spot = (x, y)  # put it back where it came from
        else:
            riders = {o for o in scene.objects if sym.rides_on_two_hands(o)}
            spot = free_spot(scene, info, target, m, avoid={obj} | riders)
            if spot is None:
                return Outcome.fail(f"no free space in the {target} region that both hands reach")
        table = scene.regions[target].low[2]
        drop = info.pose.position[2] - (table + RELEASE_GAP)
        over = shifted(hands, spot[0] - x, spot[1] - y)
        down = shifted(over, dz=-drop)
        for targets in (over, down):
            res = m.move(targets, "both_sync")
            if not res.ok:
                return Outcome.fail(res.reason)  # still held by both hands, where it stopped
        let_go(m, down)
        after = ctx.perceive()
        placed = after.objects[obj]
        if any(after.holding.get(a) == obj for a in ARMS):
            return Outcome.fail(f"the {_name(obj)} did not come out of the hands")
        if placed.pose.position[2] > table + 0.01 or tilt(placed) > 0.05:
            return Outcome.fail(f"the {_name(obj)} is not lying flat on the table")
        if after.region_of(obj) != target:
            return Outcome.fail(f"the {_name(obj)} ended up outside the {target} region")
        return Outcome(True, data={"spot": spot})


def _square(pose: Pose) -> Pose:
    """The same position and yaw, pointing exactly straight down: a hand's measured
    orientation under load is off by a hair, and a target carrying that error into the
    closed loop would twist the object between the hands."""
    qx, qy = pose.orientation[:2]
    yaw = 2.0 * math.atan2(qy, qx)  # `top_down(yaw)` is (cos yaw/2, sin yaw/2, 0, 0)
    return Pose(pose.position, top_down(yaw))


def free_spot(scene: SceneState, obj: ObjectInfo, region: str, m: Motion,
              avoid: set[str]) -> tuple[float, float] | None:
    """A place in `region` with the footprint on the table, clear of other objects and
    both handles within reach. Of those, the one that keeps the hands closest to the arms'
    shoulders: a heavy load held far out is what strains a joint motor most."""
    box = scene.regions[region]
    table_y = (min(b.low[1] for b in scene.regions.values()), max(b.high[1] for b in scene.regions.values()))
    hx, hy = obj.footprint[0] / 2, obj.footprint[1] / 2
    x0, y0 = obj.pose.position[:2]
    others = [o for o in scene.objects.values() if o.name not in avoid and scene.holder(o.name) is None]
    best, best_d = None, float("inf")
    n = 25
    for i in range(n):
        for j in range(n):
            x = box.low[0] + (box.high[0] - box.low[0]) * i / (n - 1)
            y = box.low[1] + (box.high[1] - box.low[1]) * j / (n - 1)
            # Footprint on the table, centre well inside the region.
            if not (box.low[0] + hx + SPOT_MARGIN <= x <= box.high[0] - hx - SPOT_MARGIN
                    and table_y[0] + hy <= y <= table_y[1] - hy
                    and box.low[1] + SPOT_MARGIN <= y <= box.high[1] - SPOT_MARGIN):
                continue
            if any(abs(o.pose.position[0] - x) < hx + o.radius + SPOT_MARGIN
                   and abs(o.pose.position[1] - y) < hy + o.radius + SPOT_MARGIN for o in others):
                continue
            moved = ObjectInfo(obj.name, obj.type, obj.colour, obj.size,
                               Pose((x, y, obj.pose.position[2]), obj.pose.orientation),
                               obj.height, obj.footprint)
            grasps = handle_grasps(moved)
            if not all(m.in_workspace(a, grasps[a].position) for a in ARMS):
                continue
            strain = max(math.dist(grasps[a].position[:2], m.arms[a].base.position[:2]) for a in ARMS)
            d = strain + 1e-3 * math.hypot(x - x0, y - y0)
            if d < best_d:
                best, best_d = (x, y), d
    return best
